ALTER TABLE article_revisions DROP COLUMN rules_version;
