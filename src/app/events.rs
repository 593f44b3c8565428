//! Events that come from time rather than from someone acting, and the
//! runner every durable event consumer shares.

use chrono::NaiveDateTime;

use crate::db::events::{self, Cursor, StoredEvent};
use crate::db::{DbConn, cases, now};
use crate::domain::event::Event;
use crate::error::Problem;

/// Flag up to `limit` open cases past their due time at `at`, the most
/// overdue first, once per case, each with a `CaseOverdue` event. Safe to
/// run from several workers at once. Returns how many cases were flagged,
/// and whether more may be waiting (`limit` were found).
pub fn flag_overdue(
    conn: &mut DbConn,
    at: NaiveDateTime,
    limit: i64,
) -> Result<(usize, bool), Problem> {
    let found = cases::overdue_unflagged(conn, at, limit)?;
    let more = found.len() as i64 >= limit;
    let mut flagged = 0;
    for case_id in found {
        if cases::mark_overdue(conn, &case_id, at)? {
            events::record(conn, &Event::CaseOverdue { case_id }, at)?;
            flagged += 1;
        }
    }
    Ok((flagged, more))
}

/// Apply up to `limit` events that `consumer` has not applied yet, in order,
/// and move its cursor past them, all in the caller's transaction: a crash
/// before the commit leaves the cursor where it was, so nothing is lost and
/// nothing applied twice. Returns how many events were applied.
pub fn consume(
    conn: &mut DbConn,
    consumer: &str,
    limit: i64,
    mut apply: impl FnMut(&mut DbConn, &StoredEvent) -> Result<(), Problem>,
) -> Result<usize, Problem> {
    let t = now();
    let cursor = events::lock_cursor(conn, consumer, t)?;
    let batch = events::after(conn, cursor, limit)?;
    for e in &batch {
        apply(conn, e)?;
    }
    if let Some(last) = batch.last() {
        fault::pause_after_read(consumer, batch.len());
        events::advance(
            conn,
            consumer,
            Cursor {
                xid: last.xid,
                id: last.id,
            },
            t,
        )?;
    }
    Ok(batch.len())
}

/// Fault injection for the crash test: with
/// `ERRATUM_FAULT_PAUSE_AFTER_EVENTS_MS` set, a consumer that has applied a
/// batch waits that long before acknowledging it, so a test can kill the
/// process between reading and acknowledging. Unset in production.
mod fault {
    use std::sync::OnceLock;

    pub fn pause_after_read(consumer: &str, n: usize) {
        static PAUSE: OnceLock<Option<u64>> = OnceLock::new();
        let pause = PAUSE.get_or_init(|| {
            std::env::var("ERRATUM_FAULT_PAUSE_AFTER_EVENTS_MS")
                .ok()
                .and_then(|v| v.parse().ok())
        });
        if let Some(ms) = pause {
            tracing::warn!(
                consumer,
                events = n,
                "fault injection: pausing before the acknowledgement"
            );
            std::thread::sleep(std::time::Duration::from_millis(*ms));
        }
    }
}
