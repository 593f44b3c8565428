//! The write path: a single writer thread per process with group commit.
//!
//! Handlers hand a closure to `Writer::run` and await its result. The writer
//! takes whatever is queued (it never waits for more), runs each job in its own
//! savepoint inside one transaction, commits once, and only then answers every
//! job. So a success returned to a handler always means "durably committed",
//! one job's failure never spoils its neighbours, and under load many reports
//! share one fsync (measured ~18k durable inserts/s on SQLite and ~40k/s on
//! PostgreSQL against ~5k/s and ~11k/s with a commit per request).
//!
//! One writer also means SQLite never sees two writers fight for its lock.
//!
//! On SQLite the commit itself does not wait for the disk: a sync thread
//! flushes the write-ahead log after each commit, for every batch committed
//! meanwhile at once, and answers their jobs only then (`Durability`). The
//! writer goes on with the next batch during the flush, where it used to
//! wait for it inside the commit.
//!
//! Jobs of a kind that knows how to apply many at once (`Batched`, the
//! report intake) are handed over together after the other jobs, so that a
//! batch of them costs a constant number of statements instead of a dozen
//! per job. Any serial order of a batch's jobs is a valid answer: none of
//! them has been answered yet.

use std::any::{Any, TypeId};

use diesel::Connection;
use tokio::sync::{mpsc, oneshot};

use std::time::Duration;

use super::{Backend, DbConn, DbError, Pool};

/// What to answer once the batch's commit is known.
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;

/// What makes a committed batch durable before its jobs are answered.
#[derive(Clone)]
pub enum Durability {
    /// The commit itself (PostgreSQL; SQLite with `synchronous = FULL`).
    Commit,
    /// SQLite with `synchronous = NORMAL`: the write-ahead log at this path
    /// is flushed (`fdatasync`) on the sync thread after the commit. The
    /// log is appended in commit order, so one flush covers every batch
    /// committed before it began; the jobs of a batch are answered only
    /// after such a flush.
    SyncLog(std::path::PathBuf),
    /// A flush of the caller's own (tests: hold or fail it).
    Custom(std::sync::Arc<dyn Fn() -> std::io::Result<()> + Send + Sync>),
}

impl Durability {
    fn flush(&self) -> std::io::Result<()> {
        match self {
            Durability::Commit => Ok(()),
            // Opened for each flush: SQLite may delete the log (the last
            // connection closing, after a checkpoint that synced the
            // database) and start a new file, which a kept descriptor would
            // not see. A missing log holds nothing unsynced.
            Durability::SyncLog(path) => match std::fs::File::open(path) {
                Ok(f) => f.sync_data(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e),
            },
            Durability::Custom(f) => f(),
        }
    }
}

/// The sync thread: answers the committed batches handed to it once a
/// flush begun after their commit has succeeded, all batches queued
/// meanwhile with one flush; a failed flush answers them "unavailable"
/// (committed or not, they were never acknowledged; a retry with the same
/// Idempotency-Key finds the report if it is there).
fn syncer(rx: std::sync::mpsc::Receiver<Vec<Reply>>, durability: Durability) {
    while let Ok(mut answers) = rx.recv() {
        while let Ok(more) = rx.try_recv() {
            answers.extend(more);
        }
        let flushed = durability.flush().map_err(|e| {
            tracing::error!(error = %e, "the write-ahead log could not be flushed");
            format!("flush of the write-ahead log failed: {e}")
        });
        for answer in answers {
            answer(flushed.clone());
        }
    }
}

/// A job of a `Batched` kind: the item with its reply channel, and the
/// function that applies all of that kind's items of a batch.
type Apply = fn(&mut DbConn, Vec<Box<dyn Any + Send>>) -> Vec<Reply>;
/// The jobs of one batched kind, with how to apply them together.
type Group = (TypeId, Apply, Vec<Box<dyn Any + Send>>);

enum Job {
    /// Runs inside the batch transaction (in a savepoint of its own).
    One(Box<dyn FnOnce(&mut DbConn) -> Reply + Send>),
    Grouped {
        kind: TypeId,
        item: Box<dyn Any + Send>,
        apply: Apply,
    },
}

/// Jobs the writer applies together: `apply` gets every item of a batch
/// and answers each, in order. Like `Writer::run`'s savepoints, an item that
/// fails must leave nothing behind and must not fail its neighbours.
pub trait Batched: Send + Sized + 'static {
    type Out: Send + 'static;
    type Err: From<DbError> + From<diesel::result::Error> + Send + 'static;
    fn apply(conn: &mut DbConn, items: Vec<Self>) -> Vec<Result<Self::Out, Self::Err>>;
}

