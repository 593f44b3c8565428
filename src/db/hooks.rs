//! Where other parts of Erratum join an editorial action's transaction.
//!
//! Each function is called inside the action's transaction, right after its
//! audit entry is written: whatever it writes (an email in the outbox, say)
//! commits with the action or not at all. They do nothing yet; the email
//! outbox fills them in.

use super::DbConn;
use crate::error::Problem;

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

pub fn case_assigned(_conn: &mut DbConn, _event: &CaseAssigned) -> Result<(), Problem> {
    Ok(())
}

pub fn case_resolved(_conn: &mut DbConn, _event: &CaseResolved) -> Result<(), Problem> {
    Ok(())
}
