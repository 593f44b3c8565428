//! What the public may know about an article's sentences: their published
//! corrections and whether a case is open on them. No reader text, no
//! counts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{cases, corrections};
use crate::domain::workflow::Resolution;

/// A published correction with the sentence it was reported on and, when
/// that sentence was edited since, its successor.
pub struct CorrectedRow {
    pub sentence_id: String,
    pub successor_sentence_id: Option<String>,
    pub text: String,
    pub kind: Resolution,
    pub published_at: NaiveDateTime,
}

/// Every correction of an article, oldest first.
pub fn corrections(conn: &mut DbConn, article_id: &str) -> QueryResult<Vec<CorrectedRow>> {
    let rows: Vec<(String, Option<String>, String, Resolution, NaiveDateTime)> = corrections::table
        .inner_join(cases::table.on(cases::id.eq(corrections::case_id)))
        .filter(corrections::article_id.eq(article_id))
        .order((corrections::published_at.asc(), corrections::id.asc()))
        .select((
            corrections::sentence_id,
            cases::successor_sentence_id,
            corrections::public_note,
            corrections::kind,
            corrections::published_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(sentence_id, successor_sentence_id, text, kind, published_at)| CorrectedRow {
                sentence_id,
                successor_sentence_id,
                text,
                kind,
                published_at,
            },
        )
        .collect())
}

/// The sentences (and successors) with an open case on an article.
pub fn open_cases(
    conn: &mut DbConn,
    article_id: &str,
) -> QueryResult<Vec<(String, Option<String>)>> {
    cases::table
        .filter(cases::article_id.eq(article_id))
        .filter(cases::open_key.is_not_null())
        .select((cases::sentence_id, cases::successor_sentence_id))
        .load(conn)
}

/// The articles of some cases (for cache invalidation).
pub fn articles_of_cases(conn: &mut DbConn, case_ids: &[String]) -> QueryResult<Vec<String>> {
    if case_ids.is_empty() {
        return Ok(Vec::new());
    }
    cases::table
        .filter(cases::id.eq_any(case_ids.to_vec()))
        .select(cases::article_id)
        .distinct()
        .load(conn)
}
