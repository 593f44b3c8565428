//! `GET /api/v1/queue`: the cases to triage, filtered, sorted and paged.

use actix_web::{HttpResponse, web};

use crate::app::AppState;
use crate::app::queue::QueuePage;
use crate::app::queue::{self, QueueQuery};
use crate::auth::CurrentEditor;
use crate::error::Problem;

#[utoipa::path(get, path = "/api/v1/queue", tag = "cases", params(QueueQuery),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "A page of cases", body = QueuePage),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid parameters or cursor", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "The read spent `database.read_budget_ms` and was cancelled (`read_over_budget`); see Retry-After", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn list(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, Problem> {
    let page = queue::page(&state, editor.actor().clone(), &query).await?;
    Ok(HttpResponse::Ok().json(page))
}
