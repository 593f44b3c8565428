-- The dashboard at a million reports (issue 15): its figures read the index
-- entries of the period and never the rows behind them.
--
-- A report's desk is its case's, copied when the report is filed (a case
-- keeps the desk it opened with and a report never changes case), so the
-- report-side figures filter by desk without a lookup per report.
ALTER TABLE reports ADD COLUMN desk TEXT;
UPDATE reports SET desk = (SELECT c.desk FROM cases c WHERE c.id = reports.case_id);

-- Reports per day, per category, per article: one covering range.
DROP INDEX reports_created_idx;
CREATE INDEX reports_period_idx ON reports (created_at, desk, is_spam, category, article_id, case_id);

-- Cases opened and decided in the period, with the columns the figures
-- read (desk, resolution, times, counts) in the index.
DROP INDEX cases_resolved_idx;
CREATE INDEX cases_decided_idx ON cases (resolved_at, desk, resolution, first_reported_at, due_at, report_count, id);
CREATE INDEX cases_opened_idx ON cases (first_reported_at, desk, resolution, id);

-- The open backlog of one desk, by age.
CREATE INDEX cases_backlog_desk_idx ON cases (desk, status, first_reported_at);

-- The honeypot's cases: the few reports caught as spam, by case (the
-- figures leave their cases out; without it PostgreSQL hashes them from a
-- scan of every report).
CREATE INDEX reports_spam_idx ON reports (case_id) WHERE is_spam;
