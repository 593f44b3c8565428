//! The `events` table and the consumers' cursors (see the migration, and
//! `pg_horizon`, for why PostgreSQL orders by transaction id).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::dialect::is_unique_violation;
use super::schema::{event_cursors, events};
use super::{DbConn, DbError, DbResult};
use crate::domain::event::Event;

/// One stored event, in consumption order.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: i32,
    pub xid: i64,
    pub event: Event,
    pub created_at: NaiveDateTime,
}

/// Append `event`; call it inside the transaction that made the change.
pub fn record(conn: &mut DbConn, event: &Event, t: NaiveDateTime) -> DbResult<()> {
    let payload = serde_json::to_string(event)
        .map_err(|e| DbError::Unavailable(format!("event not serialisable: {e}")))?;
    let article_id = article_of(event);
    diesel::insert_into(events::table)
        .values((
            events::kind.eq(event.kind()),
            events::case_id.eq(event.case_id()),
            events::article_id.eq(article_id),
            events::payload.eq(payload),
            events::created_at.eq(t),
        ))
        .execute(conn)?;
    Ok(())
}

/// `record` for many events in one statement per `rows::CHUNK`, stored in
/// the order given (the writer's batches).
pub fn record_many(conn: &mut DbConn, list: &[Event], t: NaiveDateTime) -> DbResult<()> {
    let payloads = list
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<Vec<String>, _>>()
        .map_err(|e| DbError::Unavailable(format!("event not serialisable: {e}")))?;
    let rows: Vec<(&Event, String)> = list.iter().zip(payloads).collect();
    super::rows::execute_chunked(
        conn,
        &rows,
        |tuples| {
            format!(
                "INSERT INTO events (kind, case_id, article_id, payload, created_at) \
                 VALUES {tuples}"
            )
        },
        |(event, payload)| {
            [
                event.kind().into(),
                event.case_id().into(),
                article_of(event).into(),
                payload.as_str().into(),
                t.into(),
            ]
        },
    )?;
    Ok(())
}

fn article_of(event: &Event) -> Option<&str> {
    match event {
        Event::ReportFiled { article_id, .. }
        | Event::CaseOpened { article_id, .. }
        | Event::CorrectionPublished { article_id, .. }
        | Event::ArticleRevised { article_id, .. } => Some(article_id.as_str()),
        _ => None,
    }
}

/// Where a consumer stands: the last event it applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    pub xid: i64,
    pub id: i32,
}

/// Take `consumer`'s cursor for the rest of the transaction (created at the
/// start of history the first time). On PostgreSQL the row lock makes a
/// second instance's consumer wait instead of applying the same events;
/// SQLite's single writer already serialises them.
pub fn lock_cursor(conn: &mut DbConn, consumer: &str, t: NaiveDateTime) -> DbResult<Cursor> {
    let created = conn.transaction(|c| {
        diesel::insert_into(event_cursors::table)
            .values((
                event_cursors::consumer.eq(consumer),
                event_cursors::last_xid.eq(0i64),
                event_cursors::last_id.eq(0),
                event_cursors::updated_at.eq(t),
            ))
            .execute(c)
    });
    match created {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {}
        Err(e) => return Err(e.into()),
    }
    let query = event_cursors::table
        .find(consumer)
        .select((event_cursors::last_xid, event_cursors::last_id));
    let (xid, id) = match conn {
        DbConn::Pg(pg) => query.for_update().first::<(i64, i32)>(pg)?,
        DbConn::Sqlite(_) => query.first::<(i64, i32)>(conn)?,
    };
    Ok(Cursor { xid, id })
}

/// Up to `limit` events after `after`, oldest first, that no running
/// transaction can still precede.
pub fn after(conn: &mut DbConn, after: Cursor, limit: i64) -> DbResult<Vec<StoredEvent>> {
    type Row = (i32, i64, String, NaiveDateTime);
    let rows: Vec<Row> = match conn {
        DbConn::Pg(_) => {
            let horizon = pg_horizon(conn)?;
            #[derive(QueryableByName)]
            struct PgRow {
                #[diesel(sql_type = diesel::sql_types::Integer)]
                id: i32,
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                xid: i64,
                #[diesel(sql_type = diesel::sql_types::Text)]
                payload: String,
                #[diesel(sql_type = diesel::sql_types::Timestamp)]
                created_at: NaiveDateTime,
            }
            super::rows::load::<PgRow>(
                conn,
                "SELECT id, xid, payload, created_at FROM events \
                 WHERE (xid, id) > (?, ?) AND xid < ? \
                 ORDER BY xid, id LIMIT ?",
                vec![
                    after.xid.into(),
                    after.id.into(),
                    horizon.into(),
                    limit.into(),
                ],
            )?
            .into_iter()
            .map(|r| (r.id, r.xid, r.payload, r.created_at))
            .collect()
        }
        DbConn::Sqlite(_) => events::table
            .filter(events::id.gt(after.id))
            .order(events::id.asc())
            .limit(limit)
            .select((events::id, events::xid, events::payload, events::created_at))
            .load(conn)?,
    };
    rows.into_iter()
        .map(|(id, xid, payload, created_at)| {
            let event = serde_json::from_str(&payload)
                .map_err(|e| DbError::Unavailable(format!("event {id} cannot be read: {e}")))?;
            Ok(StoredEvent {
                id,
                xid,
                event,
                created_at,
            })
        })
        .collect()
}

