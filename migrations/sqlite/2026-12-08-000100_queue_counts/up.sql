-- The queue page counts the cases of each status that its filters match,
-- up to a cap (`db::queue::counts`). Status, desk, resolution (spam is
-- hidden unless asked for) and assignee are the filters an editor uses
-- most; with all four in one index the count reads index entries only,
-- never the wide case rows, and intake's updates of a case's counters and
-- priority leave it untouched.
CREATE INDEX cases_counts_idx ON cases (status, desk, resolution, assignee_id);
