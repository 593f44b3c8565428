//! Admin pages: the staff accounts (add, edit, reset a password, disable,
//! enable).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::i18n;
use super::page::{self, see_other};
use super::session::{Editor, Posted};
use crate::app::AppState;
use crate::app::accounts::{self, EditorPatch, NewEditor};
use crate::auth::{CurrentEditor, password};
use crate::domain::article::Language;
use crate::domain::editor::{EditorEmail, Password, Role, parse_desks, parse_name};
use crate::error::{ErrorCode, FieldError, Problem};

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct NewEditorForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    /// Comma-separated.
    #[serde(default)]
    desks: String,
    #[serde(default)]
    language: String,
    #[serde(default, skip_serializing)]
    password: String,
}

/// The desks field: comma-separated names.
fn desk_list(field: &str) -> Vec<String> {
    field
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_string)
        .collect()
}

#[derive(Deserialize)]
pub struct Flash {
    done: Option<String>,
}

async fn editors_page(
    state: &AppState,
    editor: &CurrentEditor,
    status: StatusCode,
    form: NewEditorForm,
    errors: Vec<FieldError>,
    done: Option<String>,
) -> Result<HttpResponse, Problem> {
    let rows = accounts::editor_rows(state, editor.actor()).await?;
    let lang = page::lang_of(editor);
    let accounts: Vec<_> = rows
        .iter()
        .map(|r| {
            context! {
                id => r.id.clone(), email => r.email.clone(), name => r.name.clone(),
                role => r.role().as_str(), desks => r.desks(), language => r.language,
                disabled => r.disabled, created_at => r.created_at.to_string(),
                is_me => r.id == editor.id,
            }
        })
        .collect();
    let errors = page::field_errors(&errors);
    let done = done
        .filter(|d| d.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .map(|d| i18n::text(lang, &format!("flash.{d}")));
    page::render(
        status,
        "editors.html",
        context! {
            ..context! { accounts, form, errors, done },
            ..page::base(editor, "admin"),
        },
    )
}

/// GET /editor/admin/editors
pub async fn editors(
    Editor(editor): Editor,
    state: web::Data<AppState>,
    query: web::Query<Flash>,
) -> Result<HttpResponse, Problem> {
    let form = NewEditorForm {
        role: "editor".into(),
        language: editor.language.as_str().to_string(),
        ..Default::default()
    };
    editors_page(
        &state,
        &editor,
        StatusCode::OK,
        form,
        vec![],
        query.into_inner().done,
    )
    .await
}

/// POST /editor/admin/editors: add an account, checked like the API's.
pub async fn create_editor(
    state: web::Data<AppState>,
    posted: Posted<NewEditorForm>,
) -> Result<HttpResponse, Problem> {
    let Posted { editor, form } = posted;
    editor.require(Role::Admin)?;
    let mut errors = Vec::new();
    let email = EditorEmail::parse(&form.email)
        .map_err(|e| errors.push(e))
        .ok();
    let name = parse_name(&form.name).map_err(|e| errors.push(e)).ok();
    let role = Role::parse(&form.role)
        .ok_or_else(|| errors.push(FieldError::new("role", "invalid_value", "unknown role")))
        .ok();
    let desk_list = desk_list(&form.desks);
    let desks = parse_desks(&desk_list).map_err(|e| errors.push(e)).ok();
    let language = match Language::parse(&form.language) {
        Some(l) => Some(l),
        None => {
            errors.push(FieldError::new(
                "language",
                "invalid_value",
                "must be fr or en",
            ));
            None
        }
    };
    let password = Password::parse(&form.password)
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(email), Some(name), Some(role), Some(desks), Some(language), Some(password)) =
        (email, name, role, desks, language, password)
    else {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return editors_page(&state, &editor, status, form, errors, None).await;
    };
    let password_hash = web::block(move || password::hash(&password))
        .await?
        .map_err(Problem::internal)?;
    let new = NewEditor {
        email,
        name,
        role,
        desks,
        language,
        password_hash,
    };
    let created = accounts::create_account(&state, editor.actor().who.clone(), new).await;
    match created {
        Ok(_) => Ok(see_other("/editor/admin/editors?done=editor_added")),
        Err(p) if p.code == ErrorCode::EditorExists => {
            let lang = page::lang_of(&editor);
            let errors = vec![FieldError::new(
                "email",
                "editor_exists",
                i18n::text(lang, "admin.exists"),
            )];
            let status = StatusCode::CONFLICT;
            editors_page(&state, &editor, status, form, errors, None).await
        }
        Err(p) => Err(p),
    }
}

