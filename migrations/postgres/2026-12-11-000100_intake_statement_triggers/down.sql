DROP TRIGGER report_days_unmark_filed ON reports;
DROP TRIGGER report_days_unmark ON reports;
CREATE TRIGGER report_days_unmark
AFTER INSERT OR DELETE OR UPDATE OF created_at, desk, is_spam, category, article_id ON reports
FOR EACH ROW EXECUTE FUNCTION report_days_unmark();
DROP FUNCTION report_days_unmark_filed();

DROP TRIGGER reports_search_ai ON reports;
CREATE TRIGGER reports_search_ai AFTER INSERT ON reports
    FOR EACH ROW EXECUTE FUNCTION erratum_search_report();
DROP FUNCTION erratum_search_reports_filed();
