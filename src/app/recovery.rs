//! Getting in without a password: a password reset by email for local
//! accounts, and the one-time setup link that creates the first admin of a
//! new installation (no shell needed).
//!
//! Reset: anyone may ask for a link for an address; the answer is the same
//! whether an account has that address or not (`request_password_reset`).
//! For an enabled account a `password_resets` row is written with the
//! SHA-256 of its token and a `PasswordResetRequested` event, in one
//! transaction; the email consumer turns the event into an outbox email and
//! the worker derives the token from the reset's id with an instance key
//! when it sends it, so neither the token nor the link is stored anywhere.
//! The link works once, for `RESET_MINUTES`; using it sets the password and
//! ends every session of the account.

use std::net::IpAddr;

use chrono::Duration;

use super::AppState;
use crate::auth::{keys, limits, password, secret};
use crate::db::editors::{self as store, EditorChanges, EditorView, NewEditor};
use crate::db::{events, new_id, now, recovery};
use crate::domain::actor::Who;
use crate::domain::article::Language;
use crate::domain::editor::{EditorEmail, Password, RESET_MINUTES, Role, SETUP_HOURS, parse_name};
use crate::domain::event::Event;
use crate::error::{ErrorCode, FieldError, Problem};

/// Tokens are 43 characters; anything much longer is not one.
const MAX_TOKEN: usize = 200;

// A well-formed request whose token is not (or no longer) one: the field
// at fault is `token`, so 422 like any other field refusal.
fn reset_token_invalid() -> Problem {
    Problem::field(
        ErrorCode::ResetTokenInvalid,
        "Reset link not valid",
        "token",
        "is unknown, was used already or has expired; ask for a new link",
    )
}

fn setup_token_invalid() -> Problem {
    Problem::field(
        ErrorCode::SetupTokenInvalid,
        "Setup link not valid",
        "token",
        "is unknown, was used already or has expired; restart `erratum serve` for a new link",
    )
}

fn parse_password(field: &'static str, s: &str) -> Result<Password, Problem> {
    Password::parse(s)
        .map_err(|e| Problem::validation(vec![FieldError::new(field, e.code, e.message)]))
}

/// Ask for a reset link for `email`. `Ok` whatever happened (unknown or
/// disabled account, address over its hourly limit), so the answer tells
/// nothing, not even by its timing (the reset is written after answering);
/// 429 when this client asked too often, 422 for a malformed address.
pub async fn request_password_reset(
    state: &AppState,
    ip: IpAddr,
    email: String,
) -> Result<(), Problem> {
    if !state.settings.auth.oidc.passwords_allowed() {
        return Err(super::accounts::passwords_off());
    }
    let email = EditorEmail::parse(&email).map_err(|e| Problem::validation(vec![e]))?;
    if !state.login.check_reset(ip, email.as_str())? {
        tracing::info!("password reset not sent: address over its hourly limit");
        return Ok(());
    }
    // The address's allowance across instances; it does not depend on the
    // account, so waiting for it tells nothing.
    let (keys_, limits, client_ip) = (state.keys.clone(), state.login.clone(), ip.to_string());
    state
        .write(move |conn| {
            let t = now();
            let client = keys_.client_hashes(conn, &client_ip, t)?.0;
            limits::count_shared(conn, &[limits.shared_reset_ip(&client)], t)
        })
        .await?;
    let address = email.as_str().to_string();
    let (keys_, limits) = (state.keys.clone(), state.login.clone());
    let job = move |conn: &mut crate::db::DbConn| -> Result<bool, Problem> {
        let t = now();
        // The account's allowance across instances: over it, nothing is sent
        // (and the answer is the same).
        let account = keys_.day_hash(conn, &["reset-account", &address], t)?;
        match limits::count_shared(conn, &[limits.shared_reset_account(&account)], t) {
            Err(p) if p.code == ErrorCode::RateLimited => return Ok(false),
            other => other?,
        }
        let Some(row) = store::find_by_email(conn, &address)?.filter(|r| !r.disabled) else {
            return Ok(false);
        };
        let reset_id = new_id();
        let key = keys::instance_secret(conn, keys::RESET_SECRET_NAME)?;
        let digest = secret::digest(&keys::reset_token(&key, &reset_id));
        let expires_at = t + Duration::minutes(RESET_MINUTES);
        recovery::create_reset(conn, &reset_id, &row.id, &digest, t, expires_at)?;
        events::record(
            conn,
            &Event::PasswordResetRequested {
                reset_id,
                editor_id: row.id.clone(),
            },
            t,
        )?;
        Ok(true)
    };
    // The answer must not wait for the job: writing a reset takes longer
    // than finding no account, which would tell who has one. The job is
    // queued to the writer before answering (one poll), so later writes see
    // it, and finishes on its own task.
    let writer = state.writer.clone();
    let listeners = state.listeners.clone();
    let finish = move |done: Result<bool, Problem>| match done {
        Ok(true) => listeners.iter().for_each(|wake| wake()),
        Ok(false) => {}
        Err(p) => tracing::warn!(error = %p, "password reset not recorded"),
    };
    let mut running = Box::pin(async move { writer.run(job).await });
    let first = std::future::poll_fn(|cx| std::task::Poll::Ready(running.as_mut().poll(cx))).await;
    match first {
        std::task::Poll::Ready(done) => finish(done),
        std::task::Poll::Pending => {
            tokio::spawn(async move { finish(running.await) });
        }
    }
    // The same line either way: logs do not tell either.
    tracing::info!("password reset requested");
    Ok(())
}

