//! Notification settings (`/api/v1/me/notifications`) and the outbox for
//! admins (`/api/v1/admin/outbox…`).

use actix_web::{HttpResponse, web};

use super::extract::ApiJson;
use crate::app::AppState;
use crate::app::notifications::{
    self as notifications, NotificationPrefs, NotificationPrefsUpdate, OutboxEntry, OutboxList,
    OutboxQuery, RetryAll,
};
use crate::auth::CurrentEditor;
use crate::error::Problem;

#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The settings", body = NotificationPrefs),
        (status = 401, description = "Not logged in", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn get_prefs(
    who: CurrentEditor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let p: NotificationPrefs = notifications::prefs(&state, who.actor()).await?;
    Ok(HttpResponse::Ok().json(p))
}

/// Change how each kind of notification reaches the logged-in editor:
/// `immediate`, `hourly`, `daily` or `off`. Kinds left out keep their choice.
#[utoipa::path(put, path = "/api/v1/me/notifications", tag = "notifications",
    security(("bearer" = [])),
    request_body = NotificationPrefsUpdate,
    responses(
        (status = 200, description = "The settings as they now are", body = NotificationPrefs),
        (status = 400, description = "Malformed JSON", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "An unknown kind or delivery", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn put_prefs(
    who: CurrentEditor,
    state: web::Data<AppState>,
    body: ApiJson<NotificationPrefsUpdate>,
) -> Result<HttpResponse, Problem> {
    let update: NotificationPrefsUpdate = body.0;
    let p = notifications::set_prefs(&state, who.actor(), update).await?;
    Ok(HttpResponse::Ok().json(p))
}

/// The outbox, newest first, with the count per status (admins).
#[utoipa::path(get, path = "/api/v1/admin/outbox", tag = "notifications",
    security(("bearer" = [])),
    params(OutboxQuery),
    responses(
        (status = 200, description = "Emails and counts; addresses masked", body = OutboxList),
        (status = 401, description = "Not logged in", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Unknown status or limit out of range", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn list_outbox(
    who: CurrentEditor,
    state: web::Data<AppState>,
    query: web::Query<OutboxQuery>,
) -> Result<HttpResponse, Problem> {
    let list: OutboxList = notifications::outbox(&state, who.actor(), query.into_inner()).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Put one email back in the queue, due now, with a fresh count of tries
/// (admins).
#[utoipa::path(post, path = "/api/v1/admin/outbox/{id}/retry", tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The email's id")),
    responses(
        (status = 200, description = "Queued again", body = OutboxEntry),
        (status = 401, description = "Not logged in", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such email", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Already sent or skipped", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn retry_one(
    who: CurrentEditor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let entry: OutboxEntry =
        notifications::retry_email(&state, who.actor(), path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(entry))
}

/// Put every dead email back in the queue (admins).
#[utoipa::path(post, path = "/api/v1/admin/outbox/retry-dead", tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "How many were queued again", body = RetryAll),
        (status = 401, description = "Not logged in", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn retry_dead(
    who: CurrentEditor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let r: RetryAll = notifications::retry_dead(&state, who.actor()).await?;
    Ok(HttpResponse::Ok().json(r))
}
