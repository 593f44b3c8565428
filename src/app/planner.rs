//! Fresh planner statistics for young PostgreSQL tables (`db::planner`):
//! every few seconds, a look at which tables have doubled since their
//! statistics were taken, and an `ANALYZE` of those. Off the writer:
//! PostgreSQL's `ANALYZE` blocks no reads and no writes.

use std::sync::Weak;
use std::time::Duration;

use super::AppState;
use crate::db::planner as store;
use crate::error::Problem;

/// How often the tables are looked at: one catalogue read. A new
/// newsroom's first burst of reports doubles `reports` within seconds.
const EVERY: Duration = Duration::from_secs(3);

/// One look; returns the tables analysed.
pub async fn refresh(state: &AppState) -> Result<Vec<String>, Problem> {
    state.read(|c| Ok(store::analyze_grown(c)?)).await
}

/// Look every `EVERY` for as long as the state lives (PostgreSQL only).
pub async fn run(state: Weak<AppState>) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(s) = state.upgrade() else { break };
        match refresh(&s).await {
            Ok(tables) if !tables.is_empty() => {
                tracing::debug!(?tables, "planner statistics refreshed")
            }
            Ok(_) => {}
            Err(p) => tracing::warn!(error = %p, "planner statistics not refreshed"),
        }
    }
}
