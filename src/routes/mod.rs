//! HTTP routes. `configure` mounts everything; `startup` wraps it in the
//! cross-cutting middleware (request ids, metrics, problem+json errors).

pub mod articles;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod corrections;
pub mod docs;
pub mod editorial;
pub mod editors;
pub mod extract;
pub mod health;
pub mod middleware;
pub mod notifications;
pub mod queue;
pub mod reports;
pub mod tokens;
pub mod unsubscribe;

use actix_cors::Cors;
use actix_web::http::{Method, header};
use actix_web::web;

use crate::config::CorsSettings;
use crate::error::Problem;

/// CORS for the public endpoints the widget calls from newsroom pages.
pub fn public_cors(settings: &CorsSettings) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([Method::GET, Method::POST])
        .allowed_headers([
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-request-id"),
        ])
        .max_age(86400);
    if settings.public_origins.iter().any(|o| o == "*") {
        cors = cors.allow_any_origin().send_wildcard();
    } else {
        for origin in &settings.public_origins {
            cors = cors.allowed_origin(origin.trim_end_matches('/'));
        }
    }
    cors
}

pub fn configure(
    cfg: &mut web::ServiceConfig,
    cors: &CorsSettings,
    ingest_limit: usize,
    intake_limit: usize,
) {
    cfg.service(
        // Resources, not `.route`, so other methods answer 405 with Allow.
        web::scope("/health")
            .service(web::resource("/live").route(web::get().to(health::live)))
            .service(web::resource("/ready").route(web::get().to(health::ready))),
    )
    .service(docs::swagger())
    .configure(|cfg| editorial::configure(cfg, cors))
    .configure(notifications::configure::<crate::auth::CurrentEditor>)
    .configure(crate::web::editor::configure)
    // Public endpoints, callable from any configured origin.
    .service(
        web::resource("/api/v1/articles")
            .wrap(public_cors(cors))
            .route(web::get().to(articles::find_by_url)),
    )
    .service(
        web::resource("/api/v1/articles/{external_id}/reports")
            .wrap(public_cors(cors))
            .app_data(extract::BodyLimit(intake_limit))
            .route(web::post().to(reports::submit)),
    )
    .service(
        web::resource("/api/v1/reports/status/{token}")
            .wrap(public_cors(cors))
            .route(web::get().to(reports::status)),
    )
    // One-click unsubscribe (RFC 8058): mail providers POST here.
    .service(
        web::resource("/unsubscribe/{token}")
            .route(web::get().to(unsubscribe::confirm))
            .route(web::post().to(unsubscribe::unsubscribe)),
    )
    .service(
        web::resource("/api/v1/articles/{external_id}")
            .wrap(public_cors(cors))
            .app_data(extract::BodyLimit(ingest_limit))
            .route(web::get().to(articles::get))
            .route(web::put().to(articles::put)),
    );
}

/// Reject a path parameter that is not a valid external id.
pub fn external_id(raw: &str) -> Result<crate::domain::article::ExternalId, Problem> {
    crate::domain::article::ExternalId::parse(raw).map_err(|e| {
        Problem::not_found(
            "article_not_found",
            format!("No article {raw:?}: {}", e.message),
        )
    })
}
