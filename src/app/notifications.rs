//! Notification settings, the outbox as admins see it, and one-click
//! unsubscribe links.

use super::AppState;
use crate::db::now;
use crate::domain::actor::Actor;
/// The status of an email that will not be tried again.
pub use crate::domain::email::OutboxStatus;
use crate::error::{ErrorCode, Problem};
use crate::notify::admin;
pub use crate::notify::admin::{OutboxEntry, OutboxList, OutboxQuery, RetryAll};
use crate::notify::prefs;
pub use crate::notify::prefs::{
    Delivery, NotificationKind, NotificationPrefs, NotificationPrefsUpdate,
};
use crate::notify::unsubscribe;
pub use crate::notify::unsubscribe::{Scope, Unsubscribe};

fn admin_only(actor: &Actor) -> Result<(), Problem> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "Only admins can see and retry the outbox.",
        ))
    }
}

/// The editor's choice per kind of notification.
pub async fn prefs(state: &AppState, actor: &Actor) -> Result<NotificationPrefs, Problem> {
    let id = actor.require_account()?.to_string();
    state.read(move |conn| prefs::get(conn, &id)).await
}

pub async fn set_prefs(
    state: &AppState,
    actor: &Actor,
    update: NotificationPrefsUpdate,
) -> Result<NotificationPrefs, Problem> {
    let id = actor.require_account()?.to_string();
    state
        .write(move |conn| prefs::set(conn, &id, &update))
        .await
}

/// Emails in the outbox, filtered (admins).
pub async fn outbox(
    state: &AppState,
    actor: &Actor,
    query: OutboxQuery,
) -> Result<OutboxList, Problem> {
    admin_only(actor)?;
    state.read(move |conn| admin::list(conn, &query)).await
}

/// Send a dead or skipped email again (admins).
pub async fn retry_email(
    state: &AppState,
    actor: &Actor,
    id: String,
) -> Result<OutboxEntry, Problem> {
    admin_only(actor)?;
    let entry = state.write(move |conn| admin::retry(conn, &id)).await?;
    state.committed();
    Ok(entry)
}

/// Send every dead email again (admins).
pub async fn retry_dead(state: &AppState, actor: &Actor) -> Result<RetryAll, Problem> {
    admin_only(actor)?;
    let r = state.write(admin::retry_all_dead).await?;
    state.committed();
    Ok(r)
}

/// Check an unsubscribe link; 404 for anything that is not one.
pub async fn verify_unsubscribe(state: &AppState, token: String) -> Result<Unsubscribe, Problem> {
    let invalid = || {
        Problem::not_found(
            ErrorCode::UnsubscribeLinkInvalid,
            "This unsubscribe link is not valid; copy the whole link from the email.",
        )
    };
    let secret = state
        .read(|conn| Ok(unsubscribe::read_secret(conn)?))
        .await?
        .ok_or_else(invalid)?;
    Unsubscribe::verify(&token, &secret).ok_or_else(invalid)
}

/// Turn off what a verified link names, and drop its unsent emails.
pub async fn unsubscribe(state: &AppState, u: Unsubscribe) -> Result<(), Problem> {
    state
        .write(move |conn| Ok(unsubscribe::apply(conn, &u, now())?))
        .await
}
