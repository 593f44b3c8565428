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
        (status = 201, description = "Created", body = ArticleView),
        (status = 200, description = "Updated or unchanged", body = ArticleView),
        (status = 400, description = "Malformed JSON", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "A viewer's API token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn put(
    _auth: IngestAuth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ApiJson<ArticleUpsert>,
) -> Result<HttpResponse, Problem> {
    let article = NewArticle::parse(&path.into_inner(), body.0)?;
    let ingested = articles::ingest(&state, article).await?;
    Ok(match ingested.outcome {
        UpsertOutcome::Created => HttpResponse::Created().json(ingested.view),
        UpsertOutcome::Revised | UpsertOutcome::Unchanged => HttpResponse::Ok().json(ingested.view),
    })
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
