//! Database access: one diesel `MultiConnection` over SQLite and PostgreSQL.
//!
//! The backend is chosen from the URL scheme here, never by diesel's
//! `MultiConnection::establish`, which tries each backend in turn and reports
//! only the last error. Dialect differences live in this module and in
//! `dialect.rs`; everything else is written once against `DbConn`.

pub mod any_of;
pub mod articles;
pub mod audit;
pub mod budget;
pub mod capped_count;
pub mod case_detail;
pub mod case_memory;
pub mod cases;
pub mod corrections;
pub mod dialect;
pub mod editors;
pub mod events;
pub mod known;
pub mod limits;
pub mod outbox;
pub mod planner;
pub mod queue;
pub mod queue_words;
pub mod readers;
pub mod recovery;
pub mod reports;
pub mod resplit;
pub mod retention;
pub mod rows;
pub mod schema;
pub mod search_index;
pub mod secrets;
pub mod stable_plans;
pub mod stats;
pub mod status_links;
pub mod subjects;
pub mod webhooks;
pub mod writer;

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use writer::Writer;

/// What storage can fail with. It carries no HTTP: `error::Problem` maps it
/// (a missing row to 404, a lost connection to 503, …) at the edge.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("no database connection: {0}")]
    Pool(#[from] r2d2::PoolError),
    /// The write path could not run or commit the job (shutting down, the
    /// commit failed): nothing of it was stored; the caller may retry.
    #[error("{0}")]
    Unavailable(String),
}

pub type DbResult<T> = Result<T, DbError>;

pub(crate) const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(diesel::pg::PgConnection),
    Sqlite(diesel::sqlite::SqliteConnection),
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// Which backend a database URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Postgres(String),
    /// A file path (relative paths resolve against the working directory).
    Sqlite(PathBuf),
}

impl Backend {
    /// Parse `postgres://…`, `postgresql://…`, `sqlite://relative/or/abs/path` or
    /// `sqlite:path`. Anything else is refused with a message naming the schemes.
    pub fn from_url(url: &str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Backend::Postgres(url.to_string()));
        }
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err("a sqlite URL needs a file path, e.g. sqlite://data/erratum.db".into());
            }
            return Ok(Backend::Sqlite(PathBuf::from(path)));
        }
        Err("the scheme must be postgres://, postgresql:// or sqlite://".into())
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Postgres(_) => "postgres",
            Backend::Sqlite(_) => "sqlite",
        }
    }
}

/// An r2d2 manager that opens the backend the URL names and reports the real error.
#[derive(Debug, Clone)]
pub struct Manager {
    backend: Backend,
}

