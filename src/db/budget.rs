//! Reads that can be stopped: the editors' heavy reads run under a time
//! budget and stop when it is spent or when their caller goes away (actix
//! drops a handler's future when its client disconnects, but the blocking
//! thread that runs the query would carry on without this).
//!
//! How each backend is stopped:
//! - SQLite: diesel 2.3 gives no access to the raw connection, so every
//!   connection the process opens gets a progress handler through
//!   `sqlite3_auto_extension` (`db::install_sqlite_hooks`). It runs every `PROGRESS_OPS` virtual-machine
//!   steps and interrupts the statement (`SQLITE_INTERRUPT`) when the read
//!   running on this thread was stopped or is past its deadline. Reads
//!   outside `run` have no stop on their thread and are never interrupted.
//! - PostgreSQL: the read first sets the session's `statement_timeout` to
//!   what is left of the budget (the server stops a statement by itself),
//!   and a stop sends `pg_cancel_backend` to the backend running the read,
//!   from another connection. The cancel is sent only while the read runs
//!   (under the same lock that marks it done), so it never reaches a later
//!   user of the pooled connection.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};

use super::{DbConn, Pool};

/// A read's deadline, and whether it was stopped early.
#[derive(Clone)]
pub struct Stop(Arc<Inner>);

struct Inner {
    deadline: Instant,
    stopped: AtomicBool,
    running: Mutex<Running>,
}

enum Running {
    NotYet,
    /// On PostgreSQL, the backend's process id.
    Pg(i32),
    Done,
}

impl Stop {
    pub fn new(budget: Duration) -> Self {
        Stop(Arc::new(Inner {
            deadline: Instant::now() + budget,
            stopped: AtomicBool::new(false),
            running: Mutex::new(Running::NotYet),
        }))
    }

    pub fn deadline(&self) -> Instant {
        self.0.deadline
    }

    /// Whether the read should end now: stopped, or past its deadline.
    pub fn is_spent(&self) -> bool {
        self.0.stopped.load(Ordering::Relaxed) || Instant::now() >= self.0.deadline
    }

    /// Mark the read stopped (SQLite's handler then interrupts it).
    pub fn mark(&self) {
        self.0.stopped.store(true, Ordering::Relaxed);
    }

    /// Stop the read (blocking: on PostgreSQL it sends the cancel through a
    /// connection of `pool`). Does nothing once the read is done.
    ///
    /// A cancel that reaches the backend between two statements, or before
    /// the read's statement started, is lost (PostgreSQL cancels only what
    /// runs), so it is sent again, further apart each time, until the read
    /// is done or its deadline passes (then `statement_timeout` ends it).
    pub fn stop(&self, pool: &Pool) {
        self.0.stopped.store(true, Ordering::Relaxed);
        let mut wait = Duration::from_millis(20);
        loop {
            {
                let running = self.0.running.lock().unwrap_or_else(|e| e.into_inner());
                match *running {
                    Running::Pg(pid) => cancel(pool, pid),
                    // Not started: `run` sees the mark before it starts
                    // (it looks after publishing its pid, under this lock).
                    Running::Done | Running::NotYet => return,
                }
            }
            if Instant::now() + wait >= self.0.deadline {
                return;
            }
            std::thread::sleep(wait);
            wait = (wait * 2).min(Duration::from_secs(1));
        }
    }
}

/// Ask PostgreSQL to cancel what backend `pid` runs.
fn cancel(pool: &Pool, pid: i32) {
    // Short wait: the main pool serves the intake too.
    let cancelled = pool
        .get_timeout(Duration::from_millis(500))
        .map_err(|e| e.to_string())
        .and_then(|mut c| {
            diesel::sql_query("SELECT pg_cancel_backend($1)")
                .bind::<Integer, _>(pid)
                .execute(&mut *c)
                .map_err(|e| e.to_string())
        });
    if let Err(e) = cancelled {
        // The statement_timeout still ends it within the budget.
        tracing::warn!(error = %e, pid, "could not cancel a stopped read");
    }
}

thread_local! {
    /// The stop of the read running on this thread, seen by SQLite's
    /// progress handler.
    static CURRENT: RefCell<Option<Stop>> = const { RefCell::new(None) };
}

/// Run `f` on `conn` so that `stop` can end it. Call from the blocking
/// thread that runs the read.
pub fn run<T, E>(
    conn: &mut DbConn,
    stop: &Stop,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Sqlite(_) => {
            struct Clear;
            impl Drop for Clear {
                fn drop(&mut self) {
                    CURRENT.with(|c| c.borrow_mut().take());
                }
            }
            CURRENT.with(|c| *c.borrow_mut() = Some(stop.clone()));
            let _clear = Clear;
            f(conn)
        }
        DbConn::Pg(pg) => {
            #[derive(QueryableByName)]
            struct Pid {
                #[diesel(sql_type = Integer)]
                pid: i32,
            }
            let left = stop.deadline().saturating_duration_since(Instant::now());
            // One round trip: the budget left, and who to cancel.
            let Pid { pid } = diesel::sql_query(
                "SELECT pg_backend_pid() AS pid, set_config('statement_timeout', $1, false)",
            )
            // Rounded up: PostgreSQL's timer starts with the statement, after
            // this, so it fires at the deadline or later and the read is
            // always seen spent (`ReadOverBudget`). Rounded down, it could
            // fire a fraction of a millisecond early and answer as a
            // plain failure (1 run in 6 of the guard test).
            .bind::<Text, _>(format!("{}ms", left.as_millis() + 1))
            .get_result(pg)?;
            *stop.0.running.lock().unwrap_or_else(|e| e.into_inner()) = Running::Pg(pid);
            if stop.is_spent() {
                // Stopped before the pid was known: the cancel was not sent.
                *stop.0.running.lock().unwrap_or_else(|e| e.into_inner()) = Running::Done;
                return Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::Unknown,
                    Box::new("canceling statement due to a spent read budget".to_string()),
                )
                .into());
            }
            let out = f(conn);
            *stop.0.running.lock().unwrap_or_else(|e| e.into_inner()) = Running::Done;
            out
        }
    }
}

/// Virtual-machine steps between two looks at the stop (well under a
/// millisecond of work).
const PROGRESS_OPS: i32 = 10_000;

/// Sets the progress handler on a SQLite connection being opened (an
/// entry of `db::install_sqlite_hooks`).
pub(super) unsafe extern "C" fn on_open(
    db: *mut libsqlite3_sys::sqlite3,
    _err: *mut *mut std::os::raw::c_char,
    _api: *const libsqlite3_sys::sqlite3_api_routines,
) -> std::os::raw::c_int {
    // SAFETY: `db` is the connection being opened; the handler keeps no
    // pointer to it.
    unsafe {
        libsqlite3_sys::sqlite3_progress_handler(
            db,
            PROGRESS_OPS,
            Some(progress),
            std::ptr::null_mut(),
        )
    };
    libsqlite3_sys::SQLITE_OK
}

/// Non-zero interrupts the running statement. Never panics (it is called
/// from C).
unsafe extern "C" fn progress(_: *mut std::os::raw::c_void) -> std::os::raw::c_int {
    CURRENT
        .try_with(|c| match c.try_borrow() {
            Ok(stop) => stop.as_ref().is_some_and(Stop::is_spent),
            Err(_) => false,
        })
        .unwrap_or(false) as std::os::raw::c_int
}
