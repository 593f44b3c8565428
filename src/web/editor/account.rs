//! The signed-in editor's own account: changing the password, and the
//! personal API tokens that scripts and the CMS use. The same functions as
//! `POST /api/v1/auth/password` and `/api/v1/tokens`.
//!
//! A new token is shown once, in the answer to the form that created it
//! (never in a redirect's URL, which browsers keep in their history).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

use super::flash::{self, Flash};
use super::i18n;
use super::page;
use super::session::{Editor, NoFields, Posted};
use crate::app::AppState;
use crate::app::accounts::{self, CreatedToken, NewToken, PasswordChange};
use crate::auth::{CurrentEditor, client_ip};
use crate::error::{ErrorCode, FieldError, Problem};

pub const PATH: &str = "/editor/settings/account";

/// What the page shows besides the account's tokens.
#[derive(Default)]
struct Shown {
    status: Option<StatusCode>,
    /// Errors of the password form, or of the token form.
    password_errors: Vec<FieldError>,
    token_errors: Vec<FieldError>,
    /// A message for the whole page (a refused attempt, say).
    alert: Option<String>,
    created: Option<CreatedToken>,
    token_name: String,
}

async fn account_page(
    req: &HttpRequest,
    state: &AppState,
    editor: &CurrentEditor,
    shown: Shown,
) -> Result<HttpResponse, Problem> {
    let tokens = accounts::list_tokens(state, editor.actor(), false).await?;
    let now = chrono::Utc::now().naive_utc();
    let tokens: Vec<_> = tokens
        .into_iter()
        .map(|t| {
            let state = if t.revoked_at.is_some() {
                "revoked"
            } else if t.expires_at.is_some_and(|e| e <= now) {
                "expired"
            } else {
                "active"
            };
            context! {
                id => t.id, name => t.name, prefix => t.prefix, state,
                created_at => t.created_at.to_string(),
                expires_at => t.expires_at.map(|e| e.to_string()),
                last_used_at => t.last_used_at.map(|e| e.to_string()),
            }
        })
        .collect();
    let created = shown
        .created
        .as_ref()
        .map(|c| context! { token => c.token.clone(), name => c.info.name.clone() });
    let max_days = state.settings.auth.token_max_days;
    let editor_zone = accounts::own_time_zone(state, editor.actor()).await?;
    page::render(
        shown.status.unwrap_or(StatusCode::OK),
        "account.html",
        context! {
            ..context! {
                tokens,
                created,
                password_errors => page::field_errors(&shown.password_errors),
                password_bad => shown.password_errors.iter().map(|e| e.field.clone()).collect::<Vec<_>>(),
                token_errors => page::field_errors(&shown.token_errors),
                token_name => shown.token_name,
                alert => shown.alert,
                max_days => (max_days > 0).then_some(max_days),
                flash => Flash::from_request(req).message(page::lang_of(editor)),
                tz => super::time_zone::field_context(state, editor_zone.as_deref()),
            },
            ..page::base(editor, "account"),
        },
    )
}

/// GET /editor/settings/account
pub async fn show(
    Editor(editor): Editor,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    account_page(&req, &state, &editor, Shown::default()).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

/// A refusal the form shows next to its fields (or at its top).
struct Refusal {
    status: StatusCode,
    errors: Vec<FieldError>,
    alert: Option<String>,
    retry_after: Option<u64>,
}

/// Field errors and rate limits are shown on the form rather than as an
/// error page; anything else stays an error.
fn shown_on_form(p: Problem, lang: i18n::Lang) -> Result<Refusal, Problem> {
    if !p.errors.is_empty() {
        return Ok(Refusal {
            status: p.status,
            errors: p.errors,
            alert: None,
            retry_after: None,
        });
    }
    if p.code == ErrorCode::RateLimited {
        let secs = p.retry_after.unwrap_or(60);
        let text = i18n::text(lang, "account.rate_limited").replace("{n}", &secs.to_string());
        return Ok(Refusal {
            status: p.status,
            errors: vec![],
            alert: Some(text),
            retry_after: Some(secs),
        });
    }
    Err(p)
}

/// POST /editor/settings/password: this session stays open, every other
/// one of the account is closed.
pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    posted: Posted<PasswordForm>,
) -> Result<HttpResponse, Problem> {
    let Posted { editor, form } = posted;
    let lang = page::lang_of(&editor);
    let result = if form.new_password != form.confirm_password {
        Err(Problem::validation(vec![FieldError::new(
            "confirm_password",
            "mismatch",
            i18n::text(lang, "field_errors.mismatch"),
        )]))
    } else {
        let change = PasswordChange {
            current_password: form.current_password,
            new_password: form.new_password,
        };
        let ip = client_ip(&req, &state.settings.server.trusted_proxies);
        accounts::change_own_password(&state, editor.actor(), editor.session_id(), ip, change).await
    };
    match result {
        Ok(()) => Ok(page::see_other(&flash::with(
            PATH,
            &[("done", "password_changed")],
        ))),
        Err(p) => {
            let refused = shown_on_form(p, lang)?;
            let shown = Shown {
                status: Some(refused.status),
                password_errors: refused.errors,
                alert: refused.alert,
                ..Default::default()
            };
            let res = account_page(&req, &state, &editor, shown).await?;
            Ok(page::with_retry_after(res, refused.retry_after))
        }
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
    /// Empty: the longest the configuration allows (or never).
    #[serde(default)]
    expires_in_days: String,
}

/// POST /editor/settings/tokens: the answer shows the new token, once.
pub async fn create_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    posted: Posted<TokenForm>,
) -> Result<HttpResponse, Problem> {
    let Posted { editor, form } = posted;
    let lang = page::lang_of(&editor);
    let result = async {
        let days = form.expires_in_days.trim();
        let expires_in_days = match days.parse::<u32>() {
            _ if days.is_empty() => None,
            Ok(d) => Some(d),
            Err(_) => {
                return Err(Problem::validation(vec![FieldError::new(
                    "expires_in_days",
                    "not_a_number",
                    i18n::text(lang, "field_errors.not_a_number"),
                )]));
            }
        };
        let new = NewToken {
            name: form.name.clone(),
            expires_in_days,
        };
        let from_session = editor.session_id().is_some();
        accounts::issue_token(&state, editor.actor(), from_session, new).await
    }
    .await;
    let shown = match result {
        Ok(created) => Shown {
            created: Some(created),
            ..Default::default()
        },
        Err(p) => {
            let refused = shown_on_form(p, lang)?;
            Shown {
                status: Some(refused.status),
                token_errors: refused.errors,
                alert: refused.alert,
                token_name: form.name,
                ..Default::default()
            }
        }
    };
    account_page(&req, &state, &editor, shown).await
}

/// POST /editor/settings/tokens/{id}/revoke: one's own tokens only (an
/// admin revokes others' through the API).
pub async fn revoke_token(
    state: web::Data<AppState>,
    path: web::Path<String>,
    posted: Posted<NoFields>,
) -> Result<HttpResponse, Problem> {
    let editor = posted.editor;
    let params = match accounts::revoke_token(&state, editor.actor(), path.into_inner(), true).await
    {
        Ok(()) => ("done", "token_revoked"),
        Err(p) if p.code == ErrorCode::TokenNotFound => ("err", "token_not_found"),
        Err(p) => return Err(p),
    };
    Ok(page::see_other(&flash::with(PATH, &[params])))
}
