//! The outbox table: writing emails in the event's transaction, claiming due
//! rows under a lease, recording each try, and the suppression list.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::dialect::{is_unique_violation, lease_due_outbox};
use super::schema::{email_suppressions, outbox};
use super::{DbConn, new_id};
use crate::domain::article::{Language, Locale};
use crate::domain::email::{EmailKind, OutboxStatus};
use crate::domain::text::sha256_hex;

/// Suppression reasons.
pub const BOUNCE: &str = "bounce";
pub const UNSUBSCRIBED: &str = "unsubscribed";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub recipient_key: String,
    pub editor_id: Option<String>,
    pub case_id: Option<String>,
    pub language: String,
    pub payload: String,
    pub message_id: String,
    pub thread_message_id: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_by: Option<String>,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// An email to write to the outbox; `payload` is what its templates need,
/// stored as JSON.
pub struct NewEmail<'a, P> {
    pub kind: EmailKind,
    pub recipient: &'a str,
    pub editor_id: Option<&'a str>,
    pub case_id: Option<&'a str>,
    pub language: &'a str,
    pub payload: P,
    /// A digest's id is chosen before its items point at it.
    pub id: Option<String>,
}

/// The key addresses are counted and suppressed by: never the address itself.
pub fn address_key(address: &str) -> String {
    sha256_hex(address.trim().to_lowercase())
}

/// Whether an address is on the suppression list for any reason that applies:
/// a bounce stops every email, an unsubscribe stops readers' emails.
pub fn is_suppressed(conn: &mut DbConn, key: &str, for_reader: bool) -> QueryResult<bool> {
    let reasons: Vec<&str> = if for_reader {
        vec![BOUNCE, UNSUBSCRIBED]
    } else {
        vec![BOUNCE]
    };
    diesel::select(diesel::dsl::exists(
        email_suppressions::table
            .filter(email_suppressions::address_key.eq(key))
            .filter(email_suppressions::reason.eq_any(reasons)),
    ))
    .get_result(conn)
}

/// Put an address key on the suppression list (idempotent).
pub fn suppress(
    conn: &mut DbConn,
    key: &str,
    reason: &str,
    detail: Option<&str>,
    t: NaiveDateTime,
) -> QueryResult<()> {
    let inserted = conn.transaction(|c| {
        diesel::insert_into(email_suppressions::table)
            .values((
                email_suppressions::address_key.eq(key),
                email_suppressions::reason.eq(reason),
                email_suppressions::detail.eq(detail),
                email_suppressions::created_at.eq(t),
            ))
            .execute(c)
    });
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Why an email was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotQueued {
    InvalidAddress,
    Suppressed,
    DailyLimit,
}

/// What the installation's email settings say about writing emails.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    /// The domain every Message-ID ends with (the sender's domain).
    pub message_id_domain: &'a str,
    /// Emails a reader's address may get in 24 hours.
    pub reader_daily_limit: u32,
}

