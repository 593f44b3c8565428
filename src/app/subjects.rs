//! Data-subject requests (GDPR arts. 15 and 17): admins export or erase what
//! is held about a reader's address; readers ask for either from their
//! status link. Every export and erasure is audited. The `*_in` forms run on
//! a connection inside the caller's transaction (the command line).

use super::AppState;
pub use crate::db::subjects::{Erased, SubjectExport, SubjectRequest};
use crate::db::{DbConn, subjects};
use crate::domain::actor::Actor;
use crate::domain::editor::Role;
pub use crate::domain::subject::{RequestKind, SubjectEmail};
use crate::error::{ErrorCode, Problem};

/// Everything held about a reader's address (admins).
pub async fn export(
    state: &AppState,
    actor: &Actor,
    email: &str,
) -> Result<SubjectExport, Problem> {
    actor.require(Role::Admin)?;
    let email = SubjectEmail::parse(email)?;
    let actor = actor.clone();
    state
        .write(move |conn| export_in(conn, &actor, &email))
        .await
}

pub fn export_in(
    conn: &mut DbConn,
    actor: &Actor,
    email: &SubjectEmail,
) -> Result<SubjectExport, Problem> {
    actor.require(Role::Admin)?;
    let key = super::readers::key_of_email(conn, email.as_str())?;
    Ok(subjects::export(conn, &actor.who, email.as_str(), &key)?)
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
    let email = SubjectEmail::parse(email)?;
    let actor = actor.clone();
    state
        .write(move |conn| erase_in(conn, &actor, &email, remove_text))
        .await
}

pub fn erase_in(
    conn: &mut DbConn,
    actor: &Actor,
    email: &SubjectEmail,
    remove_text: bool,
) -> Result<Erased, Problem> {
    actor.require(Role::Admin)?;
    let key = super::readers::key_of_email(conn, email.as_str())?;
    Ok(subjects::erase(
        conn,
        &actor.who,
        email.as_str(),
        &key,
        remove_text,
    )?)
}

/// Readers' requests, newest first (at most 500); only the open ones unless
/// `all` (admins).
pub async fn requests(
    state: &AppState,
    actor: &Actor,
    open_only: bool,
) -> Result<Vec<SubjectRequest>, Problem> {
    actor.require(Role::Admin)?;
    state.read(move |conn| requests_in(conn, open_only)).await
}

pub fn requests_in(conn: &mut DbConn, open_only: bool) -> Result<Vec<SubjectRequest>, Problem> {
    Ok(subjects::list(conn, open_only, 500)?)
}

fn no_such_link() -> Problem {
    Problem::not_found(ErrorCode::ReportNotFound, "No report has this status link.")
}

/// A reader asks, with their status link, for a copy (`export`) or the
/// erasure (`erase`) of their data; asking again while the same kind is open
/// answers the open one (`false`).
pub async fn file_request(
    state: &AppState,
    token: String,
    kind: &str,
) -> Result<(SubjectRequest, bool), Problem> {
    let kind = RequestKind::from_field(kind)?;
    if token.is_empty() || token.len() > 128 {
        return Err(no_such_link());
    }
    state
        .write(move |conn| subjects::file(conn, &token, kind)?.ok_or_else(no_such_link))
        .await
}

/// The requests filed with one status link.
pub async fn for_token(state: &AppState, token: String) -> Result<Vec<SubjectRequest>, Problem> {
    state
        .read(move |conn| subjects::for_token(conn, &token)?.ok_or_else(no_such_link))
        .await
}
