//! Readers without accounts: their reports are grouped by a key (a keyed
//! hash of the address they left, else the day's client hash), editors see
//! each reader's history on the case page, and can mark a reader as trusted
//! (their cases rise by `priority::TRUSTED_BONUS`) or blocked (their next
//! reports go straight to spam: `app::intake`).
//!
//! Who may do what: editors (and admins) trust and un-trust a reader whose
//! report is on one of their desks; blocking and unblocking is for admins,
//! because it silently discards a reader's future reports. Each change is
//! audited and recorded as a `ReaderStandingChanged` event, both naming the
//! standing row's id, never the reader's key.

use serde::Serialize;
use serde_json::json;

use super::AppState;
use crate::auth::keys;
use crate::db::audit::{self, Subject};
use crate::db::readers::{self as store, ReaderSummary};
use crate::db::{DbConn, events, now};
use crate::domain::actor::Actor;
use crate::domain::editor::Role;
use crate::domain::event::Event;
use crate::domain::reader::{Standing, is_linkable};
use crate::error::{ErrorCode, Problem};

/// What `POST /api/v1/reports/{id}/reader` answers: the reader as it now
/// stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReaderAnswer {
    pub reader: ReaderSummary,
}

fn report_not_found() -> Problem {
    Problem::not_found(ErrorCode::ReportNotFound, "No such report.")
}

/// Report ids are UUIDs; anything else cannot be one.
pub fn report_id(raw: &str) -> Result<String, Problem> {
    uuid::Uuid::parse_str(raw)
        .map(|_| raw.to_string())
        .map_err(|_| report_not_found())
}

/// The role a change from `before` to `after` needs: blocking or
/// unblocking is for admins, the rest for editors.
fn role_for(before: Option<Standing>, after: Option<Standing>) -> Role {
    if before == Some(Standing::Blocked) || after == Some(Standing::Blocked) {
        Role::Admin
    } else {
        Role::Editor
    }
}

/// Set the standing of the reader who filed `report_id`.
pub async fn set_standing(
    state: &AppState,
    actor: Actor,
    report_id: String,
    standing: Option<Standing>,
) -> Result<ReaderAnswer, Problem> {
    actor.require(Role::Editor)?;
    let answer = state
        .write(move |conn| set_standing_in(conn, &actor, &report_id, standing))
        .await?;
    state.committed();
    Ok(answer)
}

fn set_standing_in(
    conn: &mut DbConn,
    actor: &Actor,
    report_id: &str,
    standing: Option<Standing>,
) -> Result<ReaderAnswer, Problem> {
    let me = actor.require_account()?.to_string();
    let (key, _case_id, desk) = store::of_report(conn, report_id)?.ok_or_else(report_not_found)?;
    actor.require_desk(desk.as_deref())?;
    if !is_linkable(&key) {
        return Err(Problem::conflict(
            ErrorCode::ReaderErased,
            "This report's reader was erased: nothing links it to a reader any more.",
        ));
    }
    let current = store::standing_of(conn, &key)?.map(|s| s.standing);
    actor.require(role_for(current, standing))?;
    let t = now();
    let (before, after) = store::set_standing(conn, &key, standing, Some(&me), t)?;
    if before != after {
        let id = after
            .as_ref()
            .or(before.as_ref())
            .map(|s| s.id.clone())
            .unwrap_or_default();
        audit::record(
            conn,
            &actor.who,
            "reader.standing",
            Subject::Reader(&id),
            Some(json!({ "standing": before.as_ref().map(|s| s.standing) })),
            Some(json!({ "standing": after.as_ref().map(|s| s.standing) })),
        )?;
        events::record(
            conn,
            &Event::ReaderStandingChanged {
                standing_id: id,
                standing,
                by: me,
            },
            t,
        )?;
        store::refresh_trust(conn, &key)?;
    }
    let reader = store::summaries(conn, std::slice::from_ref(&key))?
        .remove(&key)
        .ok_or_else(|| Problem::internal("reader summary missing"))?;
    Ok(ReaderAnswer { reader })
}

/// The key of a reader who left `email` (see `auth::keys::reader_key`).
pub fn key_of_email(conn: &mut DbConn, email: &str) -> Result<String, Problem> {
    let secret = keys::reader_secret(conn)?;
    Ok(keys::reader_key(&secret, email))
}

/// Move the reports filed before keyed hashes (`email:<sha256>`) to their
/// keyed hash (`mail:<hmac>`), in batches; safe to run from several
/// instances at once. Returns how many reports moved.
pub fn rekey_legacy(conn: &mut DbConn) -> Result<usize, Problem> {
    let secret = keys::reader_secret(conn)?;
    let mut moved = 0;
    loop {
        let batch = diesel::Connection::transaction(conn, |c| -> Result<usize, Problem> {
            let old = store::legacy_keys(c, 200)?;
            let mut n = 0;
            for from in &old {
                let digest = from.trim_start_matches("email:");
                n += store::rekey(c, from, &keys::reader_key_of_digest(&secret, digest))?;
            }
            Ok(n)
        })?;
        if batch == 0 {
            break;
        }
        moved += batch;
    }
    if moved > 0 {
        tracing::info!(reports = moved, "readers: moved reports to keyed hashes");
    }
    Ok(moved)
}

/// A reader key from the intake: the keyed hash of the address, else the
/// day's client hash.
pub fn intake_key(secret: &str, email: Option<&str>, client_hash: &str) -> String {
    match email {
        Some(e) => keys::reader_key(secret, e),
        None => format!("client:{client_hash}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::sha256_hex;

    #[test]
    fn blocking_and_unblocking_need_an_admin_trust_an_editor() {
        use Standing::*;
        assert_eq!(role_for(None, Some(Trusted)), Role::Editor);
        assert_eq!(role_for(Some(Trusted), None), Role::Editor);
        assert_eq!(role_for(None, Some(Blocked)), Role::Admin);
        assert_eq!(role_for(Some(Blocked), None), Role::Admin);
        assert_eq!(role_for(Some(Blocked), Some(Trusted)), Role::Admin);
    }

    #[test]
    fn intake_keys_are_keyed_and_case_blind() {
        let a = intake_key("s1", Some("Ana@Example.org"), "c");
        assert_eq!(a, intake_key("s1", Some("ana@example.org"), "c"));
        assert_ne!(a, intake_key("s2", Some("ana@example.org"), "c"));
        assert!(!a.contains(&sha256_hex("ana@example.org")));
        assert_eq!(intake_key("s1", None, "abc"), "client:abc");
    }
}