impl Manager {
    pub fn new(backend: Backend) -> Self {
        Manager { backend }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("{0}")]
    Connection(#[from] diesel::ConnectionError),
    #[error("{0}")]
    Query(#[from] diesel::result::Error),
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = ConnError;

    fn connect(&self) -> Result<DbConn, ConnError> {
        match &self.backend {
            Backend::Postgres(url) => Ok(DbConn::Pg(diesel::pg::PgConnection::establish(url)?)),
            Backend::Sqlite(path) => {
                let mut conn =
                    diesel::sqlite::SqliteConnection::establish(&path.to_string_lossy())?;
                // synchronous=FULL: an acknowledged commit survives power loss, which the
                // intake promises to readers. busy_timeout lets a second process (CLI
                // import while serving) wait for the write lock instead of failing.
                // temp_store=MEMORY: the writer runs every job in a savepoint, whose
                // undo pages (the statement journal) otherwise go to a temporary
                // file, a write system call per page; nothing there needs to
                // survive a crash. soft_heap_limit: see `SQLITE_SOFT_HEAP_BYTES`.
                conn.batch_execute(&format!(
                    "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000; \
                     PRAGMA temp_store = MEMORY; PRAGMA soft_heap_limit = {SQLITE_SOFT_HEAP_BYTES};"
                ))?;
                dialect::register_sqlite_functions(&mut conn)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnError> {
        conn.batch_execute("SELECT 1").map_err(ConnError::Query)
    }

    /// Checked (cheaply, no round trip) when a connection goes back to the
    /// pool: one whose transaction manager is broken (the server went away in
    /// the middle of a transaction, a rollback failed) is closed instead of
    /// being handed to the next request, which would otherwise fail with
    /// "the transaction manager is broken". Lost connections that are not
    /// flagged are caught by the ping at check-out (`test_on_check_out`).
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || diesel::r2d2::R2D2Connection::is_broken(conn)
    }
}

/// Whether a storage error is the database's trouble, not the request's: the
/// connection was lost or refused, the server is shutting down or starting,
/// it is read-only (a standby, recovery), a transaction could not be
/// serialised, or a transaction was left broken by one of these. The edge
/// answers these with 503 and Retry-After; anything else is a 4xx or a bug.
///
/// diesel reports most of them as `DatabaseErrorKind::Unknown` with the
/// server's message only (no SQLSTATE), hence the message checks; they
/// follow PostgreSQL's and SQLite's English messages.
pub fn is_unavailable(err: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind as K, Error};
    match err {
        Error::DatabaseError(
            K::ClosedConnection
            | K::UnableToSendCommand
            | K::SerializationFailure
            | K::ReadOnlyTransaction,
            _,
        ) => true,
        Error::DatabaseError(_, info) => {
            let msg = info.message().to_ascii_lowercase();
            [
                // PostgreSQL: 57P01 admin_shutdown, 57P02 crash_shutdown,
                // 57P03 cannot_connect_now, 57014 canceled by a shutdown.
                "terminating connection",
                "the database system is",
                "server closed the connection",
                "no connection to the server",
                "connection to server",
                "could not connect",
                "could not receive data",
                "could not send data",
                "ssl syscall",
                "eof detected",
                "canceling statement due to",
                // 40P01 deadlock_detected: retrying is the remedy, as for 40001.
                "deadlock detected",
                "read-only transaction",
                // SQLite: another process holds the write lock past busy_timeout.
                "database is locked",
                "database is busy",
                "database table is locked",
                // SQLite: a read stopped by `budget` (its budget spent, or
                // its client gone).
                "interrupted",
            ]
            .iter()
            .any(|m| msg.contains(m))
        }
        // The connection failed while a transaction was open (its rollback
        // or commit failed): nothing of that transaction is stored.
        Error::BrokenTransactionManager | Error::RollbackErrorOnCommit { .. } => true,
        _ => false,
    }
}

/// Add libpq's `connect_timeout` to a PostgreSQL URL that names none, so
/// opening a connection to an unreachable server gives up after `secs`
/// (libpq waits for the operating system's TCP timeout otherwise). Other
/// URLs come back unchanged.
pub fn with_connect_timeout(url: &str, secs: u64) -> String {
    let is_pg = matches!(Backend::from_url(url), Ok(Backend::Postgres(_)));
    if !is_pg || secs == 0 || url.contains("connect_timeout=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}connect_timeout={secs}")
}

/// What SQLite calls on each connection it opens (an auto extension).
type OnOpen = unsafe extern "C" fn(
    *mut libsqlite3_sys::sqlite3,
    *mut *mut std::os::raw::c_char,
    *const libsqlite3_sys::sqlite3_api_routines,
) -> std::os::raw::c_int;

/// Set up every SQLite connection the process opens from now on: the stop
/// of budgeted reads (`budget`) and plans made once (`stable_plans`).
/// diesel gives no access to the raw connection, so both are SQLite auto
/// extensions, registered once per process before any connection opens.
pub fn install_sqlite_hooks() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let hooks: [(OnOpen, &str); 2] = [
            (budget::on_open, "SQLite reads cannot be stopped early"),
            (
                stable_plans::on_open,
                "SQLite statements will be planned again on each run",
            ),
        ];
        for (on_open, lost) in hooks {
            // SAFETY: each entry has the signature SQLite calls entry
            // points with, and only changes the connection it is given.
            let rc = unsafe { libsqlite3_sys::sqlite3_auto_extension(Some(on_open)) };
            if rc != libsqlite3_sys::SQLITE_OK {
                tracing::warn!(rc, "{lost}");
            }
        }
    });
}

/// Open the pool, creating the SQLite folder and switching it to WAL first.
pub fn connect(url: &str, max_size: u32, timeout: Duration) -> anyhow::Result<(Pool, Backend)> {
    let backend = Backend::from_url(url).map_err(|e| anyhow::anyhow!("database.url: {e}"))?;
    install_sqlite_hooks();
    if let Backend::Sqlite(path) = &backend {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                anyhow::anyhow!("cannot create the database folder {}: {e}", dir.display())
            })?;
        }
        // WAL is a property of the file, set once; readers then never block the writer.
        let mut conn = Manager::new(backend.clone()).connect()?;
        conn.batch_execute("PRAGMA journal_mode = WAL;")?;
    } else {
        // Connect once outside the pool so the real error (auth, host, database) is reported.
        Manager::new(backend.clone()).connect()?;
    }
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        // `timeout` bounds the wait for a connection: when the database is
        // down, `get()` answers an error after it rather than hanging.
        .connection_timeout(timeout)
        // Ping each connection as it is taken, so one the server dropped
        // (restart, admin shutdown) is replaced before a request uses it.
        .test_on_check_out(true)
        .build(Manager::new(backend.clone()))?;
    Ok((pool, backend))
}