/// Write an email in the caller's transaction. Returns its id, or why it was
/// left out (an address that bounced or unsubscribed, a reader's daily limit).
pub fn enqueue<P: serde::Serialize>(
    conn: &mut DbConn,
    cfg: &Policy,
    email: NewEmail<P>,
    t: NaiveDateTime,
) -> QueryResult<Result<String, NotQueued>> {
    if email.recipient.parse::<lettre::Address>().is_err() {
        return Ok(Err(NotQueued::InvalidAddress));
    }
    let key = address_key(email.recipient);
    let for_reader = email.kind.is_for_reader();
    if is_suppressed(conn, &key, for_reader)? {
        return Ok(Err(NotQueued::Suppressed));
    }
    if for_reader {
        // Counted on everything written for this address in 24 hours, sent or
        // not: the limit protects a reader from a flood, whoever causes it.
        let recent: i64 = outbox::table
            .filter(outbox::recipient_key.eq(&key))
            .filter(outbox::editor_id.is_null())
            .filter(outbox::created_at.gt(t - Duration::hours(24)))
            .count()
            .get_result(conn)?;
        if recent >= cfg.reader_daily_limit as i64 {
            return Ok(Err(NotQueued::DailyLimit));
        }
    }
    // Every email about a case answers the case's first one, so mail clients
    // thread them.
    let thread = match email.case_id {
        Some(case_id) => outbox::table
            .filter(outbox::case_id.eq(case_id))
            .order((outbox::created_at.asc(), outbox::id.asc()))
            .select(outbox::message_id)
            .first::<String>(conn)
            .optional()?,
        None => None,
    };
    let id = email.id.unwrap_or_else(new_id);
    let message_id = format!("<{id}@{}>", cfg.message_id_domain);
    let payload = serde_json::to_string(&email.payload)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(&id),
            outbox::kind.eq(email.kind.as_str()),
            outbox::recipient.eq(email.recipient.trim()),
            outbox::recipient_key.eq(&key),
            outbox::editor_id.eq(email.editor_id),
            outbox::case_id.eq(email.case_id),
            // A language tag: readers' emails speak the article's (`es`,
            // `pt-br`…), editors' French or English; anything that is no tag
            // gets the newsroom's language.
            outbox::language.eq(Locale::parse(email.language)
                .unwrap_or_else(|| Language::default().into())
                .to_string()),
            outbox::payload.eq(payload),
            outbox::message_id.eq(message_id),
            outbox::thread_message_id.eq(thread),
            outbox::status.eq(OutboxStatus::Pending),
            outbox::attempts.eq(0),
            // Due at once (a scan may be run for a time ahead, in tests).
            outbox::next_attempt_at.eq(t.min(super::now())),
            outbox::created_at.eq(t),
            outbox::updated_at.eq(t),
        ))
        .execute(conn)?;
    Ok(Ok(id))
}

/// Claim up to `limit` rows due by `now` for `token` (unique per claim)
/// until `lease_until`. The rows are read back by the claim's own token, so
/// a row is never handed to two claims (see `dialect::lease_due_outbox`).
pub fn claim(
    conn: &mut DbConn,
    token: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    claim_due(conn, token, now, now, lease_until, limit)
}

/// `claim`, taking a row already tried only if it fell due by `retries_by`
/// (first tries whenever due by `now`). Half the claim is the newest due
/// rows, half the oldest; they come back newest first, so a fresh email is
/// sent before the backlog.
pub fn claim_due(
    conn: &mut DbConn,
    token: &str,
    now: NaiveDateTime,
    retries_by: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    if lease_due_outbox(conn, token, now, retries_by, lease_until, limit)? == 0 {
        return Ok(Vec::new());
    }
    // By `outbox_locked_idx`: the read-back touches only the claim's rows.
    outbox::table
        .filter(outbox::locked_by.eq(token))
        .filter(outbox::status.eq(OutboxStatus::Pending))
        .order((outbox::next_attempt_at.desc(), outbox::id.asc()))
        .select(OutboxRow::as_select())
        .load(conn)
}

/// The address keys among `keys` that rows must not be sent to, with the
/// reason (`BOUNCE` or `UNSUBSCRIBED`): one query for a whole claim.
pub fn suppressed_among(conn: &mut DbConn, keys: &[&str]) -> QueryResult<Vec<(String, String)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    email_suppressions::table
        .filter(email_suppressions::address_key.eq_any(keys))
        .select((email_suppressions::address_key, email_suppressions::reason))
        .load(conn)
}

/// Extend the lease of the rows `token` still holds (pending ones: a row is
/// released when its try is recorded), while they are being sent.
pub fn renew_lease(
    conn: &mut DbConn,
    token: &str,
    lease_until: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        outbox::table
            .filter(outbox::locked_by.eq(token))
            .filter(outbox::status.eq(OutboxStatus::Pending)),
    )
    .set(outbox::locked_until.eq(lease_until))
    .execute(conn)
}

