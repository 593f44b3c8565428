//! Published corrections, for everyone: a paged list, an Atom feed, an
//! article's corrections, and the schema.org JSON-LD the CMS embeds.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use atom_syndication::{Content, Entry, Feed, Link, Person, Text};
use chrono::{NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::db::articles as article_store;
use crate::db::corrections::{self as store, CorrectionView};
use crate::db::reports::ArticleRef;
use crate::error::{FieldError, Problem};
use crate::state::AppState;

pub const FEED_SIZE: i64 = 50;

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

pub fn encode_cursor(c: &CorrectionView) -> String {
    let raw = format!("{}|{}", c.published_at.and_utc().timestamp_micros(), c.id);
    data_encoding::BASE64URL_NOPAD.encode(raw.as_bytes())
}

pub fn decode_cursor(s: &str) -> Option<(NaiveDateTime, String)> {
    let raw = data_encoding::BASE64URL_NOPAD.decode(s.as_bytes()).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (t, id) = raw.split_once('|')?;
    let t = chrono::DateTime::from_timestamp_micros(t.parse().ok()?)?.naive_utc();
    uuid::Uuid::parse_str(id).ok()?;
    Some((t, id.to_string()))
}

/// Every published correction, newest first.
#[utoipa::path(get, path = "/api/v1/corrections", tag = "corrections", params(PageQuery),
    responses(
        (status = 200, description = "A page of corrections", body = CorrectionsPage),
        (status = 422, description = "Invalid cursor or limit", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Problem> {
    let mut errors = Vec::new();
    let limit = match query.limit.as_deref() {
        None => 20,
        Some(n) => match n.parse::<i64>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    "limit",
                    "out_of_range",
                    "must be between 1 and 100",
                ));
                20
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
    let mut items = state
        .read(move |conn| Ok(store::page(conn, after, limit + 1)?))
        .await?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_cursor = items.last().filter(|_| more).map(encode_cursor);
    Ok(HttpResponse::Ok().json(CorrectionsPage { items, next_cursor }))
}

fn utc(t: NaiveDateTime) -> chrono::DateTime<chrono::FixedOffset> {
    Utc.from_utc_datetime(&t).fixed_offset()
}

/// The title of an entry in the article's language.
fn entry_title(kind: &str, language: &str, title: &str) -> String {
    let label = match (language, kind) {
        ("en", "clarified") => "Clarification",
        ("en", "updated") => "Update",
        ("en", _) => "Correction",
        (_, "clarified") => "Précision",
        (_, "updated") => "Mise à jour",
        _ => "Correction",
    };
    let sep = if language == "en" { ":" } else { " :" };
    format!("{label}{sep} {title}")
}

/// The latest corrections as an Atom feed (RFC 4287).
#[utoipa::path(get, path = "/corrections.atom", tag = "corrections",
    responses(
        (status = 200, description = "Atom feed of the latest 50 corrections", content_type = "application/atom+xml", body = String),
    ))]
pub async fn atom(state: web::Data<AppState>) -> Result<HttpResponse, Problem> {
    let items = state
        .read(|conn| Ok(store::page(conn, None, FEED_SIZE)?))
        .await?;
    let self_url = format!("{}/corrections.atom", state.public_url);
    let updated = items
        .first()
        .map(|c| utc(c.published_at))
        .unwrap_or_else(|| utc(chrono::DateTime::UNIX_EPOCH.naive_utc()));
    let entries: Vec<Entry> = items
        .iter()
        .map(|c| {
            let lang = c.language.as_str();
            let original = if lang == "en" {
                "Originally"
            } else {
                "Texte initial"
            };
            let mut content = Content::default();
            content.set_content_type("text".to_string());
            content.set_value(format!(
                "{}\n\n{original} : « {} »",
                c.text, c.sentence_before
            ));
            let mut e = Entry::default();
            e.set_id(format!("urn:uuid:{}", c.id));
            e.set_title(Text::plain(entry_title(&c.kind, lang, &c.article.title)));
            e.set_updated(utc(c.published_at));
            e.set_published(Some(utc(c.published_at)));
            e.set_summary(Some(Text::plain(c.text.clone())));
            e.set_content(Some(content));
            let mut link = Link::default();
            link.set_href(c.article.url.clone());
            link.set_rel("alternate");
            e.set_links(vec![link]);
            e
        })
        .collect();
    let mut author = Person::default();
    author.set_name("Erratum".to_string());
    let mut self_link = Link::default();
    self_link.set_href(self_url.clone());
    self_link.set_rel("self");
    self_link.set_mime_type(Some("application/atom+xml".to_string()));
    let mut feed = Feed::default();
    feed.set_id(self_url);
    feed.set_title(Text::plain("Corrections".to_string()));
    feed.set_updated(updated);
    feed.set_authors(vec![author]);
    feed.set_links(vec![self_link]);
    feed.set_entries(entries);
    // The crate writes the XML and escapes every text: reader and editor
    // text never reaches the document unescaped.
    Ok(HttpResponse::Ok()
        .content_type("application/atom+xml; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .body(feed.to_string()))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ArticleCorrections {
    pub article: ArticleRef,
    /// Newest first.
    pub items: Vec<CorrectionView>,
}

async fn article_corrections(state: &AppState, raw: &str) -> Result<ArticleCorrections, Problem> {
    let external_id = super::external_id(raw)?;
    state
        .read(move |conn| {
            let article = article_store::find_by_external_id(conn, external_id.as_str())?
                .ok_or_else(|| {
                    Problem::not_found(
                        "article_not_found",
                        format!("No article {:?}.", external_id.as_str()),
                    )
                })?;
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

/// The corrections published on one article, newest first.
#[utoipa::path(get, path = "/api/v1/articles/{external_id}/corrections", tag = "corrections",
    params(("external_id" = String, Path, description = "The article's id")),
    responses(
        (status = 200, description = "The article's corrections", body = ArticleCorrections),
        (status = 404, description = "Unknown article", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn for_article(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    Ok(HttpResponse::Ok().json(article_corrections(&state, &path).await?))
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
                "datePublished": utc(c.published_at).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
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

/// The article's corrections as schema.org JSON-LD, to embed in the page in
/// a `<script type="application/ld+json">` (or to copy its `correction`
/// list into the page's own NewsArticle).
#[utoipa::path(get, path = "/api/v1/articles/{external_id}/corrections.jsonld", tag = "corrections",
    params(("external_id" = String, Path, description = "The article's id")),
    responses(
        (status = 200, description = "JSON-LD", content_type = "application/ld+json", body = Object),
        (status = 404, description = "Unknown article", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn for_article_jsonld(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let a = article_corrections(&state, &path).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/ld+json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        // Escaped like the JSON-LD in our own pages: the answer is meant to
        // be pasted into a <script>, and a public note may hold `</script>`.
        .body(crate::domain::text::script_safe_json(&json_ld(&a))))
}

#[cfg(test)]
mod tests {
    use super::*;

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
            kind: "corrected".into(),
            published_at: crate::db::now(),
            language: "fr".into(),
        };
        assert_eq!(
            decode_cursor(&encode_cursor(&c)),
            Some((c.published_at, c.id.clone()))
        );
        assert_eq!(decode_cursor("bad"), None);
    }

    #[test]
    fn entry_titles_follow_the_language() {
        assert_eq!(entry_title("corrected", "fr", "T"), "Correction : T");
        assert_eq!(entry_title("updated", "en", "T"), "Update: T");
        assert_eq!(entry_title("clarified", "fr", "T"), "Précision : T");
    }
}
