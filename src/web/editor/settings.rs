//! The signed-in editor's own settings: how each kind of notification
//! reaches them. The same functions as `GET/PUT /api/v1/me/notifications`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

use super::flash::{self, Flash};
use super::page;
use super::session::{Editor, Posted};
use crate::app::AppState;
use crate::app::notifications::{self, Delivery, NotificationKind, NotificationPrefsUpdate};
use crate::error::{FieldError, Problem};

pub const PATH: &str = "/editor/settings/notifications";

/// GET /editor/settings/notifications
pub async fn notifications(
    Editor(editor): Editor,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let current = notifications::prefs(&state, editor.actor()).await?;
    let kinds: Vec<_> = NotificationKind::ALL
        .into_iter()
        .map(|k| context! { kind => k.as_str(), delivery => current.get(k).as_str() })
        .collect();
    page::render(
        StatusCode::OK,
        "notifications.html",
        context! {
            ..context! {
                kinds,
                choices => ["immediate", "hourly", "daily", "off"],
                desks => current.desks,
                flash => Flash::from_request(&req).message(page::lang_of(&editor)),
            },
            ..page::base(&editor, "settings"),
        },
    )
}

/// The form: one select per kind; a kind left out keeps its choice.
#[derive(Deserialize)]
pub struct PrefsForm {
    new_case: Option<String>,
    escalation: Option<String>,
    assigned: Option<String>,
    overdue: Option<String>,
}

fn delivery(field: &str, value: Option<String>) -> Result<Option<Delivery>, FieldError> {
    match value {
        None => Ok(None),
        Some(v) => Delivery::parse(&v).map(Some).ok_or_else(|| {
            FieldError::new(
                field,
                "invalid_value",
                "must be immediate, hourly, daily or off",
            )
        }),
    }
}

/// POST /editor/settings/notifications
pub async fn save_notifications(
    state: web::Data<AppState>,
    posted: Posted<PrefsForm>,
) -> Result<HttpResponse, Problem> {
    let Posted { editor, form } = posted;
    let mut errors = Vec::new();
    let mut take = |field, value| {
        delivery(field, value).unwrap_or_else(|e| {
            errors.push(e);
            None
        })
    };
    let update = NotificationPrefsUpdate {
        new_case: take("new_case", form.new_case),
        escalation: take("escalation", form.escalation),
        assigned: take("assigned", form.assigned),
        overdue: take("overdue", form.overdue),
    };
    // The selects only offer valid choices: anything else is not our form.
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    notifications::set_prefs(&state, editor.actor(), update).await?;
    Ok(page::see_other(&flash::with(
        PATH,
        &[("done", "prefs_saved")],
    )))
}
