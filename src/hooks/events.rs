//! The webhooks consumer: each domain event becomes one delivery per
//! destination that subscribed to it (chat destinations: the desk's cases
//! only), written in the batch's writer transaction with the cursor.

use crate::db::events::StoredEvent;
use crate::db::webhooks::{self as store, EndpointRow, NewDelivery};
use crate::db::{DbConn, Pool, Writer};
use crate::domain::hook::{HookEvent, HookFormat};
use crate::error::Problem;

use super::payload;

/// The consumer's name in `event_cursors`.
pub const CONSUMER: &str = "webhooks";
const BATCH: i64 = 200;

/// Queue the deliveries of every event not yet handled; returns how many
/// events were handled.
pub async fn drain(pool: &Pool, writer: &Writer, public_url: &str) -> Result<usize, Problem> {
    let pool = pool.clone();
    // A read first: most wake-ups find nothing new. Without destinations the
    // cursor stays where it is (a destination hears only of events after its
    // registration, so the backlog is skipped cheaply then).
    let pending = tokio::task::spawn_blocking(move || -> Result<bool, Problem> {
        let mut conn = pool.get()?;
        Ok(store::count_endpoints(&mut conn)? > 0
            && crate::db::events::pending(&mut conn, CONSUMER)?)
    })
    .await
    .map_err(Problem::internal)??;
    if !pending {
        return Ok(0);
    }
    let mut total = 0;
    loop {
        let url = public_url.to_string();
        let n = writer
            .run(move |conn| -> Result<usize, Problem> {
                let endpoints = store::endpoints(conn)?;
                crate::app::events::consume(conn, CONSUMER, BATCH, |c, e| {
                    apply(c, &url, &endpoints, e)
                })
            })
            .await?;
        total += n;
        if (n as i64) < BATCH {
            return Ok(total);
        }
    }
}

fn subscribed(ep: &EndpointRow, name: HookEvent) -> bool {
    ep.event_names()
        .iter()
        .any(|n| HookEvent::parse(n) == Some(name))
}

/// The deliveries one event causes.
pub fn apply(
    conn: &mut DbConn,
    public_url: &str,
    endpoints: &[EndpointRow],
    e: &StoredEvent,
) -> Result<(), Problem> {
    let Some(name) = HookEvent::of(&e.event) else {
        return Ok(());
    };
    // A destination hears of what happened after it was registered.
    let interested: Vec<&EndpointRow> = endpoints
        .iter()
        .filter(|ep| ep.created_at <= e.created_at && subscribed(ep, name))
        .collect();
    if interested.is_empty() {
        return Ok(());
    }
    let Some(msg) = payload::message(conn, public_url, &e.event, e.created_at)? else {
        return Ok(());
    };
    let case_desk = match &msg.data {
        payload::MessageData::Case(d) => d.case.desk.clone(),
        payload::MessageData::Correction(c) => {
            crate::db::cases::find(conn, &c.case_id)?.and_then(|c| c.desk)
        }
        _ => None,
    };
    let alert = payload::alert(&e.event, &msg, public_url);
    let standard = serde_json::to_string(&msg).map_err(Problem::internal)?;
    for ep in interested {
        let body = match HookFormat::parse(&ep.format) {
            Some(HookFormat::Standard) => standard.clone(),
            Some(chat) => {
                let Some(alert) = &alert else { continue };
                if let Some(desk) = ep.desk.as_deref()
                    && !case_desk
                        .as_deref()
                        .is_some_and(|d| d.trim().eq_ignore_ascii_case(desk.trim()))
                {
                    continue;
                }
                let v = if chat == HookFormat::Slack {
                    payload::slack(alert)
                } else {
                    payload::teams(alert)
                };
                v.to_string()
            }
            None => continue,
        };
        store::enqueue(
            conn,
            &NewDelivery {
                endpoint_id: &ep.id,
                event_type: name.as_str(),
                case_id: e.event.case_id(),
                payload: &body,
            },
            crate::db::now(),
        )?;
    }
    Ok(())
}
