//! A case's page and the workflow actions on it.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::extract::ApiJson;
use crate::app::AppState;
use crate::app::cases::{self, ActionAnswer, BulkItem, CaseAction, case_id_or_number};
use crate::auth::CurrentEditor;
use crate::domain::workflow::{Resolution, Resolve, parse_note};
use crate::error::{ErrorCode, FieldError, Problem};

/// Run one action and answer the case as it now stands.
async fn run(
    state: &AppState,
    editor: CurrentEditor,
    raw_id: &str,
    action: CaseAction,
) -> Result<HttpResponse, Problem> {
    let id = case_id_or_number(state, raw_id).await?;
    let answer = cases::act(state, editor.actor().clone(), id, action).await?;
    Ok(HttpResponse::Ok().json(answer))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// From the previous answer's `reports_next_cursor`: the next page of
    /// the case's reports.
    pub reports_cursor: Option<String>,
}

/// A case with its sentence in context, a page of its reports (50, oldest
/// first; reporters' addresses for editors and admins only), internal notes,
/// corrections and history. The case's totals count every report.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases",
    params(("id" = String, Path, description = "The case id, or its number (`1042`)"), CaseQuery),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The case", body = crate::app::cases::CaseDetail),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "The read spent `database.read_budget_ms` and was cancelled (`read_over_budget`); see Retry-After", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid `reports_cursor`", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn get(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<CaseQuery>,
) -> Result<HttpResponse, Problem> {
    let after = cases::reports_after(query.reports_cursor.as_deref())?;
    let id = case_id_or_number(&state, &path).await?;
    let detail = cases::detail(&state, editor.actor().clone(), id, after).await?;
    Ok(HttpResponse::Ok().json(detail))
}

/// A workflow action handler with its OpenAPI entry (they all answer alike).
macro_rules! case_action {
    ($path:literal $(, $body:ty)?; $item:item) => {
        #[utoipa::path(post, path = $path, tag = "cases",
            params(("id" = String, Path, description = "The case id, or its number (`1042`)")),
            $(request_body = $body,)?
            security(("bearer" = []), ("session" = [])),
            responses(
                (status = 200, description = "Done; the case as it now stands", body = ActionAnswer),
                (status = 400, description = "Malformed JSON", body = crate::error::ProblemBody, content_type = "application/problem+json"),
                (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
                (status = 403, description = "Viewer, another desk's case, or missing X-CSRF-Token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
                (status = 404, description = "No such case", body = crate::error::ProblemBody, content_type = "application/problem+json"),
                (status = 409, description = "Illegal transition (`allowed` lists the legal actions), already claimed, or the sentence has another open case", body = crate::error::ProblemBody, content_type = "application/problem+json"),
                (status = 422, description = "Invalid fields", body = crate::error::ProblemBody, content_type = "application/problem+json"),
            ))]
        $item
    };
}

case_action! { "/api/v1/cases/{id}/triage";
    /// Mark a new case as triaged: real, to be worked on.
    pub async fn triage(
        e: CurrentEditor,
        s: web::Data<AppState>,
        p: web::Path<String>,
    ) -> Result<HttpResponse, Problem> {
        run(&s, e, &p, CaseAction::Triage).await
    }
}

case_action! { "/api/v1/cases/{id}/claim";
    /// Take the case and start reviewing it. Atomic: of editors claiming at
    /// once, exactly one wins; the others get 409 `already_claimed`.
    pub async fn claim(
        e: CurrentEditor,
        s: web::Data<AppState>,
        p: web::Path<String>,
    ) -> Result<HttpResponse, Problem> {
        run(&s, e, &p, CaseAction::Claim).await
    }
}

case_action! { "/api/v1/cases/{id}/unassign";
    /// Release the case; a case in review goes back to triaged.
    pub async fn unassign(
        e: CurrentEditor,
        s: web::Data<AppState>,
        p: web::Path<String>,
    ) -> Result<HttpResponse, Problem> {
        run(&s, e, &p, CaseAction::Unassign).await
    }
}

case_action! { "/api/v1/cases/{id}/reopen";
    /// Reopen a resolved case: it goes back to triaged (409
    /// `sentence_has_open_case` if a newer case on its sentence is open).
    /// Published corrections stay published.
    pub async fn reopen(
        e: CurrentEditor,
        s: web::Data<AppState>,
        p: web::Path<String>,
    ) -> Result<HttpResponse, Problem> {
        run(&s, e, &p, CaseAction::Reopen).await
    }
}

