DROP INDEX reports_spam_idx;
DROP INDEX cases_backlog_desk_idx;
DROP INDEX cases_opened_idx;
DROP INDEX cases_decided_idx;
CREATE INDEX cases_resolved_idx ON cases (resolved_at);
DROP INDEX reports_period_idx;
CREATE INDEX reports_created_idx ON reports (created_at, case_id);
ALTER TABLE reports DROP COLUMN desk;
