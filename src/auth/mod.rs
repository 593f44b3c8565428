//! Who is calling: `CurrentEditor`, the extractor every staff endpoint takes.
//!
//! Two ways in:
//! - `Authorization: Bearer ert_…`, a personal API token (scripts, the CMS).
//!   Browsers never attach that header on their own, so no CSRF token is
//!   needed.
//! - The `erratum_session` cookie from `POST /api/v1/auth/login`. Browsers
//!   attach cookies to cross-site requests too, so every unsafe method
//!   (POST, PUT, PATCH, DELETE) must also carry the session's CSRF token in
//!   `X-CSRF-Token`.
//!
//! Roles are checked by the handlers (`require`, `require_desk`), so each
//! endpoint states its own rule next to its code.

pub mod keys;
pub mod limits;
pub mod oidc;
pub mod password;
pub mod secret;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::config::CookieSecure;
use crate::db::editors::{self as store, EditorRow, EditorView};
use crate::domain::actor::Actor;
use crate::domain::editor::Role;
use crate::error::{ErrorCode, Problem};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "erratum_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Session {
        session_id: String,
        /// To hand the CSRF token back (GET /auth/me).
        csrf_token: String,
        expires_at: chrono::NaiveDateTime,
    },
    Token {
        token_id: String,
    },
}

/// The authenticated editor of this request.
#[derive(Debug, Clone)]
pub struct CurrentEditor {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Desks this editor triages; empty means every desk.
    pub desks: Vec<String>,
    pub language: crate::domain::article::Language,
    /// The zone the editor's pages show times in: their own, else `[ui]`'s.
    pub time_zone: crate::domain::time_zone::Tz,
    pub via: Via,
    actor: Actor,
    row: EditorRow,
}

impl CurrentEditor {
    fn new(row: EditorRow, via: Via, default_zone: crate::domain::time_zone::Tz) -> Self {
        CurrentEditor {
            time_zone: row
                .time_zone
                .as_deref()
                .and_then(crate::domain::time_zone::parse)
                .unwrap_or(default_zone),
            id: row.id.clone(),
            email: row.email.clone(),
            name: row.name.clone(),
            role: row.role,
            desks: row.desks(),
            language: row.language,
            via,
            actor: Actor::editor(row.id.clone(), row.role, row.desks()),
            row,
        }
    }

    /// Who acts, as the use cases take it.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// 403 unless the editor has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), Problem> {
        self.actor.require(role)
    }

    pub fn is_admin(&self) -> bool {
        self.actor.is_admin()
    }

    /// The session this request came with, if it came with one.
    pub fn session_id(&self) -> Option<String> {
        match &self.via {
            Via::Session { session_id, .. } => Some(session_id.clone()),
            Via::Token { .. } => None,
        }
    }

    /// The account as shown to itself (with its address).
    pub fn view(&self) -> EditorView {
        self.row.view(true)
    }
}

/// Whether the session cookie gets the `Secure` flag.
pub fn secure_cookie(state: &AppState, req: &HttpRequest) -> bool {
    match state.settings.auth.cookie_secure {
        CookieSecure::Always => true,
        CookieSecure::Never => false,
        CookieSecure::Auto => {
            state.public_url.starts_with("https://") || req.connection_info().scheme() == "https"
        }
    }
}

/// The session cookie (`hours` 0 with `make_removal` to end it).
pub fn session_cookie(token: String, hours: u32, secure: bool) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(actix_web::cookie::time::Duration::hours(i64::from(hours)))
        .finish()
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy, in
/// which case the right-most address in X-Forwarded-For that is not itself a
/// trusted proxy (the left part of that header is client-controlled).
pub fn client_ip(req: &HttpRequest, trusted: &[ipnet::IpNet]) -> std::net::IpAddr {
    let peer = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    if !trusted.iter().any(|n| n.contains(&peer)) {
        return peer;
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<std::net::IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted.iter().any(|n| n.contains(ip)))
        .unwrap_or(peer)
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequest for CurrentEditor {
    type Error = Problem;
    type Future = LocalBoxFuture<'static, Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let bearer = bearer(req).map(str::to_string);
        let cookie = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        let csrf = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let safe = is_safe(req.method());
        Box::pin(async move {
            let state = state.ok_or_else(|| Problem::internal("no app state"))?;
            match (bearer, cookie) {
                (Some(token), _) => from_token(&state, token).await,
                (None, Some(token)) => from_session(&state, token, safe, csrf).await,
                (None, None) => Err(Problem::unauthorized(
                    "Log in (POST /api/v1/auth/login) or send a personal API token as Authorization: Bearer <token>.",
                )),
            }
        })
    }
}

/// Authenticate a bearer API token.
pub async fn from_token(state: &AppState, token: String) -> Result<CurrentEditor, Problem> {
    let digest = secret::digest(&token);
    let found = state
        .read(move |conn| Ok(store::token_editor(conn, &digest)?))
        .await?;
    let Some((token_id, last_used, row)) = found else {
        return Err(Problem::unauthorized(
            "The API token is not valid (unknown, expired or revoked).",
        ));
    };
    // Record use at most every ten minutes: enough to spot unused tokens,
    // without a write on every request.
    let stale = last_used.is_none_or(|t| crate::db::now() - t > chrono::Duration::minutes(10));
    if stale {
        let id = token_id.clone();
        state
            .write(move |conn| Ok(store::touch_token(conn, &id)?))
            .await?;
    }
    Ok(CurrentEditor::new(
        row,
        Via::Token { token_id },
        state.settings.ui.time_zone(),
    ))
}

/// Authenticate a session cookie; unless `safe`, `csrf` must be the session's
/// CSRF token (the editor web pages pass the one from their form body).
pub async fn from_session(
    state: &AppState,
    token: String,
    safe: bool,
    csrf: Option<String>,
) -> Result<CurrentEditor, Problem> {
    let digest = secret::digest(&token);
    let found = state
        .read(move |conn| Ok(store::session_editor(conn, &digest)?))
        .await?;
    let Some((session_id, expires_at, row)) = found else {
        return Err(Problem::unauthorized(
            "The session has expired or was ended; log in again.",
        ));
    };
    let expected = secret::csrf_token(&token);
    if !safe && !csrf.is_some_and(|c| secret::same_secret(&c, &expected)) {
        return Err(Problem::new(
            actix_web::http::StatusCode::FORBIDDEN,
            ErrorCode::CsrfTokenInvalid,
            "CSRF token missing or wrong",
            "Requests authenticated by the session cookie must carry the csrf_token from the login answer in X-CSRF-Token.",
        ));
    }
    Ok(CurrentEditor::new(
        row,
        Via::Session {
            session_id,
            csrf_token: expected,
            expires_at,
        },
        state.settings.ui.time_zone(),
    ))
}
