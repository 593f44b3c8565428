//! What readers said, beside each case of a queue page: the newest comment
//! and the newest suggested correction (with the sentence changed by it, as
//! a word diff), so most cases can be decided without opening them.
//!
//! Read for the page's cases only, in one query (prepared once per
//! connection, `LatestReports`): for each case, the newest
//! report and the newest report with a suggestion, each found by seeking
//! `reports_case_order_idx` / `reports_case_suggestion_idx` backwards from
//! the case's end (a few index reads per case, whatever the queue's size).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Nullable, Text, Timestamp};
use serde::Serialize;

use super::DbConn;
use super::any_of::{AnyOf, any_of};
use super::cases::CaseSummary;
use super::schema::cases;
use crate::domain::report::Category;
use crate::domain::word_diff::{self, DiffPart};

/// A queue row: the case, and what its readers last said.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueItem {
    #[serde(flatten)]
    pub case: CaseSummary,
    #[serde(flatten)]
    pub words: ReaderWords,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ReaderWords {
    /// The newest report's comment (reader text: escape it).
    pub latest_comment: Option<ReaderComment>,
    /// The newest suggested correction, if any report has one.
    pub latest_suggestion: Option<ReaderSuggestion>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReaderComment {
    /// 1–2000 characters, as the reader wrote it.
    pub text: String,
    pub category: Category,
    #[serde(with = "crate::domain::utc")]
    pub reported_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReaderSuggestion {
    /// Up to 1000 characters, as the reader wrote it.
    pub text: String,
    #[serde(with = "crate::domain::utc")]
    pub reported_at: NaiveDateTime,
    /// The sentence with the quoted words replaced by the suggestion, word
    /// by word (`equal`, `delete`, `insert`); the quote alone when it is not
    /// in the sentence; empty when the suggestion changes nothing.
    pub diff: Vec<DiffPart>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    case_id: String,
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Timestamp)]
    created_at: NaiveDateTime,
    #[diesel(sql_type = Text)]
    category: String,
    #[diesel(sql_type = Text)]
    comment: String,
    #[diesel(sql_type = Nullable<Text>)]
    suggested_correction: Option<String>,
    #[diesel(sql_type = Text)]
    quote_exact: String,
    #[diesel(sql_type = Nullable<Text>)]
    quote_prefix: Option<String>,
}

/// The newest report, and the newest with a suggestion, of each case.
fn latest_reports(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<Row>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    LatestReports {
        cases: any_of(cases::id, ids),
    }
    .load(conn)
}

/// `latest_reports`'s statement. Its SQL is the same for every page: the
/// case ids are one bound value (`db::any_of`), so it is prepared once per
/// connection. Written with one placeholder per case, it was prepared anew
/// on every queue page: 13% of a page's time at a million reports.
struct LatestReports<'a> {
    /// The page's cases, `cases.id` among the ids.
    cases: AnyOf<'a, cases::id>,
}

/// The statement around the two lists of case ids.
const LATEST_HEAD: &str = "SELECT r.case_id, r.id, r.created_at, r.category, r.comment, \
     r.suggested_correction, r.quote_exact, r.quote_prefix FROM reports r WHERE r.id IN (\
     SELECT (SELECT r2.id FROM reports r2 WHERE r2.case_id = cases.id \
     ORDER BY r2.created_at DESC, r2.id DESC LIMIT 1) FROM cases WHERE ";
const LATEST_MIDDLE: &str = " UNION ALL \
     SELECT (SELECT r2.id FROM reports r2 WHERE r2.case_id = cases.id \
     AND r2.suggested_correction IS NOT NULL \
     ORDER BY r2.created_at DESC, r2.id DESC LIMIT 1) FROM cases WHERE ";
const LATEST_TAIL: &str = ")";

impl QueryId for LatestReports<'_> {
    type QueryId = ();
    // Cached by its SQL text, which does not depend on the ids.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for LatestReports<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<Conn> RunQueryDsl<Conn> for LatestReports<'_> {}

