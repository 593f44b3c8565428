-- The queue shows each case's newest suggested correction: a backward seek
-- on this index finds it without reading the case's other reports.
CREATE INDEX reports_case_suggestion_idx ON reports (case_id, created_at, id)
    WHERE suggested_correction IS NOT NULL;
