//! The HTML pages: `/` , `/demo`, `/articles/{external_id}` and `/r/{token}`.
//! Handlers never answer problem+json: a browser gets a small HTML page with
//! the right status instead.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::i18n::{Catalog, Catalogs};
use super::{Audience, dates, error_page, html, render};
use crate::app::AppState;
use crate::app::articles::{self, ArticlePage};
use crate::app::corrections::{self as corrections_app, ArticleCorrections};
use crate::app::intake;
use crate::auth::client_ip;
use crate::domain::article::ExternalId;
use crate::domain::workflow::Resolution;
use crate::error::{ErrorCode, Problem};

/// `?hostile=1` adds a stylesheet that attacks the widget the way careless
/// newsroom themes do, to show (and test) that it still works.
#[derive(Deserialize)]
pub struct PageQuery {
    hostile: Option<String>,
}

impl PageQuery {
    fn hostile(&self) -> bool {
        self.hostile.as_deref() == Some("1")
    }
}

/// The root: the demo when it is on (so `cargo run` then the bare address
/// lands somewhere useful), otherwise a short note on what this service is.
pub async fn root(state: web::Data<AppState>) -> HttpResponse {
    if state.settings.demo.enabled {
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/demo"))
            .finish();
    }
    match render("index.html", minijinja::context! {}) {
        Ok(body) => html(StatusCode::OK, body, Audience::Public),
        Err(p) => error_page(&p, Audience::Public),
    }
}

/// The demo article as a news page, with the widget.
#[utoipa::path(get, path = "/demo", tag = "pages",
    params(("hostile" = Option<String>, Query, description = "1: add a stylesheet that attacks the widget")),
    responses(
        (status = 200, description = "The demo article page", body = String, content_type = "text/html"),
        (status = 404, description = "The demo is turned off", body = String, content_type = "text/html"),
    ))]
pub async fn demo(state: web::Data<AppState>, query: web::Query<PageQuery>) -> HttpResponse {
    if !state.settings.demo.enabled {
        let off = Problem::not_found(ErrorCode::NotFound, "The demo is turned off.");
        return error_page(&off, Audience::Public);
    }
    let id = state.settings.demo.external_id.clone();
    article_page(&state, id, query.hostile())
        .await
        .unwrap_or_else(|p| error_page(&p, Audience::Public))
}

/// Any stored article as a news page with the widget: where `article import`
/// points articles that have no page of their own.
#[utoipa::path(get, path = "/articles/{external_id}", tag = "pages",
    params(
        ("external_id" = String, Path, description = "The article's id"),
        ("hostile" = Option<String>, Query, description = "1: add a stylesheet that attacks the widget"),
    ),
    responses(
        (status = 200, description = "The article page", body = String, content_type = "text/html"),
        (status = 404, description = "Unknown article", body = String, content_type = "text/html"),
    ))]
