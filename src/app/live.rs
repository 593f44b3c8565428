//! Live arrivals: the editors' queue page hears of new and changed cases
//! without a reload.
//!
//! The source is the `events` table, so a page sees the changes of every
//! instance. One tail per instance reads it from an in-memory cursor (as
//! `app::known` does), at once after this instance's commits and every
//! `live.refresh_secs` for the others', and only while a page listens; each
//! batch goes to every open stream over a broadcast channel, and each
//! stream keeps what its editor's desks cover. A page whose stream fails
//! polls `poll` with the cursor it last saw instead.
//!
//! Streams are counted (`live.max_streams`, then `too_many_streams`), and
//! all of them end when the instance shuts down (`LiveHub::close`), so a
//! graceful shutdown is not held up by pages that never hang up.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Notify, broadcast, watch};

use super::AppState;
use crate::config::LiveSettings;
use crate::db::DbConn;
use crate::db::events::{self, Cursor, StoredEvent};
use crate::domain::actor::Actor;
use crate::domain::event::Event;
use crate::error::{ErrorCode, Problem};

/// Events read per query.
const BATCH: i64 = 500;
/// Changes a poll answers at most (the page reloads past it).
const POLL_LIMIT: i64 = 200;

/// One case that changed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Change {
    pub case_id: String,
    /// The event's kind (`case_opened`, `report_filed`, `case_resolved`, …).
    pub kind: &'static str,
    /// True when the event opened the case: a new row for the queue.
    pub new: bool,
    #[serde(skip)]
    desk: Option<String>,
}

/// Changes after a cursor, and the cursor after them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Changes {
    /// Pass back as `after` (or as the stream's `Last-Event-ID`).
    pub cursor: String,
    pub changes: Vec<Change>,
    /// Seconds to wait before the next poll (`live.refresh_secs`).
    pub poll_secs: u64,
}

fn encode(c: Cursor) -> String {
    format!("{}.{}", c.xid, c.id)
}

fn decode(s: &str) -> Option<Cursor> {
    let (xid, id) = s.split_once('.')?;
    Some(Cursor {
        xid: xid.parse().ok()?,
        id: id.parse().ok()?,
    })
}

/// The changes an event makes to the queue (none for the events that are
/// not about a case).
fn change_of(e: &StoredEvent) -> Option<(String, &'static str, bool)> {
    let case_id = e.event.case_id()?.to_string();
    Some((
        case_id,
        e.event.kind(),
        matches!(e.event, Event::CaseOpened { .. }),
    ))
}

/// The changes of a run of events, with their cases' desks.
fn changes_of(conn: &mut DbConn, batch: &[StoredEvent]) -> Result<Vec<Change>, Problem> {
    let raw: Vec<(String, &'static str, bool)> = batch.iter().filter_map(change_of).collect();
    let ids: Vec<&String> = raw
        .iter()
        .map(|(id, _, _)| id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let desks = crate::db::cases::desks(conn, &ids)?;
    Ok(raw
        .into_iter()
        .map(|(case_id, kind, new)| Change {
            desk: desks.get(&case_id).cloned().flatten(),
            case_id,
            kind,
            new,
        })
        .collect())
}

fn visible(actor: &Actor, changes: &[Change]) -> Vec<Change> {
    changes
        .iter()
        .filter(|c| actor.covers_desk(c.desk.as_deref()))
        .cloned()
        .collect()
}

/// What the tail hands the streams: a run of changes and the cursor after.
#[derive(Debug)]
pub struct Batch {
    cursor: Cursor,
    changes: Vec<Change>,
}

/// The per-instance tail and its streams.
pub struct LiveHub {
    tx: broadcast::Sender<Arc<Batch>>,
    cursor: Mutex<Option<Cursor>>,
    wake: Notify,
    open: AtomicUsize,
    closed: watch::Sender<bool>,
    settings: LiveSettings,
}

impl LiveHub {
    pub fn new(settings: LiveSettings) -> LiveHub {
        LiveHub {
            tx: broadcast::channel(64).0,
            cursor: Mutex::new(None),
            wake: Notify::new(),
            open: AtomicUsize::new(0),
            closed: watch::channel(false).0,
            settings,
        }
    }

    /// This instance committed: read the events at once.
    pub fn committed(&self) {
        self.wake.notify_one();
    }

    /// End every stream, now and for good (the instance is shutting down).
    pub fn close(&self) {
        let _ = self.closed.send(true);
    }

    pub fn settings(&self) -> LiveSettings {
        self.settings
    }

    /// Streams open now.
    pub fn open_streams(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
}

/// One editor's stream: its share of the batches, until the instance
/// closes. Counted while it lives.
pub struct Stream {
    actor: Actor,
    rx: broadcast::Receiver<Arc<Batch>>,
    closed: watch::Receiver<bool>,
    hub: Arc<LiveHub>,
    /// Batches up to here were already sent (a resumed stream's catch-up).
    seen: Cursor,
    /// The cursor to start the page from.
    pub start: String,
    /// The changes since the `Last-Event-ID` the browser resumed from.
    pub missed: Vec<Change>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.hub.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What a stream yields next.
pub enum Next {
    Changes {
        cursor: String,
        changes: Vec<Change>,
    },
    /// Nothing for `keepalive_secs`.
    Idle,
    /// The instance is shutting down, or the stream fell too far behind
    /// (the page reconnects and catches up from its cursor).
    End,
}

impl Stream {
    pub async fn next(&mut self, keepalive: Duration) -> Next {
        loop {
            if *self.closed.borrow() {
                return Next::End;
            }
            let batch = tokio::select! {
                b = self.rx.recv() => b,
                _ = self.closed.changed() => return Next::End,
                _ = tokio::time::sleep(keepalive) => return Next::Idle,
            };
            match batch {
                Ok(b) if (b.cursor.xid, b.cursor.id) <= (self.seen.xid, self.seen.id) => continue,
                Ok(b) => {
                    self.seen = b.cursor;
                    let changes = visible(&self.actor, &b.changes);
                    if changes.is_empty() {
                        continue;
                    }
                    return Next::Changes {
                        cursor: encode(b.cursor),
                        changes,
                    };
                }
                Err(_) => return Next::End,
            }
        }
    }
}

/// Open a stream for `actor` (any signed-in account), resuming after
/// `last_event_id` when the browser reconnects with one.
pub async fn subscribe(
    state: &AppState,
    actor: Actor,
    last_event_id: Option<String>,
) -> Result<Stream, Problem> {
    let hub = state.live.clone();
    let max = hub.settings.max_streams;
    if hub
        .open
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < max).then_some(n + 1)
        })
        .is_err()
    {
        let mut p = Problem::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::TooManyStreams,
            "Too many live streams",
            "Every live stream of this instance is taken; poll instead.",
        );
        p.retry_after = Some(hub.settings.refresh_secs.max(1));
        return Err(p);
    }
    // Subscribed before reading, so nothing committed in between is lost
    // (batches up to the catch-up's cursor are skipped).
    let rx = hub.tx.subscribe();
    let closed = hub.closed.subscribe();
    let guard = Stream {
        actor: actor.clone(),
        rx,
        closed,
        hub: hub.clone(),
        seen: Cursor::default(),
        start: String::new(),
        missed: Vec::new(),
    };
    let after = last_event_id.as_deref().and_then(decode);
    let read = state
        .read(move |conn| match after {
            Some(c) => read_after(conn, c, POLL_LIMIT),
            None => Ok((events::tail(conn)?, Vec::new())),
        })
        .await;
    let mut stream = guard;
    let (cursor, missed) = read?;
    {
        // An idle tail starts where this stream does, so nothing committed
        // after the stream's start is missed.
        let mut tail = hub.cursor.lock().unwrap_or_else(|e| e.into_inner());
        if tail.is_none() {
            *tail = Some(cursor);
        }
    }
    hub.wake.notify_one();
    stream.seen = cursor;
    stream.start = encode(cursor);
    stream.missed = visible(&actor, &missed);
    Ok(stream)
}

