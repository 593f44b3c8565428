//! The figures of the editors' dashboard, the public transparency page and
//! the Prometheus gauges, read with plain SQL that both backends run alike.
//!
//! Every query reads a time range through an index that holds the columns
//! it reads (`reports_period_idx`, `cases_opened_idx`, `cases_decided_idx`;
//! `corrections_published_idx`) or the open cases (`cases_status_idx`), so
//! its cost follows the period asked for, not the size of the history, and
//! stays in the index (migration `2026-12-06-000100_stats_scale`). Days
//! and months are the first 10 or 7 characters of the stored UTC time cast
//! to text, which reads `YYYY-MM-DD HH:MM:SS…` on both backends.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::{DbConn, DbResult};
use crate::domain::workflow::{Resolution, Status};

mod period;
pub mod rollup;
pub use period::{PeriodReports, period_reports};

/// `?` placeholders as the backend wants them (`$1`, `$2`, … on PostgreSQL).
fn sql(conn: &DbConn, query: &str) -> String {
    match conn {
        DbConn::Sqlite(_) => query.to_string(),
        DbConn::Pg(_) => {
            let mut out = String::with_capacity(query.len() + 8);
            let mut n = 0;
            for ch in query.chars() {
                if ch == '?' {
                    n += 1;
                    out.push_str(&format!("${n}"));
                } else {
                    out.push(ch);
                }
            }
            out
        }
    }
}

/// The UTC day of timestamp column `col`, as `YYYY-MM-DD`: (what to
/// select, what to group by). PostgreSQL groups by the date and writes
/// each group's once (formatting every row as text cost half the query);
/// SQLite stores the text already.
fn day_of(conn: &DbConn, col: &str) -> (String, String) {
    match conn {
        DbConn::Sqlite(_) => {
            let day = format!("substr(CAST({col} AS TEXT), 1, 10)");
            (day.clone(), day)
        }
        DbConn::Pg(_) => (
            format!("CAST(CAST({col} AS DATE) AS TEXT)"),
            format!("CAST({col} AS DATE)"),
        ),
    }
}

/// The condition on the case's desk: one bound parameter either way, so
/// every query binds the same values in the same order.
fn desk_clause(desk: &Option<String>) -> &'static str {
    desk_of("c", desk)
}

/// The same on table `t` (`c` for cases, `r` for reports, which carry
/// their case's desk, `x` for the rollup's rows, whose desk is `''` for
/// none). On cases, `|| ''` keeps the planners off the queue's
/// desk index: a desk holds a sixth of the history, the period far less,
/// and the period's index holds the desk too.
fn desk_of(t: &str, desk: &Option<String>) -> &'static str {
    match (t, desk.is_some()) {
        (_, false) => "CAST(? AS TEXT) IS NULL",
        ("r", true) => "r.desk = ?",
        ("x", true) => "x.desk = ?",
        _ => "c.desk || '' = ?",
    }
}

/// Leaves out the cases a honeypot report made (already resolved as spam,
/// never in the queue): they are not the newsroom's work. Only a case
/// resolved as spam can be one, so the probe of its reports runs for those
/// alone; the resolution is in the indexes the figures read.
const REAL: &str = "(c.resolution IS NULL OR c.resolution <> 'spam' \
     OR NOT EXISTS (SELECT 1 FROM reports s WHERE s.case_id = c.id AND s.is_spam))";

/// The period `[from, to)` and the desk (all when `None`) a figure reads.
#[derive(Debug, Clone)]
pub struct Scope {
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub desk: Option<String>,
}

#[derive(QueryableByName)]
struct KeyCount {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct KeyKeyCount {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Nullable<Text>)]
    other: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A case decided, or a correction published, in the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Whole seconds from the case's first report (0 when the clock went
    /// backwards).
    pub seconds: i64,
    /// It came by the case's due time.
    pub on_time: bool,
}

#[derive(QueryableByName)]
struct SpanRow {
    #[diesel(sql_type = BigInt)]
    ms: i64,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    on_time: i32,
}

