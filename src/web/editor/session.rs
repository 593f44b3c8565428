//! Who is looking at a page, and forms that prove they come from our pages.
//!
//! - `Editor`: a signed-in editor for GET pages, from the session cookie
//!   (never a bearer token: these pages are for browsers).
//! - `Posted<T>`: a form POST. The session is checked together with the
//!   form's `csrf_token` field (by `auth::from_session`, as the API checks
//!   its header) before the form itself is parsed, so no handler can forget
//!   it and a form without it is refused whatever else it holds.
//!
//! Both put the editor and its language in the request's extensions, for the
//! error pages.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{self, BytesMut};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::auth::{self, CurrentEditor, SESSION_COOKIE};
use crate::error::{ErrorCode, FieldError, Problem};

/// Forms are small; a bulk action on a few hundred cases fits easily.
pub const FORM_LIMIT: usize = 64 * 1024;

pub const CSRF_FIELD: &str = "csrf_token";

/// A signed-in editor (GET pages).
pub struct Editor(pub CurrentEditor);

fn not_signed_in() -> Problem {
    Problem::unauthorized("Sign in to use the editors' pages.")
}

async fn authenticate(
    req: HttpRequest,
    csrf: Option<Option<String>>,
) -> Result<CurrentEditor, Problem> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| Problem::internal("no app state"))?;
    let token = req
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(not_signed_in)?;
    let (safe, csrf) = match csrf {
        None => (true, None),
        Some(token) => (false, token),
    };
    let editor = auth::from_session(&state, token, safe, csrf).await?;
    req.extensions_mut().insert(editor.language);
    req.extensions_mut().insert(editor.clone());
    Ok(editor)
}

impl FromRequest for Editor {
    type Error = Problem;
    type Future = LocalBoxFuture<'static, Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(req, None).await.map(Editor) })
    }
}

/// A form with nothing but its CSRF token (a button).
#[derive(serde::Deserialize)]
pub struct NoFields {}

/// A form POSTed by a signed-in editor, its CSRF token checked.
pub struct Posted<T> {
    pub editor: CurrentEditor,
    pub form: T,
}

/// Read a form-urlencoded body, up to `FORM_LIMIT`.
pub async fn read_form(req: &HttpRequest, payload: &mut Payload) -> Result<BytesMut, Problem> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Unsupported media type",
            "Post the page's form (application/x-www-form-urlencoded).",
        ));
    }
    let mut body = BytesMut::new();
    let mut payload = payload.take();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                "Bad request",
                e.to_string(),
            )
        })?;
        if body.len() + chunk.len() > FORM_LIMIT {
            return Err(Problem::too_large(FORM_LIMIT));
        }
        body.extend_from_slice(&chunk);
    }
    crate::domain::text::refuse_controls_in_form(&body)?;
    Ok(body)
}

/// The value of one field of a form body.
pub fn field(body: &[u8], name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_html_form::from_bytes(body).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Parse a form body into `T` (which ignores `csrf_token`).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    serde_html_form::from_bytes(body).map_err(|e| {
        Problem::validation(vec![FieldError::new(
            "form",
            "invalid_value",
            e.to_string(),
        )])
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for Posted<T> {
    type Error = Problem;
    type Future = LocalBoxFuture<'static, Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let body = read_form(&req, &mut payload).await?;
            let editor = authenticate(req, Some(field(&body, CSRF_FIELD))).await?;
            let form = parse(&body)?;
            Ok(Posted { editor, form })
        })
    }
}
