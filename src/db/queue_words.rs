//! What readers said, beside each case of a queue page: the newest comment
//! and the newest suggested correction (with the sentence changed by it, as
//! a word diff), so most cases can be decided without opening them.
//!
//! Read for the page's cases only, in one query: for each case, the newest
//! report and the newest report with a suggestion, each found by seeking
//! `reports_case_order_idx` / `reports_case_suggestion_idx` backwards from
//! the case's end (a few index reads per case, whatever the queue's size).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamp};
use serde::Serialize;

use super::DbConn;
use super::cases::CaseSummary;
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

/// `n` placeholders from number `first` on, in the backend's spelling.
fn placeholders(pg: bool, first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| if pg { format!("${i}") } else { "?".to_string() })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The newest report, and the newest with a suggestion, of each case.
fn latest_reports(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<Row>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let pg = matches!(conn, DbConn::Pg(_));
    let (a, b) = (
        placeholders(pg, 1, ids.len()),
        placeholders(pg, ids.len() + 1, ids.len()),
    );
    let newest = |extra: &str| {
        format!(
            "SELECT (SELECT r2.id FROM reports r2 WHERE r2.case_id = c.id{extra} \
             ORDER BY r2.created_at DESC, r2.id DESC LIMIT 1) FROM cases c WHERE c.id IN "
        )
    };
    let q = format!(
        "SELECT r.case_id, r.id, r.created_at, r.category, r.comment, r.suggested_correction, \
         r.quote_exact, r.quote_prefix FROM reports r WHERE r.id IN ({}({a}) UNION ALL {}({b}))",
        newest(""),
        newest(" AND r2.suggested_correction IS NOT NULL"),
    );
    let mut query = diesel::sql_query(q).into_boxed();
    for id in ids.iter().chain(ids.iter()) {
        query = query.bind::<Text, _>(id.clone());
    }
    query.load(conn)
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
