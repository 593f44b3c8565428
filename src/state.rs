//! What every use case shares: settings, the database (reads from the pool,
//! writes through the group-commit writer), the in-memory limits and keys,
//! and the signal that wakes the event consumers after a commit.

use std::sync::Arc;

use crate::auth::keys::KeyCache;
use crate::auth::limits::{IntakeLimits, LoginLimits, StatusLimits};
use crate::config::Settings;
use crate::db::{Backend, DbConn, Pool, Writer, budget};
use crate::error::{ErrorCode, Problem};

/// The editors' heavy reads' own capacity (`[database] read_pool_size`,
/// `read_budget_ms`).
pub struct HeavyReads {
    pub pool: Pool,
    pub permits: Arc<tokio::sync::Semaphore>,
    pub budget: std::time::Duration,
}

impl HeavyReads {
    pub fn new(pool: Pool, budget: std::time::Duration) -> Self {
        let size = pool.max_size() as usize;
        HeavyReads {
            pool,
            permits: Arc::new(tokio::sync::Semaphore::new(size)),
            budget,
        }
    }
}

/// Stops a heavy read when dropped armed: the blocking cancel runs on a
/// thread of its own, so dropping never blocks the executor.
struct StopOnDrop(Option<(budget::Stop, Pool)>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some((stop, pool)) = self.0.take() {
            stop.mark();
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn_blocking(move || stop.stop(&pool));
            }
        }
    }
}

fn over_budget() -> Problem {
    let mut p = Problem::new(
        actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::ReadOverBudget,
        "Read over budget",
        "This read took longer than the server allows and was stopped; retry shortly, or narrow it (filters, a shorter period).",
    );
    p.retry_after = Some(5);
    p
}

pub struct AppState {
    /// Secrets and daily keys the intake would otherwise read per report.
    pub keys: Arc<KeyCache>,
    pub settings: Settings,
    /// Base URL for links, without trailing slash (resolved after binding, so
    /// tests on port 0 get working links).
    pub public_url: String,
    pub pool: Pool,
    /// The editors' heavy reads (`heavy_read`).
    pub reads: HeavyReads,
    pub writer: Writer,
    pub backend: Backend,
    pub intake: Arc<IntakeLimits>,
    pub login: Arc<LoginLimits>,
    pub status_lookups: StatusLimits,
    /// Answers of the known-sentences endpoint (`app::known`).
    pub known: Arc<crate::app::known::KnownCache>,
    /// The current revision of the articles reported on (`app::intake`).
    pub current_articles: Arc<crate::app::intake::CurrentArticles>,
    /// The editors' live queue streams (`app::live`).
    pub live: Arc<crate::app::live::LiveHub>,
    /// Called after a use case committed events (consumers wake up).
    pub listeners: Vec<Arc<dyn Fn() + Send + Sync>>,
    /// The email outbox's worker, for the pages that show and retry emails.
    pub mailer: Arc<crate::notify::worker::Mailer>,
    /// The webhook and chat delivery worker.
    pub hooks: Arc<crate::hooks::worker::Hooks>,
    /// The OpenID provider, when single sign-on is on (`[auth.oidc]`).
    pub oidc: Option<Arc<crate::auth::oidc::Oidc>>,
    /// Readers' words (`locales/`), for what a use case writes to readers.
    pub catalogs: Arc<crate::locales::Catalogs>,
}

impl AppState {
    /// Run a read on a pooled connection off the async executor.
    pub async fn read<T, F>(&self, f: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, Problem> + Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }

    /// Run one of the editors' heavy reads (queue and search, counts, case
    /// pages, dashboard): on a connection of their own pool, at most its
    /// size at once, within `database.read_budget_ms`, waiting included.
    /// Over budget it is cancelled in the database and answered 503
    /// `read_over_budget`; when the client goes away (actix drops this
    /// future) it is cancelled too. The intake and the health check never
    /// wait behind these reads: they use `read`'s pool.
    pub async fn heavy_read<T, F>(&self, f: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, Problem> + Send + 'static,
    {
        let stop = budget::Stop::new(self.reads.budget);
        // Stops the read unless disarmed: on time-out and on disconnect alike.
        let mut armed = StopOnDrop(Some((stop.clone(), self.pool.clone())));
        let deadline = tokio::time::Instant::from_std(stop.deadline());
        let (permits, pool, run_stop) = (
            self.reads.permits.clone(),
            self.reads.pool.clone(),
            stop.clone(),
        );
        let work = async move {
            // Waiting for a turn takes no thread; the permit goes with the
            // blocking read, so the bound holds until it really ends.
            let permit = permits
                .acquire_owned()
                .await
                .map_err(|_| Problem::unavailable("The server is stopping."))?;
            actix_web::web::block(move || {
                let _permit = permit;
                let left = run_stop
                    .deadline()
                    .saturating_duration_since(std::time::Instant::now());
                let mut conn = pool
                    .get_timeout(left.max(std::time::Duration::from_millis(1)))
                    .map_err(|_| over_budget())?;
                budget::run(&mut conn, &run_stop, f).map_err(|p| {
                    if run_stop.is_spent() {
                        over_budget()
                    } else {
                        p
                    }
                })
            })
            .await?
        };
        let out = match tokio::time::timeout_at(deadline, work).await {
            Ok(out) => out,
            Err(_) => return Err(over_budget()),
        };
        armed.0 = None;
        out
    }

    /// Run `f` in the group commit's write transaction; resolves once it is
    /// committed (see `db::writer`).
    pub async fn write<T, F>(&self, f: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, Problem> + Send + 'static,
    {
        self.writer.run(f).await
    }

    /// Tell the event consumers that events were committed.
    pub fn committed(&self) {
        for wake in &self.listeners {
            wake();
        }
    }
}
