//! Personal API tokens: for scripts and the CMS, used as `Authorization:
//! Bearer ert_…`. The token is shown once, in the answer that creates it.

use actix_web::{HttpResponse, web};
use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::extract::ApiJson;
use crate::auth::{CurrentEditor, Via, secret};
use crate::db::editors::{self as store, TokenView};
use crate::domain::text::clean;
use crate::error::{FieldError, Problem};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. "CMS ingestion".
    #[schema(example = "CMS ingestion", min_length = 1, max_length = 100)]
    pub name: String,
    /// Days until it expires; absent: never (unless `auth.token_max_days`).
    #[schema(minimum = 1)]
    pub expires_in_days: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// The secret: shown this once, stored only as a hash.
    pub token: String,
    #[serde(flatten)]
    pub info: TokenView,
}

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
    let created = issue(&state, &editor, body.0).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Check and store a new token for `editor`: the API and the editors'
/// account page both come through here.
pub async fn issue(
    state: &AppState,
    editor: &CurrentEditor,
    new: NewToken,
) -> Result<CreatedToken, Problem> {
    if !matches!(editor.via, Via::Session { .. }) {
        return Err(Problem::conflict(
            "not_a_session",
            "API tokens are created from a login session, not with another token.",
        ));
    }
    let NewToken {
        name,
        expires_in_days,
    } = new;
    let mut errors = Vec::new();
    let name = clean(&name, 100, false)
        .map_err(|e| errors.push(FieldError::new("name", e.code(), e.message())))
        .unwrap_or_default();
    let max = state.settings.auth.token_max_days;
    let days = match (expires_in_days, max) {
        (Some(0), _) => {
            errors.push(FieldError::new(
                "expires_in_days",
                "invalid_value",
                "must be at least 1",
            ));
            None
        }
        (Some(d), m) if m > 0 && d > m => {
            errors.push(FieldError::new(
                "expires_in_days",
                "too_large",
                format!("must be at most {m}"),
            ));
            None
        }
        (Some(d), _) => Some(d.min(365 * 100)),
        (None, 0) => None,
        (None, m) => Some(m),
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let expires_at: Option<NaiveDateTime> =
        days.map(|d| crate::db::now() + Duration::days(i64::from(d)));
    let token = secret::new_api_token();
    let digest = secret::digest(&token);
    let prefix: String = token.chars().take(secret::SHOWN_PREFIX_LEN).collect();
    let (actor, editor_id) = (editor.actor(), editor.id.clone());
    let info = state
        .writer
        .run(move |conn| {
            store::create_token(
                conn, &actor, &editor_id, &name, &digest, &prefix, expires_at,
            )
        })
        .await?;
    Ok(CreatedToken { token, info })
}

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
    if all {
        editor.require(crate::domain::editor::Role::Admin)?;
    }
    let owner = (!all).then(|| editor.id.clone());
    let tokens = state
        .read(move |conn| Ok(store::list_tokens(conn, owner.as_deref())?))
        .await?;
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
    let id = path.into_inner();
    let owner = (!editor.is_admin()).then(|| editor.id.clone());
    let actor = editor.actor();
    state
        .writer
        .run(move |conn| store::revoke_token(conn, &actor, &id, owner.as_deref()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
