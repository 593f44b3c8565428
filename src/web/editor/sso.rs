//! "Sign in with <provider>": the two legs of the OpenID Connect redirect
//! (`app::sso` does the work). The pending sign-in travels in a signed
//! cookie scoped to these two paths; it is SameSite=Lax because the
//! provider sends the browser back with a cross-site top-level GET, which a
//! Strict cookie would miss.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

use super::i18n::Lang;
use super::login::{login_lang, safe_next};
use super::page::{self, see_other};
use crate::app::AppState;
use crate::app::sso::{self, Callback, Refusal, SsoFailure};
use crate::auth::{secure_cookie, session_cookie};
use crate::domain::article::Language;
use crate::error::{ErrorCode, Problem};

const PENDING_COOKIE: &str = "erratum_oidc";
const COOKIE_PATH: &str = "/editor/login/oidc";

#[derive(Deserialize)]
pub struct StartQuery {
    next: Option<String>,
    lang: Option<String>,
}

fn language(lang: Lang) -> Language {
    match lang {
        Lang::Fr => Language::Fr,
        Lang::En => Language::En,
    }
}

/// GET /editor/login/oidc: off to the provider.
pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<StartQuery>,
) -> Result<HttpResponse, Problem> {
    let lang = login_lang(&req, query.lang.as_deref());
    let next = safe_next(query.next.as_deref());
    match sso::start(&state, next, language(lang)).await {
        Ok((url, value)) => {
            let mut res = see_other(&url);
            let cookie = Cookie::build(PENDING_COOKIE, value)
                .path(COOKIE_PATH)
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(secure_cookie(&state, &req))
                .max_age(actix_web::cookie::time::Duration::seconds(
                    sso::PENDING_SECS as i64,
                ))
                .finish();
            res.add_cookie(&cookie)
                .map_err(|e| Problem::internal(format!("cookie: {e}")))?;
            Ok(res)
        }
        Err(f) => failure_page(lang, f),
    }
}

/// GET /editor/login/oidc/callback: back from the provider.
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Callback>,
) -> Result<HttpResponse, Problem> {
    let lang = login_lang(&req, None);
    let cookie = req.cookie(PENDING_COOKIE).map(|c| c.value().to_string());
    let outcome = sso::finish(&state, cookie, query.into_inner()).await;
    let mut res = match outcome {
        Ok(done) => {
            let mut res = see_other(&safe_next(Some(&done.next)));
            let session = session_cookie(
                done.login.token,
                done.login.hours,
                secure_cookie(&state, &req),
            );
            res.add_cookie(&session)
                .map_err(|e| Problem::internal(format!("cookie: {e}")))?;
            res
        }
        Err(f) => failure_page(lang, f)?,
    };
    // Spent either way: a pending sign-in works once.
    let mut gone = Cookie::build(PENDING_COOKIE, "").path(COOKIE_PATH).finish();
    gone.make_removal();
    res.add_cookie(&gone)
        .map_err(|e| Problem::internal(format!("cookie: {e}")))?;
    Ok(res)
}

/// A page that says why, with a way back to the login page.
fn failure_page(lang: Lang, f: SsoFailure) -> Result<HttpResponse, Problem> {
    let (status, key) = match f {
        SsoFailure::Off => {
            return Err(Problem::not_found(
                ErrorCode::NotFound,
                "Single sign-on is not configured.",
            ));
        }
        SsoFailure::Internal(p) => return Err(p),
        SsoFailure::State => (StatusCode::BAD_REQUEST, "state"),
        SsoFailure::Provider(code) => {
            tracing::info!(error = %code, "identity provider sent an error back");
            (StatusCode::FORBIDDEN, "provider_error")
        }
        SsoFailure::Oidc(e) => {
            tracing::warn!(error = %e, "single sign-on failed");
            match e {
                crate::auth::oidc::OidcError::Unavailable(_) => {
                    (StatusCode::BAD_GATEWAY, "unavailable")
                }
                _ => (StatusCode::FORBIDDEN, "token"),
            }
        }
        SsoFailure::Refused(r) => (
            StatusCode::FORBIDDEN,
            match r {
                Refusal::NoEmail => "no_email",
                Refusal::EmailNotVerified => "email_not_verified",
                Refusal::DomainNotAllowed => "domain_not_allowed",
                Refusal::NotMapped => "not_mapped",
                Refusal::Disabled => "disabled",
            },
        ),
    };
    let ctx = context! {
        ..context! {
            reason => key,
            retry_href => format!("/editor/login?lang={}", lang.as_str()),
        },
        ..page::anonymous(lang),
    };
    page::render(status, "sso_refused.html", ctx)
}
