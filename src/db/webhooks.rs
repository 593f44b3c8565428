//! Storage of the outgoing integrations: destinations (`webhook_endpoints`)
//! and the durable delivery queue, which is also each destination's log
//! (`webhook_deliveries`). What goes in them is `hooks`'s business.
//!
//! Deliveries to one destination go out one at a time, oldest first: a
//! worker leases the destination (not single rows), sends its due
//! deliveries in order and stops at the first failure, which pauses the
//! destination until the retry. So a receiver that was down gets what it
//! missed in the order it happened.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{webhook_deliveries, webhook_endpoints};
use super::{DbConn, new_id};

use crate::domain::hook::DeliveryState;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointRow {
    pub id: String,
    pub format: String,
    pub url: String,
    pub secret: String,
    pub events: String,
    pub desk: Option<String>,
    pub description: String,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub locked_by: Option<String>,
    pub locked_until: Option<NaiveDateTime>,
    pub paused_until: Option<NaiveDateTime>,
}

impl EndpointRow {
    pub fn event_names(&self) -> Vec<String> {
        serde_json::from_str(&self.events).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub event_type: String,
    pub case_id: Option<String>,
    pub payload: String,
    pub status: DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

pub struct NewEndpoint<'a> {
    pub format: &'a str,
    pub url: &'a str,
    pub secret: &'a str,
    pub events: &'a [String],
    pub desk: Option<&'a str>,
    pub description: &'a str,
    pub created_by: Option<&'a str>,
}

pub fn insert_endpoint(
    conn: &mut DbConn,
    e: &NewEndpoint,
    t: NaiveDateTime,
) -> QueryResult<EndpointRow> {
    let id = new_id();
    let events = serde_json::to_string(e.events)
        .map_err(|err| diesel::result::Error::SerializationError(Box::new(err)))?;
    diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::id.eq(&id),
            webhook_endpoints::format.eq(e.format),
            webhook_endpoints::url.eq(e.url),
            webhook_endpoints::secret.eq(e.secret),
            webhook_endpoints::events.eq(events),
            webhook_endpoints::desk.eq(e.desk),
            webhook_endpoints::description.eq(e.description),
            webhook_endpoints::created_by.eq(e.created_by),
            webhook_endpoints::created_at.eq(t),
        ))
        .execute(conn)?;
    webhook_endpoints::table
        .find(&id)
        .select(EndpointRow::as_select())
        .first(conn)
}

pub fn endpoints(conn: &mut DbConn) -> QueryResult<Vec<EndpointRow>> {
    webhook_endpoints::table
        .order((
            webhook_endpoints::created_at.asc(),
            webhook_endpoints::id.asc(),
        ))
        .select(EndpointRow::as_select())
        .load(conn)
}

pub fn count_endpoints(conn: &mut DbConn) -> QueryResult<i64> {
    webhook_endpoints::table.count().get_result(conn)
}

pub fn endpoint(conn: &mut DbConn, id: &str) -> QueryResult<Option<EndpointRow>> {
    webhook_endpoints::table
        .find(id)
        .select(EndpointRow::as_select())
        .first(conn)
        .optional()
}

/// Delete a destination and its deliveries; false when there was none.
pub fn delete_endpoint(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::endpoint_id.eq(id)))
        .execute(conn)?;
    Ok(diesel::delete(webhook_endpoints::table.find(id)).execute(conn)? > 0)
}

pub struct NewDelivery<'a> {
    pub endpoint_id: &'a str,
    pub event_type: &'a str,
    pub case_id: Option<&'a str>,
    pub payload: &'a str,
}

/// Queue a delivery, due at once; returns its id.
pub fn enqueue(conn: &mut DbConn, d: &NewDelivery, t: NaiveDateTime) -> QueryResult<String> {
    let id = format!("msg_{}", new_id().replace('-', ""));
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(&id),
            webhook_deliveries::endpoint_id.eq(d.endpoint_id),
            webhook_deliveries::event_type.eq(d.event_type),
            webhook_deliveries::case_id.eq(d.case_id),
            webhook_deliveries::payload.eq(d.payload),
            webhook_deliveries::status.eq(DeliveryState::Pending),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(t),
            webhook_deliveries::created_at.eq(t),
            webhook_deliveries::updated_at.eq(t),
        ))
        .execute(conn)?;
    Ok(id)
}

/// The latest `limit` deliveries of a destination, newest first.
pub fn log(conn: &mut DbConn, endpoint_id: &str, limit: i64) -> QueryResult<Vec<DeliveryRow>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .order((
            webhook_deliveries::created_at.desc(),
            webhook_deliveries::id.desc(),
        ))
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(conn)
}

