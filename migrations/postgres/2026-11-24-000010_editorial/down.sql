DROP INDEX cases_assignee_idx;
DROP INDEX cases_first_reported_idx;
DROP TABLE corrections;
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE case_notes;
DROP TABLE api_tokens;
DROP TABLE editor_sessions;
