//! Published corrections, for everyone: pages of the log, the latest for the
//! feed, an article's corrections and their schema.org description.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::db::articles as article_store;
use crate::db::corrections as store;
pub use crate::db::corrections::CorrectionView;
pub use crate::db::reports::ArticleRef;
use crate::domain::article::ExternalId;
use crate::error::{FieldError, Problem};

pub const FEED_SIZE: i64 = 50;
const DEFAULT_PAGE: i64 = 20;
const MAX_PAGE: i64 = 100;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CorrectionsPage {
    pub items: Vec<CorrectionView>,
    pub next_cursor: Option<String>,
}

/// Where a page starts: after this `(published_at, id)`.
pub type After = (NaiveDateTime, String);

pub fn encode_cursor(c: &CorrectionView) -> String {
    let raw = format!("{}|{}", c.published_at.and_utc().timestamp_micros(), c.id);
    data_encoding::BASE64URL_NOPAD.encode(raw.as_bytes())
}

pub fn decode_cursor(s: &str) -> Option<After> {
    let raw = data_encoding::BASE64URL_NOPAD.decode(s.as_bytes()).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (t, id) = raw.split_once('|')?;
    let t = chrono::DateTime::from_timestamp_micros(t.parse().ok()?)?.naive_utc();
    uuid::Uuid::parse_str(id).ok()?;
    Some((t, id.to_string()))
}

/// A page request, checked: its size and where it starts.
pub fn parse(query: &PageQuery) -> Result<(i64, Option<After>), Problem> {
    let mut errors = Vec::new();
    let limit = match query.limit.as_deref() {
        None => DEFAULT_PAGE,
        Some(n) => match n.parse::<i64>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    "limit",
                    "out_of_range",
                    format!("must be between 1 and {MAX_PAGE}"),
                ));
                DEFAULT_PAGE
            }
        },
    };
    let after = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => decode_cursor(c).or_else(|| {
            errors.push(FieldError::new(
                "cursor",
                "invalid_cursor",
                "is not a cursor from this list",
            ));
            None
        }),
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    Ok((limit, after))
}

/// Every published correction, newest first, a page at a time.
pub async fn page(
    state: &AppState,
    limit: i64,
    after: Option<After>,
) -> Result<CorrectionsPage, Problem> {
    let mut items = state
        .read(move |conn| Ok(store::page(conn, after, limit + 1)?))
        .await?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_cursor = items.last().filter(|_| more).map(encode_cursor);
    Ok(CorrectionsPage { items, next_cursor })
}

/// The latest corrections, for the feed.
pub async fn latest(state: &AppState) -> Result<Vec<CorrectionView>, Problem> {
    state
        .read(|conn| Ok(store::page(conn, None, FEED_SIZE)?))
        .await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ArticleCorrections {
    pub article: ArticleRef,
    /// Newest first.
    pub items: Vec<CorrectionView>,
}

/// The corrections published on one article, newest first.
pub async fn for_article(
    state: &AppState,
    external_id: ExternalId,
) -> Result<ArticleCorrections, Problem> {
    state
        .read(move |conn| {
            let article = article_store::find_by_external_id(conn, external_id.as_str())?
                .ok_or_else(|| super::articles::not_found(&external_id))?;
            Ok(ArticleCorrections {
                items: store::for_article(conn, &article.id)?,
                article: ArticleRef {
                    external_id: article.external_id,
                    title: article.title,
                    url: article.url,
                },
            })
        })
        .await
}

/// schema.org JSON-LD for the article page: a `NewsArticle` (identified by
/// its URL, so it merges with the page's own description) whose
/// `correction` lists a `CorrectionComment` per published correction.
pub fn json_ld(a: &ArticleCorrections) -> serde_json::Value {
    let corrections: Vec<serde_json::Value> = a
        .items
        .iter()
        .map(|c| {
            serde_json::json!({
                "@type": "CorrectionComment",
                "text": c.text,
                "datePublished": c.published_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            })
        })
        .collect();
    serde_json::json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "@id": a.article.url,
        "url": a.article.url,
        "headline": a.article.title,
        "correction": corrections,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::article::Language;
    use crate::domain::workflow::Resolution;

    #[test]
    fn cursors_round_trip() {
        let c = CorrectionView {
            id: uuid::Uuid::now_v7().to_string(),
            article: ArticleRef {
                external_id: "a".into(),
                title: "t".into(),
                url: "https://x.example/a".into(),
            },
            sentence_before: "s".into(),
            text: "n".into(),
            kind: Resolution::Corrected,
            published_at: crate::db::now(),
            language: Language::Fr,
        };
        assert_eq!(
            decode_cursor(&encode_cursor(&c)),
            Some((c.published_at, c.id.clone()))
        );
        assert_eq!(decode_cursor("bad"), None);
    }
}
