-- Reports per day, rolled up (issue 15): the dashboard reads a day's
-- counts by desk and category, and by desk and article, from these tables
-- once the day is over, instead of every report of the period (130,000
-- index entries for 90 days at a million reports).
--
-- A day is `CAST(julianday(date) - 2440587.5 AS INTEGER)`, days since
-- 1970-01-01 (UTC; BIGINT as on PostgreSQL), and a report without a desk
-- counts under ''. Spam caught at intake is left out, as the figures leave
-- it out.
CREATE TABLE report_days_categories (
    day BIGINT NOT NULL,
    desk TEXT NOT NULL,
    category TEXT NOT NULL,
    reports BIGINT NOT NULL,
    PRIMARY KEY (day, desk, category)
) WITHOUT ROWID;

CREATE TABLE report_days_articles (
    day BIGINT NOT NULL,
    desk TEXT NOT NULL,
    article_id TEXT NOT NULL,
    reports BIGINT NOT NULL,
    PRIMARY KEY (day, desk, article_id)
) WITHOUT ROWID;

-- The days whose rows above are whole and current. The worker rolls a day
-- up (its rows and this mark in one transaction) once it is over; the
-- figures read the rows of marked days and the reports of the others.
CREATE TABLE report_days_done (
    day BIGINT PRIMARY KEY NOT NULL,
    rolled_at TIMESTAMP NOT NULL
) WITHOUT ROWID;

-- Any change to a report that a figure reads takes the mark off its day
-- (both days, when its time moves), whatever code made it: the day is read
-- from its reports again until the worker rolls it anew. Intake adds one
-- probe of this small table per report, and never a lock on a shared row:
-- instances filing reports at once do not queue behind a counter.
CREATE TRIGGER report_days_insert AFTER INSERT ON reports
BEGIN
    DELETE FROM report_days_done
    WHERE day = CAST(julianday(substr(NEW.created_at, 1, 10)) - 2440587.5 AS INTEGER);
END;

CREATE TRIGGER report_days_delete AFTER DELETE ON reports
BEGIN
    DELETE FROM report_days_done
    WHERE day = CAST(julianday(substr(OLD.created_at, 1, 10)) - 2440587.5 AS INTEGER);
END;

CREATE TRIGGER report_days_update
AFTER UPDATE OF created_at, desk, is_spam, category, article_id ON reports
BEGIN
    DELETE FROM report_days_done
    WHERE day IN (
        CAST(julianday(substr(OLD.created_at, 1, 10)) - 2440587.5 AS INTEGER),
        CAST(julianday(substr(NEW.created_at, 1, 10)) - 2440587.5 AS INTEGER));
END;