/// Scope-bound query: `from`, `to`, desk, in this order.
fn keyed(conn: &mut DbConn, query: &str, s: &Scope) -> DbResult<Vec<(String, i64)>> {
    let q = sql(conn, query);
    Ok(diesel::sql_query(q)
        .bind::<Timestamp, _>(s.from)
        .bind::<Timestamp, _>(s.to)
        .bind::<Nullable<Text>, _>(s.desk.clone())
        .load::<KeyCount>(conn)?
        .into_iter()
        .map(|r| (r.key, r.n))
        .collect())
}

/// Cases opened per UTC day (by their first report), spam cases aside.
pub fn cases_per_day(conn: &mut DbConn, s: &Scope) -> DbResult<Vec<(String, i64)>> {
    let (day, by_day) = day_of(conn, "c.first_reported_at");
    let q = format!(
        "SELECT {day} AS key, COUNT(*) AS n \
         FROM cases c \
         WHERE c.first_reported_at >= ? AND c.first_reported_at < ? AND {} \
           AND {REAL} \
         GROUP BY {by_day}",
        desk_clause(&s.desk)
    );
    keyed(conn, &q, s)
}

/// Cases decided in the period, by their (latest) resolution.
pub fn decisions(conn: &mut DbConn, s: &Scope) -> DbResult<Vec<(Resolution, i64)>> {
    let q = format!(
        "SELECT c.resolution AS key, COUNT(*) AS n FROM cases c \
         WHERE c.resolved_at >= ? AND c.resolved_at < ? AND {} AND c.resolution IS NOT NULL \
           AND {REAL} GROUP BY c.resolution",
        desk_clause(&s.desk)
    );
    Ok(keyed(conn, &q, s)?
        .into_iter()
        .filter_map(|(k, n)| Resolution::parse(&k).map(|r| (r, n)))
        .collect())
}

/// Milliseconds from `start` to `end`, and whether `end` is by `due`, as
/// SQL: integers, where reading three timestamps a row cost SQLite a text
/// parse each (a third of the dashboard's time at 90 days).
fn span_columns(conn: &DbConn, start: &str, end: &str, due: &str) -> String {
    let ms = match conn {
        DbConn::Sqlite(_) => {
            format!("CAST(ROUND((julianday({end}) - julianday({start})) * 86400000.0) AS INTEGER)")
        }
        DbConn::Pg(_) => {
            format!("CAST(FLOOR(EXTRACT(EPOCH FROM ({end} - {start})) * 1000) AS BIGINT)")
        }
    };
    format!("{ms} AS ms, CASE WHEN {end} <= {due} THEN 1 ELSE 0 END AS on_time")
}

/// Each case decided in the period: time from first report to decision.
pub fn decided_spans(conn: &mut DbConn, s: &Scope) -> DbResult<Vec<Span>> {
    let q = format!(
        "SELECT {} FROM cases c \
         WHERE c.resolved_at >= ? AND c.resolved_at < ? AND {} AND c.resolution IS NOT NULL \
           AND {REAL}",
        span_columns(conn, "c.first_reported_at", "c.resolved_at", "c.due_at"),
        desk_clause(&s.desk)
    );
    spans(conn, &q, s)
}

/// Each correction published in the period: time from its case's first
/// report to the publication.
///
/// Each correction's case is looked up by its key, both read from indexes
/// (`corrections_span_idx`, `cases_span_idx`). PostgreSQL, left to itself,
/// hashed the period's corrections and scanned every case to join them
/// (61–78 ms for 90 days at a million reports, 39 ms as a loop): a lateral
/// subquery that cannot be flattened (`OFFSET 0`) makes the join a loop of
/// key look-ups there. SQLite loops already.
pub fn correction_spans(conn: &mut DbConn, s: &Scope) -> DbResult<Vec<Span>> {
    let case = match conn {
        DbConn::Sqlite(_) => "JOIN cases c ON c.id = k.case_id",
        DbConn::Pg(_) => {
            "CROSS JOIN LATERAL (SELECT c.first_reported_at, c.due_at, c.desk \
             FROM cases c WHERE c.id = k.case_id OFFSET 0) c"
        }
    };
    let q = format!(
        "SELECT {} FROM corrections k {case} \
         WHERE k.published_at >= ? AND k.published_at < ? AND {}",
        span_columns(conn, "c.first_reported_at", "k.published_at", "c.due_at"),
        desk_clause(&s.desk)
    );
    spans(conn, &q, s)
}