/// A pool of a part's own connections, opened when first needed, pinged
/// as they are taken, with `pragmas` run on each new SQLite connection.
fn own_pool(
    backend: &Backend,
    max_size: u32,
    timeout: Duration,
    pragmas: String,
) -> anyhow::Result<Pool> {
    Ok(r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        .connection_timeout(timeout)
        .test_on_check_out(true)
        .connection_customizer(Box::new(SqlitePragmas(pragmas)))
        .build_unchecked(Manager::new(backend.clone())))
}

/// SQLite settings of one pool's connections (nothing on PostgreSQL).
#[derive(Debug)]
struct SqlitePragmas(String);

impl r2d2::CustomizeConnection<DbConn, ConnError> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), ConnError> {
        if let DbConn::Sqlite(c) = conn
            && !self.0.is_empty()
        {
            c.batch_execute(&self.0)?;
        }
        Ok(())
    }
}

/// The editors' heavy reads' own pool (`database.read_pool_size`): they
/// wait for these connections, never for those of the intake and the
/// health check. Same backend and checks as the main pool.
///
/// Their SQLite page cache is larger. With the default 2 MiB, the
/// dashboard's scan of a month's reports (about 5 MiB of index at a million
/// reports) fetched every page again from the kernel on each request: a
/// fifth of its time was copying pages. Only these few connections get it,
/// so memory stays bounded.
pub fn connect_reads(backend: &Backend, max_size: u32, timeout: Duration) -> anyhow::Result<Pool> {
    own_pool(
        backend,
        max_size,
        timeout,
        format!("PRAGMA cache_size = -{READ_CACHE_KIB};"),
    )
}

/// SQLite page cache of a heavy-read connection, in KiB.
const READ_CACHE_KIB: u32 = 16 * 1024;

/// All of SQLite's memory in this process, beyond which it recycles its
/// least recently used cached pages instead of allocating more (SQLite's
/// soft heap limit, process-wide; the same value is set by every
/// connection). Each cache size above is what one connection may use
/// while the others are idle: summed over the pools (8 × 2 MiB, 2 × 16,
/// 8 for the writer) with each connection's schema and statements, SQLite
/// held 46-72 MB after the editors' reads on the seeded copy, and the
/// server peaked at 127-153 MB. Under this limit it peaked at 117 MB, with
/// the dashboard and queue reads as fast (README, "At scale").
pub const SQLITE_SOFT_HEAP_BYTES: i64 = 40_000_000;

/// The writer's own connection: a pool of one, so every batch finds the
/// same connection, with its SQLite page cache still valid (in WAL mode a
/// connection's cache survives between its transactions when nobody else
/// wrote, and the writer is the only one who does) and its prepared
/// statements ready. Taken from the shared pool, each batch landed on a
/// connection whose cache another's writes had made stale, and read back
/// from the kernel the index pages it was about to change. The ping at
/// check-out still replaces a connection the server dropped.
///
/// Its commits do not wait for the disk (`synchronous = NORMAL`): the
/// writer's sync thread flushes the log after each commit and only then
/// are the batch's jobs answered (`writer::Durability::SyncLog`), so an
/// answer still means "on disk", while the next batch runs during the
/// flush. NORMAL still syncs the log before each checkpoint and when the
/// log starts over, so a flush of the log file covers every commit before it.
pub fn connect_writer(backend: &Backend, timeout: Duration) -> anyhow::Result<Pool> {
    own_pool(
        backend,
        1,
        timeout,
        format!(
            "PRAGMA cache_size = -{WRITE_CACHE_KIB}; \
             PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES}; \
             PRAGMA synchronous = NORMAL;"
        ),
    )
}

/// SQLite: the checkpoint thread's connection (`writer::checkpointer`), a
/// pool of one beside the writer's.
pub fn connect_checkpoints(backend: &Backend, timeout: Duration) -> anyhow::Result<Pool> {
    own_pool(backend, 1, timeout, String::new())
}

