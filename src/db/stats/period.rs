//! The period's reports, per day, per category and the busiest articles:
//! the whole days rolled up (`rollup`) from their rows, the rest from the
//! reports themselves, read once with each row tallied in hash maps as it
//! streams by.
//!
//! Grouping in SQL cost more than reading: at a million reports (44,546 in
//! 30 days) the scan of `reports_period_idx` took 19 ms on SQLite, the
//! groupings, sorted in temporary b-trees by 36-character ids, 42 and
//! 130 ms more. Only the few busiest articles are then read from
//! `articles`, and their cases counted.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Duration, NaiveDateTime};
use diesel::connection::DefaultLoadingMode;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::super::rows::CHUNK;
use super::super::schema::{articles, reports};
use super::super::{DbConn, DbResult};
use super::rollup;
use super::{BusyArticle, Scope};

/// What the period's reports give.
#[derive(Debug, Default)]
pub struct PeriodReports {
    /// Reports per UTC day (`YYYY-MM-DD`).
    pub per_day: BTreeMap<String, i64>,
    /// Reports per category (its stored name).
    pub per_category: BTreeMap<String, i64>,
    /// The `limit` articles with the most reports, most first (ties by
    /// external id), with their distinct cases.
    pub busiest: Vec<BusyArticle>,
}

/// The counts as they add up, by epoch day, category and article id.
#[derive(Default)]
struct Counts {
    per_day: BTreeMap<i64, i64>,
    per_category: BTreeMap<String, i64>,
    per_article: HashMap<String, i64>,
}

/// A report's UTC day as days since 1970-01-01: an integer on both
/// backends, where a timestamp cost SQLite a text parse per row (chrono's
/// format parser was an eighth of the dashboard's time).
fn epoch_day_of(conn: &DbConn) -> &'static str {
    match conn {
        DbConn::Sqlite(_) => {
            "CAST(julianday(substr(reports.created_at, 1, 10)) - 2440587.5 AS INTEGER)"
        }
        DbConn::Pg(_) => "CAST(CAST(reports.created_at AS DATE) - DATE '1970-01-01' AS BIGINT)",
    }
}

/// Reports filed in the period `s` (its desk only, when it names one),
/// spam caught at intake aside.
///
/// One snapshot for the marks and the rows they vouch for: a day unmarked
/// or rolled up meanwhile is counted once, from one side or the other
/// (SQLite's read transaction is one; PostgreSQL needs `REPEATABLE READ`).
pub fn period_reports(conn: &mut DbConn, s: &Scope, limit: usize) -> DbResult<PeriodReports> {
    conn.transaction(|conn| {
        crate::db::dialect::read_snapshot(conn)?;
        let (first, end) = rollup::whole_days(s.from, s.to);
        let done = rollup::rolled(conn, first, end)?;
        let mut tally = Counts::default();
        if !done.is_empty() {
            rolled_up(conn, s, (first, end), &mut tally)?;
        }
        for (from, to) in rollup::unrolled(s.from, s.to, &done) {
            reported(conn, s, from, to, &mut tally)?;
        }
        let epoch = chrono::DateTime::UNIX_EPOCH.date_naive();
        Ok(PeriodReports {
            per_day: tally
                .per_day
                .into_iter()
                .filter_map(|(d, n)| {
                    let day = epoch.checked_add_signed(Duration::days(d))?;
                    Some((day.format("%Y-%m-%d").to_string(), n))
                })
                .collect(),
            per_category: tally.per_category,
            busiest: busiest(conn, s, tally.per_article, limit)?,
        })
    })
}