fn spans(conn: &mut DbConn, query: &str, s: &Scope) -> DbResult<Vec<Span>> {
    let q = sql(conn, query);
    Ok(diesel::sql_query(q)
        .bind::<Timestamp, _>(s.from)
        .bind::<Timestamp, _>(s.to)
        .bind::<Nullable<Text>, _>(s.desk.clone())
        .load::<SpanRow>(conn)?
        .into_iter()
        .map(|r| Span {
            seconds: r.ms.max(0) / 1000,
            on_time: r.on_time != 0,
        })
        .collect())
}

/// One of the articles that drew the most reports in the period.
#[derive(Debug, Clone)]
pub struct BusyArticle {
    pub external_id: String,
    pub title: String,
    pub url: String,
    pub reports: i64,
    pub cases: i64,
}

/// Open cases of the desk (all when `None`) counted by age at `now`: under
/// each bound of `bounds` (oldest bound last), then older than the last.
///
/// One statement of disjoint ranges of the first report's time, one count
/// each, read from `cases_queue_first_idx` (or `cases_backlog_desk_idx` for
/// a desk): every open case is visited once, as by a single pass, but
/// counted off the index instead of sorted into buckets by a `CASE` (at
/// 115,000 open cases SQLite took 54 ms for that, 10 ms for the ranges).
pub fn backlog(
    conn: &mut DbConn,
    desk: &Option<String>,
    now: NaiveDateTime,
    bounds: &[chrono::Duration],
) -> DbResult<Vec<i64>> {
    let open: Vec<String> = Status::OPEN
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    // Unlike the period's queries (`desk_of`), the desk is the index's
    // first column here, so the planner is left free to use it.
    let desk_sql = match desk {
        Some(_) => "c.desk = ?",
        None => "CAST(? AS TEXT) IS NULL",
    };
    // Bucket i: newer than `now - bounds[i]` and, past the first, not newer
    // than `now - bounds[i - 1]`; the last: not newer than the oldest bound.
    let mut ranges: Vec<(Option<NaiveDateTime>, Option<NaiveDateTime>)> = Vec::new();
    let mut newer_bound: Option<NaiveDateTime> = None;
    for b in bounds {
        let after = now - *b;
        ranges.push((Some(after), newer_bound));
        newer_bound = Some(after);
    }
    ranges.push((None, newer_bound));
    #[derive(QueryableByName)]
    struct Bucket {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        bucket: i32,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let counts: Vec<String> = ranges
        .iter()
        .enumerate()
        .map(|(i, (after, until))| {
            let mut cond = format!("c.status IN ({}) AND {desk_sql}", open.join(", "));
            if after.is_some() {
                cond.push_str(" AND c.first_reported_at > ?");
            }
            if until.is_some() {
                cond.push_str(" AND c.first_reported_at <= ?");
            }
            format!("SELECT {i} AS bucket, COUNT(*) AS n FROM cases c WHERE {cond}")
        })
        .collect();
    let q = counts.join(" UNION ALL ");
    let mut query = diesel::sql_query(sql(conn, &q)).into_boxed();
    for (after, until) in &ranges {
        query = query.bind::<Nullable<Text>, _>(desk.clone());
        if let Some(t) = after {
            query = query.bind::<Timestamp, _>(*t);
        }
        if let Some(t) = until {
            query = query.bind::<Timestamp, _>(*t);
        }
    }
    let mut out = vec![0; ranges.len()];
    for r in query.load::<Bucket>(conn)? {
        if let Some(slot) = usize::try_from(r.bucket).ok().and_then(|i| out.get_mut(i)) {
            *slot = r.n;
        }
    }
    Ok(out)
}

/// Open cases of one status and desk (`None`: no desk): how many, and how
/// many of them are overdue.
pub type OpenCount = (Status, Option<String>, i64, i64);

/// Open cases by status and desk (`None`: no desk), and how many of them
/// are past their due time at `now`, for the Prometheus gauges.
pub fn open_by_status_desk(conn: &mut DbConn, now: NaiveDateTime) -> DbResult<Vec<OpenCount>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        status: String,
        #[diesel(sql_type = Nullable<Text>)]
        desk: Option<String>,
        #[diesel(sql_type = BigInt)]
        n: i64,
        #[diesel(sql_type = BigInt)]
        overdue: i64,
    }
    let q = sql(
        conn,
        "SELECT c.status AS status, c.desk AS desk, COUNT(*) AS n, \
                COALESCE(SUM(CASE WHEN c.due_at < ? THEN 1 ELSE 0 END), 0) AS overdue \
         FROM cases c WHERE c.status IN ('new', 'triaged', 'in_review') \
         GROUP BY c.status, c.desk",
    );
    Ok(diesel::sql_query(q)
        .bind::<Timestamp, _>(now)
        .load::<Row>(conn)?
        .into_iter()
        .filter_map(|r| Status::parse(&r.status).map(|s| (s, r.desk, r.n, r.overdue)))
        .collect())
}

