-- A stored score also moves without a re-score and without a report: an
-- editor sets or clears a case's priority, a reader is trusted or blocked,
-- a correction is published on the case's sentence (db::cases::rescore).
-- Those writes log the score the case had until then as well, at their own
-- instant, marked by_write. A queue page reads a write's entry when its
-- first page did not see that write: the entry is newer than
-- queue_scores.written_at as the first page read it (kept in the cursor).
ALTER TABLE queue_score_moves ADD COLUMN by_write BOOLEAN NOT NULL DEFAULT 0;

-- The instant of the newest entry logged by a write (NULL: none yet).
ALTER TABLE queue_scores ADD COLUMN written_at TIMESTAMP;