/// Add the rolled-up rows of the marked days among `days` to `tally`.
fn rolled_up(conn: &mut DbConn, s: &Scope, days: (i64, i64), tally: &mut Counts) -> DbResult<()> {
    #[derive(QueryableByName)]
    struct ByCategory {
        #[diesel(sql_type = BigInt)]
        day: i64,
        #[diesel(sql_type = Text)]
        category: String,
        #[diesel(sql_type = BigInt)]
        reports: i64,
    }
    #[derive(QueryableByName)]
    struct ByArticle {
        #[diesel(sql_type = Text)]
        article_id: String,
        #[diesel(sql_type = BigInt)]
        reports: i64,
    }
    let rows = |table: &str, cols: &str| {
        super::sql(
            conn,
            &format!(
                "SELECT {cols} FROM {table} x JOIN report_days_done d ON d.day = x.day \
                 WHERE x.day >= ? AND x.day < ? AND {}",
                super::desk_of("x", &s.desk)
            ),
        )
    };
    let by_category = rows(
        "report_days_categories",
        "x.day AS day, x.category AS category, x.reports AS reports",
    );
    let by_article = rows(
        "report_days_articles",
        "x.article_id AS article_id, x.reports AS reports",
    );
    for r in diesel::sql_query(by_category)
        .bind::<BigInt, _>(days.0)
        .bind::<BigInt, _>(days.1)
        .bind::<Nullable<Text>, _>(s.desk.clone())
        .load::<ByCategory>(conn)?
    {
        *tally.per_day.entry(r.day).or_default() += r.reports;
        *tally.per_category.entry(r.category).or_default() += r.reports;
    }
    for r in diesel::sql_query(by_article)
        .bind::<BigInt, _>(days.0)
        .bind::<BigInt, _>(days.1)
        .bind::<Nullable<Text>, _>(s.desk.clone())
        .load::<ByArticle>(conn)?
    {
        *tally.per_article.entry(r.article_id).or_default() += r.reports;
    }
    Ok(())
}

/// Add the reports filed in `[from, to)` to `tally`, one pass over the
/// range of `reports_period_idx`.
fn reported(
    conn: &mut DbConn,
    s: &Scope,
    from: NaiveDateTime,
    to: NaiveDateTime,
    tally: &mut Counts,
) -> DbResult<()> {
    let mut q = reports::table
        .filter(reports::created_at.ge(from))
        .filter(reports::created_at.lt(to))
        .filter(reports::is_spam.eq(false))
        .select((
            sql::<BigInt>(epoch_day_of(conn)),
            reports::category,
            reports::article_id,
        ))
        .into_boxed();
    if let Some(d) = &s.desk {
        q = q.filter(reports::desk.eq(d));
    }
    let rows = q.load_iter::<(i64, String, String), DefaultLoadingMode>(conn)?;
    for row in rows {
        let (day, category, article) = row?;
        *tally.per_day.entry(day).or_default() += 1;
        *tally.per_category.entry(category).or_default() += 1;
        *tally.per_article.entry(article).or_default() += 1;
    }
    Ok(())
}

/// The `limit` articles of `per_article` with the most reports, ties by
/// external id, read from `articles`: those above the last place's count,
/// and of those tied at it, the first by external id.
fn busiest(
    conn: &mut DbConn,
    s: &Scope,
    per_article: HashMap<String, i64>,
    limit: usize,
) -> DbResult<Vec<BusyArticle>> {
    let per_article = per_article
        .into_iter()
        .map(|(id, n)| (id, (n, 0)))
        .collect();
    let (above, tied, slots) = contenders(per_article, limit);
    // A quiet period can tie thousands of articles at one report: only the
    // first few by external id of each chunk can make the list.
    let mut first_tied: Vec<(String, String)> = Vec::new();
    let tied_ids: Vec<&str> = tied.iter().map(|(id, _)| id.as_str()).collect();
    for chunk in tied_ids.chunks(CHUNK) {
        first_tied.extend(
            articles::table
                .filter(articles::id.eq_any(chunk))
                .select((articles::external_id, articles::id))
                .order(articles::external_id.asc())
                .limit(slots as i64)
                .load::<(String, String)>(conn)?,
        );
    }
    first_tied.sort_unstable();
    first_tied.truncate(slots);
    let chosen: HashSet<String> = first_tied.into_iter().map(|(_, id)| id).collect();
    let mut picked: HashMap<String, (i64, i64)> = above
        .into_iter()
        .chain(tied.into_iter().filter(|(id, _)| chosen.contains(id)))
        .collect();
    let ids: Vec<String> = picked.keys().cloned().collect();
    for (id, n) in cases_reported(conn, s, &ids)? {
        if let Some(t) = picked.get_mut(&id) {
            t.1 = n;
        }
    }
    let found: Vec<(String, String, String, String)> = articles::table
        .filter(articles::id.eq_any(&ids))
        .select((
            articles::id,
            articles::external_id,
            articles::title,
            articles::url,
        ))
        .load(conn)?;
    let mut out: Vec<BusyArticle> = found
        .into_iter()
        .filter_map(|(id, external_id, title, url)| {
            let (reports, cases) = *picked.get(&id)?;
            Some(BusyArticle {
                external_id,
                title,
                url,
                reports,
                cases,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.reports
            .cmp(&a.reports)
            .then_with(|| a.external_id.cmp(&b.external_id))
    });
    Ok(out)
}

/// Of the articles `ids`, how many cases each has with a report in the
/// period `s`: a probe of each case's reports by time
/// (`reports_case_order_idx`), for the few articles listed, where counting
/// distinct cases among all the period's reports held a set of every case.
fn cases_reported(conn: &mut DbConn, s: &Scope, ids: &[String]) -> DbResult<Vec<(String, i64)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; ids.len()].join(", ");
    let q = super::sql(
        conn,
        &format!(
            "SELECT c.article_id AS key, COUNT(*) AS n FROM cases c \
             WHERE c.article_id IN ({marks}) AND EXISTS (SELECT 1 FROM reports r \
               WHERE r.case_id = c.id AND r.created_at >= ? AND r.created_at < ? \
                 AND NOT r.is_spam AND {}) \
             GROUP BY c.article_id",
            super::desk_of("r", &s.desk)
        ),
    );
    let mut query = diesel::sql_query(q).into_boxed();
    for id in ids {
        query = query.bind::<Text, _>(id.clone());
    }
    Ok(query
        .bind::<Timestamp, _>(s.from)
        .bind::<Timestamp, _>(s.to)
        .bind::<Nullable<Text>, _>(s.desk.clone())
        .load::<super::KeyCount>(conn)?
        .into_iter()
        .map(|c| (c.key, c.n))
        .collect())
}

