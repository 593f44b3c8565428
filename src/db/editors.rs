//! Editor accounts, their sessions and their personal API tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::audit;
use super::dialect::is_unique_violation;
use super::schema::{api_tokens, editor_sessions, editors};
use super::{DbConn, new_id, now};
use crate::domain::actor::Who;
use crate::domain::article::Language;
use crate::domain::editor::{EditorEmail, Role};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = editors)]
pub struct EditorRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub desks: String,
    pub password_hash: String,
    pub disabled: bool,
    pub language: Language,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// IANA name of the editor's own time zone; `None` follows `[ui]`.
    pub time_zone: Option<String>,
}

impl EditorRow {
    pub fn role(&self) -> Role {
        self.role
    }

    pub fn desks(&self) -> Vec<String> {
        serde_json::from_str(&self.desks).unwrap_or_default()
    }

    /// The account as the API shows it; the address only when `with_email`.
    pub fn view(&self, with_email: bool) -> EditorView {
        EditorView {
            id: self.id.clone(),
            email: with_email.then(|| self.email.clone()),
            name: self.name.clone(),
            role: self.role(),
            desks: self.desks(),
            language: self.language,
            time_zone: self.time_zone.clone(),
            disabled: self.disabled,
            created_at: self.created_at,
        }
    }
}

/// An editor account as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EditorView {
    pub id: String,
    /// Shown to admins and to the account itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub name: String,
    pub role: Role,
    /// Desks whose cases this editor triages; empty means every desk.
    pub desks: Vec<String>,
    /// `fr` or `en`: the language of the editor's emails and pages.
    pub language: Language,
    /// IANA name of the editor's own time zone for pages and emails; null
    /// follows the installation's `[ui] time_zone`.
    pub time_zone: Option<String>,
    pub disabled: bool,
    #[serde(with = "crate::domain::utc")]
    pub created_at: NaiveDateTime,
}