/// The answer of a job once the commit is known: its own result when the
/// commit succeeded, its own error or "unavailable" when it failed.
fn reply<T: Send + 'static, E: From<DbError> + Send + 'static>(
    result: Result<T, E>,
    tx: oneshot::Sender<Result<T, E>>,
) -> Reply {
    Box::new(move |commit: Result<(), String>| {
        let answer = match commit {
            Ok(()) => result,
            Err(e) => Err(result.err().unwrap_or_else(|| {
                tracing::warn!(error = %e, "group commit failed");
                E::from(DbError::Unavailable(
                    "The database could not commit; please retry.".into(),
                ))
            })),
        };
        let _ = tx.send(answer);
    })
}

fn apply_group<B: Batched>(conn: &mut DbConn, items: Vec<Box<dyn Any + Send>>) -> Vec<Reply> {
    type Item<B> = (
        B,
        oneshot::Sender<Result<<B as Batched>::Out, <B as Batched>::Err>>,
    );
    let (items, senders): (Vec<B>, Vec<_>) = items
        .into_iter()
        .map(|b| {
            *b.downcast::<Item<B>>()
                .expect("items are grouped by their type")
        })
        .unzip();
    let results = B::apply(conn, items);
    // A missing answer (a bug) drops its sender: that handler answers 503.
    results
        .into_iter()
        .zip(senders)
        .map(|(result, tx)| reply(result, tx))
        .collect()
}

#[derive(Clone)]
pub struct Writer {
    tx: mpsc::UnboundedSender<Job>,
    metrics: WriterMetrics,
}

/// What the writer's batches cost, for `/metrics`: how long each took from
/// its first job to its commit (on SQLite the sync thread's flush follows,
/// beside the next batch) and how many jobs it
/// carried. A slow batch delays every report queued behind it, so this is
/// where a latency tail under load shows first.
#[derive(Clone)]
pub struct WriterMetrics {
    seconds: prometheus::Histogram,
    jobs: prometheus::Histogram,
}

impl WriterMetrics {
    fn new() -> WriterMetrics {
        let seconds = prometheus::Histogram::with_opts(
            prometheus::HistogramOpts::new(
                "erratum_writer_batch_seconds",
                "Time the writer took per batch, its commit included",
            )
            .buckets(vec![
                0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
            ]),
        )
        .expect("a valid metric");
        let jobs = prometheus::Histogram::with_opts(
            prometheus::HistogramOpts::new("erratum_writer_batch_jobs", "Jobs per writer batch")
                .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]),
        )
        .expect("a valid metric");
        WriterMetrics { seconds, jobs }
    }

    pub fn register(&self, registry: &prometheus::Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.seconds.clone()))?;
        registry.register(Box::new(self.jobs.clone()))
    }
}

impl Writer {
    /// The writer of the database `backend` names, on connections of its
    /// own (`db::connect_writer`), with the checkpoint thread on SQLite
    /// (`db::connect_checkpoints`).
    pub fn open(backend: &Backend, timeout: Duration, max_batch: usize) -> anyhow::Result<Writer> {
        let (checkpoints, durability) = match backend {
            Backend::Sqlite(path) => {
                let mut log = path.clone().into_os_string();
                log.push("-wal");
                (
                    Some(super::connect_checkpoints(backend, timeout)?),
                    Durability::SyncLog(log.into()),
                )
            }
            Backend::Postgres(_) => (None, Durability::Commit),
        };
        Ok(Writer::start_with(
            super::connect_writer(backend, timeout)?,
            max_batch,
            checkpoints,
            durability,
        ))
    }

    /// Start the writer thread on `pool`, and the checkpoint thread on
    /// `checkpoints` when given (SQLite). Both stop when every `Writer`
    /// clone is dropped, after the writer finishes what is queued.
    pub fn start(pool: Pool, max_batch: usize, checkpoints: Option<Pool>) -> Writer {
        Writer::start_with(pool, max_batch, checkpoints, Durability::Commit)
    }