case_action! { "/api/v1/cases/{id}/already-corrected";
    /// Resolve a case whose sentence already has a published correction
    /// (`already_corrected`) as `no_change`, with a public note in the
    /// article's language that gives the correction's date and text and the
    /// article's address (409 `not_already_corrected` otherwise).
    pub async fn already_corrected(
        e: CurrentEditor,
        s: web::Data<AppState>,
        p: web::Path<String>,
    ) -> Result<HttpResponse, Problem> {
        run(&s, e, &p, CaseAction::ResolveAlreadyCorrected).await
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    pub editor_id: String,
}

case_action! { "/api/v1/cases/{id}/assign", AssignRequest;
    /// Assign the case to an active editor whose desks cover it (a new case
    /// becomes triaged).
    pub async fn assign(
        e: CurrentEditor,
        s: web::Data<AppState>,
        p: web::Path<String>,
        body: ApiJson<AssignRequest>,
    ) -> Result<HttpResponse, Problem> {
        let editor_id = body.0.editor_id.trim().to_string();
        if uuid::Uuid::parse_str(&editor_id).is_err() {
            return Err(Problem::field(
                ErrorCode::InvalidAssignee,
                "Invalid assignee",
                "editor_id",
                "is not an editor id",
            ));
        }
        run(&s, e, &p, CaseAction::Assign { editor_id }).await
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// 1–5000 characters.
    #[schema(min_length = 1, max_length = 5000)]
    pub body: String,
}

case_action! { "/api/v1/cases/{id}/note", NoteRequest;
    /// Add an internal note, in any status. Notes are never shown to readers.
    pub async fn note(
        e: CurrentEditor,
        s: web::Data<AppState>,
        p: web::Path<String>,
        body: ApiJson<NoteRequest>,
    ) -> Result<HttpResponse, Problem> {
        let body = parse_note(&body.0.body)?;
        run(&s, e, &p, CaseAction::Note { body }).await
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityRequest {
    /// 0–100; null clears it.
    #[schema(minimum = 0, maximum = 100)]
    pub priority: Option<i32>,
}

case_action! { "/api/v1/cases/{id}/priority", PriorityRequest;
    /// Set an explicit priority (0–100) that replaces the computed score, or
    /// null to go back to the score.
    pub async fn priority(
        e: CurrentEditor,
        s: web::Data<AppState>,
        p: web::Path<String>,
        body: ApiJson<PriorityRequest>,
    ) -> Result<HttpResponse, Problem> {
        let priority = body.0.priority;
        if priority.is_some_and(|p| !(0..=100).contains(&p)) {
            return Err(Problem::validation(vec![FieldError::new(
                "priority",
                "out_of_range",
                "must be between 0 and 100, or null",
            )]));
        }
        run(&s, e, &p, CaseAction::Priority { priority }).await
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    pub resolution: Resolution,
    /// The public text: required for corrected, clarified and updated (it is
    /// the published correction); shown to the reporters otherwise.
    #[schema(max_length = 2000)]
    pub public_note: Option<String>,
    /// The case this one duplicates (resolution `duplicate` only): its id
    /// or its number (`1042` or `#1042`).
    pub duplicate_of: Option<String>,
}

case_action! { "/api/v1/cases/{id}/resolve", ResolveRequest;
    /// Resolve the case. corrected, clarified and updated need `public_note`,
    /// published as a correction; duplicate needs `duplicate_of`.
    pub async fn resolve(
        e: CurrentEditor,
        s: web::Data<AppState>,
        p: web::Path<String>,
        body: ApiJson<ResolveRequest>,
    ) -> Result<HttpResponse, Problem> {
        let b = body.0;
        let r = Resolve::parse(
            b.resolution,
            b.public_note.as_deref(),
            b.duplicate_of.as_deref(),
        )?;
        run(&s, e, &p, CaseAction::Resolve(r)).await
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkResolveRequest {
    /// 1–200 case ids.
    #[schema(min_items = 1, max_items = 200)]
    pub case_ids: Vec<String>,
    /// Any resolution but those that publish a correction (corrections are
    /// written one case at a time).
    pub resolution: Resolution,
    pub public_note: Option<String>,
    pub duplicate_of: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkAnswer {
    /// How many cases were resolved.
    pub resolved: usize,
    /// One entry per case id, in the order given.
    pub results: Vec<BulkItem>,
}

/// Resolve many cases at once, e.g. a wave of spam. Each case is checked
/// and audited as if resolved alone; one refusal does not stop the others.
#[utoipa::path(post, path = "/api/v1/cases/resolve", tag = "cases",
    request_body = BulkResolveRequest,
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "Per-case results", body = BulkAnswer),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Viewer, or missing X-CSRF-Token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or a resolution that publishes a correction", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn bulk_resolve(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    body: ApiJson<BulkResolveRequest>,
) -> Result<HttpResponse, Problem> {
    let b = body.0;
    let results = cases::bulk_resolve(
        &state,
        editor.actor().clone(),
        &b.case_ids,
        b.resolution,
        b.public_note.as_deref(),
        b.duplicate_of.as_deref(),
    )
    .await?;
    let resolved = results.iter().filter(|r| r.resolved()).count();
    Ok(HttpResponse::Ok().json(BulkAnswer { resolved, results }))
}
