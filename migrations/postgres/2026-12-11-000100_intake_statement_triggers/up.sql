-- A batch of reports is one multi-row INSERT (app::intake::batch), but the
-- two triggers that follow a new report ran once per row: each report paid
-- a PL/pgSQL call, its own INSERT into search_docs (and the trigram index)
-- and its own DELETE from report_days_done. At 32 reports a batch that was
-- most of the batch's time in PostgreSQL. Statement-level triggers see the
-- whole batch in a transition table and do each write once.
--
-- Only the INSERT triggers change: PostgreSQL allows a transition table
-- neither on a trigger for several events nor on one with a column list
-- (UPDATE OF ...), and updates and deletes of reports are rare editorial
-- acts, so they keep their row-level triggers.
CREATE FUNCTION erratum_search_reports_filed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_docs (ref_id, case_id, body)
    SELECT id, case_id, erratum_fold(comment) FROM filed WHERE comment <> '';
    RETURN NULL;
END $$;

DROP TRIGGER reports_search_ai ON reports;
CREATE TRIGGER reports_search_ai AFTER INSERT ON reports
    REFERENCING NEW TABLE AS filed
    FOR EACH STATEMENT EXECUTE FUNCTION erratum_search_reports_filed();

CREATE FUNCTION report_days_unmark_filed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM report_days_done
    WHERE day IN (
        SELECT DISTINCT CAST(CAST(created_at AS DATE) - DATE '1970-01-01' AS BIGINT) FROM filed
    );
    RETURN NULL;
END $$;

DROP TRIGGER report_days_unmark ON reports;
CREATE TRIGGER report_days_unmark
AFTER DELETE OR UPDATE OF created_at, desk, is_spam, category, article_id ON reports
FOR EACH ROW EXECUTE FUNCTION report_days_unmark();
CREATE TRIGGER report_days_unmark_filed AFTER INSERT ON reports
    REFERENCING NEW TABLE AS filed
    FOR EACH STATEMENT EXECUTE FUNCTION report_days_unmark_filed();
