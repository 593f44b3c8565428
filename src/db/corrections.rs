//! Published corrections: written when a case is resolved as corrected,
//! clarified or updated, and never changed afterwards (a reopened case keeps
//! its published correction; resolving it again publishes another).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::cases::CaseRow;
use super::reports::ArticleRef;
use super::schema::{articles, corrections};
use super::{DbConn, new_id};
use crate::domain::article::Language;
use crate::domain::workflow::Resolution;

/// A correction as the public sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CorrectionView {
    pub id: String,
    pub article: ArticleRef,
    /// The sentence as it read when it was reported.
    pub sentence_before: String,
    /// The public correction text.
    pub text: String,
    /// `corrected`, `clarified` or `updated`.
    pub kind: Resolution,
    #[serde(with = "crate::domain::utc")]
    pub published_at: NaiveDateTime,
    /// The article's language (for feed titles).
    #[serde(skip)]
    pub language: Language,
}

pub fn insert(
    conn: &mut DbConn,
    case: &CaseRow,
    kind: Resolution,
    text: &str,
    editor_id: &str,
    t: NaiveDateTime,
) -> QueryResult<String> {
    let id = new_id();
    diesel::insert_into(corrections::table)
        .values((
            corrections::id.eq(&id),
            corrections::case_id.eq(&case.id),
            corrections::article_id.eq(&case.article_id),
            corrections::sentence_id.eq(&case.sentence_id),
            corrections::sentence_text.eq(&case.sentence_text),
            corrections::kind.eq(kind),
            corrections::public_note.eq(text),
            corrections::editor_id.eq(editor_id),
            corrections::published_at.eq(t),
        ))
        .execute(conn)?;
    Ok(id)
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    Resolution,
    NaiveDateTime,
    Language,
);

fn view(r: Row) -> CorrectionView {
    CorrectionView {
        id: r.0,
        article: ArticleRef {
            external_id: r.1,
            title: r.2,
            url: r.3,
        },
        sentence_before: r.4,
        text: r.5,
        kind: r.6,
        published_at: r.7,
        language: r.8,
    }
}

macro_rules! columns {
    () => {
        (
            corrections::id,
            articles::external_id,
            articles::title,
            articles::url,
            corrections::sentence_text,
            corrections::public_note,
            corrections::kind,
            corrections::published_at,
            articles::language,
        )
    };
}

/// Newest first, after the `(published_at, id)` of the previous page's last.
pub fn page(
    conn: &mut DbConn,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<CorrectionView>> {
    let mut q = corrections::table
        .inner_join(articles::table)
        .order((corrections::published_at.desc(), corrections::id.desc()))
        .limit(limit)
        .select(columns!())
        .into_boxed();
    if let Some((t, id)) = after {
        q = q.filter(
            corrections::published_at
                .lt(t)
                .or(corrections::published_at.eq(t).and(corrections::id.lt(id))),
        );
    }
    Ok(q.load::<Row>(conn)?.into_iter().map(view).collect())
}

/// Every correction of one article, newest first.
pub fn for_article(conn: &mut DbConn, article_id: &str) -> QueryResult<Vec<CorrectionView>> {
    Ok(corrections::table
        .inner_join(articles::table)
        .filter(corrections::article_id.eq(article_id))
        .order((corrections::published_at.desc(), corrections::id.desc()))
        .select(columns!())
        .load::<Row>(conn)?
        .into_iter()
        .map(view)
        .collect())
}

/// Every correction published for one case, oldest first.
pub fn for_case(conn: &mut DbConn, case_id: &str) -> QueryResult<Vec<CorrectionView>> {
    Ok(corrections::table
        .inner_join(articles::table)
        .filter(corrections::case_id.eq(case_id))
        .order((corrections::published_at.asc(), corrections::id.asc()))
        .select(columns!())
        .load::<Row>(conn)?
        .into_iter()
        .map(view)
        .collect())
}
