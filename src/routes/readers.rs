//! A report's reader: mark them as trusted or blocked, or back to ordinary.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::extract::ApiJson;
use crate::app::AppState;
use crate::app::readers::{self, ReaderAnswer};
use crate::auth::CurrentEditor;
use crate::domain::reader::Standing;
use crate::error::Problem;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StandingRequest {
    /// `trusted`, `blocked`, or `none` (an ordinary reader again).
    #[schema(example = "trusted")]
    pub standing: String,
}

/// Set the standing of the reader who filed this report. A trusted
/// reader's cases get `priority::TRUSTED_BONUS` (10 points); a blocked
/// reader's next reports are accepted but filed straight into spam, and
/// nobody is notified of them. Editors (on the report's desk) trust and
/// un-trust; blocking and unblocking is for admins. Audited
/// (`reader.standing`) and recorded as a `reader_standing_changed` event.
#[utoipa::path(post, path = "/api/v1/reports/{id}/reader", tag = "reports",
    params(("id" = String, Path, description = "A report id of the reader")),
    request_body = StandingRequest,
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The reader as they now stand", body = ReaderAnswer),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Viewer, another desk's report, blocking without the admin role, or missing X-CSRF-Token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "The reader was erased (`reader_erased`)", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid standing", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn set_standing(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ApiJson<StandingRequest>,
) -> Result<HttpResponse, Problem> {
    let id = readers::report_id(&path)?;
    let standing = Standing::from_field(&body.0.standing)?;
    let answer = readers::set_standing(&state, editor.actor().clone(), id, standing).await?;
    Ok(HttpResponse::Ok().json(answer))
}
