//! Forgetting what is no longer needed: the email addresses readers left,
//! some time after their case is resolved (they only served to tell them
//! the outcome), and idempotency keys once no client can still be retrying.
//! Run by the background worker with its periodic scan (`erratum serve` and
//! `erratum worker`); each sweep is one short write (`SWEEP_REPORTS`,
//! `SWEEP_CASES`), and the walk through the resolved cases goes on from
//! where the last sweep stopped (`Walk`).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::schema::{cases, idempotency_keys, reports};
use crate::config::RetentionSettings;
use crate::domain::workflow::Status;

/// What one sweep forgot, and how far its walk got.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Reports whose reader's address was erased.
    pub reporter_emails: usize,
    pub idempotency_keys: usize,
    /// The walk is not over: sweep again, `from` this sweep's `through`.
    pub more: bool,
    /// Every case resolved before this instant and due for erasure has
    /// been swept: the next sweep starts here (`Walk::from`).
    pub through: Option<NaiveDateTime>,
}

/// Reports one sweep of the worker forgets at most. A sweep is one writer
/// job, and the first sweep of a big history (years of resolved cases,
/// 15,000 addresses in the scale dataset) held the writer, and every report
/// waiting behind it, for over a minute; the worker sweeps again, job after
/// job, while there is `more`. Erasing costs about 25 µs an address (the
/// reader's key and its indexes), so a full sweep holds the writer about
/// 7 ms.
pub const SWEEP_REPORTS: i64 = 250;

/// Resolved cases one sweep looks at, at most. Looking for the addresses
/// among all the cases resolved before the cut-off took 150 ms at a million
/// reports (60,000 cases, each probed in the index of reports with an
/// address, most of them long swept), and the look-up of leftovers 370 ms,
/// once a minute, in the writer; a thousand cases take a few milliseconds.
pub const SWEEP_CASES: i64 = 1000;

/// Where a sweep starts, and what it looks for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Walk {
    /// The previous sweep's `through`: cases resolved before it were swept
    /// already. `None` walks the whole history (the worker does at start
    /// and once a day, for cases whose reports came to them after their
    /// resolution, by a merge or a re-split).
    pub from: Option<NaiveDateTime>,
    /// Also look for reports whose address was erased by a sweep of a
    /// version that kept their reader's key (`mail:` keys made from older
    /// keys by `app::readers::rekey_legacy`, which runs at start); the
    /// worker asks for it on its walks of the whole history.
    pub leftovers: bool,
}

/// The most one sweep does: `reports` addresses, `cases` resolved cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepLimits {
    pub reports: i64,
    pub cases: i64,
}

impl Default for SweepLimits {
    fn default() -> SweepLimits {
        SweepLimits {
            reports: SWEEP_REPORTS,
            cases: SWEEP_CASES,
        }
    }
}

/// One sweep: the addresses of the cases resolved from `walk.from` on,
/// in resolution order, `limits.cases` cases and `limits.reports` reports
/// at most; then the idempotency keys past their days.
pub fn sweep(
    conn: &mut DbConn,
    at: NaiveDateTime,
    r: &RetentionSettings,
    walk: Walk,
    limits: SweepLimits,
) -> QueryResult<Swept> {
    let mut swept = Swept::default();
    if r.reporter_email_days > 0 {
        let cutoff = at - Duration::days(i64::from(r.reporter_email_days));
        let (lo, hi) = window(conn, walk.from, cutoff, limits.cases)?;
        // A walk from the start reads from the epoch: every resolution is
        // later (a bound rather than a boxed sub-query, which diesel's
        // multi-backend connection cannot run).
        let lo = lo.unwrap_or(chrono::DateTime::UNIX_EPOCH.naive_utc());
        let done_cases = || {
            cases::table
                .filter(cases::status.eq(Status::Resolved.as_str()))
                .filter(cases::resolved_at.ge(lo))
                .filter(cases::resolved_at.lt(hi))
                .select(cases::id)
        };
        // Through the partial index of reports with an address.
        let mut ids: Vec<String> = reports::table
            .filter(reports::reporter_email.is_not_null())
            .filter(reports::case_id.eq_any(done_cases()))
            .select(reports::id)
            .limit(limits.reports)
            .load(conn)?;
        let mut full = ids.len() as i64 == limits.reports;
        if walk.leftovers && !full {
            let left: Vec<String> = reports::table
                .filter(reports::reporter_email.is_null())
                .filter(reports::reporter_key.like("mail:%"))
                .filter(reports::case_id.eq_any(done_cases()))
                .select(reports::id)
                .limit(limits.reports - ids.len() as i64)
                .load(conn)?;
            full = (ids.len() + left.len()) as i64 == limits.reports;
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
        // A window that gave a full load is looked at again (what was
        // erased no longer matches); otherwise the walk moves past it.
        swept.through = if full { walk.from } else { Some(hi) };
        swept.more = full || hi < cutoff;
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

/// The resolution instants `[lo, hi)` of one sweep's cases: from `from`,
/// up to the resolution of the `n`-th case after it, or `cutoff`. Cases
/// resolved at the same instant stay in one window, however many.
fn window(
    conn: &mut DbConn,
    from: Option<NaiveDateTime>,
    cutoff: NaiveDateTime,
    n: i64,
) -> QueryResult<(Option<NaiveDateTime>, NaiveDateTime)> {
    let after = |strict: bool| {
        let q = cases::table
            .filter(cases::status.eq(Status::Resolved.as_str()))
            .filter(cases::resolved_at.lt(cutoff))
            .select(cases::resolved_at.assume_not_null())
            .order(cases::resolved_at.asc())
            .into_boxed();
        match (from, strict) {
            (Some(lo), true) => q.filter(cases::resolved_at.gt(lo)),
            (Some(lo), false) => q.filter(cases::resolved_at.ge(lo)),
            (None, _) => q,
        }
    };
    if let Some(lo) = from.filter(|lo| *lo >= cutoff) {
        return Ok((from, lo));
    }
    let next: Option<NaiveDateTime> = after(false).offset(n).first(conn).optional()?;
    let hi = match next {
        // All of the window's cases share `from`: it ends at the next
        // instant instead, so that it holds them all.
        Some(t) if Some(t) == from => after(true).first(conn).optional()?.unwrap_or(cutoff),
        Some(t) => t,
        None => cutoff,
    };
    Ok((from, hi))
}
