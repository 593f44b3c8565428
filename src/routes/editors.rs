//! Managing editor accounts (admins only, listing them included; the case
//! page names who a case can be assigned to).

use actix_web::{HttpResponse, web};

use super::extract::ApiJson;
use crate::app::AppState;
use crate::app::accounts::{self, EditorPatch, EditorView, NewEditorRequest};
use crate::auth::CurrentEditor;
use crate::error::Problem;

#[utoipa::path(get, path = "/api/v1/editors", tag = "editors",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The accounts", body = Vec<EditorView>),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn list(
    editor: CurrentEditor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let views: Vec<EditorView> = accounts::list_editors(&state, editor.actor()).await?;
    Ok(HttpResponse::Ok().json(views))
}

/// Create an account (admins).
#[utoipa::path(post, path = "/api/v1/editors", tag = "editors",
    request_body = NewEditorRequest,
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 201, description = "Created", body = EditorView),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or missing X-CSRF-Token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "The email is taken (editor_exists)", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn create(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    body: ApiJson<NewEditorRequest>,
) -> Result<HttpResponse, Problem> {
    let view = accounts::create_editor(&state, editor.actor(), body.0).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Change an account (admins). Admins cannot demote or disable themselves,
/// so a newsroom cannot lock itself out by mistake.
#[utoipa::path(patch, path = "/api/v1/editors/{id}", tag = "editors",
    params(("id" = String, Path, description = "The editor's id")),
    request_body = EditorPatch,
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "Changed", body = EditorView),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or missing X-CSRF-Token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such editor", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "An admin demoting or disabling themselves (cannot_change_self)", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn update(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ApiJson<EditorPatch>,
) -> Result<HttpResponse, Problem> {
    let view = accounts::update_editor(&state, editor.actor(), path.into_inner(), body.0).await?;
    Ok(HttpResponse::Ok().json(view))
}
