-- The version of the segmentation rules (src/domain/segment/rules.toml) each
-- revision was split with. Revisions stored before the column existed were
-- split with version 1. A change of rules never re-splits a stored revision:
-- the next revision, or `erratum article resplit`, does.
ALTER TABLE article_revisions ADD COLUMN rules_version INTEGER NOT NULL DEFAULT 1;
