//! `POST /api/v1/cases/bulk`: one action on many cases, each checked and
//! audited on its own; the answer lists every case's outcome.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::extract::ApiJson;
use crate::app::AppState;
use crate::app::bulk::{self, BulkItem};
use crate::app::cases::CaseAction;
use crate::auth::CurrentEditor;
use crate::domain::workflow::{Resolution, Resolve};
use crate::error::{FieldError, Problem};

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BulkActionKind {
    /// Take the cases (each must be free or already yours).
    Claim,
    /// Give the cases to `editor_id` (whose desks must cover each case).
    Assign,
    /// Mark new cases as triaged.
    Triage,
    /// Set `priority` (0–100), or clear it (null or absent).
    Priority,
    /// Resolve with `resolution` (spam, duplicate, rejected or no_change)
    /// and one `public_note` for all.
    Resolve,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    /// 1–200 case ids.
    #[schema(min_items = 1, max_items = 200)]
    pub case_ids: Vec<String>,
    pub action: BulkActionKind,
    /// `assign` only.
    pub editor_id: Option<String>,
    /// `priority` only: 0–100, or null to go back to the computed score.
    #[schema(minimum = 0, maximum = 100)]
    pub priority: Option<i32>,
    /// `resolve` only; resolutions that publish a correction are refused.
    pub resolution: Option<Resolution>,
    /// `resolve` only: shown to each case's reporters.
    #[schema(max_length = 2000)]
    pub public_note: Option<String>,
    /// `resolve` as duplicate only.
    pub duplicate_of: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkActionAnswer {
    /// How many cases the action was done on.
    pub done: usize,
    /// How many were refused (see their `outcome`).
    pub failed: usize,
    /// One entry per case id, in the order given.
    pub results: Vec<BulkItem>,
}

fn field(name: &str, code: &'static str, msg: &str) -> Problem {
    Problem::validation(vec![FieldError::new(name, code, msg)])
}

/// The request's action with its arguments, checked.
fn action_of(b: &BulkRequest) -> Result<CaseAction, Problem> {
    Ok(match b.action {
        BulkActionKind::Claim => CaseAction::Claim,
        BulkActionKind::Triage => CaseAction::Triage,
        BulkActionKind::Assign => {
            let id = b.editor_id.as_deref().map(str::trim).unwrap_or_default();
            if uuid::Uuid::parse_str(id).is_err() {
                return Err(field(
                    "editor_id",
                    "required",
                    "an editor id is required to assign",
                ));
            }
            CaseAction::Assign {
                editor_id: id.to_string(),
            }
        }
        BulkActionKind::Priority => {
            if b.priority.is_some_and(|p| !(0..=100).contains(&p)) {
                return Err(field(
                    "priority",
                    "out_of_range",
                    "must be between 0 and 100, or null",
                ));
            }
            CaseAction::Priority {
                priority: b.priority,
            }
        }
        BulkActionKind::Resolve => {
            let resolution = b
                .resolution
                .ok_or_else(|| field("resolution", "required", "is required to resolve"))?;
            CaseAction::Resolve(Resolve::parse(
                resolution,
                b.public_note.as_deref(),
                b.duplicate_of.as_deref(),
            )?)
        }
    })
}

/// Claim, assign, triage, prioritise or resolve (without a correction) many
/// cases at once. Each case is checked and audited as if acted on alone;
/// one refusal does not stop the others.
#[utoipa::path(post, path = "/api/v1/cases/bulk", tag = "cases",
    request_body = BulkRequest,
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "Per-case outcomes", body = BulkActionAnswer),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Viewer, or missing X-CSRF-Token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or a resolution that publishes a correction", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn bulk(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    body: ApiJson<BulkRequest>,
) -> Result<HttpResponse, Problem> {
    let b = body.0;
    let action = action_of(&b)?;
    let results = bulk::run(&state, editor.actor().clone(), &b.case_ids, action).await?;
    let done = results.iter().filter(|r| r.done()).count();
    Ok(HttpResponse::Ok().json(BulkActionAnswer {
        done,
        failed: results.len() - done,
        results,
    }))
}