/// Upper bounds (seconds) of the time-to-decision histogram's buckets:
/// 1 h, 4 h, 12 h, 1, 2, 3, 7, 14 and 30 days.
pub const DECISION_BUCKETS: [u64; 9] = [
    3_600, 14_400, 43_200, 86_400, 172_800, 259_200, 604_800, 1_209_600, 2_592_000,
];

/// Decided cases (all time): how many took at most each bound of
/// `DECISION_BUCKETS` from first report to decision (cumulative, as a
/// Prometheus histogram counts), how many in all, and the sum of their
/// times in seconds.
pub fn decision_histogram(conn: &mut DbConn) -> DbResult<([u64; 9], u64, f64)> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        b0: i64,
        #[diesel(sql_type = BigInt)]
        b1: i64,
        #[diesel(sql_type = BigInt)]
        b2: i64,
        #[diesel(sql_type = BigInt)]
        b3: i64,
        #[diesel(sql_type = BigInt)]
        b4: i64,
        #[diesel(sql_type = BigInt)]
        b5: i64,
        #[diesel(sql_type = BigInt)]
        b6: i64,
        #[diesel(sql_type = BigInt)]
        b7: i64,
        #[diesel(sql_type = BigInt)]
        b8: i64,
        #[diesel(sql_type = BigInt)]
        n: i64,
        #[diesel(sql_type = diesel::sql_types::Double)]
        total: f64,
    }
    let seconds = match conn {
        DbConn::Sqlite(_) => {
            "((julianday(c.resolved_at) - julianday(c.first_reported_at)) * 86400.0)"
        }
        DbConn::Pg(_) => "EXTRACT(EPOCH FROM (c.resolved_at - c.first_reported_at))",
    };
    let mut cols = String::new();
    for (i, b) in DECISION_BUCKETS.iter().enumerate() {
        cols.push_str(&format!(
            "CAST(COALESCE(SUM(CASE WHEN {seconds} <= {b} THEN 1 ELSE 0 END), 0) AS BIGINT) AS b{i}, "
        ));
    }
    let q = format!(
        "SELECT {cols} COUNT(*) AS n, \
                CAST(COALESCE(SUM({seconds}), 0) AS DOUBLE PRECISION) AS total \
         FROM cases c WHERE c.resolved_at IS NOT NULL AND c.resolution IS NOT NULL AND {REAL}"
    );
    let r = diesel::sql_query(q).get_result::<Row>(conn)?;
    let c = |v: i64| v.max(0) as u64;
    Ok((
        [
            c(r.b0),
            c(r.b1),
            c(r.b2),
            c(r.b3),
            c(r.b4),
            c(r.b5),
            c(r.b6),
            c(r.b7),
            c(r.b8),
        ],
        c(r.n),
        r.total,
    ))
}