pub async fn article(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> HttpResponse {
    article_page(&state, path.into_inner(), query.hostile())
        .await
        .unwrap_or_else(|p| error_page(&p, Audience::Public))
}

#[derive(Serialize)]
struct ArticleContext {
    title: String,
    external_id: String,
    /// The article's tag: the widget's language.
    language: String,
    desk: Option<String>,
}

async fn article_page(
    state: &AppState,
    external_id: String,
    hostile: bool,
) -> Result<HttpResponse, Problem> {
    let external_id = ExternalId::parse(&external_id)
        .map_err(|_| Problem::not_found(ErrorCode::ArticleNotFound, "No such article."))?;
    let ArticlePage {
        article,
        sentences,
        corrections,
    } = articles::page(state, external_id).await?;
    // The page carries its corrections twice: as text for readers, and as
    // schema.org markup for search engines and aggregators.
    let json_ld =
        crate::domain::text::script_safe_json(&corrections_app::json_ld(&ArticleCorrections {
            article: crate::app::corrections::ArticleRef {
                external_id: article.external_id.clone(),
                title: article.title.clone(),
                url: article.url.clone(),
            },
            items: corrections.clone(),
        }));
    let corrections: Vec<PublishedCorrection> = corrections
        .iter()
        .map(|c| PublishedCorrection {
            kind: c.kind,
            text: c.text.clone(),
            sentence_before: c.sentence_before.clone(),
            published_at: dates::day(c.published_at, article.language.as_str()),
            published_at_iso: dates::iso(c.published_at),
        })
        .collect();
    // Paragraph 0 is the title, shown from the article record; the body is
    // rebuilt paragraph by paragraph from the current revision's sentences.
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current = None;
    for s in sentences.iter().filter(|s| s.paragraph > 0) {
        match paragraphs.last_mut() {
            Some(p) if current == Some(s.paragraph) => {
                p.push(' ');
                p.push_str(&s.text);
            }
            _ => paragraphs.push(s.text.clone()),
        }
        current = Some(s.paragraph);
    }
    let words: usize = paragraphs
        .iter()
        .map(|p| p.split_whitespace().count())
        .sum();
    let published = dates::day(
        article.published_at.unwrap_or(article.created_at),
        article.language.as_str(),
    );
    let ctx = minijinja::context! {
        article => ArticleContext {
            language: article.locale().to_string(),
            title: article.title,
            external_id: article.external_id,
            desk: article.desk,
        },
        paragraphs,
        published,
        // About 230 words a minute, never "0 min".
        reading_minutes => words.div_ceil(230).max(1),
        hostile,
        corrections,
        json_ld => minijinja::Value::from_safe_string(json_ld),
    };
    Ok(html(
        StatusCode::OK,
        render("demo.html", ctx)?,
        Audience::Public,
    ))
}

#[derive(Serialize)]
struct PublishedCorrection {
    kind: Resolution,
    text: String,
    sentence_before: String,
    published_at: String,
    published_at_iso: String,
}

#[derive(Deserialize)]
pub struct CorrectionsQuery {
    cursor: Option<String>,
    lang: Option<String>,
}

/// The corrections log's entries as the pages show them, each linking to
/// the sentence it corrects with a text fragment, in `words`' language.
pub(super) fn log_entries(
    items: &[corrections_app::CorrectionView],
    words: &Catalog,
) -> Vec<LogEntry> {
    items
        .iter()
        .map(|c| LogEntry {
            article_title: c.article.title.clone(),
            article_url: crate::domain::fragment::link(
                &c.article.url,
                &c.sentence_before,
                None,
                None,
            ),
            kind: words.text(&format!("corrections.kind.{}", kind_word(c.kind))),
            text: c.text.clone(),
            sentence_before: c.sentence_before.clone(),
            published_at: words.day(c.published_at),
            published_at_iso: dates::iso(c.published_at),
        })
        .collect()
}

/// A published correction corrects, clarifies or updates; the log has a
/// word for each.
fn kind_word(kind: Resolution) -> &'static str {
    match kind {
        Resolution::Corrected => "corrected",
        Resolution::Clarified => "clarified",
        _ => "updated",
    }
}

#[derive(Serialize)]
pub(super) struct LogEntry {
    article_title: String,
    article_url: String,
    /// The kind in words.
    kind: String,
    text: String,
    sentence_before: String,
    published_at: String,
    published_at_iso: String,
}

/// The other languages a public page is offered in, each with its link:
/// French, the default, at the bare path; the others with `?lang=`.
pub(super) fn other_languages(
    catalogs: &Catalogs,
    shown: &Catalog,
    path: &str,
) -> Vec<minijinja::Value> {
    catalogs
        .all()
        .filter(|c| c.tag != shown.tag)
        .map(|c| {
            let href = if c.tag == "fr" {
                path.to_string()
            } else {
                format!("{path}?lang={}", c.tag)
            };
            // A fixed path and a checked tag (`Locale`): nothing to escape,
            // and minijinja would write every `/` as `&#x2f;`.
            let href = minijinja::Value::from_safe_string(href);
            minijinja::context! { tag => c.tag.as_str(), name => c.name(), href }
        })
        .collect()
}

const LOG_PAGE: i64 = 30;

/// The public corrections log: every published correction, newest first,
/// thirty a page, with the Atom feed linked.
#[utoipa::path(get, path = "/corrections", tag = "pages",
    params(
        ("cursor" = Option<String>, Query, description = "From the page's \"older\" link"),
        ("lang" = Option<String>, Query, description = "A language tag: fr (default), en, es, or any added by a file in ui.reader_locales_dir"),
    ),
    responses(
        (status = 200, description = "The corrections log", body = String, content_type = "text/html"),
        (status = 404, description = "An invalid cursor", body = String, content_type = "text/html"),
    ))]
pub async fn corrections(
    state: web::Data<AppState>,
    catalogs: web::Data<Catalogs>,
    query: web::Query<CorrectionsQuery>,
) -> HttpResponse {
    corrections_page(&state, &catalogs, query.into_inner())
        .await
        .unwrap_or_else(|p| error_page(&p, Audience::Public))
}

