//! Admins manage the outgoing integrations: signed webhooks and chat alerts
//! (see `hooks`). Destinations are checked by the SSRF guard when they are
//! registered, and again at every delivery.

use std::time::Duration;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::db::now;
use crate::db::webhooks::{self as store, DeliveryRow, EndpointRow, NewDelivery, NewEndpoint};
use crate::domain::actor::Actor;
use crate::domain::editor::Role;
use crate::domain::hook::{HookEvent, HookFormat};
use crate::error::{ErrorCode, FieldError, Problem};
use crate::hooks::{payload, sign, target};

/// Destinations an installation may have.
pub const MAX_ENDPOINTS: i64 = 100;
const MAX_URL: usize = 2048;
const MAX_DESCRIPTION: usize = 200;
const MAX_DESK: usize = 100;
/// Deliveries a log lists.
const LOG_SIZE: i64 = 100;

/// A destination to register.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookRequest {
    /// An http(s) URL on a public address (`webhooks.allow_private_targets`
    /// lifts the last condition).
    pub url: String,
    /// Event names, e.g. `["case.opened", "case.resolved",
    /// "correction.published"]`. Required for `standard`; chat destinations
    /// take a subset of `case.opened`, `case.escalated`, `case.overdue`,
    /// `correction.published` (all four when left out).
    #[serde(default)]
    pub events: Option<Vec<String>>,
    #[serde(default)]
    pub description: Option<String>,
    /// `standard` (the default), `slack` or `teams`.
    #[serde(default)]
    pub format: Option<HookFormat>,
    /// Chat alerts: only the cases of this desk (all desks when left out).
    #[serde(default)]
    pub desk: Option<String>,
}

/// A destination as lists show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub format: HookFormat,
    /// The URL (a chat webhook's path is its secret: only its origin is shown).
    pub url: String,
    pub events: Vec<String>,
    pub desk: Option<String>,
    pub description: String,
    /// The secret's first characters.
    pub secret_hint: String,
    pub created_at: NaiveDateTime,
    /// Set while failed deliveries wait for their retry.
    pub paused_until: Option<NaiveDateTime>,
}

/// A destination just created: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// `whsec_<base64>`: verify the `webhook-signature` header with it.
    pub secret: String,
}

/// One delivery in a destination's log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// Also the `webhook-id` header.
    pub id: String,
    pub event_type: String,
    pub case_id: Option<String>,
    pub status: crate::domain::hook::DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    /// The receiver's last HTTP status.
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TestQueued {
    /// The test delivery (see the destination's log).
    pub delivery_id: String,
}

fn not_found() -> Problem {
    Problem::not_found(ErrorCode::WebhookNotFound, "No such webhook.")
}

fn shown_url(format: HookFormat, url: &str) -> String {
    if !format.is_chat() {
        return url.to_string();
    }
    match url::Url::parse(url) {
        Ok(u) => format!("{}/…", u.origin().ascii_serialization()),
        Err(_) => "…".into(),
    }
}

fn view(row: &EndpointRow) -> WebhookView {
    let format = HookFormat::parse(&row.format).unwrap_or(HookFormat::Standard);
    WebhookView {
        id: row.id.clone(),
        format,
        url: shown_url(format, &row.url),
        events: row.event_names(),
        desk: row.desk.clone(),
        description: row.description.clone(),
        secret_hint: sign::hint(&row.secret),
        created_at: row.created_at,
        paused_until: row.paused_until,
    }
}

fn delivery_view(d: DeliveryRow) -> DeliveryView {
    DeliveryView {
        id: d.id,
        event_type: d.event_type,
        case_id: d.case_id,
        status: d.status,
        attempts: d.attempts,
        next_attempt_at: d.next_attempt_at,
        last_status: d.last_status,
        last_error: d.last_error,
        created_at: d.created_at,
        delivered_at: d.delivered_at,
    }
}

/// The event list, checked against the format.
fn parse_events(
    format: HookFormat,
    events: Option<Vec<String>>,
    errors: &mut Vec<FieldError>,
) -> Vec<String> {
    let names = match (events, format.is_chat()) {
        (Some(e), _) => e,
        (None, true) => HookEvent::CHAT.iter().map(|e| e.as_str().into()).collect(),
        (None, false) => {
            errors.push(FieldError::new(
                "events",
                "required",
                "List the events to send.",
            ));
            return Vec::new();
        }
    };
    if names.is_empty() || names.len() > HookEvent::SUBSCRIBABLE.len() {
        errors.push(FieldError::new(
            "events",
            "invalid_events",
            "List between one event and every event once.",
        ));
        return Vec::new();
    }
    let allowed: &[HookEvent] = if format.is_chat() {
        &HookEvent::CHAT
    } else {
        &HookEvent::SUBSCRIBABLE
    };
    let mut out: Vec<String> = Vec::new();
    for n in &names {
        match HookEvent::parse(n.trim()).filter(|e| allowed.contains(e)) {
            Some(e) if !out.iter().any(|o| o == e.as_str()) => out.push(e.as_str().into()),
            Some(_) => {}
            None => {
                let shown: String = n.chars().take(60).collect();
                let list: Vec<&str> = allowed.iter().map(|e| e.as_str()).collect();
                errors.push(FieldError::new(
                    "events",
                    "unknown_event",
                    format!(
                        "{shown:?} is not an event this destination can receive ({}).",
                        list.join(", ")
                    ),
                ));
                return Vec::new();
            }
        }
    }
    out
}

