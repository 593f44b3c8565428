//! The editors' web interface under `/editor/`: server-rendered pages over
//! the same database and workflow functions as the JSON API, with a small
//! script for keyboard shortcuts and live marks (no build step).
//!
//! Every page is rendered by minijinja with HTML auto-escaping, sent with a
//! strict Content-Security-Policy (no inline script or style), and every form
//! carries the session's CSRF token, checked before the form is even parsed
//! (`session::Posted`).

pub mod account;
pub mod admin;
pub mod assets;
pub mod case;
pub mod corrections;
pub mod dashboard;
pub mod flash;
pub mod i18n;
pub mod live;
pub mod login;
pub mod outbox;
pub mod page;
pub mod queue;
pub mod readers;
pub mod recovery;
pub mod session;
pub mod settings;
pub mod sso;
pub mod subjects;
pub mod time_zone;
pub mod webhooks;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};

use super::CSP;

/// Headers every response under /editor/ carries. Pages show readers'
/// reports and addresses, so they are never stored by a cache; static files
/// set their own caching.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let res = next.call(req).await?;
    let page = res
        .response()
        .error()
        .and_then(|e| e.as_error::<crate::error::Problem>())
        .and_then(|p| page::problem_page(res.request(), p));
    let mut res = match page {
        Some(page) => res.into_response(page).map_into_boxed_body(),
        None => res.map_into_boxed_body(),
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

/// For handlers that only redirect.
pub fn redirect(location: &str) -> HttpResponse {
    page::see_other(location)
}
