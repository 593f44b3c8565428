//! Staff accounts: logging in and out, one's own password, the accounts
//! admins manage, and personal API tokens.

use std::net::IpAddr;

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::auth::{password, secret};
use crate::db::audit::{self, Subject};
pub use crate::db::editors::NewEditor;
use crate::db::editors::{self as store, EditorChanges};
pub use crate::db::editors::{EditorRow, EditorView, TokenView};
use crate::db::now;
use crate::domain::actor::{Actor, Who};
use crate::domain::article::Language;
use crate::domain::editor::{EditorEmail, MAX_PASSWORD, Password, Role, parse_desks, parse_name};
use crate::domain::text::clean;
use crate::error::{ErrorCode, FieldError, Problem};

fn invalid_credentials() -> Problem {
    Problem::new(
        actix_web::http::StatusCode::UNAUTHORIZED,
        ErrorCode::InvalidCredentials,
        "Invalid credentials",
        "The email or the password is not correct.",
    )
}

/// Local passwords are turned off (`auth.oidc.local_passwords = false`):
/// editors sign in through the OpenID provider.
pub fn passwords_off() -> Problem {
    Problem::new(
        actix_web::http::StatusCode::FORBIDDEN,
        ErrorCode::PasswordLoginDisabled,
        "Password login is turned off",
        "This installation signs editors in through its identity provider (single sign-on).",
    )
}

pub fn not_a_session() -> Problem {
    Problem::conflict(
        ErrorCode::NotASession,
        "This request is authenticated by an API token; this needs a login session.",
    )
}

fn editor_not_found() -> Problem {
    Problem::not_found(ErrorCode::EditorNotFound, "No such editor.")
}

/// A session just opened: its secret token goes into the cookie.
#[derive(Debug)]
pub struct Login {
    pub editor: EditorView,
    pub token: String,
    pub csrf_token: String,
    pub expires_at: NaiveDateTime,
    pub hours: u32,
}

/// Count a login attempt against the limits: in this instance's memory
/// first (a flood never reaches the database), then in the database, so
/// that several instances share one allowance.
async fn count_login(state: &AppState, ip: IpAddr, email: &str) -> Result<(), Problem> {
    state.login.check(ip, email)?;
    let (keys, limits) = (state.keys.clone(), state.login.clone());
    let (ip, email) = (ip.to_string(), email.trim().to_lowercase());
    state
        .write(move |conn| {
            let t = now();
            let client = keys.client_hashes(conn, &ip, t)?.0;
            let account = keys.day_hash(conn, &["login-account", &email], t)?;
            crate::auth::limits::count_shared(conn, &limits.shared_login(&client, &account), t)
        })
        .await
}

/// Check the address and password (counted against the login limits, right
/// or wrong) and open a session.
pub async fn login(
    state: &AppState,
    ip: IpAddr,
    email: String,
    password: String,
) -> Result<Login, Problem> {
    if !state.settings.auth.oidc.passwords_allowed() {
        return Err(passwords_off());
    }
    count_login(state, ip, &email).await?;
    if password.chars().count() > MAX_PASSWORD {
        return Err(invalid_credentials());
    }
    let row = state
        .read(move |conn| Ok(store::find_by_email(conn, &email)?))
        .await?
        .filter(|r| !r.disabled);
    let hash = row.as_ref().map(|r| r.password_hash.clone());
    // Argon2 is slow on purpose: off the async executor.
    let ok = actix_web::web::block(move || password::verify(&password, hash.as_deref())).await?;
    let Some(row) = row.filter(|_| ok) else {
        tracing::info!("login refused");
        return Err(invalid_credentials());
    };
    open_session(state, row, None).await
}

