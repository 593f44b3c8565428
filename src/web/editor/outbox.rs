//! Admins' view of the emails that could not be sent (the dead letter), and
//! putting them back in the queue: the same functions as
//! `/api/v1/admin/outbox…` and `erratum outbox`, so addresses are masked the
//! same way.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use super::flash::{self, Flash};
use super::page;
use super::session::{Editor, NoFields, Posted};
use crate::app::AppState;
use crate::app::notifications::{self, OutboxQuery};
use crate::domain::editor::Role;
use crate::error::{ErrorCode, Problem};

pub const PATH: &str = "/editor/admin/outbox";

/// The most rows one page shows (the API's maximum); the count says when
/// there are more.
const SHOWN: i64 = 500;

/// GET /editor/admin/outbox
pub async fn page(
    Editor(editor): Editor,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    editor.require(Role::Admin)?;
    let q = OutboxQuery {
        status: Some(notifications::OutboxStatus::Dead.as_str().into()),
        limit: Some(SHOWN),
    };
    let list = notifications::outbox(&state, editor.actor(), q).await?;
    page::render(
        StatusCode::OK,
        "outbox.html",
        context! {
            ..context! {
                rows => list.entries,
                counts => list.counts,
                flash => Flash::from_request(&req).message(page::lang_of(&editor)),
            },
            ..page::base(&editor, "outbox"),
        },
    )
}

/// POST /editor/admin/outbox/{id}/retry: a row already sent or skipped, or
/// gone, comes back as a message rather than an error page.
pub async fn retry(
    state: web::Data<AppState>,
    path: web::Path<String>,
    posted: Posted<NoFields>,
) -> Result<HttpResponse, Problem> {
    posted.editor.require(Role::Admin)?;
    let id = path.into_inner();
    let params = match notifications::retry_email(&state, posted.editor.actor(), id).await {
        Ok(_) => ("done", "email_retried"),
        Err(p) if p.code == ErrorCode::OutboxEntryFinal => ("err", "outbox_entry_final"),
        Err(p) if p.code == ErrorCode::OutboxEntryNotFound => ("err", "outbox_entry_not_found"),
        Err(p) => return Err(p),
    };
    Ok(page::see_other(&flash::with(PATH, &[params])))
}

/// POST /editor/admin/outbox/retry-dead
pub async fn retry_all(
    state: web::Data<AppState>,
    posted: Posted<NoFields>,
) -> Result<HttpResponse, Problem> {
    let done = notifications::retry_dead(&state, posted.editor.actor()).await?;
    let n = done.retried.to_string();
    Ok(page::see_other(&flash::with(
        PATH,
        &[("done", "emails_retried"), ("n", &n)],
    )))
}
