//! The few places where SQLite and PostgreSQL differ.

use diesel::result::{DatabaseErrorKind, Error};

/// A unique constraint was violated (the portable replacement for ON CONFLICT:
/// insert, and on this error read back what won).
pub fn is_unique_violation(err: &Error) -> bool {
    matches!(
        err,
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

use diesel::prelude::*;

use super::DbConn;
use super::schema::{cases, outbox};

/// Take SQLite's write lock at the start of a write transaction (a no-op
/// UPDATE does), so the transaction never reads first and then fails to
/// upgrade because another process (`erratum worker`, a CLI command) wrote
/// in between: it waits its turn (busy_timeout) instead. PostgreSQL locks
/// rows, not the database: nothing to do.
pub fn begin_write(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Pg(_) => Ok(()),
        DbConn::Sqlite(c) => {
            use diesel::connection::SimpleConnection;
            c.batch_execute("UPDATE instance_secrets SET name = name WHERE 0")
        }
    }
}

/// Lock a case row for the rest of the transaction. PostgreSQL needs it when
/// several instances write; SQLite's single writer already serialises writes
/// (and has no FOR UPDATE).
pub fn lock_case(conn: &mut DbConn, case_id: &str) -> QueryResult<()> {
    match conn {
        DbConn::Pg(pg) => {
            cases::table
                .find(case_id)
                .select(cases::id)
                .for_update()
                .first::<String>(pg)?;
        }
        DbConn::Sqlite(_) => {}
    }
    Ok(())
}

diesel::define_sql_function! {
    /// `erratum_fold(text)`: lower case without diacritics, for searches
    /// (`domain::search`). A migration defines it on PostgreSQL;
    /// `register_sqlite_functions` registers the Rust one on SQLite.
    #[sql_name = "erratum_fold"]
    fn fold(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Functions SQLite lacks or gets wrong, registered on each new connection.
pub fn register_sqlite_functions(conn: &mut diesel::sqlite::SqliteConnection) -> QueryResult<()> {
    fold_utils::register_impl(conn, |s: String| crate::domain::search::fold(&s))
}

/// Lease up to `limit` due, unleased outbox rows to `token` until
/// `lease_until`; the caller then reads its rows back by token.
///
/// PostgreSQL: the due rows are locked FOR UPDATE SKIP LOCKED, so workers on
/// several instances claim disjoint rows without waiting on each other, and
/// the lease update re-checks that each row is still free.
///
/// SQLite: one UPDATE whose subquery picks the rows. Being a write from its
/// first statement, it takes the database's write lock before reading, so
/// claims from several processes are serialised (waiting on busy_timeout)
/// instead of failing on a stale read snapshot.
pub fn lease_due_outbox(
    conn: &mut DbConn,
    token: &str,
    now: chrono::NaiveDateTime,
    lease_until: chrono::NaiveDateTime,
    limit: i64,
) -> QueryResult<usize> {
    use crate::domain::email::OutboxStatus;
    match conn {
        DbConn::Pg(pg) => {
            let ids: Vec<String> = outbox::table
                .filter(outbox::status.eq(OutboxStatus::Pending))
                .filter(outbox::next_attempt_at.le(now))
                .filter(
                    outbox::locked_until
                        .is_null()
                        .or(outbox::locked_until.lt(now)),
                )
                .order(outbox::next_attempt_at.asc())
                .limit(limit)
                .select(outbox::id)
                .for_update()
                .skip_locked()
                .load(pg)?;
            if ids.is_empty() {
                return Ok(0);
            }
            diesel::update(
                outbox::table
                    .filter(outbox::id.eq_any(&ids))
                    .filter(outbox::status.eq(OutboxStatus::Pending)),
            )
            .set((
                outbox::locked_by.eq(token),
                outbox::locked_until.eq(lease_until),
                outbox::updated_at.eq(now),
            ))
            .execute(pg)
        }
        DbConn::Sqlite(c) => {
            use diesel::sql_types::{BigInt, Text, Timestamp};
            diesel::sql_query(
                "UPDATE outbox SET locked_by = ?, locked_until = ?, updated_at = ? \
                 WHERE id IN (SELECT id FROM outbox \
                   WHERE status = ? AND next_attempt_at <= ? \
                     AND (locked_until IS NULL OR locked_until < ?) \
                   ORDER BY next_attempt_at LIMIT ?)",
            )
            .bind::<Text, _>(token)
            .bind::<Timestamp, _>(lease_until)
            .bind::<Timestamp, _>(now)
            .bind::<Text, _>(OutboxStatus::Pending)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .execute(c)
        }
    }
}
