//! The SQLite search index's catch-up (`db::search_index`): every second,
//! the documents listed since the last pass are added to the full-text
//! index in one writer job, so the intake's commits never carry the
//! index's segments and merges. A backlog (after a seed, an import, a
//! restore) is indexed a pass at a time, with a pause between passes for
//! the reports queued behind each. The search reads what is still pending
//! directly, so how far the index lags changes no answer.

use std::sync::Weak;
use std::time::Duration;

use super::AppState;
use crate::db::search_index as store;
use crate::error::Problem;

/// How often the pending list is looked at.
const EVERY: Duration = Duration::from_secs(1);
/// The most documents one pass indexes: a pass held the writer for 10 to
/// 15 ms per thousand on the seeded copy (`erratum_writer_batch_seconds`).
const PASS_DOCS: i64 = 2_000;
/// The pause between two passes of a backlog.
const BACKLOG_GAP: Duration = Duration::from_millis(50);

/// One pass: index what is pending, up to `PASS_DOCS`; returns how many.
pub async fn catch_up(state: &AppState) -> Result<usize, Problem> {
    if !state.read(|c| Ok(store::has_pending(c)?)).await? {
        return Ok(0);
    }
    state
        .write(|c| Ok(store::index_pending(c, PASS_DOCS)?))
        .await
}

/// Keep the index caught up for as long as the state lives (SQLite only).
pub async fn run(state: Weak<AppState>) {
    loop {
        let Some(s) = state.upgrade() else { break };
        let pause = match catch_up(&s).await {
            Ok(n) if n as i64 >= PASS_DOCS => BACKLOG_GAP,
            Ok(_) => EVERY,
            Err(p) => {
                tracing::warn!(error = %p, "search index: pending documents left for the next pass");
                EVERY
            }
        };
        drop(s);
        tokio::time::sleep(pause).await;
    }
}