/// Whether a reset link still works (the page shows the form or says why
/// not).
pub async fn check_reset_token(state: &AppState, token: String) -> Result<(), Problem> {
    if token.len() > MAX_TOKEN {
        return Err(reset_token_invalid());
    }
    let digest = secret::digest(&token);
    state
        .read(move |conn| Ok(recovery::live_reset(conn, &digest, now())?))
        .await?
        .map(|_| ())
        .ok_or_else(reset_token_invalid)
}

/// Use a reset link: the new password replaces the old one, the link and
/// every other outstanding link of the account stop working, and every
/// session of the account ends (API tokens, which do not depend on the
/// password, keep working).
pub async fn reset_password(
    state: &AppState,
    token: String,
    new_password: String,
) -> Result<(), Problem> {
    if !state.settings.auth.oidc.passwords_allowed() {
        return Err(super::accounts::passwords_off());
    }
    let new = parse_password("new_password", &new_password)?;
    // The token first: Argon2 runs only for a link that works.
    check_reset_token(state, token.clone()).await?;
    let hash = actix_web::web::block(move || password::hash(&new))
        .await?
        .map_err(Problem::internal)?;
    let digest = secret::digest(&token);
    let editor_id = state
        .write(move |conn| -> Result<String, Problem> {
            let t = now();
            let (reset_id, editor_id) =
                recovery::live_reset(conn, &digest, t)?.ok_or_else(reset_token_invalid)?;
            if !recovery::use_reset(conn, &reset_id, &editor_id, t)? {
                return Err(reset_token_invalid());
            }
            store::update(
                conn,
                &Who::Editor(editor_id.clone()),
                &editor_id,
                EditorChanges {
                    password_hash: Some(hash),
                    keep_session: None,
                    ..Default::default()
                },
            )?;
            Ok(editor_id)
        })
        .await?;
    tracing::info!(editor_id = %editor_id, "password reset");
    Ok(())
}

// ---- the first admin -------------------------------------------------------

/// On a new installation (no enabled admin), a fresh one-time setup link
/// (valid `SETUP_HOURS`, only its hash stored; earlier unused links stop
/// working). `None` once an admin exists.
pub async fn setup_link(state: &AppState) -> Result<Option<String>, Problem> {
    let token = secret::new_session_token();
    let digest = secret::digest(&token);
    let made = state
        .write(move |conn| -> Result<bool, Problem> {
            if recovery::has_admin(conn)? {
                return Ok(false);
            }
            let t = now();
            recovery::create_setup_token(conn, &digest, t, t + Duration::hours(SETUP_HOURS))?;
            Ok(true)
        })
        .await?;
    Ok(made.then(|| format!("{}/editor/setup?token={token}", state.public_url)))
}

/// Whether a setup link still works and no admin exists yet.
pub async fn check_setup_token(state: &AppState, token: String) -> Result<(), Problem> {
    if token.len() > MAX_TOKEN {
        return Err(setup_token_invalid());
    }
    let digest = secret::digest(&token);
    state
        .read(move |conn| {
            let live = recovery::live_setup_token(conn, &digest, now())?.is_some();
            if !live || recovery::has_admin(conn)? {
                return Err(setup_token_invalid());
            }
            Ok(())
        })
        .await
}

/// What the setup page asks of the first admin.
#[derive(Debug)]
pub struct FirstAdmin {
    pub email: String,
    pub name: String,
    pub language: String,
    pub password: String,
}

/// Create the first admin through the setup link, which is then spent. The
/// password is hashed with Argon2id like every account's.
pub async fn create_first_admin(
    state: &AppState,
    token: String,
    f: FirstAdmin,
) -> Result<EditorView, Problem> {
    check_setup_token(state, token.clone()).await?;
    let mut errors = Vec::new();
    let email = EditorEmail::parse(&f.email)
        .map_err(|e| errors.push(e))
        .ok();
    let name = parse_name(&f.name).map_err(|e| errors.push(e)).ok();
    let language = Language::parse(&f.language)
        .ok_or_else(|| {
            errors.push(FieldError::new(
                "language",
                "invalid_value",
                "must be \"fr\" or \"en\"",
            ))
        })
        .ok();
    let password = Password::parse(&f.password)
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(email), Some(name), Some(language), Some(password)) =
        (email, name, language, password)
    else {
        return Err(Problem::validation(errors));
    };
    let password_hash = actix_web::web::block(move || password::hash(&password))
        .await?
        .map_err(Problem::internal)?;
    let new = NewEditor {
        email,
        name,
        role: Role::Admin,
        desks: Vec::new(),
        language,
        password_hash,
    };
    let digest = secret::digest(&token);
    let row = state
        .write(move |conn| {
            let t = now();
            let id =
                recovery::live_setup_token(conn, &digest, t)?.ok_or_else(setup_token_invalid)?;
            if recovery::has_admin(conn)? || !recovery::use_setup_token(conn, &id, t)? {
                return Err(setup_token_invalid());
            }
            store::create(conn, &Who::Setup, &new)?.ok_or_else(|| {
                Problem::conflict(
                    ErrorCode::EditorExists,
                    "An editor with this email already exists.",
                )
            })
        })
        .await?;
    tracing::info!(editor_id = %row.id, "first admin created through the setup link");
    Ok(row.view(true))
}
