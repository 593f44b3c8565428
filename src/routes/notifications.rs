//! Notification settings (`/api/v1/me/notifications`) and the outbox for
//! admins (`/api/v1/admin/outbox…`). They need a logged-in editor, so they
//! are generic over the authentication extractor: implement
//! `EditorIdentity` for it and mount them with
//! `routes::notifications::configure::<TheExtractor>(cfg)` (and add the five
//! handlers to `docs.rs`). The extractor is expected to refuse anonymous
//! requests (401) and to check CSRF on cookie-authenticated state changes.

use actix_web::{FromRequest, HttpResponse, web};

use super::extract::ApiJson;
use crate::error::Problem;
use crate::notify::admin::{self, OutboxEntry, OutboxList, OutboxQuery, RetryAll};
use crate::notify::prefs::{self, NotificationPrefs, NotificationPrefsUpdate};
use crate::state::AppState;

/// What these routes need to know about the logged-in editor.
pub trait EditorIdentity {
    fn editor_id(&self) -> &str;
    fn is_admin(&self) -> bool;
}

pub fn configure<A>(cfg: &mut web::ServiceConfig)
where
    A: EditorIdentity + FromRequest + 'static,
{
    cfg.service(
        web::resource("/api/v1/me/notifications")
            .route(web::get().to(get_prefs::<A>))
            .route(web::put().to(put_prefs::<A>)),
    )
    .service(web::resource("/api/v1/admin/outbox").route(web::get().to(list_outbox::<A>)))
    .service(
        web::resource("/api/v1/admin/outbox/retry-dead").route(web::post().to(retry_dead::<A>)),
    )
    .service(
        web::resource("/api/v1/admin/outbox/{id}/retry").route(web::post().to(retry_one::<A>)),
    );
}

fn admin_only<A: EditorIdentity>(who: &A) -> Result<(), Problem> {
    if who.is_admin() {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "Only admins can see and retry the outbox.",
        ))
    }
}

/// The logged-in editor's notification settings.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The settings", body = NotificationPrefs),
        (status = 401, description = "Not logged in", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn get_prefs<A: EditorIdentity>(
    who: A,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let id = who.editor_id().to_string();
    let p = state.read(move |conn| prefs::get(conn, &id)).await?;
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
pub async fn put_prefs<A: EditorIdentity>(
    who: A,
    state: web::Data<AppState>,
    body: ApiJson<NotificationPrefsUpdate>,
) -> Result<HttpResponse, Problem> {
    let id = who.editor_id().to_string();
    let update = body.0;
    let p = state
        .writer
        .run(move |conn| prefs::set(conn, &id, &update))
        .await?;
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
pub async fn list_outbox<A: EditorIdentity>(
    who: A,
    state: web::Data<AppState>,
    query: web::Query<OutboxQuery>,
) -> Result<HttpResponse, Problem> {
    admin_only(&who)?;
    let q = query.into_inner();
    let list = state.read(move |conn| admin::list(conn, &q)).await?;
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
pub async fn retry_one<A: EditorIdentity>(
    who: A,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    admin_only(&who)?;
    let id = path.into_inner();
    let entry = state
        .writer
        .run(move |conn| admin::retry(conn, &id))
        .await?;
    state.mailer.wake();
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
pub async fn retry_dead<A: EditorIdentity>(
    who: A,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    admin_only(&who)?;
    let r = state.writer.run(admin::retry_all_dead).await?;
    state.mailer.wake();
    Ok(HttpResponse::Ok().json(r))
}

/// The real identity: a logged-in editor (session with CSRF, or API token).
impl EditorIdentity for crate::auth::CurrentEditor {
    fn editor_id(&self) -> &str {
        &self.id
    }

    fn is_admin(&self) -> bool {
        crate::auth::CurrentEditor::is_admin(self)
    }
}
