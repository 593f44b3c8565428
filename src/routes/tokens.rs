//! Personal API tokens: for scripts and the CMS, used as `Authorization:
//! Bearer ert_…`. The token is shown once, in the answer that creates it.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::extract::ApiJson;
use crate::app::AppState;
use crate::app::accounts::{self, CreatedToken, NewToken, TokenView};
use crate::auth::CurrentEditor;
use crate::error::Problem;

/// Create a personal API token for oneself.
///
/// Only from a login session: a token cannot mint more tokens, so a leaked
/// one cannot make itself permanent.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "auth",
    request_body = NewToken,
    responses(
        (status = 201, description = "Created; `token` is shown only now", body = CreatedToken),
        (status = 401, description = "Not logged in", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Missing or wrong X-CSRF-Token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Authenticated by an API token (not_a_session)", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn create(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    body: ApiJson<NewToken>,
) -> Result<HttpResponse, Problem> {
    let from_session = editor.session_id().is_some();
    let created: CreatedToken =
        accounts::issue_token(&state, editor.actor(), from_session, body.0).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Check and store a new token for `editor`: the API and the editors'
/// account page both come through here.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Admins: every editor's tokens.
    pub all: Option<bool>,
}

/// One's own tokens (admins: everyone's with `all=true`), newest first,
/// without their secrets.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "auth", params(ListQuery),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The tokens", body = Vec<TokenView>),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "all=true without the admin role", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn list(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, Problem> {
    let all = query.all.unwrap_or(false);
    let tokens: Vec<TokenView> = accounts::list_tokens(&state, editor.actor(), all).await?;
    Ok(HttpResponse::Ok().json(tokens))
}

/// Revoke a token: one's own, or anyone's for an admin.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "auth",
    params(("id" = String, Path, description = "The token's id")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 204, description = "Revoked (or already revoked)"),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Missing or wrong X-CSRF-Token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such token among those you may revoke", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn revoke(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    accounts::revoke_token(&state, editor.actor(), path.into_inner(), false).await?;
    Ok(HttpResponse::NoContent().finish())
}
