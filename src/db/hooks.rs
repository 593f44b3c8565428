//! Where other parts of Erratum join an editorial action's transaction.
//!
//! Each function is called inside the action's transaction, right after its
//! audit entry is written: whatever it writes (an email in the outbox)
//! commits with the action or not at all.

use super::DbConn;
use crate::error::Problem;
use crate::notify::NotifyConfig;

/// A case was assigned to an editor by someone (possibly themselves).
#[derive(Debug, Clone)]
pub struct CaseAssigned<'a> {
    pub case_id: &'a str,
    pub article_id: &'a str,
    pub assignee_id: &'a str,
    /// The editor who assigned it.
    pub by_editor_id: &'a str,
}

/// A case was resolved; `correction_id` is set when a correction was
/// published. Readers who asked to be notified are found through
/// `reports.case_id` (and, for a duplicate, the case it duplicates).
#[derive(Debug, Clone)]
pub struct CaseResolved<'a> {
    pub case_id: &'a str,
    pub article_id: &'a str,
    /// `corrected`, `clarified`, `updated`, `no_change`, `rejected`,
    /// `duplicate` or `spam` (readers are never told about spam).
    pub resolution: &'a str,
    pub public_note: Option<&'a str>,
    pub duplicate_of: Option<&'a str>,
    pub correction_id: Option<&'a str>,
    pub by_editor_id: &'a str,
}

/// Tell the assignee (unless they took the case themselves).
pub fn case_assigned(
    conn: &mut DbConn,
    cfg: &NotifyConfig,
    event: &CaseAssigned,
) -> Result<(), Problem> {
    crate::notify::events::case_assigned(
        conn,
        cfg,
        event.case_id,
        event.assignee_id,
        Some(event.by_editor_id),
    )
}

/// Tell the readers who asked for the outcome; a published correction's text
/// is the public note.
pub fn case_resolved(
    conn: &mut DbConn,
    cfg: &NotifyConfig,
    event: &CaseResolved,
) -> Result<(), Problem> {
    let correction = event.correction_id.and(event.public_note);
    crate::notify::events::case_resolved(conn, cfg, event.case_id, correction)
}
