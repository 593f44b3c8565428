//! Pages reached without a session: "Forgot your password?" (ask for a
//! link, then choose the new password) and the first admin's setup link.
//!
//! Like the login form they have no session to bind a CSRF token to, so
//! each form repeats a random value also held in a SameSite=Strict cookie
//! (double submit).

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};
use serde::Deserialize;

use super::i18n::{self, Lang};
use super::login::login_lang;
use super::page::{self, see_other};
use super::session;
use crate::app::AppState;
use crate::app::recovery::{self, FirstAdmin};
use crate::auth::{client_ip, secret, secure_cookie};
use crate::error::{ErrorCode, FieldError, Problem};

const FORM_CSRF_COOKIE: &str = "erratum_form_csrf";
const COOKIE_PATH: &str = "/editor/";

fn form_csrf(req: &HttpRequest) -> String {
    req.cookie(FORM_CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() >= 32)
        .unwrap_or_else(secret::new_session_token)
}

fn csrf_refused() -> Problem {
    Problem::new(
        StatusCode::FORBIDDEN,
        ErrorCode::CsrfTokenInvalid,
        "CSRF token missing or wrong",
        "This form must be sent from its page.",
    )
}

/// The form body, once its token matches the cookie's.
async fn checked_form(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(web::BytesMut, String), Problem> {
    let body = session::read_form(req, &mut payload.into_inner()).await?;
    let sent = session::field(&body, session::CSRF_FIELD).unwrap_or_default();
    let expected = req.cookie(FORM_CSRF_COOKIE).map(|c| c.value().to_string());
    if !expected.is_some_and(|e| !sent.is_empty() && secret::same_secret(&sent, &e)) {
        return Err(csrf_refused());
    }
    Ok((body, sent))
}

/// Render `recovery.html` at `step`, with the form's CSRF cookie.
fn render(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    lang: Lang,
    csrf: String,
    ctx: Value,
) -> Result<HttpResponse, Problem> {
    let ctx = context! {
        ..ctx,
        ..context! { form_csrf => csrf.clone(), error => Value::from(()), errors => Vec::<Value>::new(), email => "", name => "", token => "" },
        ..page::anonymous(lang),
    };
    let mut res = page::render(status, "recovery.html", ctx)?;
    let cookie = Cookie::build(FORM_CSRF_COOKIE, csrf)
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure_cookie(state, req))
        .finish();
    res.add_cookie(&cookie)
        .map_err(|e| Problem::internal(format!("cookie: {e}")))?;
    Ok(res)
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// GET /editor/password/forgot
pub async fn forgot_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LangQuery>,
) -> Result<HttpResponse, Problem> {
    let lang = login_lang(&req, query.lang.as_deref());
    let csrf = form_csrf(&req);
    render(
        &req,
        &state,
        StatusCode::OK,
        lang,
        csrf,
        context! { step => "forgot" },
    )
}

#[derive(Deserialize)]
struct ForgotForm {
    email: String,
    lang: Option<String>,
}

/// POST /editor/password/forgot: the same page whether or not an account has
/// the address.
pub async fn forgot_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let (body, csrf) = checked_form(&req, payload).await?;
    let f: ForgotForm = session::parse(&body)?;
    let lang = login_lang(&req, f.lang.as_deref());
    let ip = client_ip(&req, &state.settings.server.trusted_proxies);
    match recovery::request_password_reset(&state, ip, f.email.clone()).await {
        Ok(()) => render(
            &req,
            &state,
            StatusCode::OK,
            lang,
            csrf,
            context! { step => "sent" },
        ),
        Err(p) if p.status.as_u16() == 429 => {
            let ctx = context! { step => "forgot", email => f.email, error => i18n::text(lang, "recovery.rate_limited") };
            let res = render(&req, &state, p.status, lang, csrf, ctx)?;
            Ok(page::with_retry_after(res, p.retry_after))
        }
        Err(p) if p.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let ctx = context! { step => "forgot", email => f.email, errors => page::field_errors(&p.errors) };
            render(&req, &state, p.status, lang, csrf, ctx)
        }
        Err(p) => Err(p),
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
    lang: Option<String>,
}

