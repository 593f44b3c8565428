//! Liveness and readiness for orchestrators and load balancers.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::app::{self, AppState};
use crate::error::Problem;

/// The process is up and serving HTTP.
#[utoipa::path(get, path = "/health/live", tag = "operations", responses((status = 200, description = "Alive")))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers: safe to route traffic here.
#[utoipa::path(get, path = "/health/ready", tag = "operations", responses(
    (status = 200, description = "Ready"),
    (status = 503, description = "Database unavailable", body = crate::error::ProblemBody, content_type = "application/problem+json"),
))]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, Problem> {
    let database = app::health::ready(&state).await?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ok", "database": database })))
}
