//! Plans that do not change with the values bound: SQLite's for every
//! statement, PostgreSQL's for the writer's batch of reports
//! (`in_generic_savepoint`).
//!
//! SQLite plans each statement once: its plans never depend on the values
//! bound to it (the query planner stability guarantee, `QPSG`).
//!
//! Without it, SQLite plans some statements by their bound values, and
//! then throws the plan away whenever a value is bound again. Since SQLite
//! 3.48 a `LIMIT ?` is one of those values, and diesel binds every limit,
//! so every statement with a limit (every queue page, every `.first()`)
//! was parsed and planned again on each execution, kept statement or not:
//! `perf` put 14% of the server's time there with eight editors loading
//! the queue at a million reports (`sqlite3Reprepare` under `sqlite3_step`).
//! With the guarantee a kept statement runs as prepared, with the plan
//! made before any value was bound, which is also what `EXPLAIN QUERY
//! PLAN` shows for it. What is given up: plans tuned to one limit or one
//! `LIKE` prefix, and STAT4 samples probed with a bound value (this
//! project's `ANALYZE` runs with an analysis limit, which writes no STAT4
//! samples).
//!
//! diesel gives no access to the raw connection, so the setting is made on
//! every SQLite connection the process opens through
//! `sqlite3_auto_extension` (`db::install_sqlite_hooks`), beside `budget`'s
//! progress handler.

/// Run `f` in a savepoint: a failure rolls back what `f` wrote, and only
/// that. On PostgreSQL the statements of `f`, and those after it until
/// the commit, run their generic plan, made once per connection, instead
/// of planning again for each run's values (`plan_cache_mode`; a rollback
/// to the savepoint undoes the setting too). SQLite: a plain savepoint,
/// its plans are already stable.
///
/// For the writer's batch of reports. Its reads take arrays (`= ANY($1)`)
/// whose length changes from one batch to the next; PostgreSQL's default
/// weighs a generic plan, costed for an array of ten, against plans made
/// for the actual few values, and kept choosing the latter: each of the
/// batch's array reads was planned again on every batch. In the statement
/// log of intake at eight connections, with reports spread over a dozen
/// sentences, that planning took 1.3 ms of the server's 7.3 ms per batch;
/// with generic plans it took 0.3 ms, and every read kept its index
/// (their execution times did not change). Only this transaction's
/// statements are concerned: the writer also runs sweeps whose range
/// conditions (`created_at < $1`) are better planned for their value.
///
/// On PostgreSQL the savepoint and the setting are one round trip, and the
/// savepoint is not released (the commit releases it; reports filed one
/// at a time after it take savepoints of their own within it): a batch of
/// a few reports is about twenty round trips, most of its time on two
/// cores, and diesel's nested transaction spent three on these.
pub fn in_generic_savepoint<T, E, F>(conn: &mut super::DbConn, f: F) -> Result<T, E>
where
    E: From<diesel::result::Error>,
    F: FnOnce(&mut super::DbConn) -> Result<T, E>,
{
    use diesel::connection::SimpleConnection;
    match conn {
        super::DbConn::Pg(c) => {
            c.batch_execute(
                "SAVEPOINT erratum_batch; SET LOCAL plan_cache_mode = force_generic_plan",
            )?;
            f(conn).or_else(|e| {
                // diesel sees the rollback succeed and no longer takes the
                // transaction for failed.
                conn.batch_execute("ROLLBACK TO SAVEPOINT erratum_batch")?;
                Err(e)
            })
        }
        super::DbConn::Sqlite(_) => diesel::Connection::transaction(conn, f),
    }
}

/// Gives a SQLite connection being opened the guarantee (an entry of
/// `db::install_sqlite_hooks`).
pub(super) unsafe extern "C" fn on_open(
    db: *mut libsqlite3_sys::sqlite3,
    _err: *mut *mut std::os::raw::c_char,
    _api: *const libsqlite3_sys::sqlite3_api_routines,
) -> std::os::raw::c_int {
    // SAFETY: `db` is the connection being opened; the option takes an int
    // (1: on) and an optional out-pointer for the new state.
    unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::os::raw::c_int,
            std::ptr::null_mut::<std::os::raw::c_int>(),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CString;
    use std::ptr;

    use libsqlite3_sys as ffi;

    /// How many times a statement with `LIMIT ?` is prepared again over
    /// three runs with three limits, on a connection opened raw (so the
    /// count is readable) after `install` or not.
    fn reprepares(guarantee: bool) -> i32 {
        // SAFETY: plain use of SQLite's C API on a private in-memory
        // database; every handle is finalised and closed before returning.
        unsafe {
            let mut db = ptr::null_mut();
            let name = CString::new(":memory:").unwrap();
            let flags = ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE;
            assert_eq!(
                ffi::sqlite3_open_v2(name.as_ptr(), &mut db, flags, ptr::null()),
                ffi::SQLITE_OK
            );
            if !guarantee {
                let mut was = -1;
                ffi::sqlite3_db_config(db, ffi::SQLITE_DBCONFIG_ENABLE_QPSG, 0, &mut was);
            }
            let setup = CString::new(
                "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT); \
                 INSERT INTO t (v) VALUES ('a'), ('b'), ('c');",
            )
            .unwrap();
            let rc = ffi::sqlite3_exec(db, setup.as_ptr(), None, ptr::null_mut(), ptr::null_mut());
            assert_eq!(rc, ffi::SQLITE_OK);
            let sql = CString::new("SELECT v FROM t ORDER BY k DESC LIMIT ?").unwrap();
            let mut stmt = ptr::null_mut();
            let rc = ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut stmt, ptr::null_mut());
            assert_eq!(rc, ffi::SQLITE_OK);
            for limit in 1..=3 {
                ffi::sqlite3_reset(stmt);
                ffi::sqlite3_bind_int64(stmt, 1, limit);
                let mut rows = 0;
                while ffi::sqlite3_step(stmt) == ffi::SQLITE_ROW {
                    rows += 1;
                }
                assert_eq!(rows, limit, "the limit is applied");
            }
            let n = ffi::sqlite3_stmt_status(stmt, ffi::SQLITE_STMTSTATUS_REPREPARE, 0);
            ffi::sqlite3_finalize(stmt);
            ffi::sqlite3_close(db);
            n
        }
    }

    #[test]
    fn a_kept_statement_is_not_planned_again_for_new_values() {
        crate::db::install_sqlite_hooks();
        assert_eq!(reprepares(true), 0);
        // The same connection without the guarantee: planned again on
        // every run, which is what `install` is for.
        assert_eq!(reprepares(false), 3);
    }
}
