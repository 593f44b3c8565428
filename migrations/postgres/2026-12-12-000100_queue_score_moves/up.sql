-- What each periodic re-score moved (issue 19): the score a case had just
-- before the re-score at scored_at changed it. A queue cursor whose first
-- page was ordered by the scores of an earlier re-score finds each moved
-- case's key as of its snapshot here, instead of scoring every recent case
-- again. Kept for a few hours (db::cases::MOVES_KEPT); a page needs this
-- log only while it covers every re-score after its snapshot's, which is
-- the case from queue_scores.moves_since on.
CREATE TABLE queue_score_moves (
    scored_at TIMESTAMP NOT NULL,
    case_id TEXT NOT NULL,
    tenths INTEGER NOT NULL,
    PRIMARY KEY (scored_at, case_id)
);

ALTER TABLE queue_scores ADD COLUMN moves_since TIMESTAMP;
