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

pub mod limits;
pub mod password;
pub mod secret;

use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::db::audit::Actor;
use crate::db::editors::{self as store, EditorRow, EditorView};
use crate::domain::editor::Role;
use crate::error::Problem;
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
    pub language: String,
    pub via: Via,
    row: EditorRow,
}

impl CurrentEditor {
    fn new(row: EditorRow, via: Via) -> Self {
        CurrentEditor {
            id: row.id.clone(),
            email: row.email.clone(),
            name: row.name.clone(),
            role: row.role(),
            desks: row.desks(),
            language: row.language.clone(),
            via,
            row,
        }
    }

    /// 403 unless the editor has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), Problem> {
        if self.role >= role {
            Ok(())
        } else {
            Err(Problem::forbidden(format!(
                "This needs the {} role; you are {}.",
                role.as_str(),
                self.role.as_str()
            ))
            .with("required_role", role.as_str()))
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether this account's desks cover a case of `desk`. Admins and
    /// editors without desks cover everything; a case without a desk is
    /// covered only by them.
    pub fn covers_desk(&self, desk: Option<&str>) -> bool {
        self.is_admin()
            || self.desks.is_empty()
            || desk.is_some_and(|d| self.desks.iter().any(|m| m == d))
    }

    /// 403 unless this editor may triage a case of `desk`.
    pub fn require_desk(&self, desk: Option<&str>) -> Result<(), Problem> {
        self.require(Role::Editor)?;
        if self.covers_desk(desk) {
            Ok(())
        } else {
            Err(Problem::forbidden(format!(
                "This case belongs to the {} desk, which is not one of yours.",
                desk.unwrap_or("(no)")
            )))
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::Editor(self.id.clone())
    }

    /// The account as shown to itself (with its address).
    pub fn view(&self) -> EditorView {
        self.row.view(true)
    }

    /// Reporters' addresses are personal data: editors and admins see them,
    /// viewers do not.
    pub fn sees_reporter_emails(&self) -> bool {
        self.role >= Role::Editor
    }
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
            .writer
            .run(move |conn| Ok(store::touch_token(conn, &id)?))
            .await?;
    }
    Ok(CurrentEditor::new(row, Via::Token { token_id }))
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
            "csrf_token_invalid",
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
    ))
}
