-- The newsroom's language tag of an article (es, pt-br…) when it is not
-- just fr or en: the language of its widget and readers' status pages.
ALTER TABLE articles ADD COLUMN locale TEXT;