/// A cursor past every event committed so far (where an in-memory reader
/// that only cares about what happens from now on starts).
pub fn tail(conn: &mut DbConn) -> DbResult<Cursor> {
    match conn {
        DbConn::Pg(_) => {
            // Every transaction below the horizon has ended; the next
            // events come from it or later.
            let horizon = pg_horizon(conn)?;
            Ok(Cursor {
                xid: horizon - 1,
                id: i32::MAX,
            })
        }
        DbConn::Sqlite(_) => {
            let id: Option<i32> = events::table
                .select(diesel::dsl::max(events::id))
                .first(conn)?;
            Ok(Cursor {
                xid: 0,
                id: id.unwrap_or(0),
            })
        }
    }
}

/// The oldest transaction id that may still commit events in this
/// database: the smallest id among its other sessions' open transactions,
/// else the next id to be handed out. Every transaction with a smaller id
/// has ended, so a later statement sees all of its events and none can
/// appear behind a cursor that stays below this.
///
/// Read in its own statement, before the events are (a statement's snapshot
/// is taken when it starts), and after clearing the statistics snapshot
/// PostgreSQL otherwise keeps for the whole transaction. Only this
/// database's sessions count, so a long transaction elsewhere on the server
/// does not hold the consumers back. `pg_stat_activity` shows the
/// transaction ids of sessions of the same role: every Erratum process of an
/// installation must connect as one role. Session ids are 32-bit and wrap;
/// they are widened with the epoch of the next id.
fn pg_horizon(conn: &mut DbConn) -> DbResult<i64> {
    #[derive(QueryableByName)]
    struct Horizon {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        horizon: i64,
    }
    use diesel::connection::SimpleConnection;
    conn.batch_execute("SELECT pg_stat_clear_snapshot()")?;
    // Kept prepared (`rows::load`): parsing it was most of its cost.
    let h = super::rows::load::<Horizon>(
        conn,
        "SELECT LEAST(x.next, COALESCE(min(
             CASE WHEN (((x.next >> 32) << 32) | a.backend_xid::text::bigint) > x.next
                  THEN (((x.next >> 32) << 32) | a.backend_xid::text::bigint) - 4294967296
                  ELSE (((x.next >> 32) << 32) | a.backend_xid::text::bigint) END), x.next)) AS horizon
         FROM (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS next) x
         LEFT JOIN pg_stat_activity a
           ON a.datname = current_database()
          AND a.backend_xid IS NOT NULL
          AND a.pid <> pg_backend_pid()
         GROUP BY x.next",
        Vec::new(),
    )?
    .pop()
    .ok_or(diesel::result::Error::NotFound)?;
    Ok(h.horizon)
}

/// Move `consumer`'s cursor to `to` (inside the transaction that applied the
/// events up to it).
pub fn advance(conn: &mut DbConn, consumer: &str, to: Cursor, t: NaiveDateTime) -> DbResult<()> {
    diesel::update(event_cursors::table.find(consumer))
        .set((
            event_cursors::last_xid.eq(to.xid),
            event_cursors::last_id.eq(to.id),
            event_cursors::updated_at.eq(t),
        ))
        .execute(conn)?;
    Ok(())
}

/// Events about one case, oldest first (the case's history for consumers
/// and tests).
pub fn for_case(conn: &mut DbConn, case_id: &str) -> DbResult<Vec<Event>> {
    let payloads: Vec<String> = events::table
        .filter(events::case_id.eq(case_id))
        .order(events::id.asc())
        .select(events::payload)
        .load(conn)?;
    Ok(payloads
        .iter()
        .filter_map(|p| serde_json::from_str(p).ok())
        .collect())
}

/// `pending`'s probe on PostgreSQL (its plan is tested).
pub const PENDING_PG: &str =
    "SELECT id FROM events WHERE (xid, id) > (?, ?) ORDER BY xid, id LIMIT 1";

/// Whether any event lies after `consumer`'s cursor (a cheap read before
/// taking a write transaction; it may see events a running transaction has
/// not committed the predecessors of, which `after` then leaves for later).
///
/// The next event in the cursor's order, rather than `EXISTS`: as an
/// `EXISTS` over the cursor's condition, PostgreSQL's generic plan (the one
/// a prepared statement gets after a few runs) scanned every event, which
/// at the end of the log all fail it: 114 ms a probe at 1,000,000 events,
/// and the log gains an event per report. Ordered by the index and limited
/// to one row, it seeks (0.02 ms there).
pub fn pending(conn: &mut DbConn, consumer: &str) -> DbResult<bool> {
    let cursor: Option<(i64, i32)> = event_cursors::table
        .find(consumer)
        .select((event_cursors::last_xid, event_cursors::last_id))
        .first(conn)
        .optional()?;
    let (xid, id) = cursor.unwrap_or((0, 0));
    #[derive(QueryableByName)]
    struct Next {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        id: i32,
    }
    let next: Vec<i32> = match conn {
        DbConn::Pg(_) => super::rows::load::<Next>(conn, PENDING_PG, vec![xid.into(), id.into()])?
            .into_iter()
            .map(|n| n.id)
            .collect(),
        // SQLite's cursor is the id alone (`after`).
        DbConn::Sqlite(_) => events::table
            .filter(events::id.gt(id))
            .select(events::id)
            .order(events::id.asc())
            .limit(1)
            .load(conn)?,
    };
    Ok(!next.is_empty())
}
