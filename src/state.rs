//! What every use case shares: settings, the database (reads from the pool,
//! writes through the group-commit writer), the in-memory limits and keys,
//! and the signal that wakes the event consumers after a commit.

use std::sync::Arc;

use crate::auth::keys::KeyCache;
use crate::auth::limits::{IntakeLimits, LoginLimits, StatusLimits};
use crate::config::Settings;
use crate::db::{Backend, DbConn, Pool, Writer};
use crate::error::Problem;

pub struct AppState {
    /// Secrets and daily keys the intake would otherwise read per report.
    pub keys: Arc<KeyCache>,
    pub settings: Settings,
    /// Base URL for links, without trailing slash (resolved after binding, so
    /// tests on port 0 get working links).
    pub public_url: String,
    pub pool: Pool,
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
