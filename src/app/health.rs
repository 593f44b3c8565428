//! Readiness: whether the database answers.

use diesel::connection::SimpleConnection;

use super::AppState;
use crate::error::Problem;

/// The backend's name when its database answers; 503 otherwise.
pub async fn ready(state: &AppState) -> Result<&'static str, Problem> {
    state
        .read(|conn| {
            conn.batch_execute("SELECT 1")
                .map_err(|_| Problem::unavailable("The database does not answer."))
        })
        .await?;
    Ok(state.backend.name())
}