/// SQLite page cache of the writer's connection, in KiB: the upper levels
/// and recent leaves of the indexes every report writes to.
const WRITE_CACHE_KIB: u32 = 8 * 1024;

/// Pages of write-ahead log past which the writer's commit runs a
/// checkpoint itself (SQLite's default, 1,000), so that the log starts
/// over, which the checkpoint thread's passive checkpoints never achieve
/// under steady writes (`writer::checkpointer`).
///
/// That checkpoint copies what the thread has not yet, then syncs the
/// database file, which writes back every page copied since the last sync:
/// the longer the log, the longer the commit that does it, and every
/// report queued behind it waits as long. At 20,000 pages intake's p99 on
/// the seeded SQLite copy was 58–120 ms, at 4,000 30–61 ms (stop 30). At
/// 4,000 on the 1M copy at 8 connections the log started over about 9
/// times a second, each time holding the writer 20–40 ms: p99 25–26 ms.
/// At 1,000 it was 12.5–16.6 ms over five runs (2,000: 16.7–17.6), and
/// 6.7–7.9 ms against 11.5–12.3 on an empty database, for 2–16% less
/// throughput (stop 39, README "What a batch writes to SQLite's log").
const WRITER_CHECKPOINT_PAGES: u32 = 1_000;

/// Key of the PostgreSQL advisory lock that serialises migrations.
const MIGRATION_LOCK: i64 = 0x6572_7261_7475_6d01; // "eratum" + 1

/// Run the embedded migrations of the pool's backend.
///
/// On PostgreSQL, several instances started at once (a deploy) would each
/// run the same migrations and all but one fail (`CREATE TYPE` and
/// `CREATE TABLE` racing on the catalogue's unique indexes), so the run holds
/// a session advisory lock: the others wait, then find nothing pending.
/// SQLite needs none: a migration's transaction takes the file's write lock.
pub fn migrate(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConn::Pg(c) => {
            let lock = |c: &mut diesel::pg::PgConnection, f: &str| {
                diesel::sql_query(format!("SELECT {f}({MIGRATION_LOCK})"))
                    .execute(c)
                    .map_err(|e| anyhow::anyhow!("migration lock: {e}"))
            };
            lock(c, "pg_advisory_lock")?;
            let applied = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.iter().map(|v| v.to_string()).collect::<Vec<_>>());
            // Unlocked whatever the outcome (the lock also ends with the session).
            let unlocked = lock(c, "pg_advisory_unlock");
            let applied = applied.map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
            unlocked?;
            applied
        }
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
            .iter()
            .map(|v| v.to_string())
            .collect(),
    };
    Ok(applied)
}

/// One migrated connection for a one-off command of the shell (`erratum
/// editor …`, `subject …`, `article resplit`): they may be the first thing
/// run against a new database.
pub fn open_migrated(url: &str) -> anyhow::Result<PooledConn> {
    let (pool, _) = connect(url, 1, Duration::from_secs(10))?;
    let mut conn = pool.get()?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// A migrated SQLite database in a temporary folder, for unit tests: the
/// folder goes with the returned guard.
#[cfg(test)]
pub(crate) fn scratch_sqlite() -> (tempfile::TempDir, PooledConn) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let conn = open_migrated(&url).unwrap();
    (dir, conn)
}

/// Names of the embedded migrations this database has not applied yet,
/// applying none (`erratum migrate --check`). Diesel creates its own
/// bookkeeping table when it is missing, which changes no data.
pub fn pending_migrations(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let names: diesel::migration::Result<Vec<String>> = match conn {
        DbConn::Pg(c) => c
            .pending_migrations(POSTGRES_MIGRATIONS)
            .map(|m| m.iter().map(|m| m.name().to_string()).collect()),
        DbConn::Sqlite(c) => c
            .pending_migrations(SQLITE_MIGRATIONS)
            .map(|m| m.iter().map(|m| m.name().to_string()).collect()),
    };
    names.map_err(|e| anyhow::anyhow!("cannot read the applied migrations: {e}"))
}

