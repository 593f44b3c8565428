ALTER TABLE articles DROP COLUMN locale;