    /// `start`, with the sync thread when `durability` asks for a flush
    /// after the commit.
    pub fn start_with(
        pool: Pool,
        max_batch: usize,
        checkpoints: Option<Pool>,
        durability: Durability,
    ) -> Writer {
        let (tx, rx) = mpsc::unbounded_channel::<Job>();
        // The sync thread stops once the writer has handed it its last batch.
        let synced = match durability {
            Durability::Commit => None,
            durability => {
                let (sync_tx, sync_rx) = std::sync::mpsc::channel::<Vec<Reply>>();
                std::thread::Builder::new()
                    .name("erratum-sync".into())
                    .spawn(move || syncer(sync_rx, durability))
                    .expect("cannot spawn the sync thread");
                Some(sync_tx)
            }
        };
        let metrics = WriterMetrics::new();
        // The checkpointer stops when the writer does (its sender dropped).
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        if let Some(checkpoints) = checkpoints {
            std::thread::Builder::new()
                .name("erratum-checkpoint".into())
                .spawn(move || checkpointer(checkpoints, stop_rx))
                .expect("cannot spawn the checkpoint thread");
        }
        std::thread::Builder::new()
            .name("erratum-writer".into())
            .spawn({
                let metrics = metrics.clone();
                move || {
                    writer_loop(pool, rx, max_batch.max(1), metrics, synced);
                    drop(stop_tx);
                }
            })
            .expect("cannot spawn the writer thread");
        Writer { tx, metrics }
    }

    /// The batches' figures, to be registered with the instance's metrics.
    pub fn metrics(&self) -> &WriterMetrics {
        &self.metrics
    }

    /// Run `f` in the write transaction; resolves after the commit. The job's
    /// own error type comes back as it is; the writer's failures (shutting
    /// down, a failed commit) come as `DbError::Unavailable`.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let (reply_tx, reply_rx) = oneshot::channel::<Result<T, E>>();
        let job = Job::One(Box::new(move |conn: &mut DbConn| {
            // A nested transaction is a savepoint: a failing job rolls back alone.
            reply(conn.transaction::<T, E, _>(f), reply_tx)
        }));
        self.tx
            .send(job)
            .map_err(|_| E::from(DbError::Unavailable("The service is shutting down.".into())))?;
        reply_rx.await.map_err(|_| {
            E::from(DbError::Unavailable(
                "The writer stopped; please retry.".into(),
            ))
        })?
    }

    /// Hand `item` to the writer, to be applied with the other items of its
    /// kind queued meanwhile (`Batched::apply`); resolves after the commit.
    pub async fn run_batched<B: Batched>(&self, item: B) -> Result<B::Out, B::Err> {
        let (reply_tx, reply_rx) = oneshot::channel::<Result<B::Out, B::Err>>();
        let job = Job::Grouped {
            kind: TypeId::of::<B>(),
            item: Box::new((item, reply_tx)),
            apply: apply_group::<B>,
        };
        self.tx.send(job).map_err(|_| {
            B::Err::from(DbError::Unavailable("The service is shutting down.".into()))
        })?;
        reply_rx.await.map_err(|_| {
            B::Err::from(DbError::Unavailable(
                "The writer stopped; please retry.".into(),
            ))
        })?
    }
}

/// How long the writer keeps its connection between two batches without
/// checking it again: under load, batches follow each other within
/// milliseconds and the pool's ping at check-out would be one more round
/// trip per batch; after a pause the ping catches a connection the
/// server dropped meanwhile.
const KEEP_WARM: std::time::Duration = std::time::Duration::from_secs(1);

/// How often SQLite's write-ahead log is copied back into the database:
/// often enough that when the writer's own threshold
/// (`db::WRITER_CHECKPOINT_PAGES`) makes a commit checkpoint, only the
/// last 50 ms of pages are left for it to copy.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(50);

/// SQLite: copy the write-ahead log back into the database file on a
/// connection of its own, so that the writer's commits have little of it
/// to do. Left to SQLite, the commit that finds the log past its
/// threshold copies it (a thousand pages scattered over a large file, then
/// an fsync): every few hundred reports, one batch's readers waited for
/// that. A passive checkpoint runs beside the writer and readers and skips
/// what they still use. It never lets the log start over under steady
/// writes (that needs every page copied back as a write begins, and the
/// writer always has pages in flight): the writer's own threshold
/// (`db::connect_writer`) does, with a checkpoint inline in a commit, which
/// this thread has left little to copy.
fn checkpointer(pool: Pool, stop: std::sync::mpsc::Receiver<()>) {
    use diesel::connection::SimpleConnection;
    use std::sync::mpsc::RecvTimeoutError;
    while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        let done = pool.get().map_err(|e| e.to_string()).and_then(|mut c| {
            c.batch_execute("PRAGMA wal_checkpoint(PASSIVE);")
                .map_err(|e| e.to_string())
        });
        if let Err(e) = done {
            tracing::debug!(error = %e, "checkpoint skipped");
        }
    }
}

