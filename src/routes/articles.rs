//! Article ingestion from the CMS and article lookup for the widget.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::extract::ApiJson;
use crate::app::AppState;
use crate::app::articles::{self, ArticleView, UpsertOutcome};
use crate::domain::article::{ArticleUpsert, NewArticle};
use crate::domain::text::sha256_hex;
use crate::error::Problem;

/// Proof that the request carries the ingest token from `ingest.token`, or
/// the personal API token of an editor or admin, as `Authorization: Bearer
/// …`. As an extractor placed before the body, it refuses an
/// unauthenticated request before its body is read.
pub struct IngestAuth;

impl actix_web::FromRequest for IngestAuth {
    type Error = Problem;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
        Box::pin(async move {
            let state = state.ok_or_else(|| Problem::internal("no app state"))?;
            authorize_ingest(&state, given).await
        })
    }
}

async fn authorize_ingest(state: &AppState, given: Option<String>) -> Result<IngestAuth, Problem> {
    let expected = &state.settings.ingest.token;
    let Some(given) = given else {
        return Err(Problem::unauthorized(
            "Send the ingest token or an editor's API token as Authorization: Bearer <token>.",
        ));
    };
    // Comparing digests keeps the comparison time independent of the token.
    if !expected.is_empty() && sha256_hex(&given) == sha256_hex(expected) {
        return Ok(IngestAuth);
    }
    let editor = crate::auth::from_token(state, given).await?;
    editor.require(crate::domain::editor::Role::Editor)?;
    Ok(IngestAuth)
}

/// Create or update an article from the CMS.
///
/// The body is segmented into paragraphs and sentences; paragraph 0 is the
/// title. An unchanged body makes no new revision; a changed one makes a new
/// revision in which unchanged sentences keep their ids.
#[utoipa::path(put, path = "/api/v1/articles/{external_id}", tag = "articles",
    params(("external_id" = String, Path, description = "The CMS's id for the article")),
    request_body = ArticleUpsert,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = articles::IngestAnswer),
        (status = 200, description = "Updated or unchanged; `touched` lists the open cases the revision may have fixed or orphaned", body = articles::IngestAnswer),
        (status = 400, description = "Malformed JSON", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "A viewer's API token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or HTML nested too deeply or with too many elements (`html_too_complex`)", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "Too many imports at once, or the database is unavailable; retry after Retry-After", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn put(
    _auth: IngestAuth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ApiJson<ArticleUpsert>,
) -> Result<HttpResponse, Problem> {
    let article = parse_off_the_workers(path.into_inner(), body.0).await?;
    let ingested = articles::ingest(&state, article).await?;
    Ok(match ingested.outcome {
        UpsertOutcome::Created => HttpResponse::Created().json(ingested.answer()),
        UpsertOutcome::Revised | UpsertOutcome::Unchanged => {
            HttpResponse::Ok().json(ingested.answer())
        }
    })
}

/// Articles parsed at once, on the blocking pool: a few large bodies keep
/// the cores busy, the HTTP workers stay free (health checks, reports).
const PARSE_SLOTS: usize = 2;
static PARSING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(PARSE_SLOTS);
/// The longest an ingest may wait for a slot and parse.
const PARSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Parse and segment an article body on the blocking pool, at most
/// `PARSE_SLOTS` at a time, within `PARSE_TIMEOUT`. The slot travels with the
/// parse, so a parse that outlives its request still holds it: the pool
/// stays bounded whatever clients do.
async fn parse_off_the_workers(
    external_id: String,
    body: ArticleUpsert,
) -> Result<NewArticle, Problem> {
    let deadline = tokio::time::Instant::now() + PARSE_TIMEOUT;
    let permit = tokio::time::timeout_at(deadline, PARSING.acquire())
        .await
        .map_err(|_| Problem::unavailable("Too many articles are being imported; please retry."))?
        .map_err(Problem::internal)?;
    let parse = web::block(move || {
        let _slot = permit;
        NewArticle::parse(&external_id, body)
    });
    match tokio::time::timeout_at(deadline, parse).await {
        Ok(parsed) => parsed?,
        Err(_) => Err(crate::domain::article::html_too_complex(format!(
            "the body took more than {} seconds to read",
            PARSE_TIMEOUT.as_secs()
        ))),
    }
}

/// An article's current revision with its sentences.
#[utoipa::path(get, path = "/api/v1/articles/{external_id}", tag = "articles",
    params(("external_id" = String, Path, description = "The CMS's id for the article")),
    responses(
        (status = 200, description = "The article", body = ArticleView),
        (status = 404, description = "Unknown article", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn get(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let external_id = super::external_id(&path)?;
    Ok(HttpResponse::Ok().json(articles::get(&state, external_id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ByUrl {
    /// The article page's URL (fragment and, failing an exact match, query ignored).
    #[param(min_length = 1, max_length = 2048)]
    pub url: Option<String>,
}

/// Find an article by its page URL: the widget's entry point with `data-url`.
#[utoipa::path(get, path = "/api/v1/articles", tag = "articles", params(ByUrl),
    responses(
        (status = 200, description = "The article", body = ArticleView),
        (status = 404, description = "No article has this URL", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Missing or invalid url", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn find_by_url(
    state: web::Data<AppState>,
    query: web::Query<ByUrl>,
) -> Result<HttpResponse, Problem> {
    let url = query.into_inner().url.unwrap_or_default();
    let url = crate::domain::article::parse_http_url("url", &url)
        .map_err(|e| Problem::validation(vec![e]))?;
    Ok(HttpResponse::Ok().json(articles::by_url(&state, url).await?))
}

/// What is already known about an article's sentences: the published
/// correction of each corrected sentence and, when the newsroom turns it on
/// (`reader.mark_open_cases`), the sentences with an open case. No reader
/// text, no counts. Answered from memory; the ETag changes when a case opens
/// (if open cases are shown) or a correction is published, and a matching
/// `If-None-Match` gets `304`.
#[utoipa::path(get, path = "/api/v1/articles/{external_id}/known", tag = "articles",
    params(
        ("external_id" = String, Path, description = "The CMS's id for the article"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag of an earlier answer"),
    ),
    responses(
        (status = 200, description = "The known sentences", body = crate::app::known::KnownSentences,
            headers(("ETag" = String, description = "Digest of the answer"))),
        (status = 304, description = "Unchanged since the ETag given"),
        (status = 404, description = "Unknown article", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable; retry after Retry-After", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn known(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let external_id = super::external_id(&path)?;
    let known = crate::app::known::get(&state, external_id).await?;
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == known.etag || t == "*")
        });
    // Revalidated at each use: a newer answer shows at the next page view.
    let mut answer = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    answer
        .insert_header((header::ETAG, known.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    Ok(if matches {
        answer.finish()
    } else {
        answer
            .content_type("application/json")
            .body(known.body.clone())
    })
}