/// Lease up to `limit` destinations that have a due pending delivery and
/// are neither paused nor leased, for `token` until `lease_until`; returns
/// their ids. PostgreSQL skips the rows another worker is claiming
/// (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a time.
pub fn claim(
    conn: &mut DbConn,
    token: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<String>> {
    let due = webhook_endpoints::id.eq_any(
        webhook_deliveries::table
            .filter(webhook_deliveries::status.eq(DeliveryState::Pending))
            .filter(webhook_deliveries::next_attempt_at.le(now))
            .select(webhook_deliveries::endpoint_id),
    );
    let free = webhook_endpoints::locked_until
        .is_null()
        .or(webhook_endpoints::locked_until.lt(now));
    let awake = webhook_endpoints::paused_until
        .is_null()
        .or(webhook_endpoints::paused_until.le(now));
    let ids: Vec<String> = match conn {
        DbConn::Pg(pg) => webhook_endpoints::table
            .filter(free)
            .filter(awake)
            .filter(due)
            .order(webhook_endpoints::id.asc())
            .limit(limit)
            .select(webhook_endpoints::id)
            .for_update()
            .skip_locked()
            .load(pg)?,
        DbConn::Sqlite(_) => webhook_endpoints::table
            .filter(free)
            .filter(awake)
            .filter(due)
            .order(webhook_endpoints::id.asc())
            .limit(limit)
            .select(webhook_endpoints::id)
            .load(conn)?,
    };
    if ids.is_empty() {
        return Ok(ids);
    }
    diesel::update(webhook_endpoints::table.filter(webhook_endpoints::id.eq_any(&ids)))
        .set((
            webhook_endpoints::locked_by.eq(token),
            webhook_endpoints::locked_until.eq(lease_until),
        ))
        .execute(conn)?;
    Ok(ids)
}

/// A leased destination's pending deliveries, oldest first.
pub fn pending(conn: &mut DbConn, endpoint_id: &str, limit: i64) -> QueryResult<Vec<DeliveryRow>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .filter(webhook_deliveries::status.eq(DeliveryState::Pending))
        .order((
            webhook_deliveries::created_at.asc(),
            webhook_deliveries::id.asc(),
        ))
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(conn)
}

/// End a lease (and, after a failure, pause the destination until `pause`).
pub fn release(
    conn: &mut DbConn,
    endpoint_id: &str,
    token: &str,
    pause: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    diesel::update(
        webhook_endpoints::table
            .filter(webhook_endpoints::id.eq(endpoint_id))
            .filter(webhook_endpoints::locked_by.eq(token)),
    )
    .set((
        webhook_endpoints::locked_by.eq(None::<String>),
        webhook_endpoints::locked_until.eq(None::<NaiveDateTime>),
        webhook_endpoints::paused_until.eq(pause),
    ))
    .execute(conn)
}

/// Release every lease a claim of `worker_id` holds (tokens are
/// `<worker_id>/<claim id>`), when that worker starts again.
pub fn release_claims_of(conn: &mut DbConn, worker_id: &str) -> QueryResult<usize> {
    use diesel::expression_methods::EscapeExpressionMethods;
    let mut pattern = String::with_capacity(worker_id.len() + 2);
    for c in worker_id.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push_str("/%");
    diesel::update(
        webhook_endpoints::table.filter(webhook_endpoints::locked_by.like(pattern).escape('\\')),
    )
    .set((
        webhook_endpoints::locked_by.eq(None::<String>),
        webhook_endpoints::locked_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

pub fn mark_delivered(
    conn: &mut DbConn,
    id: &str,
    status: i32,
    t: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::status.eq(DeliveryState::Pending)),
    )
    .set((
        webhook_deliveries::status.eq(DeliveryState::Delivered),
        webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
        webhook_deliveries::last_status.eq(status),
        webhook_deliveries::last_error.eq(None::<String>),
        webhook_deliveries::delivered_at.eq(t),
        webhook_deliveries::updated_at.eq(t),
    ))
    .execute(conn)
}

/// Record a failed try: retry at `retry_at`, or dead-letter when `None`.
pub fn mark_failed(
    conn: &mut DbConn,
    id: &str,
    status: Option<i32>,
    error: &str,
    retry_at: Option<NaiveDateTime>,
    t: NaiveDateTime,
) -> QueryResult<usize> {
    let (state, next) = match retry_at {
        Some(at) => (DeliveryState::Pending, at),
        None => (DeliveryState::Dead, t),
    };
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::status.eq(DeliveryState::Pending)),
    )
    .set((
        webhook_deliveries::status.eq(state),
        webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
        webhook_deliveries::next_attempt_at.eq(next),
        webhook_deliveries::last_status.eq(status),
        webhook_deliveries::last_error.eq(error),
        webhook_deliveries::updated_at.eq(t),
    ))
    .execute(conn)
}

/// Put a dead delivery back in the queue, due now, with a fresh count of
/// tries; false when it is not dead (or not this destination's).
pub fn requeue(
    conn: &mut DbConn,
    endpoint_id: &str,
    id: &str,
    t: NaiveDateTime,
) -> QueryResult<bool> {
    Ok(diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
            .filter(webhook_deliveries::status.eq(DeliveryState::Dead)),
    )
    .set((
        webhook_deliveries::status.eq(DeliveryState::Pending),
        webhook_deliveries::attempts.eq(0),
        webhook_deliveries::next_attempt_at.eq(t),
        webhook_deliveries::updated_at.eq(t),
    ))
    .execute(conn)?
        > 0)
}

/// The earliest time a destination may get its next try (for the worker's
/// sleep): its pause, or its oldest pending delivery's due time.
pub fn next_due(conn: &mut DbConn) -> QueryResult<Option<NaiveDateTime>> {
    let rows: Vec<(Option<NaiveDateTime>, NaiveDateTime)> = webhook_endpoints::table
        .inner_join(webhook_deliveries::table)
        .filter(webhook_deliveries::status.eq(DeliveryState::Pending))
        .group_by((webhook_endpoints::id, webhook_endpoints::paused_until))
        .select((
            webhook_endpoints::paused_until,
            diesel::dsl::min(webhook_deliveries::next_attempt_at).assume_not_null(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(p, d)| p.map_or(d, |p| p.max(d)))
        .min())
}

/// Delete delivered rows older than `before` (dead ones stay until retried
/// or their destination is deleted).
pub fn purge(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        webhook_deliveries::table
            .filter(webhook_deliveries::status.eq(DeliveryState::Delivered))
            .filter(webhook_deliveries::updated_at.lt(before)),
    )
    .execute(conn)
}