#[derive(Deserialize)]
pub struct StatusForm {
    disabled: String,
}

/// POST /editor/admin/editors/{id}/status: disable (revoking every session
/// and token) or enable an account. Admins cannot disable themselves.
pub async fn set_disabled(
    state: web::Data<AppState>,
    path: web::Path<String>,
    posted: Posted<StatusForm>,
) -> Result<HttpResponse, Problem> {
    let Posted { editor, form } = posted;
    editor.require(Role::Admin)?;
    let id = path.into_inner();
    let disabled = form.disabled == "true";
    if disabled && id == editor.id {
        return Err(Problem::conflict(
            ErrorCode::CannotChangeSelf,
            "Admins cannot disable themselves; ask another admin.",
        ));
    }
    let patch = EditorPatch {
        name: None,
        role: None,
        desks: None,
        language: None,
        time_zone: None,
        disabled: Some(disabled),
        password: None,
    };
    accounts::update_editor(&state, editor.actor(), id, patch).await?;
    let done = if disabled {
        "editor_disabled"
    } else {
        "editor_enabled"
    };
    Ok(see_other(&format!("/editor/admin/editors?done={done}")))
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct EditEditorForm {
    #[serde(default)]
    name: String,
    /// Absent for one's own account (admins cannot demote themselves).
    #[serde(default)]
    role: Option<String>,
    /// Comma-separated.
    #[serde(default)]
    desks: String,
    #[serde(default)]
    language: String,
    /// Empty: the installation's.
    #[serde(default)]
    time_zone: String,
    /// Empty: unchanged.
    #[serde(default, skip_serializing)]
    password: String,
}

async fn edit_page(
    state: &AppState,
    editor: &CurrentEditor,
    id: String,
    status: StatusCode,
    form: Option<EditEditorForm>,
    errors: Vec<FieldError>,
) -> Result<HttpResponse, Problem> {
    let row = accounts::find_editor(state, editor.actor(), id).await?;
    let form = form.unwrap_or_else(|| EditEditorForm {
        name: row.name.clone(),
        role: Some(row.role().as_str().to_string()),
        desks: row.desks().join(", "),
        language: row.language.as_str().to_string(),
        time_zone: row.time_zone.clone().unwrap_or_default(),
        password: String::new(),
    });
    let errors = page::field_errors(&errors);
    page::render(
        status,
        "editor_edit.html",
        context! {
            ..context! {
                account => context! {
                    id => row.id.clone(), email => row.email.clone(),
                    disabled => row.disabled, is_me => row.id == editor.id,
                },
                form, errors,
                tz => super::time_zone::field_context(state, None),
            },
            ..page::base(editor, "admin"),
        },
    )
}

/// GET /editor/admin/editors/{id}
pub async fn edit_editor(
    Editor(editor): Editor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    edit_page(
        &state,
        &editor,
        path.into_inner(),
        StatusCode::OK,
        None,
        vec![],
    )
    .await
}

/// POST /editor/admin/editors/{id}: name, role, desks, language and,
/// when given, a new password (which signs the account out everywhere).
/// Checked by the same use case as the API's.
pub async fn update_editor(
    state: web::Data<AppState>,
    path: web::Path<String>,
    posted: Posted<EditEditorForm>,
) -> Result<HttpResponse, Problem> {
    let Posted { editor, form } = posted;
    editor.require(Role::Admin)?;
    let id = path.into_inner();
    let role = match form.role.as_deref() {
        None => Ok(None),
        Some(r) => Role::parse(r)
            .map(Some)
            .ok_or_else(|| FieldError::new("role", "invalid_value", "unknown role")),
    };
    let desks = desk_list(&form.desks);
    let password_reset = !form.password.is_empty();
    let updated = match role {
        Err(e) => Err(Problem::validation(vec![e])),
        Ok(role) => {
            let patch = EditorPatch {
                name: Some(form.name.clone()),
                role,
                desks: Some(desks),
                language: Some(form.language.clone()),
                time_zone: Some(form.time_zone.clone()),
                disabled: None,
                password: password_reset.then(|| form.password.clone()),
            };
            accounts::update_editor(&state, editor.actor(), id.clone(), patch).await
        }
    };
    match updated {
        Ok(_) => {}
        Err(p) if !p.errors.is_empty() => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return edit_page(&state, &editor, id, status, Some(form), p.errors).await;
        }
        Err(p) => return Err(p),
    }
    let done = if password_reset {
        "editor_password_reset"
    } else {
        "editor_updated"
    };
    Ok(see_other(&format!("/editor/admin/editors?done={done}")))
}