/// Published corrections per UTC month (`YYYY-MM`) and desk since `from`.
pub fn corrections_by_month_desk(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> DbResult<Vec<(String, Option<String>, i64)>> {
    let q = sql(
        conn,
        "SELECT substr(CAST(k.published_at AS TEXT), 1, 7) AS key, c.desk AS other, COUNT(*) AS n \
         FROM corrections k JOIN cases c ON c.id = k.case_id \
         WHERE k.published_at >= ? AND k.published_at < ? \
         GROUP BY substr(CAST(k.published_at AS TEXT), 1, 7), c.desk",
    );
    Ok(diesel::sql_query(q)
        .bind::<Timestamp, _>(from)
        .bind::<Timestamp, _>(to)
        .load::<KeyKeyCount>(conn)?
        .into_iter()
        .map(|r| (r.key, r.other, r.n))
        .collect())
}

/// Published corrections per UTC month and category of the reports on
/// their case (a correction whose case was reported under two categories
/// counts under both).
pub fn corrections_by_month_category(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> DbResult<Vec<(String, Option<String>, i64)>> {
    let q = sql(
        conn,
        "SELECT substr(CAST(k.published_at AS TEXT), 1, 7) AS key, r.category AS other, \
                COUNT(DISTINCT k.id) AS n \
         FROM corrections k JOIN reports r ON r.case_id = k.case_id \
         WHERE k.published_at >= ? AND k.published_at < ? AND NOT r.is_spam \
         GROUP BY substr(CAST(k.published_at AS TEXT), 1, 7), r.category",
    );
    Ok(diesel::sql_query(q)
        .bind::<Timestamp, _>(from)
        .bind::<Timestamp, _>(to)
        .load::<KeyKeyCount>(conn)?
        .into_iter()
        .map(|r| (r.key, r.other, r.n))
        .collect())
}

/// Reports on cases decided in the period: (upheld, decided), where upheld
/// means the case published a correction and decided leaves out spam and
/// duplicates (their reports are counted on the case they duplicate).
pub fn reports_upheld(conn: &mut DbConn, s: &Scope) -> DbResult<(i64, i64)> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        upheld: i64,
        #[diesel(sql_type = BigInt)]
        decided: i64,
    }
    let q = format!(
        "SELECT CAST(COALESCE(SUM(CASE WHEN c.resolution IN ('corrected', 'clarified', 'updated') \
                     THEN c.report_count ELSE 0 END), 0) AS BIGINT) AS upheld, \
                CAST(COALESCE(SUM(c.report_count), 0) AS BIGINT) AS decided \
         FROM cases c \
         WHERE c.resolved_at >= ? AND c.resolved_at < ? AND {} \
           AND c.resolution IS NOT NULL AND c.resolution NOT IN ('spam', 'duplicate')",
        desk_clause(&s.desk)
    );
    let q = sql(conn, &q);
    let r = diesel::sql_query(q)
        .bind::<Timestamp, _>(s.from)
        .bind::<Timestamp, _>(s.to)
        .bind::<Nullable<Text>, _>(s.desk.clone())
        .get_result::<Row>(conn)?;
    Ok((r.upheld, r.decided))
}

/// The desks cases were filed under, for the dashboard's filter: one index
/// seek per desk (a loose index scan, written as a recursive query because
/// PostgreSQL reads every case for a `DISTINCT`), in alphabetical order.
pub fn desks(conn: &mut DbConn) -> DbResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Desk {
        #[diesel(sql_type = Text)]
        desk: String,
    }
    Ok(diesel::sql_query(
        "WITH RECURSIVE d (desk) AS ( \
           SELECT MIN(desk) FROM cases \
           UNION ALL \
           SELECT (SELECT MIN(c.desk) FROM cases c WHERE c.desk > d.desk) FROM d \
           WHERE d.desk IS NOT NULL) \
         SELECT desk FROM d WHERE desk IS NOT NULL ORDER BY desk",
    )
    .load::<Desk>(conn)?
    .into_iter()
    .map(|d| d.desk)
    .collect())
}
