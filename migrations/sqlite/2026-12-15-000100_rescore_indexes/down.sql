DROP INDEX articles_published_idx;
DROP INDEX cases_due_idx;
