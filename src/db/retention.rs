//! Forgetting what is no longer needed: the email addresses readers left,
//! some time after their case is resolved (they only served to tell them
//! the outcome), and idempotency keys once no client can still be retrying.
//! Run by the background worker with its periodic scan (`erratum serve` and
//! `erratum worker`); each sweep is one short write (`SWEEP_REPORTS`).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::schema::{cases, idempotency_keys, reports};
use crate::config::RetentionSettings;
use crate::domain::workflow::Status;

/// What one sweep forgot.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Reports whose reader's address was erased.
    pub reporter_emails: usize,
    pub idempotency_keys: usize,
    /// More reports are due than one sweep takes: sweep again.
    pub more: bool,
}

/// Reports one sweep of the worker forgets at most. A sweep is one writer
/// job, and the first sweep of a big history (years of resolved cases,
/// 15,000 addresses in the scale dataset) held the writer, and every report
/// waiting behind it, for over a minute; the worker sweeps again, job after
/// job, while there is `more`.
pub const SWEEP_REPORTS: i64 = 1000;

/// One sweep, of `limit` reports at most. `leftovers`: also look for
/// reports whose address was erased by a sweep of a version that kept their
/// reader's key (`mail:` keys made from older keys by
/// `app::readers::rekey_legacy`, which runs at start): that look-up reads
/// every report of every resolved case, so the worker asks for it only on
/// its first sweeps after a start.
pub fn sweep(
    conn: &mut DbConn,
    at: NaiveDateTime,
    r: &RetentionSettings,
    leftovers: bool,
    limit: i64,
) -> QueryResult<Swept> {
    let mut swept = Swept::default();
    if r.reporter_email_days > 0 {
        let cutoff = at - Duration::days(i64::from(r.reporter_email_days));
        let done_cases = || {
            cases::table
                .filter(cases::status.eq(Status::Resolved.as_str()))
                .filter(cases::resolved_at.lt(cutoff))
                .select(cases::id)
        };
        // Through the partial index of reports with an address.
        let mut ids: Vec<String> = reports::table
            .filter(reports::reporter_email.is_not_null())
            .filter(reports::case_id.eq_any(done_cases()))
            .select(reports::id)
            .limit(limit)
            .load(conn)?;
        swept.more = ids.len() as i64 == limit;
        if leftovers && !swept.more {
            let left: Vec<String> = reports::table
                .filter(reports::reporter_email.is_null())
                .filter(reports::reporter_key.like("mail:%"))
                .filter(reports::case_id.eq_any(done_cases()))
                .select(reports::id)
                .limit(limit - ids.len() as i64)
                .load(conn)?;
            swept.more = (ids.len() + left.len()) as i64 == limit;
            ids.extend(left);
        }
        for chunk in ids.chunks(500) {
            swept.reporter_emails += diesel::update(
                reports::table
                    .filter(reports::id.eq_any(chunk))
                    .filter(reports::reporter_email.is_not_null()),
            )
            .set((
                reports::reporter_email.eq(None::<String>),
                reports::notify.eq(false),
            ))
            .execute(conn)?;
        }
        // The reader's key (a keyed hash of the address) is cut too, one
        // fresh key per case: distinct-reader counts still hold, but the
        // reports no longer add to the reader's history (`db::readers`).
        super::readers::unlink(conn, &ids)?;
    }
    let cutoff = at - Duration::days(i64::from(r.idempotency_key_days));
    swept.idempotency_keys =
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(cutoff)))
            .execute(conn)?;
    if swept.reporter_emails > 0 || swept.idempotency_keys > 0 {
        tracing::info!(
            reporter_emails = swept.reporter_emails,
            idempotency_keys = swept.idempotency_keys,
            "retention: forgotten"
        );
    }
    Ok(swept)
}
