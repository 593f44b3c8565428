CREATE INDEX reports_comment_idx ON reports (comment_hash, created_at);
CREATE INDEX reports_case_idx ON reports (case_id);
DROP INDEX reports_reporter_case_idx;
CREATE INDEX reports_reporter_key_idx ON reports (reporter_key);
