//! What every handler shares.

use crate::config::Settings;
use crate::db::{Backend, Pool, Writer};
use crate::error::Problem;

pub struct AppState {
    /// Secrets and daily keys the intake would otherwise read per report.
    pub keys: crate::db::reports::KeyCache,
    pub settings: Settings,
    /// Base URL for links, without trailing slash (resolved after binding, so
    /// tests on port 0 get working links).
    pub public_url: String,
    pub pool: Pool,
    pub writer: Writer,
    pub backend: Backend,
    pub intake: crate::routes::reports::IntakeLimits,
    pub login: crate::auth::limits::LoginLimits,
    /// The email outbox's worker: `mailer.config` for the event functions,
    /// `mailer.wake()` after committing emails.
    pub mailer: std::sync::Arc<crate::notify::worker::Mailer>,
}

impl AppState {
    /// Run a read on a pooled connection off the async executor.
    pub async fn read<T, F>(&self, f: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: FnOnce(&mut crate::db::DbConn) -> Result<T, Problem> + Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }
}
