-- Nothing to do on PostgreSQL: this migration defers SQLite's full-text
-- index (search_fts) out of the intake's commits. PostgreSQL's trigram
-- index on search_docs already defers its work to a pending list of its
-- own (GIN's fastupdate). Kept so that both backends list the same
-- migrations.
SELECT 1;
