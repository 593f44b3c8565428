DROP INDEX cases_resolved_idx;
DROP INDEX reports_created_idx;