/// GET /editor/password/reset?token=…: the form, or why the link is dead.
pub async fn reset_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, Problem> {
    let lang = login_lang(&req, query.lang.as_deref());
    let csrf = form_csrf(&req);
    let token = query.token.clone().unwrap_or_default();
    match recovery::check_reset_token(&state, token.clone()).await {
        Ok(()) => render(
            &req,
            &state,
            StatusCode::OK,
            lang,
            csrf,
            context! { step => "reset", token },
        ),
        Err(p) if p.code == ErrorCode::ResetTokenInvalid => render(
            &req,
            &state,
            p.status,
            lang,
            csrf,
            context! { step => "invalid" },
        ),
        Err(p) => Err(p),
    }
}

#[derive(Deserialize)]
struct ResetForm {
    token: String,
    new_password: String,
    confirm_password: String,
    lang: Option<String>,
}

fn mismatch(field: &'static str) -> Problem {
    Problem::validation(vec![FieldError::new(
        field,
        "mismatch",
        "the two passwords differ",
    )])
}

/// POST /editor/password/reset: the new password, then the sign-in page.
pub async fn reset_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let (body, csrf) = checked_form(&req, payload).await?;
    let f: ResetForm = session::parse(&body)?;
    let lang = login_lang(&req, f.lang.as_deref());
    let done = if f.new_password != f.confirm_password {
        Err(mismatch("confirm_password"))
    } else {
        recovery::reset_password(&state, f.token.clone(), f.new_password).await
    };
    match done {
        Ok(()) => Ok(see_other(&format!(
            "/editor/login?reset=1&lang={}",
            lang.as_str()
        ))),
        Err(p) if p.code == ErrorCode::ResetTokenInvalid => render(
            &req,
            &state,
            p.status,
            lang,
            csrf,
            context! { step => "invalid" },
        ),
        Err(p) if p.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let ctx = context! { step => "reset", token => f.token, errors => page::field_errors(&p.errors) };
            render(&req, &state, p.status, lang, csrf, ctx)
        }
        Err(p) => Err(p),
    }
}

/// GET /editor/setup?token=…: the first admin's form, while no admin exists
/// and the link is live.
pub async fn setup_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, Problem> {
    let lang = login_lang(&req, query.lang.as_deref());
    let csrf = form_csrf(&req);
    let token = query.token.clone().unwrap_or_default();
    match recovery::check_setup_token(&state, token.clone()).await {
        Ok(()) => render(
            &req,
            &state,
            StatusCode::OK,
            lang,
            csrf,
            context! { step => "setup", token },
        ),
        Err(p) if p.code == ErrorCode::SetupTokenInvalid => render(
            &req,
            &state,
            p.status,
            lang,
            csrf,
            context! { step => "setup_invalid" },
        ),
        Err(p) => Err(p),
    }
}

#[derive(Deserialize)]
struct SetupForm {
    token: String,
    email: String,
    name: String,
    language: String,
    password: String,
    confirm_password: String,
}

/// POST /editor/setup: create the first admin, then the sign-in page.
pub async fn setup_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let (body, csrf) = checked_form(&req, payload).await?;
    let f: SetupForm = session::parse(&body)?;
    let lang = Lang::from_tag(&f.language);
    let done = if f.password != f.confirm_password {
        Err(mismatch("confirm_password"))
    } else {
        let admin = FirstAdmin {
            email: f.email.clone(),
            name: f.name.clone(),
            language: f.language.clone(),
            password: f.password,
        };
        recovery::create_first_admin(&state, f.token.clone(), admin).await
    };
    match done {
        Ok(_) => Ok(see_other(&format!(
            "/editor/login?setup=1&lang={}",
            lang.as_str()
        ))),
        Err(p) if p.code == ErrorCode::SetupTokenInvalid => render(
            &req,
            &state,
            p.status,
            lang,
            csrf,
            context! { step => "setup_invalid" },
        ),
        Err(p)
            if p.status == StatusCode::UNPROCESSABLE_ENTITY
                || p.code == ErrorCode::EditorExists =>
        {
            let errors = if p.errors.is_empty() {
                vec![FieldError::new("email", "invalid_value", p.detail.clone())]
            } else {
                p.errors.clone()
            };
            let ctx = context! {
                step => "setup", token => f.token, email => f.email, name => f.name,
                errors => page::field_errors(&errors),
            };
            render(
                &req,
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                lang,
                csrf,
                ctx,
            )
        }
        Err(p) => Err(p),
    }
}
