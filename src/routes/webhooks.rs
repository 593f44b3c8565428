//! Outgoing webhooks and chat alerts (admins): register, list, delete, send
//! a test event, read the delivery log, retry a dead-lettered delivery.

use actix_web::{HttpResponse, web};

use super::extract::ApiJson;
use crate::app::AppState;
use crate::app::webhooks::{
    self, CreatedWebhook, DeliveryView, NewWebhookRequest, TestQueued, WebhookView,
};
use crate::auth::CurrentEditor;
use crate::error::Problem;

/// Register a destination: a signed webhook (`format: standard`, the
/// default) or a Slack / Teams channel. The answer carries the secret
/// (`whsec_…`), shown only now.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks",
    request_body = NewWebhookRequest,
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 201, description = "Registered; `secret` is shown only now", body = CreatedWebhook),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or missing X-CSRF-Token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Too many webhooks (too_many_webhooks)", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields; a URL the SSRF guard refuses is `target_refused`", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn create(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    body: ApiJson<NewWebhookRequest>,
) -> Result<HttpResponse, Problem> {
    let created = webhooks::create(&state, editor.actor(), body.0).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Every destination (admins); secrets are not shown.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The destinations", body = Vec<WebhookView>),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn list(
    editor: CurrentEditor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let all = webhooks::list(&state, editor.actor()).await?;
    Ok(HttpResponse::Ok().json(all))
}

/// Delete a destination and its delivery log.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "The webhook's id")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or missing X-CSRF-Token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    webhooks::delete(&state, editor.actor(), path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Queue a `webhook.test` event to the destination (it goes through the
/// same queue, in order, and shows in the log).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "webhooks",
    params(("id" = String, Path, description = "The webhook's id")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 202, description = "Queued", body = TestQueued),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or missing X-CSRF-Token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn test(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let queued = webhooks::send_test(&state, editor.actor(), path.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(queued))
}

/// The destination's latest 100 deliveries, newest first: status, tries,
/// the receiver's last answer.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, description = "The webhook's id")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The delivery log", body = Vec<DeliveryView>),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn deliveries(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let log = webhooks::deliveries(&state, editor.actor(), path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(log))
}

/// Put a dead-lettered delivery back in the queue, due now.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks",
    params(
        ("id" = String, Path, description = "The webhook's id"),
        ("delivery_id" = String, Path, description = "The delivery's id"),
    ),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 204, description = "Queued again"),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or missing X-CSRF-Token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No dead delivery with this id on this webhook", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn retry(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let (id, delivery) = path.into_inner();
    webhooks::retry(&state, editor.actor(), id, delivery).await?;
    Ok(HttpResponse::NoContent().finish())
}
