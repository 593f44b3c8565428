//! The queue page's live arrivals: a server-sent events stream of the
//! cases that open or change (`app::live`), and the poll a page falls back
//! to when its stream fails. Both need a signed-in session.
//!
//! Stream format: `event: ready` with `{"cursor"}` first, then one
//! `event: cases` per run of changes (`id:` is the cursor, which the
//! browser sends back as `Last-Event-ID` when it reconnects), and a
//! `: keep-alive` comment every `live.keepalive_secs` of silence.

use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::session::Editor;
use crate::app::AppState;
use crate::app::live::{self, Change, Next};
use crate::error::Problem;

/// `Last-Event-ID` is a cursor: short, or ignored.
fn last_event_id(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get("Last-Event-ID")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 40)
        .map(str::to_string)
}

fn frame(event: &str, id: Option<&str>, data: &serde_json::Value) -> Bytes {
    let mut out = String::new();
    if let Some(id) = id {
        out.push_str(&format!("id: {id}\n"));
    }
    // serde_json writes no raw newline, so the data is one `data:` line.
    out.push_str(&format!("event: {event}\ndata: {data}\n\n"));
    Bytes::from(out)
}

fn cases(cursor: &str, changes: &[Change]) -> Bytes {
    frame(
        "cases",
        Some(cursor),
        &serde_json::json!({ "cursor": cursor, "changes": changes }),
    )
}

/// GET /editor/queue/live
pub async fn stream(
    Editor(editor): Editor,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let settings = state.live.settings();
    let mut stream = live::subscribe(&state, editor.actor().clone(), last_event_id(&req)).await?;
    let keepalive = Duration::from_secs(settings.keepalive_secs);
    // The browser waits this long before reconnecting after a drop.
    let mut first = format!("retry: {}\n\n", settings.refresh_secs * 1000);
    first.push_str(
        std::str::from_utf8(&frame(
            "ready",
            Some(&stream.start),
            &serde_json::json!({ "cursor": stream.start }),
        ))
        .unwrap_or_default(),
    );
    if !stream.missed.is_empty() {
        let missed = std::mem::take(&mut stream.missed);
        first.push_str(std::str::from_utf8(&cases(&stream.start, &missed)).unwrap_or_default());
    }
    let head =
        futures_util::stream::once(async move { Ok::<_, actix_web::Error>(Bytes::from(first)) });
    let body = futures_util::stream::unfold(stream, move |mut s| async move {
        match s.next(keepalive).await {
            Next::Changes { cursor, changes } => Some((Ok(cases(&cursor, &changes)), s)),
            Next::Idle => Some((Ok(Bytes::from_static(b": keep-alive\n\n")), s)),
            Next::End => None,
        }
    });
    use futures_util::StreamExt;
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // Proxies that buffer (nginx) would hold the events back.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(head.chain(body)))
}

#[derive(Debug, Deserialize)]
pub struct PollQuery {
    /// The cursor the page last saw; absent for the first poll.
    after: Option<String>,
}

/// GET /editor/queue/live/poll?after=…
pub async fn poll(
    Editor(editor): Editor,
    state: web::Data<AppState>,
    query: web::Query<PollQuery>,
) -> Result<HttpResponse, Problem> {
    let after = query.into_inner().after.filter(|a| a.len() <= 40);
    let changes = live::poll(&state, editor.actor().clone(), after).await?;
    Ok(HttpResponse::Ok().json(changes))
}