fn writer_loop(
    pool: Pool,
    mut rx: mpsc::UnboundedReceiver<Job>,
    max_batch: usize,
    metrics: WriterMetrics,
    synced: Option<std::sync::mpsc::Sender<Vec<Reply>>>,
) {
    // The connection of the last batch, while it is fresh and sound.
    let mut warm: Option<(super::PooledConn, std::time::Instant)> = None;
    while let Some(first) = rx.blocking_recv() {
        let started = std::time::Instant::now();
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // One bounded wait (the pool's connection timeout, during which r2d2
        // keeps trying to open connections): that rides over a short restart,
        // and a longer outage answers 503 within about that time.
        let kept = warm
            .take()
            .filter(|(_, done)| done.elapsed() < KEEP_WARM)
            .map(|(c, _)| c);
        let mut conn = match kept.map_or_else(|| pool.get(), Ok) {
            Ok(c) => c,
            Err(e) => {
                // Dropping a job drops its reply sender: its handler answers
                // 503 (`DbError::Unavailable`). Jobs queued meanwhile have
                // waited as long already: fail them now too rather than make
                // each wait once more behind the next attempt.
                drop(batch);
                while let Ok(job) = rx.try_recv() {
                    drop(job);
                }
                tracing::error!(error = %e, "writer has no database connection");
                continue;
            }
        };
        metrics.jobs.observe(batch.len() as f64);
        let mut answers = Vec::with_capacity(batch.len());
        // A panicking job (a bug) must not take the writer down with it: the
        // batch is rolled back, its handlers get a 503 (their reply senders are
        // dropped), and the writer goes on with the next batch.
        let committed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            conn.transaction::<(), diesel::result::Error, _>(|c| {
                if let Err(e) = super::dialect::begin_write(c) {
                    tracing::error!(error = %e, "the writer cannot take the write lock");
                    return Err(e);
                }
                // The grouped kinds in the order they first came.
                let mut groups: Vec<Group> = Vec::new();
                for job in batch {
                    match job {
                        Job::One(job) => answers.push(job(c)),
                        Job::Grouped { kind, item, apply } => {
                            match groups.iter_mut().find(|g| g.0 == kind) {
                                Some(g) => g.2.push(item),
                                None => groups.push((kind, apply, vec![item])),
                            }
                        }
                    }
                }
                for (_, apply, items) in groups {
                    answers.extend(apply(c, items));
                }
                Ok(())
            })
        }));
        match committed {
            Ok(result) => {
                let commit = result.map_err(|e| e.to_string());
                // A failed batch hands its connection back to the pool,
                // which closes it if it is broken; the next one is pinged.
                let sound = commit.is_ok();
                match (&synced, sound) {
                    // Answered by the sync thread once the log is on disk.
                    (Some(sync), true) => {
                        if let Err(unsent) = sync.send(answers) {
                            for answer in unsent.0 {
                                answer(Err("the sync thread stopped".into()));
                            }
                        }
                    }
                    _ => {
                        for answer in answers {
                            answer(commit.clone());
                        }
                    }
                }
                metrics.seconds.observe(started.elapsed().as_secs_f64());
                if sound {
                    warm = Some((conn, std::time::Instant::now()));
                }
            }
            Err(_) => {
                tracing::error!("a write job panicked; its batch was rolled back");
                drop(answers);
                // The connection may be left inside a transaction: end it
                // before the connection goes back to the pool.
                let _ = diesel::connection::SimpleConnection::batch_execute(&mut *conn, "ROLLBACK");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use super::*;
    use std::time::Duration;

    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    /// A migrated database with a table `t` of unique values.
    fn database() -> (tempfile::TempDir, Pool) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let (pool, _) = crate::db::connect(&url, 3, Duration::from_secs(5)).unwrap();
        // Migrated like the real database: the writer takes SQLite's write lock
        // through one of its tables.
        crate::db::migrate(&mut pool.get().unwrap()).unwrap();
        pool.get()
            .unwrap()
            .batch_execute("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)")
            .unwrap();
        (dir, pool)
    }

    fn setup() -> (tempfile::TempDir, Writer, Pool) {
        let (dir, pool) = database();
        let writer = Writer::start(pool.clone(), 64, Some(pool.clone()));
        (dir, writer, pool)
    }

    /// Insert `v` into `t` through the writer.
    async fn insert(writer: Writer, v: i32) -> Result<usize, DbError> {
        writer
            .run(move |c| {
                diesel::sql_query("INSERT INTO t (v) VALUES (?)")
                    .bind::<diesel::sql_types::Integer, _>(v)
                    .execute(c)
                    .map_err(DbError::from)
            })
            .await
    }

    fn count(pool: &Pool) -> i64 {
        diesel::sql_query("SELECT count(*) AS n FROM t")
            .get_result::<N>(&mut *pool.get().unwrap())
            .unwrap()
            .n
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_job_does_not_spoil_its_batch() {
        let (_dir, writer, pool) = setup();
        // 200 concurrent inserts, every tenth a duplicate of 0 (a unique violation).
        let jobs = (0..200).map(|i| insert(writer.clone(), if i % 10 == 5 { 0 } else { i }));
        let results = futures_util::future::join_all(jobs).await;
        let ok = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 180);
        assert_eq!(
            count(&pool),
            180,
            "every acknowledged insert is committed, no failed one is"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_is_copied_back_beside_the_writer() {
        let (dir, writer, pool) = setup();
        let file = dir.path().join("w.db");
        let size = || std::fs::metadata(&file).unwrap().len();
        let before = size();
        // A few hundred pages of log: well under SQLite's own threshold
        // (1,000), so only the checkpoint thread copies them back.
        writer
            .run(|c| {
                diesel::sql_query(
                    "INSERT INTO t (v) WITH RECURSIVE n(i) AS \
                     (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) SELECT i FROM n",
                )
                .execute(c)
                .map_err(DbError::from)
            })
            .await
            .unwrap();
        assert_eq!(size(), before, "the commit itself copied nothing back");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while size() == before && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(size() > before, "the checkpoint thread copied the log back");
        assert_eq!(count(&pool), 20000);
    }

    /// A writer whose flush waits until the test lets it go (`release`).
    fn gated() -> (
        tempfile::TempDir,
        Writer,
        Pool,
        std::sync::mpsc::Sender<std::io::Result<()>>,
    ) {
        let (dir, pool) = database();
        let (release, gate) = std::sync::mpsc::channel::<std::io::Result<()>>();
        let gate = std::sync::Mutex::new(gate);
        let flush = move || gate.lock().unwrap().recv().unwrap_or(Ok(()));
        let writer = Writer::start_with(
            pool.clone(),
            64,
            None,
            Durability::Custom(std::sync::Arc::new(flush)),
        );
        (dir, writer, pool, release)
    }

    fn spawn_insert(writer: &Writer, v: i32) -> tokio::task::JoinHandle<Result<usize, DbError>> {
        tokio::spawn(insert(writer.clone(), v))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_is_answered_only_after_the_flush_that_follows_its_commit() {
        let (_dir, writer, pool, release) = gated();
        let job = spawn_insert(&writer, 1);
        // Committed (another connection sees it), yet unanswered.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while count(&pool) == 0 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(count(&pool), 1, "the batch committed");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!job.is_finished(), "no answer before the flush");
        // The writer is not held by the flush: the next batch commits.
        let second = spawn_insert(&writer, 2);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while count(&pool) < 2 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(count(&pool), 2, "the next batch committed during the flush");
        release.send(Ok(())).unwrap();
        assert_eq!(job.await.unwrap().unwrap(), 1);
        release.send(Ok(())).unwrap();
        assert_eq!(second.await.unwrap().unwrap(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_flush_answers_unavailable() {
        let (_dir, writer, _pool, release) = gated();
        release
            .send(Err(std::io::Error::other("disk gone")))
            .unwrap();
        let answer = spawn_insert(&writer, 1).await.unwrap();
        assert!(matches!(answer.unwrap_err(), DbError::Unavailable(_)));
    }

    #[test]
    fn sqlite_writer_commits_without_waiting_and_flushes_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let backend = crate::db::Backend::Sqlite(path.clone());
        let pool = crate::db::connect_writer(&backend, Duration::from_secs(5)).unwrap();
        #[derive(QueryableByName)]
        struct S {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            synchronous: i32,
        }
        let s: S = diesel::sql_query("PRAGMA synchronous")
            .get_result(&mut *pool.get().unwrap())
            .unwrap();
        assert_eq!(s.synchronous, 1, "NORMAL: the sync thread flushes");
        // The flush finds the log beside the database, or none at all.
        let log = Durability::SyncLog(dir.path().join("w.db-wal"));
        log.flush().unwrap();
        pool.get()
            .unwrap()
            .batch_execute("PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER)")
            .unwrap();
        assert!(dir.path().join("w.db-wal").exists());
        log.flush().unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_job_fails_alone_and_the_writer_survives() {
        let (_dir, writer, pool) = setup();
        let boom = writer
            .run(|_c| -> Result<(), DbError> { panic!("bug") })
            .await;
        assert!(matches!(boom.unwrap_err(), DbError::Unavailable(_)));
        let ok = insert(writer.clone(), 1).await;
        assert!(ok.is_ok());
        assert_eq!(count(&pool), 1);
    }
}
