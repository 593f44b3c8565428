//! Admins' page for the outgoing integrations: register a webhook or a chat
//! channel (its secret is shown once, on the answer), send a test event,
//! read a destination's delivery log, delete it. The same use cases as
//! `/api/v1/webhooks`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

use super::flash::{self, Flash};
use super::page;
use super::session::{Editor, NoFields, Posted};
use crate::app::AppState;
use crate::app::webhooks::{self, NewWebhookRequest};
use crate::domain::editor::Role;
use crate::domain::hook::{HookEvent, HookFormat};
use crate::error::Problem;

pub const PATH: &str = "/editor/admin/webhooks";

#[derive(Debug, Deserialize)]
pub struct WebhookForm {
    url: String,
    format: String,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    desk: String,
    #[serde(default)]
    description: String,
}

fn event_names() -> Vec<&'static str> {
    HookEvent::SUBSCRIBABLE.iter().map(|e| e.as_str()).collect()
}

fn chat_names() -> Vec<&'static str> {
    HookEvent::CHAT.iter().map(|e| e.as_str()).collect()
}

async fn render(
    state: &AppState,
    editor: &crate::auth::CurrentEditor,
    status: StatusCode,
    extra: minijinja::Value,
) -> Result<HttpResponse, Problem> {
    let hooks = webhooks::list(state, editor.actor()).await?;
    page::render(
        status,
        "webhooks.html",
        context! {
            ..extra,
            ..context! {
                hooks,
                events => event_names(),
                chat_events => chat_names(),
            },
            ..page::base(editor, "webhooks"),
        },
    )
}

/// GET /editor/admin/webhooks
pub async fn page(
    Editor(editor): Editor,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    editor.require(Role::Admin)?;
    let flash = Flash::from_request(&req).message(page::lang_of(&editor));
    render(&state, &editor, StatusCode::OK, context! { flash }).await
}

/// POST /editor/admin/webhooks: the answer shows the secret, once.
pub async fn create(
    state: web::Data<AppState>,
    posted: Posted<WebhookForm>,
) -> Result<HttpResponse, Problem> {
    let editor = posted.editor;
    editor.require(Role::Admin)?;
    let f = posted.form;
    let format = HookFormat::parse(&f.format);
    let request = NewWebhookRequest {
        url: f.url.clone(),
        events: (!f.events.is_empty()).then(|| f.events.clone()),
        description: Some(f.description.clone()),
        format,
        desk: Some(f.desk.clone()),
    };
    match webhooks::create(&state, editor.actor(), request).await {
        Ok(created) => {
            render(
                &state,
                &editor,
                StatusCode::CREATED,
                context! { created => created },
            )
            .await
        }
        Err(p)
            if p.status == StatusCode::UNPROCESSABLE_ENTITY || p.status == StatusCode::CONFLICT =>
        {
            let errors: Vec<minijinja::Value> = p
                .errors
                .iter()
                .map(|e| context! { field => e.field.clone(), message => e.message.clone() })
                .collect();
            let errors = if errors.is_empty() {
                vec![context! { field => "", message => p.detail.clone() }]
            } else {
                errors
            };
            render(
                &state,
                &editor,
                p.status,
                context! {
                    errors,
                    form => context! {
                        url => f.url, format => f.format, events => f.events,
                        desk => f.desk, description => f.description,
                    },
                },
            )
            .await
        }
        Err(p) => Err(p),
    }
}

/// GET /editor/admin/webhooks/{id}: the delivery log.
pub async fn log(
    Editor(editor): Editor,
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    editor.require(Role::Admin)?;
    let id = path.into_inner();
    let deliveries = webhooks::deliveries(&state, editor.actor(), id.clone()).await?;
    let hook = webhooks::list(&state, editor.actor())
        .await?
        .into_iter()
        .find(|h| h.id == id);
    render(
        &state,
        &editor,
        StatusCode::OK,
        context! {
            log => deliveries,
            log_hook => hook,
            flash => Flash::from_request(&req).message(page::lang_of(&editor)),
        },
    )
    .await
}

/// POST /editor/admin/webhooks/{id}/test
pub async fn test(
    state: web::Data<AppState>,
    path: web::Path<String>,
    posted: Posted<NoFields>,
) -> Result<HttpResponse, Problem> {
    let id = path.into_inner();
    webhooks::send_test(&state, posted.editor.actor(), id.clone()).await?;
    Ok(page::see_other(&flash::with(
        &format!("{PATH}/{id}"),
        &[("done", "webhook_test_queued")],
    )))
}

/// POST /editor/admin/webhooks/{id}/delete
pub async fn delete(
    state: web::Data<AppState>,
    path: web::Path<String>,
    posted: Posted<NoFields>,
) -> Result<HttpResponse, Problem> {
    webhooks::delete(&state, posted.editor.actor(), path.into_inner()).await?;
    Ok(page::see_other(&flash::with(
        PATH,
        &[("done", "webhook_deleted")],
    )))
}
