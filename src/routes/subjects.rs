//! Data-subject requests over HTTP: admins export or erase what is held
//! about a reader's address and list the readers' requests; a reader files a
//! request with their status link (the JSON twin of the status page's form).

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::extract::ApiJson;
use crate::app::AppState;
use crate::app::subjects::{self, Erased, SubjectExport, SubjectRequest};
use crate::auth::CurrentEditor;
use crate::error::{FieldError, Problem};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubjectQuery {
    /// The reader's email address.
    pub email: Option<String>,
}

/// Everything held about a reader's address, as JSON (GDPR art. 15). Audited;
/// the reader's open export requests are marked handled.
#[utoipa::path(get, path = "/api/v1/admin/subjects", tag = "editors", params(SubjectQuery),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "What is held (empty lists when nothing is)", body = SubjectExport),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "No or an invalid email", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn export(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    query: web::Query<SubjectQuery>,
) -> Result<HttpResponse, Problem> {
    let email = query.email.as_deref().unwrap_or_default();
    let found = subjects::export(&state, editor.actor(), email).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(found))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    pub email: String,
    /// Remove the reports' text too (default: keep it, unlinked from anyone).
    #[serde(default)]
    pub remove_text: bool,
}

/// Erase a reader's address everywhere (GDPR art. 17). Audited; the reader's
/// open requests are marked handled.
#[utoipa::path(post, path = "/api/v1/admin/subjects/erase", tag = "editors",
    request_body = EraseRequest,
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "What was erased", body = Erased),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "An invalid email", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn erase(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    body: ApiJson<EraseRequest>,
) -> Result<HttpResponse, Problem> {
    let ApiJson(EraseRequest { email, remove_text }) = body;
    let erased: Erased = subjects::erase(&state, editor.actor(), &email, remove_text).await?;
    Ok(HttpResponse::Ok().json(erased))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestsQuery {
    /// `open` (default) or `all`.
    pub status: Option<String>,
}

/// Readers' requests from their status pages, newest first (at most 500).
#[utoipa::path(get, path = "/api/v1/admin/subject-requests", tag = "editors", params(RequestsQuery),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The requests", body = Vec<SubjectRequest>),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "An unknown status", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn requests(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    query: web::Query<RequestsQuery>,
) -> Result<HttpResponse, Problem> {
    let open_only = match query.status.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(_) => {
            return Err(Problem::validation(vec![FieldError::new(
                "status",
                "invalid_value",
                "must be open or all",
            )]));
        }
    };
    let rows = subjects::requests(&state, editor.actor(), open_only).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(rows))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRequest {
    /// `export` (a copy of my data) or `erase` (erase my data).
    pub kind: String,
}

/// A reader asks, with their status link, for a copy of their data or its
/// erasure. Asking again while the same kind is open answers the open one
/// (200 instead of 201).
#[utoipa::path(post, path = "/api/v1/reports/status/{token}/data-requests", tag = "reports",
    params(("token" = String, Path, description = "The token from the status link")),
    request_body = FileRequest,
    responses(
        (status = 201, description = "Recorded", body = PublicRequest),
        (status = 200, description = "Already recorded and still open", body = PublicRequest),
        (status = 404, description = "Unknown token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "An unknown kind", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn file(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ApiJson<FileRequest>,
) -> Result<HttpResponse, Problem> {
    let (request, created) =
        subjects::file_request(&state, path.into_inner(), &body.0.kind).await?;
    let mut res = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    // What the request holds is the reader's; never stored by a cache.
    Ok(res
        .insert_header(("Cache-Control", "no-store"))
        .json(PublicRequest::from(request)))
}

/// The request as its reader sees it: not the address nor the article.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PublicRequest {
    pub id: String,
    pub kind: subjects::RequestKind,
    #[serde(with = "crate::domain::utc")]
    pub created_at: chrono::NaiveDateTime,
    /// When an admin answered it.
    #[serde(with = "crate::domain::utc::option")]
    pub handled_at: Option<chrono::NaiveDateTime>,
    pub report_reference: String,
}

impl From<SubjectRequest> for PublicRequest {
    fn from(r: SubjectRequest) -> Self {
        PublicRequest {
            id: r.id,
            kind: r.kind,
            created_at: r.created_at,
            handled_at: r.handled_at,
            report_reference: r.report_reference,
        }
    }
}
