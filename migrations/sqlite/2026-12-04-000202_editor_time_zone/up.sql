-- An editor's own time zone (IANA name) for pages and emails; NULL follows
-- the installation's [ui] time_zone.
ALTER TABLE editors ADD COLUMN time_zone TEXT;
