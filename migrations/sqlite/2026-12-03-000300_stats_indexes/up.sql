-- The dashboard and the transparency page read time ranges: reports by the
-- time they were filed, cases by the time they were decided. With these two
-- (and cases_first_reported_idx, corrections_published_idx) every figure is
-- a range scan over the period asked for, never a scan of the whole history.
CREATE INDEX reports_created_idx ON reports (created_at, case_id);
CREATE INDEX cases_resolved_idx ON cases (resolved_at);
