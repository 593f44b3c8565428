//! Forgetting what is no longer needed: the email addresses readers left,
//! some time after their case is resolved (they only served to tell them
//! the outcome), and idempotency keys once no client can still be retrying.
//! Run by the background worker with its periodic scan (`erratum serve` and
//! `erratum worker`); each sweep is one short write.

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
}

pub fn sweep(conn: &mut DbConn, at: NaiveDateTime, r: &RetentionSettings) -> QueryResult<Swept> {
    let mut swept = Swept::default();
    if r.reporter_email_days > 0 {
        let cutoff = at - Duration::days(i64::from(r.reporter_email_days));
        let done_cases = cases::table
            .filter(cases::status.eq(Status::Resolved.as_str()))
            .filter(cases::resolved_at.lt(cutoff))
            .select(cases::id);
        // The reader's key (a keyed hash of the address) is cut too, one
        // fresh key per case: distinct-reader counts still hold, but the
        // reports no longer add to the reader's history (`db::readers`).
        let ids: Vec<String> = reports::table
            .filter(
                reports::reporter_email
                    .is_not_null()
                    .or(reports::reporter_key.like("mail:%")),
            )
            .filter(reports::case_id.eq_any(done_cases))
            .select(reports::id)
            .load(conn)?;
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
        super::readers::unlink(conn, &ids)?;
    }
    let cutoff = at - Duration::days(i64::from(r.idempotency_key_days));
    swept.idempotency_keys =
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(cutoff)))
            .execute(conn)?;
    if swept != Swept::default() {
        tracing::info!(
            reporter_emails = swept.reporter_emails,
            idempotency_keys = swept.idempotency_keys,
            "retention: forgotten"
        );
    }
    Ok(swept)
}
