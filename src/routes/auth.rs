//! Logging in and out, and who am I.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::extract::ApiJson;
use crate::app::AppState;
use crate::app::accounts::{self, EditorView, PasswordChange, not_a_session};
use crate::app::recovery;
use crate::auth::{CurrentEditor, Via, client_ip, secure_cookie, session_cookie};
use crate::error::Problem;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "ana@news.example")]
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginAnswer {
    pub editor: EditorView,
    /// Send it as `X-CSRF-Token` with every POST, PUT, PATCH and DELETE made
    /// with the session cookie.
    pub csrf_token: String,
    #[serde(with = "crate::domain::utc")]
    pub expires_at: NaiveDateTime,
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; the session cookie is set", body = LoginAnswer),
        (status = 400, description = "Malformed JSON", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password (invalid_credentials)", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Missing fields", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; see Retry-After", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ApiJson<LoginRequest>,
) -> Result<HttpResponse, Problem> {
    let LoginRequest { email, password } = body.0;
    let ip = client_ip(&req, &state.settings.server.trusted_proxies);
    let login = accounts::login(&state, ip, email, password).await?;
    let cookie = session_cookie(login.token, login.hours, secure_cookie(&state, &req));
    let answer = LoginAnswer {
        editor: login.editor,
        csrf_token: login.csrf_token,
        expires_at: login.expires_at,
    };
    Ok(HttpResponse::Ok().cookie(cookie).json(answer))
}

/// Check the credentials (rate-limited) and open a session: the API login and
/// the editors' login page both come through here.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogoutQuery {
    /// End every session of this account, not only this one.
    pub everywhere: Option<bool>,
}

/// Log out: the session is revoked on the server and the cookie cleared.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", params(LogoutQuery),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Not logged in", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Missing or wrong X-CSRF-Token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Authenticated by an API token, not a session (not_a_session)", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn logout(
    req: HttpRequest,
    editor: CurrentEditor,
    state: web::Data<AppState>,
    query: web::Query<LogoutQuery>,
) -> Result<HttpResponse, Problem> {
    let Via::Session { session_id, .. } = editor.via.clone() else {
        return Err(not_a_session());
    };
    let everywhere = query.everywhere.unwrap_or(false);
    accounts::logout(&state, editor.id.clone(), session_id, everywhere).await?;
    let mut gone = session_cookie(String::new(), 0, secure_cookie(&state, &req));
    gone.make_removal();
    Ok(HttpResponse::NoContent().cookie(gone).finish())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub editor: EditorView,
    /// `session` or `token`.
    pub via: String,
    /// The session's CSRF token (sessions only), for a page that reloads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(with = "crate::domain::utc::option")]
    pub expires_at: Option<NaiveDateTime>,
}

/// The calling account.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The account", body = Me),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn me(editor: CurrentEditor) -> Result<HttpResponse, Problem> {
    let (via, csrf_token, expires_at) = match &editor.via {
        Via::Session {
            csrf_token,
            expires_at,
            ..
        } => ("session", Some(csrf_token.clone()), Some(*expires_at)),
        Via::Token { .. } => ("token", None, None),
    };
    Ok(HttpResponse::Ok().json(Me {
        editor: editor.view(),
        via: via.into(),
        csrf_token,
        expires_at,
    }))
}

#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, description = "Not logged in", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Missing or wrong X-CSRF-Token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Authenticated by an API token (not_a_session)", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Wrong current password or too short a new one", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; see Retry-After", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn change_password(
    req: HttpRequest,
    editor: CurrentEditor,
    state: web::Data<AppState>,
    body: ApiJson<PasswordChange>,
) -> Result<HttpResponse, Problem> {
    let ip = client_ip(&req, &state.settings.server.trusted_proxies);
    accounts::change_own_password(&state, editor.actor(), editor.session_id(), ip, body.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    #[schema(example = "ana@news.example", max_length = 254)]
    pub email: String,
}

/// Ask for a password-reset link by email (local accounts). The answer is
/// the same whether or not an account has this address; an enabled account
/// gets an email with a link that works once, for 30 minutes.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth",
    request_body = ResetRequest,
    responses(
        (status = 202, description = "If an account has this address, a link is on its way"),
        (status = 400, description = "Malformed JSON", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Not an email address", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this client; see Retry-After", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn request_reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ApiJson<ResetRequest>,
) -> Result<HttpResponse, Problem> {
    let ip = client_ip(&req, &state.settings.server.trusted_proxies);
    recovery::request_password_reset(&state, ip, body.0.email).await?;
    Ok(HttpResponse::Accepted().finish())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    /// The `token` of the emailed link.
    #[schema(max_length = 200)]
    pub token: String,
    /// At least 12 characters.
    #[schema(min_length = 12, max_length = 1024)]
    pub new_password: String,
}

/// Choose a new password with an emailed reset token: the token is spent,
/// and every session of the account ends.
#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "auth",
    request_body = ResetConfirm,
    responses(
        (status = 204, description = "Password changed; every session of the account ended"),
        (status = 400, description = "Malformed JSON", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Unknown, used or expired token (reset_token_invalid, field token), or a password that is too short", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn confirm_reset(
    state: web::Data<AppState>,
    body: ApiJson<ResetConfirm>,
) -> Result<HttpResponse, Problem> {
    let ResetConfirm {
        token,
        new_password,
    } = body.0;
    recovery::reset_password(&state, token, new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}
