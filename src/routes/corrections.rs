//! Published corrections, for everyone: a paged list, an Atom feed, an
//! article's corrections, and the schema.org JSON-LD the CMS embeds.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use atom_syndication::{Content, Entry, Feed, Link, Person, Text};
use chrono::{NaiveDateTime, TimeZone, Utc};

use crate::app::AppState;
use crate::app::corrections::{
    self as corrections, ArticleCorrections, CorrectionsPage, PageQuery,
};
use crate::domain::article::Language;
use crate::domain::workflow::Resolution;
use crate::error::Problem;

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
    let (limit, after) = corrections::parse(&query)?;
    Ok(HttpResponse::Ok().json(corrections::page(&state, limit, after).await?))
}

fn utc(t: NaiveDateTime) -> chrono::DateTime<chrono::FixedOffset> {
    Utc.from_utc_datetime(&t).fixed_offset()
}

/// The title of an entry in the article's language.
fn entry_title(kind: Resolution, language: Language, title: &str) -> String {
    let label = match (language, kind) {
        (Language::En, Resolution::Clarified) => "Clarification",
        (Language::En, Resolution::Updated) => "Update",
        (Language::En, _) => "Correction",
        (Language::Fr, Resolution::Clarified) => "Précision",
        (Language::Fr, Resolution::Updated) => "Mise à jour",
        (Language::Fr, _) => "Correction",
    };
    let sep = match language {
        Language::En => ":",
        Language::Fr => " :",
    };
    format!("{label}{sep} {title}")
}

/// The latest corrections as an Atom feed (RFC 4287).
#[utoipa::path(get, path = "/corrections.atom", tag = "corrections",
    responses(
        (status = 200, description = "Atom feed of the latest 50 corrections", content_type = "application/atom+xml", body = String),
    ))]
pub async fn atom(state: web::Data<AppState>) -> Result<HttpResponse, Problem> {
    let items = corrections::latest(&state).await?;
    let self_url = format!("{}/corrections.atom", state.public_url);
    let updated = items
        .first()
        .map(|c| utc(c.published_at))
        .unwrap_or_else(|| utc(chrono::DateTime::UNIX_EPOCH.naive_utc()));
    let entries: Vec<Entry> = items
        .iter()
        .map(|c| {
            let original = match c.language {
                Language::En => "Originally",
                Language::Fr => "Texte initial",
            };
            let mut content = Content::default();
            content.set_content_type("text".to_string());
            content.set_value(format!(
                "{}\n\n{original} : « {} »",
                c.text, c.sentence_before
            ));
            let mut e = Entry::default();
            e.set_id(format!("urn:uuid:{}", c.id));
            e.set_title(Text::plain(entry_title(
                c.kind,
                c.language,
                &c.article.title,
            )));
            e.set_updated(utc(c.published_at));
            e.set_published(Some(utc(c.published_at)));
            e.set_summary(Some(Text::plain(c.text.clone())));
            e.set_content(Some(content));
            let mut link = Link::default();
            link.set_href(crate::domain::fragment::link(
                &c.article.url,
                &c.sentence_before,
                None,
                None,
            ));
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
    let external_id = super::external_id(&path)?;
    Ok(HttpResponse::Ok().json(corrections::for_article(&state, external_id).await?))
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
    let external_id = super::external_id(&path)?;
    let a: ArticleCorrections = corrections::for_article(&state, external_id).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/ld+json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        // Escaped like the JSON-LD in our own pages: the answer is meant to
        // be pasted into a <script>, and a public note may hold `</script>`.
        .body(crate::domain::text::script_safe_json(
            &corrections::json_ld(&a),
        )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_titles_follow_the_language() {
        assert_eq!(
            entry_title(Resolution::Corrected, Language::Fr, "T"),
            "Correction : T"
        );
        assert_eq!(
            entry_title(Resolution::Updated, Language::En, "T"),
            "Update: T"
        );
        assert_eq!(
            entry_title(Resolution::Clarified, Language::Fr, "T"),
            "Précision : T"
        );
    }
}
