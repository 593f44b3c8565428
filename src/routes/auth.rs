//! Logging in and out, and who am I.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::extract::ApiJson;
use crate::auth::{CurrentEditor, SESSION_COOKIE, Via, password, secret};
use crate::config::CookieSecure;
use crate::db::audit::{self, Actor, Subject};
use crate::db::editors::{self as store, EditorChanges, EditorView};
use crate::domain::editor::{MAX_PASSWORD, Password};
use crate::error::{FieldError, Problem};
use crate::state::AppState;

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
    pub expires_at: NaiveDateTime,
}

fn invalid_credentials() -> Problem {
    Problem::new(
        actix_web::http::StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "Invalid credentials",
        "The email or the password is not correct.",
    )
}

/// Whether the session cookie gets `Secure`.
pub fn secure_cookie(state: &AppState, req: &HttpRequest) -> bool {
    match state.settings.auth.cookie_secure {
        CookieSecure::Always => true,
        CookieSecure::Never => false,
        CookieSecure::Auto => {
            state.public_url.starts_with("https://") || req.connection_info().scheme() == "https"
        }
    }
}

pub fn session_cookie(token: String, hours: u32, secure: bool) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(actix_web::cookie::time::Duration::hours(i64::from(hours)))
        .finish()
}

/// Log in with email and password.
///
/// Answers the account and a CSRF token, and sets the `erratum_session`
/// cookie (HttpOnly, SameSite=Lax, Secure behind HTTPS, expiring after
/// `auth.session_hours`). An unknown email, a disabled account and a wrong
/// password get the same answer, after the same work. Attempts are limited
/// per client address and per account.
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
    let (answer, cookie) = open_session(&req, &state, email, password).await?;
    Ok(HttpResponse::Ok().cookie(cookie).json(answer))
}

/// Check the credentials (rate-limited) and open a session: the API login and
/// the editors' login page both come through here.
pub async fn open_session(
    req: &HttpRequest,
    state: &AppState,
    email: String,
    password: String,
) -> Result<(LoginAnswer, Cookie<'static>), Problem> {
    let ip = super::reports::client_ip(req, &state.settings.server.trusted_proxies);
    state.login.check(ip, &email)?;
    if password.chars().count() > MAX_PASSWORD {
        return Err(invalid_credentials());
    }
    let row = state
        .read(move |conn| Ok(store::find_by_email(conn, &email)?))
        .await?
        .filter(|r| !r.disabled);
    let hash = row.as_ref().map(|r| r.password_hash.clone());
    // Argon2 is slow on purpose: off the async executor.
    let ok = web::block(move || password::verify(&password, hash.as_deref())).await?;
    let Some(row) = row.filter(|_| ok) else {
        tracing::info!("login refused");
        return Err(invalid_credentials());
    };

    let token = secret::new_session_token();
    let hours = state.settings.auth.session_hours;
    let expires_at = crate::db::now() + Duration::hours(i64::from(hours));
    let digest = secret::digest(&token);
    let editor_id = row.id.clone();
    state
        .writer
        .run(move |conn| {
            store::create_session(conn, &editor_id, &digest, expires_at)?;
            audit::record(
                conn,
                &Actor::Editor(editor_id.clone()),
                "login",
                Subject::Editor(&editor_id),
                None,
                None,
            )?;
            Ok(())
        })
        .await?;
    tracing::info!(editor_id = %row.id, "editor logged in");
    let answer = LoginAnswer {
        editor: row.view(true),
        csrf_token: secret::csrf_token(&token),
        expires_at,
    };
    let cookie = session_cookie(token, hours, secure_cookie(state, req));
    Ok((answer, cookie))
}

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
    let editor_id = editor.id.clone();
    state
        .writer
        .run(move |conn| {
            store::revoke_session(conn, &session_id)?;
            if everywhere {
                store::revoke_sessions(conn, &editor_id, None)?;
            }
            Ok(())
        })
        .await?;
    let mut gone = session_cookie(String::new(), 0, secure_cookie(&state, &req));
    gone.make_removal();
    Ok(HttpResponse::NoContent().cookie(gone).finish())
}

fn not_a_session() -> Problem {
    Problem::conflict(
        "not_a_session",
        "This request is authenticated by an API token; this needs a login session.",
    )
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Change one's own password. Every other session of the account is
/// revoked; this one stays, and API tokens keep working.
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
    change_own_password(&req, &state, &editor, body.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Check the current password (rate-limited like a login: a stolen session
/// must not become a way to guess it) and store the new one, revoking the
/// account's other sessions. The API and the account page both use it.
pub async fn change_own_password(
    req: &HttpRequest,
    state: &AppState,
    editor: &CurrentEditor,
    change: PasswordChange,
) -> Result<(), Problem> {
    let Via::Session { session_id, .. } = editor.via.clone() else {
        return Err(not_a_session());
    };
    let PasswordChange {
        current_password,
        new_password,
    } = change;
    let new = Password::parse(&new_password).map_err(|e| {
        Problem::validation(vec![FieldError::new("new_password", e.code, e.message)])
    })?;
    let id = editor.id.clone();
    let row = state
        .read(move |conn| Ok(store::find(conn, &id)?))
        .await?
        .ok_or_else(|| Problem::unauthorized("The account no longer exists."))?;
    let ip = super::reports::client_ip(req, &state.settings.server.trusted_proxies);
    state.login.check(ip, &row.email)?;
    let stored = row.password_hash.clone();
    let too_long = current_password.chars().count() > MAX_PASSWORD;
    let hashed = web::block(move || {
        if !too_long && password::verify(&current_password, Some(&stored)) {
            Some(password::hash(&new))
        } else {
            None
        }
    })
    .await?;
    let hash = match hashed {
        None => {
            return Err(Problem::field(
                "invalid_credentials",
                "Invalid credentials",
                "current_password",
                "is not correct",
            ));
        }
        Some(h) => h.map_err(Problem::internal)?,
    };
    let actor = editor.actor();
    state
        .writer
        .run(move |conn| {
            store::update(
                conn,
                &actor,
                &row.id,
                EditorChanges {
                    password_hash: Some(hash),
                    keep_session: Some(session_id),
                    ..Default::default()
                },
            )?;
            Ok(())
        })
        .await?;
    tracing::info!(editor_id = %editor.id, "password changed");
    Ok(())
}
