//! Reports per day, rolled up once the day is over (migration
//! `2026-12-09-000100_report_days`).
//!
//! The dashboard's report figures (per day, per category, busiest
//! articles) once read every report of the period: at a million reports,
//! 130,000 index entries for 90 days, 110 ms on SQLite and 150 ms on
//! PostgreSQL for that alone. A day that is over hardly changes, so the
//! worker counts it once, by desk and category and by desk and article,
//! and marks it done; the figures add up those rows for the marked days
//! and read the reports of the others (today, yesterday's first hour, any
//! day not rolled up yet).
//!
//! Why not counters kept by every report as it is filed: each report would
//! update a row that every other report of the day also updates, and
//! instances filing at once would queue (or deadlock) behind it. Here
//! intake only drops the mark of its day, which is not there for today, so
//! it locks nothing shared. Triggers drop the mark of any day whose
//! reports change in what the figures read, whatever code changes them
//! (none does in normal work: a report keeps its time, case, desk and
//! category), so the rows of a marked day are always its reports' counts.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use super::super::schema::reports;
use super::super::{DbConn, DbResult};
use super::sql;

/// Days rolled up by one writer job: a day of about 1,400 reports (a
/// million over two years) takes 13 ms on PostgreSQL, so that reports
/// filed meanwhile wait for one short job (ten days a job held intake's
/// p99 at 700 ms while a seeded history was first rolled up).
pub const ROLL_DAYS: usize = 2;

/// How long after its end a day is rolled up. A report stamped by an
/// instance whose clock lags, or committed by a batch begun before
/// midnight, has landed by then; one that lands later still drops the
/// mark, but a roll of that day running at the same moment could miss it.
pub const ROLL_AFTER: Duration = Duration::hours(1);

/// `d` as days since 1970-01-01.
pub fn epoch_day(d: NaiveDate) -> i64 {
    (d - chrono::DateTime::UNIX_EPOCH.date_naive()).num_days()
}

/// The midnight that starts epoch day `day`.
pub fn day_start(day: i64) -> NaiveDateTime {
    (chrono::DateTime::UNIX_EPOCH.date_naive() + Duration::days(day))
        .and_time(chrono::NaiveTime::MIN)
}

#[derive(QueryableByName)]
struct Day {
    #[diesel(sql_type = BigInt)]
    day: i64,
}

/// The days of `[from, to)` whose rolled-up rows are current.
pub fn rolled(conn: &mut DbConn, from: i64, to: i64) -> DbResult<BTreeSet<i64>> {
    let q = sql(
        conn,
        "SELECT day FROM report_days_done WHERE day >= ? AND day < ?",
    );
    Ok(diesel::sql_query(q)
        .bind::<BigInt, _>(from)
        .bind::<BigInt, _>(to)
        .load::<Day>(conn)?
        .into_iter()
        .map(|d| d.day)
        .collect())
}

/// What one call of `roll_up` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rolled {
    pub days: usize,
    /// Days are left to roll up: call again.
    pub more: bool,
}

/// Roll up at most `limit` of the days not marked done, from the first
/// report's day to the last day over by `ROLL_AFTER` at `at`, newest first
/// (the dashboard reads recent periods most).
pub fn roll_up(conn: &mut DbConn, at: NaiveDateTime, limit: usize) -> DbResult<Rolled> {
    let nothing = Rolled {
        days: 0,
        more: false,
    };
    let before = epoch_day((at - ROLL_AFTER).date());
    let first: Option<NaiveDateTime> = reports::table
        .select(diesel::dsl::min(reports::created_at))
        .first(conn)?;
    let Some(first) = first.map(|t| epoch_day(t.date())) else {
        return Ok(nothing);
    };
    if first >= before {
        return Ok(nothing);
    }
    let done = rolled(conn, first, before)?;
    let todo: Vec<i64> = (first..before)
        .rev()
        .filter(|d| !done.contains(d))
        .take(limit + 1)
        .collect();
    let more = todo.len() > limit;
    let todo = &todo[..todo.len().min(limit)];
    for day in todo {
        roll_day(conn, *day, at)?;
    }
    Ok(Rolled {
        days: todo.len(),
        more,
    })
}

