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

/// A write transaction run outside the writer (the shell's commands, which
/// share the database with a running server): `f` runs inside
/// `begin_write`, so on SQLite it waits for the server's writer instead of
/// reading first and then failing with "database is locked" when the
/// server commits between its read and its first write.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<Error>,
{
    conn.transaction(|c| {
        begin_write(c)?;
        f(c)
    })
}

/// Make the transaction just begun one snapshot for all its reads, as
/// SQLite's read transaction already is: PostgreSQL's default (`READ
/// COMMITTED`) takes a new one per statement. The first statement of the
/// transaction.
pub fn read_snapshot(conn: &mut DbConn) -> QueryResult<()> {
    if let DbConn::Pg(_) = conn {
        diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(conn)?;
    }
    Ok(())
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

/// Lock the open case of `open_key`, if there is one, like `lock_case`.
pub fn lock_open_case(conn: &mut DbConn, open_key: &str) -> QueryResult<()> {
    match conn {
        DbConn::Pg(pg) => {
            cases::table
                .filter(cases::open_key.eq(open_key))
                .select(cases::id)
                .for_update()
                .load::<String>(pg)?;
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
/// Due: `next_attempt_at <= now`, and a row already tried only if it fell
/// due by `retries_by` (the start of the worker's pass, so a row retried at
/// once waits for the next pass and a pass ends; first tries are taken as
/// they come).
///
/// Half the claim (rounded up) is the newest due rows, the rest the oldest:
/// a fresh email never waits behind a backlog, and the backlog still drains
/// from its oldest end. With fewer than `limit` due rows the two halves
/// overlap and the claim takes them all.
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
    retries_by: chrono::NaiveDateTime,
    lease_until: chrono::NaiveDateTime,
    limit: i64,
) -> QueryResult<usize> {
    use crate::domain::email::OutboxStatus;
    let newest = (limit + 1) / 2;
    let oldest = limit - newest;
    match conn {
        DbConn::Pg(pg) => {
            let due = || {
                outbox::table
                    .filter(outbox::status.eq(OutboxStatus::Pending))
                    .filter(outbox::next_attempt_at.le(now))
                    .filter(
                        outbox::attempts
                            .eq(0)
                            .or(outbox::next_attempt_at.le(retries_by)),
                    )
                    .filter(
                        outbox::locked_until
                            .is_null()
                            .or(outbox::locked_until.lt(now)),
                    )
                    .select(outbox::id)
            };
            let mut ids: Vec<String> = due()
                .order(outbox::next_attempt_at.desc())
                .limit(newest)
                .for_update()
                .skip_locked()
                .load(pg)?;
            if oldest > 0 {
                let old: Vec<String> = due()
                    .order(outbox::next_attempt_at.asc())
                    .limit(oldest)
                    .for_update()
                    .skip_locked()
                    .load(pg)?;
                for id in old {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
            }
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
            const DUE: &str = "SELECT id FROM outbox \
                 WHERE status = ? AND next_attempt_at <= ? \
                   AND (attempts = 0 OR next_attempt_at <= ?) \
                   AND (locked_until IS NULL OR locked_until < ?)";
            diesel::sql_query(format!(
                "UPDATE outbox SET locked_by = ?, locked_until = ?, updated_at = ? \
                 WHERE id IN (SELECT id FROM ({DUE} ORDER BY next_attempt_at DESC LIMIT ?) \
                   UNION SELECT id FROM ({DUE} ORDER BY next_attempt_at ASC LIMIT ?))"
            ))
            .bind::<Text, _>(token)
            .bind::<Timestamp, _>(lease_until)
            .bind::<Timestamp, _>(now)
            .bind::<Text, _>(OutboxStatus::Pending)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(retries_by)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(newest)
            .bind::<Text, _>(OutboxStatus::Pending)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(retries_by)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(oldest)
            .execute(c)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use diesel::connection::SimpleConnection;

    use super::*;

    /// A migrated SQLite database with a table `t`, and two connections to it
    /// (as a shell command and a running server would hold).
    fn two_connections() -> (tempfile::TempDir, super::super::Pool) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("d.db").display());
        let (pool, _) = super::super::connect(&url, 2, Duration::from_secs(5)).unwrap();
        let mut c = pool.get().unwrap();
        super::super::migrate(&mut c).unwrap();
        c.batch_execute("CREATE TABLE t (v INTEGER NOT NULL)")
            .unwrap();
        (dir, pool)
    }

    /// How the shell runs its work: a plain transaction, or `write_transaction`.
    type Run = fn(&mut DbConn, &mut dyn FnMut(&mut DbConn) -> QueryResult<()>) -> QueryResult<()>;

    /// `shell` reads, lets `server` write, then writes itself, through
    /// `run`; what the shell's write returned.
    fn interleave(run: Run) -> QueryResult<()> {
        let (_dir, pool) = two_connections();
        let (read_tx, read_rx) = mpsc::channel();
        let mut server = pool.get().unwrap();
        let writer = std::thread::spawn(move || {
            read_rx.recv().unwrap();
            server.batch_execute("INSERT INTO t (v) VALUES (1)")
        });
        let mut shell = pool.get().unwrap();
        let result = run(&mut shell, &mut |c| {
            c.batch_execute("SELECT count(*) FROM t")?;
            read_tx.send(()).unwrap();
            // Time for the server's insert to commit if nothing holds it back.
            std::thread::sleep(Duration::from_millis(200));
            c.batch_execute("INSERT INTO t (v) VALUES (2)")
        });
        writer.join().unwrap().unwrap();
        result
    }

    #[test]
    fn a_shell_write_waits_for_the_server_instead_of_failing() {
        // The hazard: a plain (deferred) transaction that read before the
        // server committed cannot take the write lock afterwards.
        let plain = interleave(|c, f| c.transaction(|c| f(c)));
        let err = plain.expect_err("a deferred transaction loses its snapshot");
        assert!(super::super::is_unavailable(&err), "{err}");
        // With the lock taken first, the server's insert waits instead.
        interleave(|c, f| write_transaction(c, |c| f(c))).unwrap();
    }
}