/// Open a session for an enabled account that proved who it is (a password,
/// or the OpenID provider: `via`, kept in the audit entry).
pub(super) async fn open_session(
    state: &AppState,
    row: EditorRow,
    via: Option<&'static str>,
) -> Result<Login, Problem> {
    let token = secret::new_session_token();
    let hours = state.settings.auth.session_hours;
    let expires_at = now() + Duration::hours(i64::from(hours));
    let digest = secret::digest(&token);
    let editor_id = row.id.clone();
    state
        .write(move |conn| -> Result<(), Problem> {
            store::create_session(conn, &editor_id, &digest, expires_at)?;
            audit::record(
                conn,
                &Who::Editor(editor_id.clone()),
                "login",
                Subject::Editor(&editor_id),
                None,
                via.map(|v| serde_json::json!({ "via": v })),
            )?;
            Ok(())
        })
        .await?;
    tracing::info!(editor_id = %row.id, "editor logged in");
    Ok(Login {
        editor: row.view(true),
        csrf_token: secret::csrf_token(&token),
        token,
        expires_at,
        hours,
    })
}

/// End a session, or every session of its editor.
pub async fn logout(
    state: &AppState,
    editor_id: String,
    session_id: String,
    everywhere: bool,
) -> Result<(), Problem> {
    state
        .write(move |conn| -> Result<(), Problem> {
            store::revoke_session(conn, &session_id)?;
            if everywhere {
                store::revoke_sessions(conn, &editor_id, None)?;
            }
            Ok(())
        })
        .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// An editor changes their own password from a login session: the current
/// password first (rate-limited like a login: a stolen session must not
/// become a way to guess it); every other session ends. The API and the
/// account page both use it.
pub async fn change_own_password(
    state: &AppState,
    actor: &Actor,
    session_id: Option<String>,
    ip: IpAddr,
    change: PasswordChange,
) -> Result<(), Problem> {
    let session_id = session_id.ok_or_else(not_a_session)?;
    let PasswordChange {
        current_password,
        new_password,
    } = change;
    let new = Password::parse(&new_password).map_err(|e| {
        Problem::validation(vec![FieldError::new("new_password", e.code, e.message)])
    })?;
    let id = actor.require_account()?.to_string();
    let row = state
        .read(move |conn| Ok(store::find(conn, &id)?))
        .await?
        .ok_or_else(|| Problem::unauthorized("The account no longer exists."))?;
    count_login(state, ip, &row.email).await?;
    let stored = row.password_hash.clone();
    let too_long = current_password.chars().count() > MAX_PASSWORD;
    let hashed = actix_web::web::block(move || {
        if !too_long && password::verify(&current_password, Some(&stored)) {
            Some(password::hash(&new))
        } else {
            None
        }
    })
    .await?;
    let hash = match hashed {
        None => {
            return Err(Problem::field(
                ErrorCode::InvalidCredentials,
                "Invalid credentials",
                "current_password",
                "is not correct",
            ));
        }
        Some(h) => h.map_err(Problem::internal)?,
    };
    let who = actor.who.clone();
    let editor_id = row.id.clone();
    state
        .write(move |conn| -> Result<(), Problem> {
            store::update(
                conn,
                &who,
                &editor_id,
                EditorChanges {
                    password_hash: Some(hash),
                    keep_session: Some(session_id),
                    ..Default::default()
                },
            )?;
            Ok(())
        })
        .await?;
    tracing::info!(editor_id = %row.id, "password changed");
    Ok(())
}

/// The accounts, with their addresses (`GET /api/v1/editors`): admins only,
/// as account management is theirs; others are refused with 403.
pub async fn list_editors(state: &AppState, actor: &Actor) -> Result<Vec<EditorView>, Problem> {
    actor.require(Role::Admin)?;
    let rows = state.read(|conn| Ok(store::list(conn)?)).await?;
    Ok(rows.iter().map(|r| r.view(true)).collect())
}

/// Names of the staff for the queue's assignee filter, without addresses:
/// any signed-in account may filter the queue by assignee.
pub async fn staff_names(state: &AppState, _actor: &Actor) -> Result<Vec<EditorView>, Problem> {
    let rows = state.read(|conn| Ok(store::list(conn)?)).await?;
    Ok(rows.iter().map(|r| r.view(false)).collect())
}

/// Every account as stored (admins' pages).
pub async fn editor_rows(state: &AppState, actor: &Actor) -> Result<Vec<EditorRow>, Problem> {
    actor.require(Role::Admin)?;
    state.read(|conn| Ok(store::list(conn)?)).await
}

pub async fn find_editor(
    state: &AppState,
    actor: &Actor,
    id: String,
) -> Result<EditorRow, Problem> {
    actor.require(Role::Admin)?;
    state
        .read(move |conn| store::find(conn, &id)?.ok_or_else(editor_not_found))
        .await
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

fn parse_language(s: &str) -> Result<Language, FieldError> {
    Language::parse(s)
        .ok_or_else(|| FieldError::new("language", "invalid_value", "must be \"fr\" or \"en\""))
}

/// An admin adds an account.
pub async fn create_editor(
    state: &AppState,
    actor: &Actor,
    b: NewEditorRequest,
) -> Result<EditorView, Problem> {
    actor.require(Role::Admin)?;
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
    let password_hash = actix_web::web::block(move || password::hash(&password))
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
    create_account(state, actor.who.clone(), new).await
}

/// Store a checked account (the API, the pages and the command line).
pub async fn create_account(
    state: &AppState,
    who: Who,
    new: NewEditor,
) -> Result<EditorView, Problem> {
    let row = state
        .write(move |conn| {
            store::create(conn, &who, &new)?.ok_or_else(|| {
                Problem::conflict(
                    ErrorCode::EditorExists,
                    "An editor with this email already exists.",
                )
            })
        })
        .await?;
    Ok(row.view(true))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditorPatch {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub role: Option<Role>,
    pub desks: Option<Vec<String>>,
    pub language: Option<String>,
    /// IANA time zone of the account's pages and emails; empty: the
    /// installation's (`[ui] time_zone`).
    #[schema(max_length = 64)]
    pub time_zone: Option<String>,
    /// Disabling revokes every session and API token of the account.
    pub disabled: Option<bool>,
    /// A new password (revokes the account's sessions).
    #[schema(min_length = 12, max_length = 1024)]
    pub password: Option<String>,
}

/// An admin changes an account: checked (admins cannot demote or disable
/// themselves), then stored with its audit entry.
pub async fn update_editor(
    state: &AppState,
    actor: &Actor,
    id: String,
    patch: EditorPatch,
) -> Result<EditorView, Problem> {
    let ch = checked_changes(actor, &id, patch).await?;
    let who = actor.who.clone();
    let row = state
        .write(move |conn| store::update(conn, &who, &id, ch)?.ok_or_else(editor_not_found))
        .await?;
    Ok(row.view(true))
}

async fn checked_changes(
    actor: &Actor,
    id: &str,
    b: EditorPatch,
) -> Result<EditorChanges, Problem> {
    actor.require(Role::Admin)?;
    if Some(id) == actor.editor_id()
        && (b.disabled == Some(true) || b.role.is_some_and(|r| r != Role::Admin))
    {
        return Err(Problem::conflict(
            ErrorCode::CannotChangeSelf,
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
    if let Some(z) = &b.time_zone {
        ch.time_zone = parse_time_zone(z).map_err(|e| errors.push(e)).ok();
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
            actix_web::web::block(move || password::hash(&p))
                .await?
                .map_err(Problem::internal)?,
        );
    }
    Ok(ch)
}

/// A time zone field: an IANA name, or empty for the installation's.
pub fn parse_time_zone(s: &str) -> Result<Option<String>, FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    crate::domain::time_zone::parse(s)
        .map(|z| Some(z.name().to_string()))
        .ok_or_else(|| {
            FieldError::new(
                "time_zone",
                "invalid_time_zone",
                "must be an IANA time zone name such as Europe/Paris",
            )
        })
}

/// The time zone the signed-in editor chose (`None`: the installation's).
pub async fn own_time_zone(state: &AppState, actor: &Actor) -> Result<Option<String>, Problem> {
    let id = actor.require_account()?.to_string();
    state
        .read(move |conn| Ok(store::find(conn, &id)?.and_then(|r| r.time_zone)))
        .await
}

/// An editor's own time zone (`None`: the installation's), audited.
pub async fn set_time_zone(
    state: &AppState,
    actor: &Actor,
    time_zone: Option<String>,
) -> Result<(), Problem> {
    update_own(
        state,
        actor,
        EditorChanges {
            time_zone: Some(time_zone),
            ..Default::default()
        },
    )
    .await
}

/// An editor's own interface language (pages and emails).
pub async fn set_language(
    state: &AppState,
    actor: &Actor,
    language: Language,
) -> Result<(), Problem> {
    update_own(
        state,
        actor,
        EditorChanges {
            language: Some(language),
            ..Default::default()
        },
    )
    .await
}

/// Apply a change of the caller's own account (audited by `store::update`).
async fn update_own(
    state: &AppState,
    actor: &Actor,
    changes: EditorChanges,
) -> Result<(), Problem> {
    let id = actor.require_account()?.to_string();
    let who = actor.who.clone();
    state
        .write(move |conn| {
            store::update(conn, &who, &id, changes)?
                .ok_or_else(editor_not_found)
                .map(|_| ())
        })
        .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. "CMS ingestion".
    #[schema(example = "CMS ingestion", min_length = 1, max_length = 100)]
    pub name: String,
    /// Days until it expires; absent: never (unless `auth.token_max_days`).
    #[schema(minimum = 1)]
    pub expires_in_days: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// The secret: shown this once, stored only as a hash.
    pub token: String,
    #[serde(flatten)]
    pub info: TokenView,
}

/// A personal API token, made from a login session (never from another
/// token); the token is shown once, in this answer.
pub async fn issue_token(
    state: &AppState,
    actor: &Actor,
    from_session: bool,
    new: NewToken,
) -> Result<CreatedToken, Problem> {
    if !from_session {
        return Err(Problem::conflict(
            ErrorCode::NotASession,
            "API tokens are created from a login session, not with another token.",
        ));
    }
    let NewToken {
        name,
        expires_in_days,
    } = new;
    let mut errors = Vec::new();
    let name = clean(&name, 100, false)
        .map_err(|e| errors.push(FieldError::new("name", e.code(), e.message())))
        .unwrap_or_default();
    let max = state.settings.auth.token_max_days;
    let days = match (expires_in_days, max) {
        (Some(0), _) => {
            errors.push(FieldError::new(
                "expires_in_days",
                "invalid_value",
                "must be at least 1",
            ));
            None
        }
        (Some(d), m) if m > 0 && d > m => {
            errors.push(FieldError::new(
                "expires_in_days",
                "too_large",
                format!("must be at most {m}"),
            ));
            None
        }
        (Some(d), _) => Some(d.min(365 * 100)),
        (None, 0) => None,
        (None, m) => Some(m),
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let expires_at: Option<NaiveDateTime> = days.map(|d| now() + Duration::days(i64::from(d)));
    let token = secret::new_api_token();
    let digest = secret::digest(&token);
    let prefix: String = token.chars().take(secret::SHOWN_PREFIX_LEN).collect();
    let who = actor.who.clone();
    let editor_id = actor.require_account()?.to_string();
    let info = state
        .write(move |conn| -> Result<TokenView, Problem> {
            Ok(store::create_token(
                conn, &who, &editor_id, &name, &digest, &prefix, expires_at,
            )?)
        })
        .await?;
    Ok(CreatedToken { token, info })
}

/// One's own tokens, or everyone's (admins, `all`).
pub async fn list_tokens(
    state: &AppState,
    actor: &Actor,
    all: bool,
) -> Result<Vec<TokenView>, Problem> {
    if all {
        actor.require(Role::Admin)?;
    }
    let owner = (!all).then(|| actor.editor_id().unwrap_or_default().to_string());
    state
        .read(move |conn| Ok(store::list_tokens(conn, owner.as_deref())?))
        .await
}

/// Revoke a token: one's own, or anyone's for admins unless `own_only`.
pub async fn revoke_token(
    state: &AppState,
    actor: &Actor,
    id: String,
    own_only: bool,
) -> Result<(), Problem> {
    let owner =
        (own_only || !actor.is_admin()).then(|| actor.editor_id().unwrap_or_default().to_string());
    let who = actor.who.clone();
    state
        .write(move |conn| {
            if store::revoke_token(conn, &who, &id, owner.as_deref())? {
                Ok(())
            } else {
                Err(Problem::not_found(
                    ErrorCode::TokenNotFound,
                    "No such token.",
                ))
            }
        })
        .await
}