/// Register a destination (admins); answers its secret, once.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    b: NewWebhookRequest,
) -> Result<CreatedWebhook, Problem> {
    actor.require(Role::Admin)?;
    let mut errors = Vec::new();
    let format = b.format.unwrap_or(HookFormat::Standard);
    let url = b.url.trim().to_string();
    if url.len() > MAX_URL {
        errors.push(FieldError::new("url", "too_long", "At most 2048 bytes."));
    }
    let description = b.description.unwrap_or_default().trim().to_string();
    if description.chars().count() > MAX_DESCRIPTION
        || crate::domain::text::has_forbidden_control(&description, false)
    {
        errors.push(FieldError::new(
            "description",
            "invalid_description",
            "At most 200 characters, on one line.",
        ));
    }
    let desk = b
        .desk
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty());
    if let Some(d) = &desk
        && (d.chars().count() > MAX_DESK || crate::domain::text::has_forbidden_control(d, false))
    {
        errors.push(FieldError::new(
            "desk",
            "invalid_desk",
            "At most 100 characters.",
        ));
    }
    if desk.is_some() && !format.is_chat() {
        errors.push(FieldError::new(
            "desk",
            "chat_only",
            "Only chat destinations (slack, teams) are per desk.",
        ));
    }
    let events = parse_events(format, b.events, &mut errors);
    if errors.is_empty() {
        let s = &state.settings.webhooks;
        let timeout = Duration::from_secs(s.timeout_secs);
        if let Err(why) = target::check(&url, s.allow_private_targets, timeout).await {
            let code = match why {
                target::Refused::BadUrl(_) => "invalid_url",
                target::Refused::Unresolved(_) => "unresolved_host",
                target::Refused::Forbidden(_) => "target_refused",
            };
            errors.push(FieldError::new("url", code, why.to_string()));
        }
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let secret = sign::new_secret();
    let by = actor.editor_id().map(str::to_string);
    let row = state
        .write(move |conn| {
            if store::count_endpoints(conn)? >= MAX_ENDPOINTS {
                return Err(Problem::conflict(
                    ErrorCode::TooManyWebhooks,
                    "This installation has as many webhooks as it may; delete one first.",
                ));
            }
            Ok(store::insert_endpoint(
                conn,
                &NewEndpoint {
                    format: format.as_str(),
                    url: &url,
                    secret: &secret,
                    events: &events,
                    desk: desk.as_deref(),
                    description: &description,
                    created_by: by.as_deref(),
                },
                now(),
            )?)
        })
        .await?;
    tracing::info!(webhook = %row.id, format = row.format, "webhook registered");
    Ok(CreatedWebhook {
        webhook: view(&row),
        secret: row.secret,
    })
}

pub async fn list(state: &AppState, actor: &Actor) -> Result<Vec<WebhookView>, Problem> {
    actor.require(Role::Admin)?;
    state
        .read(|conn| Ok(store::endpoints(conn)?.iter().map(view).collect()))
        .await
}

pub async fn delete(state: &AppState, actor: &Actor, id: String) -> Result<(), Problem> {
    actor.require(Role::Admin)?;
    let found = state
        .write(move |conn| Ok(store::delete_endpoint(conn, &id)?))
        .await?;
    if found { Ok(()) } else { Err(not_found()) }
}

/// Queue a `webhook.test` delivery (the "send test event" button).
pub async fn send_test(state: &AppState, actor: &Actor, id: String) -> Result<TestQueued, Problem> {
    actor.require(Role::Admin)?;
    let public_url = state.public_url.clone();
    let delivery_id = state
        .write(move |conn| {
            let ep = store::endpoint(conn, &id)?.ok_or_else(not_found)?;
            let t = now();
            let body = match HookFormat::parse(&ep.format) {
                Some(HookFormat::Slack) => payload::slack(&payload::test_alert(&public_url)),
                Some(HookFormat::Teams) => payload::teams(&payload::test_alert(&public_url)),
                _ => serde_json::to_value(payload::test_message(t)).map_err(Problem::internal)?,
            };
            Ok(store::enqueue(
                conn,
                &NewDelivery {
                    endpoint_id: &ep.id,
                    event_type: HookEvent::Test.as_str(),
                    case_id: None,
                    payload: &body.to_string(),
                },
                t,
            )?)
        })
        .await?;
    state.committed();
    Ok(TestQueued { delivery_id })
}

/// A destination's latest deliveries, newest first.
pub async fn deliveries(
    state: &AppState,
    actor: &Actor,
    id: String,
) -> Result<Vec<DeliveryView>, Problem> {
    actor.require(Role::Admin)?;
    state
        .read(move |conn| {
            store::endpoint(conn, &id)?.ok_or_else(not_found)?;
            Ok(store::log(conn, &id, LOG_SIZE)?
                .into_iter()
                .map(delivery_view)
                .collect())
        })
        .await
}

/// Put a dead-lettered delivery back in the queue.
pub async fn retry(
    state: &AppState,
    actor: &Actor,
    id: String,
    delivery_id: String,
) -> Result<(), Problem> {
    actor.require(Role::Admin)?;
    let requeued = state
        .write(move |conn| Ok(store::requeue(conn, &id, &delivery_id, now())?))
        .await?;
    if !requeued {
        return Err(Problem::not_found(
            ErrorCode::DeliveryNotFound,
            "No dead delivery with this id on this webhook.",
        ));
    }
    state.committed();
    Ok(())
}
