-- Intake asks, once per batch, which of the batch's readers already reported
-- on the batch's cases (`reports::reporters_in_cases`). With an index on the
-- reader's key alone, or on the case alone, the planner could pick the case
-- and read every report of a hot case for each batch (a third of intake's
-- time on one busy sentence). Keyed by reader then case it is an exact
-- lookup, and it still serves every lookup by reader.
DROP INDEX reports_reporter_key_idx;
CREATE INDEX reports_reporter_case_idx ON reports (reporter_key, case_id);
-- `reports_case_order_idx` (case_id, created_at, id) serves every lookup
-- by case: the index on the case alone was one more to write per report.
DROP INDEX reports_case_idx;
-- A repeated comment is looked for among the same client's reports of the
-- last hours (`reports::first_with_comments`): the client's index finds
-- them (a handful, under the per-address limits); an index on the
-- comment's hash, a random key, cost a page write per report.
DROP INDEX reports_comment_idx;
