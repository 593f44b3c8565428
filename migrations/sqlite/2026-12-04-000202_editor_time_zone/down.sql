ALTER TABLE editors DROP COLUMN time_zone;
