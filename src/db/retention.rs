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
        // The reporter key (a hash) stays: distinct-reader counts still hold.
        swept.reporter_emails = diesel::update(
            reports::table
                .filter(reports::reporter_email.is_not_null())
                .filter(reports::case_id.eq_any(done_cases)),
        )
        .set((
            reports::reporter_email.eq(None::<String>),
            reports::notify.eq(false),
        ))
        .execute(conn)?;
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