/// Article id and its (reports, cases).
type Tally = (String, (i64, i64));

/// Of `per_article`, those sure to be among the `limit` busiest (more
/// reports than the last place), those tied with the last place, and how
/// many of the tied make the list.
fn contenders(
    per_article: HashMap<String, (i64, i64)>,
    limit: usize,
) -> (Vec<Tally>, Vec<Tally>, usize) {
    let mut ranked: Vec<Tally> = per_article.into_iter().collect();
    ranked.sort_unstable_by_key(|(_, (n, _))| std::cmp::Reverse(*n));
    let Some(cut) = ranked
        .get(limit.saturating_sub(1))
        .or(ranked.last())
        .filter(|_| limit > 0)
        .map(|(_, (n, _))| *n)
    else {
        return (Vec::new(), Vec::new(), 0);
    };
    let (above, tied): (Vec<_>, Vec<_>) = ranked
        .into_iter()
        .take_while(|(_, (n, _))| *n >= cut)
        .partition(|(_, (n, _))| *n > cut);
    let slots = limit - above.len();
    (above, tied, slots)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tallies(counts: &[i64]) -> HashMap<String, (i64, i64)> {
        counts
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("a{i:02}"), (*n, 1)))
            .collect()
    }

    fn ids(t: &[Tally]) -> Vec<String> {
        let mut v: Vec<String> = t.iter().map(|(id, _)| id.clone()).collect();
        v.sort();
        v
    }

    #[test]
    fn the_last_places_ties_are_all_contenders() {
        let (above, tied, slots) = contenders(tallies(&[5, 3, 5, 4, 3, 3, 3, 1, 3, 3, 3, 3]), 5);
        assert_eq!(ids(&above), ["a00", "a02", "a03"]);
        assert_eq!(tied.len(), 8, "every article at the fifth place's count");
        assert!(tied.iter().all(|(_, (n, _))| *n == 3));
        assert_eq!(slots, 2);
    }

    #[test]
    fn fewer_articles_than_places_all_make_the_list() {
        let (above, tied, slots) = contenders(tallies(&[2, 7, 2]), 10);
        assert_eq!(ids(&above), ["a01"]);
        assert_eq!(ids(&tied), ["a00", "a02"]);
        assert_eq!(slots, 9);
        let (above, tied, slots) = contenders(HashMap::new(), 10);
        assert!(above.is_empty() && tied.is_empty() && slots == 0);
        let (above, tied, slots) = contenders(tallies(&[1, 2]), 0);
        assert!(above.is_empty() && tied.is_empty() && slots == 0);
    }
}