/// The LIKE pattern of every claim token of `worker_id` (tokens are
/// `<worker_id>/<claim id>`). The id's `%`, `_` and `\` are escaped, so
/// none is a wildcard (a range comparison would depend on PostgreSQL's
/// collation).
fn claims_of(worker_id: &str) -> String {
    let mut pattern = String::with_capacity(worker_id.len() + 2);
    for c in worker_id.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push_str("/%");
    pattern
}

/// Release every pending row leased by a claim of `worker_id`: a restarted
/// worker takes back at once what it held when it stopped, instead of
/// waiting for the leases to end.
pub fn release_claims_of(
    conn: &mut DbConn,
    worker_id: &str,
    t: NaiveDateTime,
) -> QueryResult<usize> {
    use diesel::expression_methods::EscapeExpressionMethods;
    diesel::update(
        outbox::table
            .filter(outbox::status.eq(OutboxStatus::Pending))
            .filter(outbox::locked_by.like(claims_of(worker_id)).escape('\\')),
    )
    .set((
        outbox::locked_by.eq(None::<String>),
        outbox::locked_until.eq(None::<NaiveDateTime>),
        outbox::updated_at.eq(t),
    ))
    .execute(conn)
}

/// Extend the lease of every pending row a claim of `worker_id` holds: one
/// statement for all the claims a worker has in flight.
pub fn renew_claims_of(
    conn: &mut DbConn,
    worker_id: &str,
    lease_until: NaiveDateTime,
) -> QueryResult<usize> {
    use diesel::expression_methods::EscapeExpressionMethods;
    diesel::update(
        outbox::table
            .filter(outbox::status.eq(OutboxStatus::Pending))
            .filter(outbox::locked_by.like(claims_of(worker_id)).escape('\\')),
    )
    .set(outbox::locked_until.eq(lease_until))
    .execute(conn)
}

/// The earliest time a pending row becomes due (for the worker's sleep).
pub fn next_due(conn: &mut DbConn) -> QueryResult<Option<NaiveDateTime>> {
    outbox::table
        .filter(outbox::status.eq(OutboxStatus::Pending))
        .select(diesel::dsl::min(outbox::next_attempt_at))
        .first(conn)
}

/// How many rows have each status (every status, zero included), in one
/// query.
pub fn count_by_status(conn: &mut DbConn) -> QueryResult<Vec<(OutboxStatus, i64)>> {
    let found: Vec<(OutboxStatus, i64)> = outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(OutboxStatus::ALL
        .into_iter()
        .map(|status| {
            let n = found
                .iter()
                .find(|(s, _)| *s == status)
                .map_or(0, |(_, n)| *n);
            (status, n)
        })
        .collect())
}

pub fn mark_sent(conn: &mut DbConn, id: &str, t: NaiveDateTime) -> QueryResult<usize> {
    mark_sent_many(conn, &[id], t)
}

/// Mark rows sent, in one statement (the worker records a batch at a time).
/// A row no longer pending (requeued or dead meanwhile) is left as it is.
pub fn mark_sent_many(conn: &mut DbConn, ids: &[&str], t: NaiveDateTime) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(
        outbox::table
            .filter(outbox::id.eq_any(ids))
            .filter(outbox::status.eq(OutboxStatus::Pending)),
    )
    .set((
        outbox::status.eq(OutboxStatus::Sent),
        outbox::attempts.eq(outbox::attempts + 1),
        outbox::sent_at.eq(t),
        outbox::last_error.eq(None::<String>),
        outbox::locked_by.eq(None::<String>),
        outbox::locked_until.eq(None::<NaiveDateTime>),
        outbox::updated_at.eq(t),
    ))
    .execute(conn)
}

