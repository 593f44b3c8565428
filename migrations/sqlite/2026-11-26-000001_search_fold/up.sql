-- Search folding: SQLite has no stored functions; the application registers
-- erratum_fold (src/domain/search.rs) on every connection. This migration
-- keeps the two folders in step with the PostgreSQL one, which defines it.
SELECT 1;
