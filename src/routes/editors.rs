//! Managing editor accounts (admins), and the staff list every editor needs
//! to assign cases.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::extract::ApiJson;
use crate::auth::{CurrentEditor, password};
use crate::db::editors::{self as store, EditorChanges, EditorView, NewEditor};
use crate::domain::editor::{EditorEmail, Password, Role, parse_desks, parse_name};
use crate::error::{FieldError, Problem};
use crate::state::AppState;

fn parse_language(s: &str) -> Result<String, FieldError> {
    match s {
        "fr" | "en" => Ok(s.to_string()),
        _ => Err(FieldError::new(
            "language",
            "invalid_value",
            "must be \"fr\" or \"en\"",
        )),
    }
}

/// Every account, by name. The addresses are shown to admins only.
#[utoipa::path(get, path = "/api/v1/editors", tag = "editors",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The accounts", body = Vec<EditorView>),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn list(
    editor: CurrentEditor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let admin = editor.is_admin();
    let rows = state.read(|conn| Ok(store::list(conn)?)).await?;
    let views: Vec<EditorView> = rows.iter().map(|r| r.view(admin)).collect();
    Ok(HttpResponse::Ok().json(views))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEditorRequest {
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub role: Role,
    /// Desks whose cases the editor triages; empty or absent: every desk.
    #[serde(default)]
    pub desks: Vec<String>,
    /// `fr` (default) or `en`.
    pub language: Option<String>,
    /// At least 12 characters.
    #[schema(min_length = 12, max_length = 1024)]
    pub password: String,
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
    editor.require(Role::Admin)?;
    let b = body.0;
    let mut errors = Vec::new();
    let email = EditorEmail::parse(&b.email)
        .map_err(|e| errors.push(e))
        .ok();
    let name = parse_name(&b.name).map_err(|e| errors.push(e)).ok();
    let desks = parse_desks(&b.desks).map_err(|e| errors.push(e)).ok();
    let language = parse_language(b.language.as_deref().unwrap_or("fr"))
        .map_err(|e| errors.push(e))
        .ok();
    let password = Password::parse(&b.password)
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(email), Some(name), Some(desks), Some(language), Some(password)) =
        (email, name, desks, language, password)
    else {
        return Err(Problem::validation(errors));
    };
    let password_hash = web::block(move || password::hash(&password))
        .await?
        .map_err(Problem::internal)?;
    let new = NewEditor {
        email,
        name,
        role: b.role,
        desks,
        language,
        password_hash,
    };
    let actor = editor.actor();
    let row = state
        .writer
        .run(move |conn| store::create(conn, &actor, &new))
        .await?;
    Ok(HttpResponse::Created().json(row.view(true)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditorPatch {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub role: Option<Role>,
    pub desks: Option<Vec<String>>,
    pub language: Option<String>,
    /// Disabling revokes every session and API token of the account.
    pub disabled: Option<bool>,
    /// A new password (revokes the account's sessions).
    #[schema(min_length = 12, max_length = 1024)]
    pub password: Option<String>,
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
    let id = path.into_inner();
    let ch = checked_changes(&editor, &id, body.0).await?;
    let actor = editor.actor();
    let row = state
        .writer
        .run(move |conn| store::update(conn, &actor, &id, ch))
        .await?;
    Ok(HttpResponse::Ok().json(row.view(true)))
}

/// Check a change to an account, as an admin makes it (the API's PATCH and
/// the accounts page): admins cannot demote or disable themselves, every
/// field is validated like at creation, a new password is hashed.
pub async fn checked_changes(
    editor: &CurrentEditor,
    id: &str,
    b: EditorPatch,
) -> Result<EditorChanges, Problem> {
    editor.require(Role::Admin)?;
    if id == editor.id && (b.disabled == Some(true) || b.role.is_some_and(|r| r != Role::Admin)) {
        return Err(Problem::conflict(
            "cannot_change_self",
            "Admins cannot demote or disable themselves; ask another admin.",
        ));
    }
    let mut errors = Vec::new();
    let mut ch = EditorChanges {
        role: b.role,
        disabled: b.disabled,
        ..Default::default()
    };
    if let Some(n) = &b.name {
        ch.name = parse_name(n).map_err(|e| errors.push(e)).ok();
    }
    if let Some(d) = &b.desks {
        ch.desks = parse_desks(d).map_err(|e| errors.push(e)).ok();
    }
    if let Some(l) = &b.language {
        ch.language = parse_language(l).map_err(|e| errors.push(e)).ok();
    }
    let password = match &b.password {
        Some(p) => Password::parse(p).map_err(|e| errors.push(e)).ok(),
        None => None,
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    if let Some(p) = password {
        ch.password_hash = Some(
            web::block(move || password::hash(&p))
                .await?
                .map_err(Problem::internal)?,
        );
    }
    Ok(ch)
}