impl<'a, DB: Backend> QueryFragment<DB> for LatestReports<'a>
where
    AnyOf<'a, cases::id>: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        for part in [LATEST_HEAD, LATEST_MIDDLE] {
            out.push_sql(part);
            self.cases.walk_ast(out.reborrow())?;
        }
        out.push_sql(LATEST_TAIL);
        Ok(())
    }
}

/// The page's cases with their readers' words.
pub fn attach(conn: &mut DbConn, cases: Vec<CaseSummary>) -> QueryResult<Vec<QueueItem>> {
    let ids: Vec<String> = cases.iter().map(|c| c.id.clone()).collect();
    let mut by_case: HashMap<String, Vec<Row>> = HashMap::new();
    for row in latest_reports(conn, &ids)? {
        by_case.entry(row.case_id.clone()).or_default().push(row);
    }
    Ok(cases
        .into_iter()
        .map(|case| {
            let rows = by_case.remove(&case.id).unwrap_or_default();
            let words = words_of(&case.sentence_text, rows);
            QueueItem { case, words }
        })
        .collect())
}

fn newest<'a>(rows: impl Iterator<Item = &'a Row>) -> Option<&'a Row> {
    rows.max_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)))
}

fn words_of(sentence: &str, rows: Vec<Row>) -> ReaderWords {
    let latest_comment = newest(rows.iter()).and_then(|r| {
        Some(ReaderComment {
            text: r.comment.clone(),
            category: Category::parse(&r.category)?,
            reported_at: r.created_at,
        })
    });
    let latest_suggestion =
        newest(rows.iter().filter(|r| r.suggested_correction.is_some())).map(|r| {
            let text = r.suggested_correction.clone().unwrap_or_default();
            let diff =
                word_diff::suggestion(sentence, &r.quote_exact, r.quote_prefix.as_deref(), &text)
                    .unwrap_or_default();
            ReaderSuggestion {
                text,
                reported_at: r.created_at,
                diff,
            }
        });
    ReaderWords {
        latest_comment,
        latest_suggestion,
    }
}

#[cfg(test)]
mod tests {
    use diesel::pg::Pg;
    use diesel::sqlite::Sqlite;

    use super::*;

    fn sql<DB>(ids: &[String]) -> String
    where
        DB: diesel::backend::Backend + Default,
        DB::QueryBuilder: Default,
        for<'a> LatestReports<'a>: QueryFragment<DB>,
    {
        let q = LatestReports {
            cases: any_of(cases::id, ids),
        };
        let text = diesel::debug_query::<DB, _>(&q).to_string();
        text.split(" -- binds")
            .next()
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn the_statement_is_the_same_for_every_page() {
        let one = vec!["a".to_string()];
        let fifty: Vec<String> = (0..50).map(|i| format!("case-{i}")).collect();
        assert_eq!(sql::<Sqlite>(&one), sql::<Sqlite>(&fifty));
        assert_eq!(sql::<Pg>(&one), sql::<Pg>(&fifty));
        assert!(sql::<Pg>(&one).contains("\"cases\".\"id\" = ANY($2)"));
    }

    #[test]
    fn it_finds_the_newest_report_and_suggestion_by_index() {
        use diesel::connection::SimpleConnection;
        let (_dir, mut conn) = crate::db::scratch_sqlite();
        #[derive(QueryableByName)]
        struct Plan {
            #[diesel(sql_type = Text)]
            detail: String,
        }
        let ids = vec!["c1".to_string(), "c2".to_string()];
        let q = LatestReports {
            cases: any_of(cases::id, &ids),
        };
        let text = diesel::debug_query::<Sqlite, _>(&q).to_string();
        let sql = text
            .split(" -- binds")
            .next()
            .unwrap()
            .replace('?', "'[\"c1\",\"c2\"]'");
        conn.batch_execute("ANALYZE").unwrap();
        let plan: Vec<Plan> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load(&mut *conn)
            .unwrap();
        let plan: Vec<String> = plan.into_iter().map(|p| p.detail).collect();
        assert!(
            plan.iter()
                .all(|d| !d.starts_with("SCAN r") && !d.starts_with("SCAN c")),
            "{plan:?}"
        );
        // Runs, and finds nothing for cases that have no reports.
        assert!(latest_reports(&mut conn, &ids).unwrap().is_empty());
    }
}
