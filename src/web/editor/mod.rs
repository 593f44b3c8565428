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
pub mod flash;
pub mod i18n;
pub mod login;
pub mod outbox;
pub mod page;
pub mod queue;
pub mod session;
pub mod settings;
pub mod subjects;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{Error, HttpResponse, web};

/// The pages' Content-Security-Policy: this origin's own files only, no
/// inline script or style, no framing, forms posting only here.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'self'";

/// Mount `/editor/…`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/editor")
            .wrap(from_fn(security_headers))
            .route("", web::get().to(|| async { page::see_other("/editor/") }))
            .route("/", web::get().to(queue::page))
            .route("/queue/versions", web::get().to(queue::versions))
            .route("/cases/bulk", web::post().to(queue::bulk))
            .route("/cases/{id}", web::get().to(case::show))
            .route("/cases/{id}/{action}", web::post().to(case::act))
            .route("/corrections", web::get().to(corrections::list))
            .route("/static/{file}", web::get().to(assets::serve))
            .service(
                web::resource("/login")
                    .route(web::get().to(login::form))
                    .route(web::post().to(login::submit)),
            )
            .route("/logout", web::post().to(login::logout))
            .route("/language", web::post().to(login::language))
            .route("/admin/editors", web::get().to(admin::editors))
            .route("/admin/editors", web::post().to(admin::create_editor))
            .service(
                web::resource("/admin/editors/{id}")
                    .route(web::get().to(admin::edit_editor))
                    .route(web::post().to(admin::update_editor)),
            )
            .route(
                "/admin/editors/{id}/status",
                web::post().to(admin::set_disabled),
            )
            .service(
                web::resource("/settings/notifications")
                    .route(web::get().to(settings::notifications))
                    .route(web::post().to(settings::save_notifications)),
            )
            .route("/settings/account", web::get().to(account::show))
            .route(
                "/settings/password",
                web::post().to(account::change_password),
            )
            .route("/settings/tokens", web::post().to(account::create_token))
            .route(
                "/settings/tokens/{id}/revoke",
                web::post().to(account::revoke_token),
            )
            .route("/admin/outbox", web::get().to(outbox::page))
            .route(
                "/admin/outbox/retry-dead",
                web::post().to(outbox::retry_all),
            )
            .route("/admin/outbox/{id}/retry", web::post().to(outbox::retry))
            .route("/admin/subject-requests", web::get().to(subjects::page))
            .route(
                "/admin/subject-requests/erase",
                web::post().to(subjects::erase),
            )
            .default_service(web::to(page::not_found)),
    );
}

/// Headers every response under /editor/ carries. Pages show readers'
/// reports and addresses, so they are never stored by a cache; static files
/// set their own caching.
async fn security_headers(
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
