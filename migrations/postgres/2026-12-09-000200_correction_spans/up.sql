-- The dashboard's time to correction (issue 15) joins each correction of
-- the period to its case's first report. Read through the rows, that was
-- 36 ms for 90 days at a million reports on SQLite (a case row is large,
-- and every one of 4,726 was a random read), 10 ms from these indexes
-- alone.
CREATE INDEX corrections_span_idx ON corrections (published_at, case_id);
CREATE INDEX cases_span_idx ON cases (id, first_reported_at, due_at, desk);
