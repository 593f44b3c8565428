-- Reports per day, rolled up (issue 15): the dashboard reads a day's
-- counts by desk and category, and by desk and article, from these tables
-- once the day is over, instead of every report of the period (130,000
-- index entries for 90 days at a million reports).
--
-- A day is days since 1970-01-01 (UTC), and a report without a desk counts
-- under ''. Spam caught at intake is left out, as the figures leave it out.
CREATE TABLE report_days_categories (
    day BIGINT NOT NULL,
    desk TEXT NOT NULL,
    category TEXT NOT NULL,
    reports BIGINT NOT NULL,
    PRIMARY KEY (day, desk, category)
);

CREATE TABLE report_days_articles (
    day BIGINT NOT NULL,
    desk TEXT NOT NULL,
    article_id TEXT NOT NULL,
    reports BIGINT NOT NULL,
    PRIMARY KEY (day, desk, article_id)
);

-- The days whose rows above are whole and current. The worker rolls a day
-- up (its rows and this mark in one transaction) once it is over; the
-- figures read the rows of marked days and the reports of the others.
CREATE TABLE report_days_done (
    day BIGINT PRIMARY KEY,
    rolled_at TIMESTAMP NOT NULL
);

-- Any change to a report that a figure reads takes the mark off its day
-- (both days, when its time moves), whatever code made it: the day is read
-- from its reports again until the worker rolls it anew. Intake adds one
-- probe of this small table per report, and never a lock on a shared row:
-- instances filing reports at once do not queue behind a counter.
CREATE FUNCTION report_days_unmark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM report_days_done
        WHERE day = CAST(CAST(OLD.created_at AS DATE) - DATE '1970-01-01' AS BIGINT);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        DELETE FROM report_days_done
        WHERE day = CAST(CAST(NEW.created_at AS DATE) - DATE '1970-01-01' AS BIGINT);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER report_days_unmark
AFTER INSERT OR DELETE OR UPDATE OF created_at, desk, is_spam, category, article_id ON reports
FOR EACH ROW EXECUTE FUNCTION report_days_unmark();