fn read_after(
    conn: &mut DbConn,
    after: Cursor,
    limit: i64,
) -> Result<(Cursor, Vec<Change>), Problem> {
    let batch = events::after(conn, after, limit)?;
    let cursor = batch
        .last()
        .map(|l| Cursor {
            xid: l.xid,
            id: l.id,
        })
        .unwrap_or(after);
    Ok((cursor, changes_of(conn, &batch)?))
}

/// The changes after `after` (the events table's end when absent or not a
/// cursor: a page starts from there), for a page whose stream failed.
pub async fn poll(
    state: &AppState,
    actor: Actor,
    after: Option<String>,
) -> Result<Changes, Problem> {
    let after = after.as_deref().and_then(decode);
    let (cursor, changes) = state
        .read(move |conn| match after {
            Some(c) => read_after(conn, c, POLL_LIMIT),
            None => Ok((events::tail(conn)?, Vec::new())),
        })
        .await?;
    Ok(Changes {
        cursor: encode(cursor),
        changes: visible(&actor, &changes),
        poll_secs: state.live.settings.refresh_secs,
    })
}

/// Read what was committed since the last call and hand it to the streams.
async fn catch_up(state: &AppState, hub: &LiveHub) -> Result<(), Problem> {
    let start = *hub.cursor.lock().unwrap_or_else(|e| e.into_inner());
    let batches = state
        .read(move |conn| {
            let mut cursor = match start {
                Some(c) => c,
                None => events::tail(conn)?,
            };
            let mut out = Vec::new();
            loop {
                let batch = events::after(conn, cursor, BATCH)?;
                let Some(last) = batch.last() else { break };
                cursor = Cursor {
                    xid: last.xid,
                    id: last.id,
                };
                out.push(Batch {
                    cursor,
                    changes: changes_of(conn, &batch)?,
                });
            }
            Ok((cursor, out))
        })
        .await?;
    let (cursor, out) = batches;
    for b in out {
        let _ = hub.tx.send(Arc::new(b));
    }
    *hub.cursor.lock().unwrap_or_else(|e| e.into_inner()) = Some(cursor);
    Ok(())
}

/// Tail the events for as long as the state lives, while a page listens.
pub async fn run(state: std::sync::Weak<AppState>, hub: Arc<LiveHub>) {
    let every = Duration::from_secs(hub.settings.refresh_secs);
    loop {
        let pass = tokio::time::Instant::now();
        if *hub.closed.borrow() || state.strong_count() == 0 {
            break;
        }
        if hub.tx.receiver_count() == 0 {
            // Nobody listens: start again from the end when someone does.
            *hub.cursor.lock().unwrap_or_else(|e| e.into_inner()) = None;
        } else {
            let Some(state) = state.upgrade() else { break };
            if let Err(p) = catch_up(&state, &hub).await {
                tracing::warn!(error = %p, "live queue: events unread, retrying");
            }
        }
        let _ = tokio::time::timeout(every, crate::wake::woken(&hub.wake, pass)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_the_rest() {
        let c = Cursor { xid: 42, id: 7 };
        assert_eq!(decode(&encode(c)), Some(c));
        for bad in ["", "1", "a.b", "1.2.3", "1.x"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