/// Count epoch day `day`'s reports again and mark it done, in the caller's
/// transaction (a writer job). Two workers rolling the same day at once
/// (instances on one PostgreSQL) write the same counts: the later one's
/// rows meet the earlier one's and overwrite them with equal values.
fn roll_day(conn: &mut DbConn, day: i64, at: NaiveDateTime) -> DbResult<()> {
    let (from, to) = (day_start(day), day_start(day + 1));
    for (table, key) in [
        ("report_days_categories", "category"),
        ("report_days_articles", "article_id"),
    ] {
        let q = sql(conn, &format!("DELETE FROM {table} WHERE day = ?"));
        diesel::sql_query(q).bind::<BigInt, _>(day).execute(conn)?;
        let q = sql(
            conn,
            &format!(
                "INSERT INTO {table} (day, desk, {key}, reports) \
                 SELECT CAST(? AS BIGINT), COALESCE(r.desk, ''), r.{key}, COUNT(*) \
                 FROM reports r \
                 WHERE r.created_at >= ? AND r.created_at < ? AND NOT r.is_spam \
                 GROUP BY COALESCE(r.desk, ''), r.{key} \
                 ON CONFLICT (day, desk, {key}) DO UPDATE SET reports = excluded.reports"
            ),
        );
        diesel::sql_query(q)
            .bind::<BigInt, _>(day)
            .bind::<Timestamp, _>(from)
            .bind::<Timestamp, _>(to)
            .execute(conn)?;
    }
    let q = sql(
        conn,
        "INSERT INTO report_days_done (day, rolled_at) VALUES (?, ?) \
         ON CONFLICT (day) DO UPDATE SET rolled_at = excluded.rolled_at",
    );
    diesel::sql_query(q)
        .bind::<BigInt, _>(day)
        .bind::<Timestamp, _>(at)
        .execute(conn)?;
    Ok(())
}

/// The time ranges of `[from, to)` to read from the reports themselves:
/// the parts of days cut by either end, and the whole days not in `done`,
/// adjacent ones merged. The whole days in `done` come from the rollup.
pub fn unrolled(
    from: NaiveDateTime,
    to: NaiveDateTime,
    done: &BTreeSet<i64>,
) -> Vec<(NaiveDateTime, NaiveDateTime)> {
    let (first, end) = whole_days(from, to);
    let mut out: Vec<(NaiveDateTime, NaiveDateTime)> = Vec::new();
    let mut push = |a: NaiveDateTime, b: NaiveDateTime| {
        if a >= b {
            return;
        }
        match out.last_mut() {
            Some(last) if last.1 == a => last.1 = b,
            _ => out.push((a, b)),
        }
    };
    if first >= end {
        push(from, to);
        return out;
    }
    push(from, day_start(first));
    for day in first..end {
        if !done.contains(&day) {
            push(day_start(day), day_start(day + 1));
        }
    }
    push(day_start(end), to);
    out
}

/// The epoch days wholly inside `[from, to)`: `first..end`.
pub fn whole_days(from: NaiveDateTime, to: NaiveDateTime) -> (i64, i64) {
    let first = epoch_day(from.date()) + i64::from(from.time() != chrono::NaiveTime::MIN);
    (first, epoch_day(to.date()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn epoch_days_round_trip() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        assert_eq!(epoch_day(chrono::DateTime::UNIX_EPOCH.date_naive()), 0);
        assert_eq!(day_start(epoch_day(d)), t("2026-12-04 00:00"));
    }

    #[test]
    fn marked_days_are_left_to_the_rollup_and_the_rest_is_read() {
        let from = t("2026-11-01 00:00");
        let to = t("2026-11-06 00:00");
        let d = |s: &str| epoch_day(t(s).date());
        let done: BTreeSet<i64> = [
            d("2026-11-01 00:00"),
            d("2026-11-02 00:00"),
            d("2026-11-04 00:00"),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            unrolled(from, to, &done),
            [
                (t("2026-11-03 00:00"), t("2026-11-04 00:00")),
                (t("2026-11-05 00:00"), t("2026-11-06 00:00")),
            ]
        );
        assert_eq!(unrolled(from, to, &BTreeSet::new()), [(from, to)]);
        // Days cut by either end are read whole from the reports.
        let (a, b) = (t("2026-11-01 12:00"), t("2026-11-05 06:00"));
        assert_eq!(
            unrolled(a, b, &done),
            [
                (a, t("2026-11-02 00:00")),
                (t("2026-11-03 00:00"), t("2026-11-04 00:00")),
                (t("2026-11-05 00:00"), b),
            ]
        );
        let (a, b) = (t("2026-11-01 12:00"), t("2026-11-01 18:00"));
        assert_eq!(unrolled(a, b, &done), [(a, b)]);
    }
}
