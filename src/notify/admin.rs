//! The outbox as admins see it: list rows (the dead letter above all) and
//! put them back in the queue. The same functions serve the CLI
//! (`erratum outbox list|retry`) and the admin API, mounted with the editors'
//! authentication.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::outbox;
use crate::db::schema::outbox as outbox_t;
use crate::db::{DbConn, now};
use crate::domain::email::OutboxStatus;
use crate::error::{ErrorCode, FieldError, Problem};

/// One email, without its content; the address is masked (`j•••@example.org`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutboxEntry {
    pub id: String,
    pub kind: String,
    /// `pending`, `sent`, `dead` or `skipped`.
    pub status: String,
    pub recipient: String,
    /// Set for editors' emails; readers have no account.
    pub editor_id: Option<String>,
    pub case_id: Option<String>,
    pub message_id: String,
    pub attempts: i32,
    #[serde(with = "crate::domain::utc")]
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    #[serde(with = "crate::domain::utc")]
    pub created_at: NaiveDateTime,
    /// The last change: for a dead email, its last try.
    #[serde(with = "crate::domain::utc")]
    pub updated_at: NaiveDateTime,
    #[serde(with = "crate::domain::utc::option")]
    pub sent_at: Option<NaiveDateTime>,
}

/// `GET /api/v1/admin/outbox` query.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// `pending`, `sent`, `dead` or `skipped`; all when absent.
    #[param(pattern = "^(pending|sent|dead|skipped)$")]
    pub status: Option<String>,
    /// At most this many rows, newest first (default 50, at most 500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sent: i64,
    pub dead: i64,
    pub skipped: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutboxList {
    pub counts: OutboxCounts,
    pub entries: Vec<OutboxEntry>,
}

/// `POST /api/v1/admin/outbox/retry-dead` answer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RetryAll {
    pub retried: usize,
}

/// `j•••@example.org`: enough to tell addresses apart, not to read them.
pub fn mask(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "•••".into(),
    }
}

type Row = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    i32,
    NaiveDateTime,
    Option<String>,
    NaiveDateTime,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

fn entry(r: Row) -> OutboxEntry {
    OutboxEntry {
        id: r.0,
        kind: r.1,
        status: r.2,
        recipient: mask(&r.3),
        editor_id: r.4,
        case_id: r.5,
        message_id: r.6,
        attempts: r.7,
        next_attempt_at: r.8,
        last_error: r.9,
        created_at: r.10,
        updated_at: r.11,
        sent_at: r.12,
    }
}

macro_rules! entry_columns {
    () => {
        (
            outbox_t::id,
            outbox_t::kind,
            outbox_t::status,
            outbox_t::recipient,
            outbox_t::editor_id,
            outbox_t::case_id,
            outbox_t::message_id,
            outbox_t::attempts,
            outbox_t::next_attempt_at,
            outbox_t::last_error,
            outbox_t::created_at,
            outbox_t::updated_at,
            outbox_t::sent_at,
        )
    };
}

fn count(conn: &mut DbConn, status: OutboxStatus) -> QueryResult<i64> {
    outbox_t::table
        .filter(outbox_t::status.eq(status))
        .count()
        .get_result(conn)
}

/// List rows, newest first, with the count per status.
pub fn list(conn: &mut DbConn, q: &OutboxQuery) -> Result<OutboxList, Problem> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(Problem::validation(vec![FieldError::new(
            "limit",
            "out_of_range",
            "must be between 1 and 500",
        )]));
    }
    let mut query = outbox_t::table
        .order((outbox_t::created_at.desc(), outbox_t::id.desc()))
        .limit(limit)
        .select(entry_columns!())
        .into_boxed();
    if let Some(status) = &q.status {
        let Some(status) = OutboxStatus::parse(status) else {
            return Err(Problem::validation(vec![FieldError::new(
                "status",
                "invalid_value",
                "must be pending, sent, dead or skipped",
            )]));
        };
        query = query.filter(outbox_t::status.eq(status));
    }
    let entries = query.load::<Row>(conn)?.into_iter().map(entry).collect();
    Ok(OutboxList {
        counts: OutboxCounts {
            pending: count(conn, OutboxStatus::Pending)?,
            sent: count(conn, OutboxStatus::Sent)?,
            dead: count(conn, OutboxStatus::Dead)?,
            skipped: count(conn, OutboxStatus::Skipped)?,
        },
        entries,
    })
}

/// Put one dead (or waiting) row back in the queue, due now with a fresh
/// count of tries: 404 `outbox_entry_not_found`, 409 `outbox_entry_final`
/// for a row already sent or skipped. Call `Mailer::wake` after the commit.
pub fn retry(conn: &mut DbConn, id: &str) -> Result<OutboxEntry, Problem> {
    let find = |conn: &mut DbConn| {
        outbox_t::table
            .find(id)
            .select(entry_columns!())
            .first::<Row>(conn)
            .optional()
    };
    let Some(current) = find(conn)? else {
        return Err(Problem::not_found(
            ErrorCode::OutboxEntryNotFound,
            "No email has this id.",
        ));
    };
    if outbox::requeue(conn, id, now())? == 0 {
        return Err(Problem::conflict(
            ErrorCode::OutboxEntryFinal,
            format!(
                "This email is {}; only dead or pending emails can be retried.",
                current.2
            ),
        ));
    }
    Ok(entry(
        find(conn)?.ok_or_else(|| Problem::internal("outbox row vanished"))?,
    ))
}

/// Put every dead row back in the queue.
pub fn retry_all_dead(conn: &mut DbConn) -> Result<RetryAll, Problem> {
    Ok(RetryAll {
        retried: outbox::requeue_all_dead(conn, now())?,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn addresses_are_masked() {
        assert_eq!(super::mask("jane@example.org"), "j•••@example.org");
        assert_eq!(super::mask("nonsense"), "•••");
    }
}
