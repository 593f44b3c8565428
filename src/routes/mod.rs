//! The JSON API's handlers: each parses its request into domain values,
//! calls a use case (`app`) and answers JSON. They are mounted by the one
//! route table (`router`); `startup` wraps it in the cross-cutting
//! middleware (request ids, metrics, problem+json errors).

pub mod articles;
pub mod audit;
pub mod auth;
pub mod bulk;
pub mod cases;
pub mod corrections;
pub mod editors;
pub mod extract;
pub mod health;
pub mod middleware;
pub mod notifications;
pub mod queue;
pub mod readers;
pub mod reports;
pub mod stats;
pub mod subjects;
pub mod tokens;
pub mod webhooks;

use actix_cors::Cors;
use actix_web::http::{Method, header};

use crate::config::CorsSettings;
use crate::error::{ErrorCode, Problem};

/// CORS for the public endpoints the widget calls from newsroom pages.
pub fn public_cors(settings: &CorsSettings) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([Method::GET, Method::POST])
        .allowed_headers([
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::HeaderName::from_static("idempotency-key"),
            header::IF_NONE_MATCH,
        ])
        .expose_headers([
            header::RETRY_AFTER,
            header::ETAG,
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

/// Reject a path parameter that is not a valid external id.
pub fn external_id(raw: &str) -> Result<crate::domain::article::ExternalId, Problem> {
    crate::domain::article::ExternalId::parse(raw).map_err(|e| {
        Problem::not_found(
            ErrorCode::ArticleNotFound,
            format!("No article {raw:?}: {}", e.message),
        )
    })
}
