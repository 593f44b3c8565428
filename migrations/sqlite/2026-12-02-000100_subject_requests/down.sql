DROP INDEX reports_reporter_key_idx;
DROP TABLE subject_requests;
