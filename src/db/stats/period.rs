//! The period's reports, read in one pass: per day, per category and the
//! busiest articles together.
//!
//! These figures once came from two `GROUP BY`s over the period's entries
//! of `reports_period_idx`. At a million reports (44,546 in 30 days) the
//! scan itself took 19 ms on SQLite, but the groupings, sorted in temporary
//! b-trees by 36-character ids, took 42 and 130 ms more. Here the index is
//! read once and each row is tallied in hash maps as it streams by; only
//! the few busiest articles are then read from `articles`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Duration;
use diesel::connection::DefaultLoadingMode;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::super::rows::CHUNK;
use super::super::schema::{articles, reports};
use super::super::{DbConn, DbResult};
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

/// A report's UTC day as days since 1970-01-01: an integer on both
/// backends, where a timestamp cost SQLite a text parse per row (chrono's
/// format parser was an eighth of the dashboard's time).
fn epoch_day(conn: &DbConn) -> &'static str {
    match conn {
        DbConn::Sqlite(_) => {
            "CAST(julianday(substr(reports.created_at, 1, 10)) - 2440587.5 AS INTEGER)"
        }
        DbConn::Pg(_) => "CAST(CAST(reports.created_at AS DATE) - DATE '1970-01-01' AS BIGINT)",
    }
}

/// Reports filed in the period `s` (its desk only, when it names one),
/// spam caught at intake aside.
pub fn period_reports(conn: &mut DbConn, s: &Scope, limit: usize) -> DbResult<PeriodReports> {
    let mut q = reports::table
        .filter(reports::created_at.ge(s.from))
        .filter(reports::created_at.lt(s.to))
        .filter(reports::is_spam.eq(false))
        .select((
            sql::<BigInt>(epoch_day(conn)),
            reports::category,
            reports::article_id,
            reports::case_id,
        ))
        .into_boxed();
    if let Some(d) = &s.desk {
        q = q.filter(reports::desk.eq(d));
    }
    let mut per_day: BTreeMap<i64, i64> = BTreeMap::new();
    let mut per_category: BTreeMap<String, i64> = BTreeMap::new();
    // Per article: reports and distinct cases (a case has one article, so
    // a case seen for the first time is a new case of its article).
    let mut per_article: HashMap<String, (i64, i64)> = HashMap::new();
    let mut cases: HashSet<String> = HashSet::new();
    let rows = q.load_iter::<(i64, String, String, String), DefaultLoadingMode>(conn)?;
    for row in rows {
        let (day, category, article, case) = row?;
        *per_day.entry(day).or_default() += 1;
        *per_category.entry(category).or_default() += 1;
        let new_case = cases.insert(case);
        let tally = per_article.entry(article).or_default();
        tally.0 += 1;
        tally.1 += i64::from(new_case);
    }
    let epoch = chrono::DateTime::UNIX_EPOCH.date_naive();
    Ok(PeriodReports {
        per_day: per_day
            .into_iter()
            .filter_map(|(d, n)| {
                let day = epoch.checked_add_signed(Duration::days(d))?;
                Some((day.format("%Y-%m-%d").to_string(), n))
            })
            .collect(),
        per_category,
        busiest: busiest(conn, per_article, limit)?,
    })
}

/// The `limit` articles of `per_article` with the most reports, ties by
/// external id, read from `articles`: those above the last place's count,
/// and of those tied at it, the first by external id.
fn busiest(
    conn: &mut DbConn,
    per_article: HashMap<String, (i64, i64)>,
    limit: usize,
) -> DbResult<Vec<BusyArticle>> {
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
    let picked: HashMap<String, (i64, i64)> = above
        .into_iter()
        .chain(tied.into_iter().filter(|(id, _)| chosen.contains(id)))
        .collect();
    let ids: Vec<&str> = picked.keys().map(String::as_str).collect();
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
