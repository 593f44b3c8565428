//! The audit log, for admins.

use super::AppState;
use crate::db::audit;
pub use crate::db::audit::AuditEntry;
use crate::domain::actor::Actor;
use crate::domain::editor::Role;
use crate::error::{FieldError, Problem};

/// The newest entries first, before the entry id `cursor` (entry ids are
/// time-ordered UUIDs); one more than `limit` tells the caller there are
/// more.
pub async fn recent(
    state: &AppState,
    actor: &Actor,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditEntry>, Problem> {
    actor.require(Role::Admin)?;
    let before = match cursor.filter(|c| !c.is_empty()) {
        Some(c) if uuid::Uuid::parse_str(c).is_ok() => Some(c.to_string()),
        Some(_) => {
            return Err(Problem::validation(vec![FieldError::new(
                "cursor",
                "invalid_cursor",
                "is not a cursor from this list",
            )]));
        }
        None => None,
    };
    state
        .read(move |conn| Ok(audit::recent(conn, before.as_deref(), limit)?))
        .await
}