/// Record a failed try: retry at `retry_at`, or dead-letter when `None`.
pub fn mark_failed(
    conn: &mut DbConn,
    id: &str,
    error: &str,
    retry_at: Option<NaiveDateTime>,
    t: NaiveDateTime,
) -> QueryResult<usize> {
    let (status, next) = match retry_at {
        Some(at) => (OutboxStatus::Pending, at),
        None => (OutboxStatus::Dead, t),
    };
    diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::status.eq(OutboxStatus::Pending)),
    )
    .set((
        outbox::status.eq(status),
        outbox::attempts.eq(outbox::attempts + 1),
        outbox::next_attempt_at.eq(next),
        outbox::last_error.eq(error),
        outbox::locked_by.eq(None::<String>),
        outbox::locked_until.eq(None::<NaiveDateTime>),
        outbox::updated_at.eq(t),
    ))
    .execute(conn)
}

/// Mark a row that must not be sent after all (its address bounced since).
pub fn mark_skipped(
    conn: &mut DbConn,
    id: &str,
    why: &str,
    t: NaiveDateTime,
) -> QueryResult<usize> {
    mark_skipped_many(conn, &[id], why, t)
}

/// `mark_skipped` for several rows, in one statement.
pub fn mark_skipped_many(
    conn: &mut DbConn,
    ids: &[&str],
    why: &str,
    t: NaiveDateTime,
) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(
        outbox::table
            .filter(outbox::id.eq_any(ids))
            .filter(outbox::status.eq(OutboxStatus::Pending)),
    )
    .set((
        outbox::status.eq(OutboxStatus::Skipped),
        outbox::last_error.eq(why),
        outbox::locked_by.eq(None::<String>),
        outbox::locked_until.eq(None::<NaiveDateTime>),
        outbox::updated_at.eq(t),
    ))
    .execute(conn)
}

type Requeued = (
    diesel::dsl::Eq<outbox::status, OutboxStatus>,
    diesel::dsl::Eq<outbox::attempts, i32>,
    diesel::dsl::Eq<outbox::next_attempt_at, NaiveDateTime>,
    diesel::dsl::Eq<outbox::locked_by, Option<String>>,
    diesel::dsl::Eq<outbox::locked_until, Option<NaiveDateTime>>,
    diesel::dsl::Eq<outbox::updated_at, NaiveDateTime>,
);

/// A row back in the queue: pending, due at `t`, no tries counted, no lease.
fn requeued(t: NaiveDateTime) -> Requeued {
    (
        outbox::status.eq(OutboxStatus::Pending),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(t),
        outbox::locked_by.eq(None::<String>),
        outbox::locked_until.eq(None::<NaiveDateTime>),
        outbox::updated_at.eq(t),
    )
}

/// Put a dead (or pending) row back in the queue, due now, with a fresh count
/// of tries. A sent or skipped row stays as it is.
pub fn requeue(conn: &mut DbConn, id: &str, t: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::status.eq_any([OutboxStatus::Dead, OutboxStatus::Pending])),
    )
    .set(requeued(t))
    .execute(conn)
}

/// Requeue every dead row; returns how many.
pub fn requeue_all_dead(conn: &mut DbConn, t: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(outbox::table.filter(outbox::status.eq(OutboxStatus::Dead)))
        .set(requeued(t))
        .execute(conn)
}

/// Delete sent and skipped emails older than `before`, and the digest items
/// they listed: they hold addresses and readers' text, kept no longer than
/// needed. Dead emails stay until someone retries or inspects them.
pub fn purge(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    use super::schema::digest_items;
    let old = outbox::table
        .filter(outbox::status.eq_any([OutboxStatus::Sent, OutboxStatus::Skipped]))
        .filter(outbox::updated_at.lt(before));
    diesel::delete(
        digest_items::table
            .filter(digest_items::outbox_id.is_not_null())
            .filter(digest_items::created_at.lt(before)),
    )
    .execute(conn)?;
    diesel::delete(old).execute(conn)
}