async fn corrections_page(
    state: &AppState,
    catalogs: &Catalogs,
    query: CorrectionsQuery,
) -> Result<HttpResponse, Problem> {
    // `?lang=` resolves like an article's tag; French without one.
    let words = catalogs.resolve(query.lang.as_deref().unwrap_or("fr"));
    let after = match query.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(corrections_app::decode_cursor(c).ok_or_else(|| {
            Problem::not_found(ErrorCode::NotFound, "This page of the log does not exist.")
        })?),
    };
    let page = corrections_app::page(state, LOG_PAGE, after).await?;
    let (items, older) = (page.items, page.next_cursor);
    let entries = log_entries(&items, words);
    let ctx = minijinja::context! {
        lang => words.tag.as_str(),
        t => words.value(),
        others => other_languages(catalogs, words, "/corrections"),
        entries,
        older,
    };
    Ok(html(
        StatusCode::OK,
        render("corrections.html", ctx)?,
        Audience::Public,
    ))
}

#[derive(Serialize)]
struct CorrectionContext {
    text: String,
    published_at: String,
    published_at_iso: String,
}

#[derive(Serialize)]
struct ArticleLink {
    title: String,
    url: String,
}

/// The reader's private status page, in the article's language.
#[utoipa::path(get, path = "/r/{token}", tag = "pages",
    params(("token" = String, Path, description = "The token from the status link")),
    responses(
        (status = 200, description = "The report's status, resolution and published correction", body = String, content_type = "text/html"),
        (status = 404, description = "Unknown token", body = String, content_type = "text/html"),
    ))]
pub async fn status(
    req: HttpRequest,
    state: web::Data<AppState>,
    catalogs: web::Data<Catalogs>,
    path: web::Path<String>,
) -> HttpResponse {
    let ip = client_ip(&req, &state.settings.server.trusted_proxies);
    status_page(&state, &catalogs, ip, path.into_inner())
        .await
        .unwrap_or_else(|p| error_page(&p, Audience::Private))
}

/// The steps reached, with their times (UTC on the page; `status.js` shows
/// them in the reader's time zone). `step` names the catalog's word.
fn timeline(t: &intake::Timeline, words: &Catalog) -> Vec<minijinja::Value> {
    [
        (Some(t.received_at), "received"),
        (t.in_review_at, "in_review"),
        (t.decided_at, "decided"),
    ]
    .into_iter()
    .filter_map(|(at, step)| {
        at.map(|at| {
            minijinja::context! {
                step,
                iso => dates::iso(at),
                text => words.moment(at),
            }
        })
    })
    .collect()
}

async fn status_page(
    state: &AppState,
    catalogs: &Catalogs,
    ip: std::net::IpAddr,
    token: String,
) -> Result<HttpResponse, Problem> {
    let s = intake::status_for(state, ip, token.clone()).await?;
    // In the article's language when a catalog has it (`i18n::Catalogs::resolve`).
    let locale = articles::locale(state, s.article.external_id.clone(), s.language).await?;
    let words = catalogs.resolve(locale.as_str());
    let lang = words.tag.as_str();
    // A correction's text is its case's public note: shown once, as the
    // correction, not twice.
    let public_note = s
        .public_note
        .filter(|n| s.correction.as_ref().is_none_or(|c| &c.text != n));
    let ctx = minijinja::context! {
        lang,
        // For the data-request form's address (the page is private already).
        token,
        reference => s.reference,
        status => s.status,
        // Spam already reads as not upheld (`Resolution::for_reader`).
        resolution => s.resolution,
        public_note,
        correction => s.correction.map(|c| CorrectionContext {
            text: c.text,
            published_at: words.day(c.published_at),
            published_at_iso: dates::iso(c.published_at),
        }),
        article => ArticleLink { title: s.article.title, url: s.quote_url },
        updated_at => words.moment(s.updated_at),
        updated_at_iso => dates::iso(s.updated_at),
        yours => minijinja::context! {
            sentence => s.your_report.sentence,
            quote => s.your_report.quote,
            category => s.your_report.category,
            comment => s.your_report.comment,
        },
        timeline => timeline(&s.timeline, words),
        t => words.value(),
        sentence_url => s.sentence_url,
    };
    Ok(html(
        StatusCode::OK,
        render("status.html", ctx)?,
        Audience::Private,
    ))
}