/// A new account, already validated and with its password hashed.
pub struct NewEditor {
    pub email: EditorEmail,
    pub name: String,
    pub role: Role,
    pub desks: Vec<String>,
    pub language: Language,
    pub password_hash: String,
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<EditorRow>> {
    editors::table
        .filter(editors::email.eq(email.trim().to_lowercase()))
        .select(EditorRow::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<EditorRow>> {
    editors::table
        .find(id)
        .select(EditorRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<EditorRow>> {
    editors::table
        .order((editors::name.asc(), editors::id.asc()))
        .select(EditorRow::as_select())
        .load(conn)
}

/// Create an account; `None` when the address is taken.
pub fn create(conn: &mut DbConn, actor: &Who, e: &NewEditor) -> QueryResult<Option<EditorRow>> {
    let t = now();
    let id = new_id();
    let inserted = conn.transaction(|c| {
        diesel::insert_into(editors::table)
            .values((
                editors::id.eq(&id),
                editors::email.eq(e.email.as_str()),
                editors::name.eq(&e.name),
                editors::role.eq(e.role),
                editors::desks.eq(serde_json::to_string(&e.desks).unwrap_or_default()),
                editors::password_hash.eq(&e.password_hash),
                editors::disabled.eq(false),
                editors::language.eq(e.language),
                editors::created_at.eq(t),
                editors::updated_at.eq(t),
            ))
            .execute(c)
    });
    match inserted {
        Ok(_) => {}
        Err(err) if is_unique_violation(&err) => return Ok(None),
        Err(err) => return Err(err),
    }
    let row = find(conn, &id)?.ok_or(diesel::result::Error::NotFound)?;
    audit::record(
        conn,
        actor,
        "create",
        audit::Subject::Editor(&id),
        None,
        Some(audit_state(&row)),
    )?;
    Ok(Some(row))
}

/// What the audit log keeps of an account (never the hash).
fn audit_state(row: &EditorRow) -> serde_json::Value {
    serde_json::json!({
        "email": row.email, "name": row.name, "role": row.role, "desks": row.desks(),
        "language": row.language, "disabled": row.disabled, "time_zone": row.time_zone,
    })
}

/// Changes to an account; `None` leaves a field as it is.
#[derive(Default)]
pub struct EditorChanges {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub desks: Option<Vec<String>>,
    pub language: Option<Language>,
    /// `Some(None)` goes back to the installation's time zone.
    pub time_zone: Option<Option<String>>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
    /// The session that made a password change, which stays open.
    pub keep_session: Option<String>,
}

/// Apply changes (`None`: no such account); disabling or changing the
/// password revokes every session and token of the account in the same
/// transaction.
pub fn update(
    conn: &mut DbConn,
    actor: &Who,
    id: &str,
    ch: EditorChanges,
) -> QueryResult<Option<EditorRow>> {
    let Some(before) = find(conn, id)? else {
        return Ok(None);
    };
    let t = now();
    let after = EditorRow {
        name: ch.name.unwrap_or(before.name.clone()),
        role: ch.role.unwrap_or(before.role),
        desks: ch.desks.map_or(before.desks.clone(), |d| {
            serde_json::to_string(&d).unwrap_or_default()
        }),
        language: ch.language.unwrap_or(before.language),
        time_zone: ch.time_zone.clone().unwrap_or(before.time_zone.clone()),
        disabled: ch.disabled.unwrap_or(before.disabled),
        password_hash: ch
            .password_hash
            .clone()
            .unwrap_or(before.password_hash.clone()),
        updated_at: t,
        ..before.clone()
    };
    diesel::update(editors::table.find(id))
        .set((
            editors::name.eq(&after.name),
            editors::role.eq(after.role),
            editors::desks.eq(&after.desks),
            editors::language.eq(after.language),
            editors::time_zone.eq(&after.time_zone),
            editors::disabled.eq(after.disabled),
            editors::password_hash.eq(&after.password_hash),
            editors::updated_at.eq(t),
        ))
        .execute(conn)?;
    let password_changed = ch.password_hash.is_some();
    if after.disabled && !before.disabled {
        revoke_all(conn, id, None)?;
    } else if password_changed {
        // Whoever knew the old password is logged out; API tokens do not
        // depend on the password and keep working.
        revoke_sessions(conn, id, ch.keep_session.as_deref())?;
    }
    let mut after_state = audit_state(&after);
    if password_changed {
        after_state["password_changed"] = true.into();
    }
    audit::record(
        conn,
        actor,
        "update",
        audit::Subject::Editor(id),
        Some(audit_state(&before)),
        Some(after_state),
    )?;
    Ok(Some(after))
}

/// Revoke every session and API token of an editor (but `keep_session`).
pub fn revoke_all(
    conn: &mut DbConn,
    editor_id: &str,
    keep_session: Option<&str>,
) -> QueryResult<()> {
    revoke_sessions(conn, editor_id, keep_session)?;
    let t = now();
    diesel::update(
        api_tokens::table
            .filter(api_tokens::editor_id.eq(editor_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(t))
    .execute(conn)?;
    Ok(())
}

// ---- sessions -------------------------------------------------------------

/// Revoke every session of an editor but `keep`.
pub fn revoke_sessions(conn: &mut DbConn, editor_id: &str, keep: Option<&str>) -> QueryResult<()> {
    diesel::update(
        editor_sessions::table
            .filter(editor_sessions::editor_id.eq(editor_id))
            .filter(editor_sessions::revoked_at.is_null())
            .filter(editor_sessions::id.ne(keep.unwrap_or(""))),
    )
    .set(editor_sessions::revoked_at.eq(now()))
    .execute(conn)?;
    Ok(())
}

/// Store a new session (its token's digest) and forget the editor's expired
/// or revoked ones, which keeps the table small without a sweeper.
pub fn create_session(
    conn: &mut DbConn,
    editor_id: &str,
    token_digest: &str,
    expires_at: NaiveDateTime,
) -> QueryResult<String> {
    let t = now();
    diesel::delete(
        editor_sessions::table
            .filter(editor_sessions::editor_id.eq(editor_id))
            .filter(
                editor_sessions::expires_at
                    .le(t)
                    .or(editor_sessions::revoked_at.is_not_null()),
            ),
    )
    .execute(conn)?;
    let id = new_id();
    diesel::insert_into(editor_sessions::table)
        .values((
            editor_sessions::id.eq(&id),
            editor_sessions::editor_id.eq(editor_id),
            editor_sessions::token_hash.eq(token_digest),
            editor_sessions::created_at.eq(t),
            editor_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(id)
}

/// The live session with this token digest, and its enabled editor.
pub fn session_editor(
    conn: &mut DbConn,
    token_digest: &str,
) -> QueryResult<Option<(String, NaiveDateTime, EditorRow)>> {
    editor_sessions::table
        .inner_join(editors::table)
        .filter(editor_sessions::token_hash.eq(token_digest))
        .filter(editor_sessions::revoked_at.is_null())
        .filter(editor_sessions::expires_at.gt(now()))
        .filter(editors::disabled.eq(false))
        .select((
            editor_sessions::id,
            editor_sessions::expires_at,
            EditorRow::as_select(),
        ))
        .first(conn)
        .optional()
}

pub fn revoke_session(conn: &mut DbConn, session_id: &str) -> QueryResult<()> {
    diesel::update(editor_sessions::table.find(session_id))
        .set(editor_sessions::revoked_at.eq(now()))
        .execute(conn)?;
    Ok(())
}

// ---- personal API tokens --------------------------------------------------

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = api_tokens)]
pub struct TokenView {
    pub id: String,
    pub editor_id: String,
    pub name: String,
    /// The token's first characters, to recognise it.
    pub prefix: String,
    #[serde(with = "crate::domain::utc")]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::domain::utc::option")]
    pub expires_at: Option<NaiveDateTime>,
    #[serde(with = "crate::domain::utc::option")]
    pub last_used_at: Option<NaiveDateTime>,
    #[serde(with = "crate::domain::utc::option")]
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn create_token(
    conn: &mut DbConn,
    actor: &Who,
    editor_id: &str,
    name: &str,
    token_digest: &str,
    prefix: &str,
    expires_at: Option<NaiveDateTime>,
) -> QueryResult<TokenView> {
    let id = new_id();
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::id.eq(&id),
            api_tokens::editor_id.eq(editor_id),
            api_tokens::name.eq(name),
            api_tokens::token_hash.eq(token_digest),
            api_tokens::prefix.eq(prefix),
            api_tokens::created_at.eq(now()),
            api_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    let view = api_tokens::table
        .find(&id)
        .select(TokenView::as_select())
        .first(conn)?;
    audit::record(
        conn,
        actor,
        "create",
        audit::Subject::Token(&id),
        None,
        Some(
            serde_json::json!({"editor_id": editor_id, "name": name, "prefix": prefix,
            "expires_at": expires_at.as_ref().map(crate::domain::utc::format)}),
        ),
    )?;
    Ok(view)
}

/// Tokens, newest first: one editor's, or everyone's (`None`).
pub fn list_tokens(conn: &mut DbConn, editor_id: Option<&str>) -> QueryResult<Vec<TokenView>> {
    let mut q = api_tokens::table
        .select(TokenView::as_select())
        .order(api_tokens::id.desc())
        .into_boxed();
    if let Some(e) = editor_id {
        q = q.filter(api_tokens::editor_id.eq(e.to_string()));
    }
    q.load(conn)
}

/// Revoke a token; false when there is no such token. `owner` limits it to
/// that editor's tokens (others are "not found", so token ids of colleagues
/// are not confirmed).
pub fn revoke_token(
    conn: &mut DbConn,
    actor: &Who,
    id: &str,
    owner: Option<&str>,
) -> QueryResult<bool> {
    let token: Option<TokenView> = api_tokens::table
        .find(id)
        .select(TokenView::as_select())
        .first(conn)
        .optional()?;
    let Some(token) = token.filter(|t| owner.is_none_or(|o| o == t.editor_id)) else {
        return Ok(false);
    };
    if token.revoked_at.is_some() {
        return Ok(true);
    }
    diesel::update(api_tokens::table.find(id))
        .set(api_tokens::revoked_at.eq(now()))
        .execute(conn)?;
    audit::record(
        conn,
        actor,
        "revoke",
        audit::Subject::Token(id),
        Some(serde_json::json!({"editor_id": token.editor_id, "name": token.name})),
        None,
    )?;
    Ok(true)
}

/// The live token with this digest and its enabled editor, with when it was
/// last used.
pub fn token_editor(
    conn: &mut DbConn,
    token_digest: &str,
) -> QueryResult<Option<(String, Option<NaiveDateTime>, EditorRow)>> {
    let t = now();
    api_tokens::table
        .inner_join(editors::table)
        .filter(api_tokens::token_hash.eq(token_digest))
        .filter(api_tokens::revoked_at.is_null())
        .filter(
            api_tokens::expires_at
                .is_null()
                .or(api_tokens::expires_at.gt(t)),
        )
        .filter(editors::disabled.eq(false))
        .select((
            api_tokens::id,
            api_tokens::last_used_at,
            EditorRow::as_select(),
        ))
        .first(conn)
        .optional()
}

pub fn touch_token(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::update(api_tokens::table.find(id))
        .set(api_tokens::last_used_at.eq(now()))
        .execute(conn)?;
    Ok(())
}
