//! Data-subject requests (GDPR arts. 15 and 17): admins export or erase what
//! is held about a reader's address; readers ask for either from their
//! status link. Every export and erasure is audited.

use super::AppState;
use crate::db::subjects;
pub use crate::db::subjects::{Erased, SubjectExport, SubjectRequest};
use crate::domain::actor::Actor;
use crate::domain::editor::Role;
use crate::error::Problem;

/// Everything held about a reader's address (admins).
pub async fn export(
    state: &AppState,
    actor: &Actor,
    email: &str,
) -> Result<SubjectExport, Problem> {
    actor.require(Role::Admin)?;
    let email = subjects::parse_email(email)?;
    let who = actor.who.clone();
    state
        .write(move |conn| subjects::export(conn, &who, &email))
        .await
}

/// Erase a reader's address everywhere, and the reports' text when asked
/// (admins).
pub async fn erase(
    state: &AppState,
    actor: &Actor,
    email: &str,
    remove_text: bool,
) -> Result<Erased, Problem> {
    actor.require(Role::Admin)?;
    let email = subjects::parse_email(email)?;
    let who = actor.who.clone();
    state
        .write(move |conn| subjects::erase(conn, &who, &email, remove_text))
        .await
}

/// Readers' requests, newest first (at most 500); only the open ones unless
/// `all` (admins).
pub async fn requests(
    state: &AppState,
    actor: &Actor,
    open_only: bool,
) -> Result<Vec<SubjectRequest>, Problem> {
    actor.require(Role::Admin)?;
    state
        .read(move |conn| Ok(subjects::list(conn, open_only, 500)?))
        .await
}

/// A reader asks, with their status link, for a copy (`export`) or the
/// erasure (`erase`) of their data; asking again while the same kind is open
/// answers the open one (`false`).
pub async fn file_request(
    state: &AppState,
    token: String,
    kind: String,
) -> Result<(SubjectRequest, bool), Problem> {
    if token.is_empty() || token.len() > 128 {
        return Err(Problem::not_found(
            "report_not_found",
            "No report has this status link.",
        ));
    }
    state
        .write(move |conn| subjects::file(conn, &token, &kind))
        .await
}

/// The requests filed with one status link.
pub async fn for_token(state: &AppState, token: String) -> Result<Vec<SubjectRequest>, Problem> {
    state
        .read(move |conn| subjects::for_token(conn, &token))
        .await
}