/// Versions this database has applied that this build does not know: a
/// database written by a newer release, which this one must not run on
/// (`erratum restore` refuses such a backup).
pub fn unknown_migrations(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    use diesel::migration::{Migration, MigrationSource, MigrationVersion};
    type Found = diesel::migration::Result<Vec<String>>;
    fn versions(v: Vec<MigrationVersion<'_>>) -> Vec<String> {
        v.iter().map(|v| v.to_string()).collect()
    }
    fn known<DB: diesel::backend::Backend>(m: Vec<Box<dyn Migration<DB>>>) -> Vec<String> {
        m.iter().map(|m| m.name().version().to_string()).collect()
    }
    let (applied, known): (Found, Found) = match conn {
        DbConn::Pg(c) => (
            c.applied_migrations().map(versions),
            MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS).map(known),
        ),
        DbConn::Sqlite(c) => (
            c.applied_migrations().map(versions),
            MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS).map(known),
        ),
    };
    let read = |e| anyhow::anyhow!("cannot read the applied migrations: {e}");
    let (applied, known) = (applied.map_err(read)?, known.map_err(read)?);
    Ok(applied.into_iter().filter(|v| !known.contains(v)).collect())
}

/// Refresh the query planner's statistics, which the queue's indexes need
/// to be chosen (SQLite keeps none until asked): on start, after a seed,
/// and from the worker's periodic scan. SQLite reads a bounded sample of
/// each index (`analysis_limit`), so this stays fast on large databases.
pub fn analyze(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(c) => {
            c.batch_execute("PRAGMA analysis_limit = 1000; ANALYZE; PRAGMA optimize;")
        }
        DbConn::Pg(c) => c.batch_execute("ANALYZE"),
    }
}

/// The periodic part: SQLite's `PRAGMA optimize` analyses only what went
/// stale; PostgreSQL's autovacuum already keeps its statistics.
pub fn optimize(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(c) => c.batch_execute("PRAGMA optimize;"),
        DbConn::Pg(_) => Ok(()),
    }
}

/// A new time-ordered id: UUID v7 keeps inserts append-only in the b-tree,
/// which measured twice as fast as random v4 keys on SQLite.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Current time as stored: naive UTC, microsecond precision on both backends.
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    // PostgreSQL keeps microseconds; truncating here makes a value read back
    // compare equal to the one written, on both backends.
    now.with_nanosecond(now.and_utc().timestamp_subsec_micros() * 1000)
        .unwrap_or(now)
}

use chrono::Timelike;

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorKind as K, Error};

    #[test]
    fn sqlite_memory_is_bounded_process_wide() {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Limit {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            soft_heap_limit: i64,
        }
        let (_dir, mut conn) = super::scratch_sqlite();
        let super::DbConn::Sqlite(c) = &mut *conn else {
            unreachable!()
        };
        let limit = diesel::sql_query("PRAGMA soft_heap_limit")
            .get_result::<Limit>(c)
            .unwrap();
        assert_eq!(limit.soft_heap_limit, super::SQLITE_SOFT_HEAP_BYTES);
    }

    fn db(kind: K, message: &str) -> Error {
        Error::DatabaseError(kind, Box::new(message.to_string()))
    }

    #[test]
    fn connection_trouble_is_unavailable_and_request_faults_are_not() {
        for e in [
            db(
                K::ClosedConnection,
                "server closed the connection unexpectedly",
            ),
            db(K::SerializationFailure, "could not serialize access"),
            db(
                K::ReadOnlyTransaction,
                "cannot execute INSERT in a read-only transaction",
            ),
            db(
                K::Unknown,
                "terminating connection due to administrator command",
            ),
            db(K::Unknown, "FATAL: the database system is shutting down"),
            db(K::Unknown, "the database system is starting up"),
            db(K::Unknown, "deadlock detected"),
            db(K::Unknown, "database is locked"),
            Error::BrokenTransactionManager,
        ] {
            assert!(super::is_unavailable(&e), "{e}");
        }
        for e in [
            db(
                K::UniqueViolation,
                "duplicate key value violates unique constraint",
            ),
            db(K::Unknown, "syntax error at or near \"SELEC\""),
            Error::NotFound,
        ] {
            assert!(!super::is_unavailable(&e), "{e}");
        }
        assert_eq!(
            super::with_connect_timeout("postgres://u@h/db", 5),
            "postgres://u@h/db?connect_timeout=5"
        );
        assert_eq!(
            super::with_connect_timeout("postgres://u@h/db?sslmode=disable", 3),
            "postgres://u@h/db?sslmode=disable&connect_timeout=3"
        );
        let kept = "postgres://u@h/db?connect_timeout=9";
        assert_eq!(super::with_connect_timeout(kept, 3), kept);
        assert_eq!(
            super::with_connect_timeout("sqlite://x.db", 3),
            "sqlite://x.db"
        );
    }
}
