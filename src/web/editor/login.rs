//! Signing in and out, and the language switch.
//!
//! The login form has no session yet, so it is protected from login CSRF
//! (a third-party page signing the browser into another account) by a
//! double-submit token: a random value in a SameSite=Strict cookie that the
//! form must repeat.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

use super::i18n::{self, Lang};
use super::page::{self, see_other};
use super::session::{self, NoFields, Posted};
use crate::app::AppState;
use crate::app::accounts;
use crate::auth::{Via, client_ip, secret, secure_cookie, session_cookie};
use crate::error::{ErrorCode, Problem};

const LOGIN_CSRF_COOKIE: &str = "erratum_login_csrf";

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    lang: Option<String>,
    expired: Option<String>,
    bye: Option<String>,
    reset: Option<String>,
    setup: Option<String>,
}

/// Where to go after signing in: only a path of these pages (never another
/// site, never `//host`), made of printable ASCII alone: it becomes the
/// `Location` header, where CR, LF, DEL or a raw non-ASCII byte would be
/// refused (or split the header).
pub(super) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/editor/")
                && n.len() <= 2048
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n.to_string()
        }
        _ => "/editor/".to_string(),
    }
}

pub(super) fn login_lang(req: &HttpRequest, explicit: Option<&str>) -> Lang {
    match explicit {
        Some(l) => Lang::from_tag(l),
        None => Lang::from_accept_language(
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        ),
    }
}

struct LoginPage<'a> {
    lang: Lang,
    csrf: String,
    next: String,
    email: &'a str,
    notice: Option<&'a str>,
    error: Option<String>,
}

fn login_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    p: LoginPage,
) -> Result<HttpResponse, Problem> {
    let other_lang = match p.lang {
        Lang::Fr => "en",
        Lang::En => "fr",
    };
    let mut switch = url::Url::parse("http://x/editor/login").expect("a valid URL");
    switch
        .query_pairs_mut()
        .append_pair("lang", other_lang)
        .append_pair("next", &p.next);
    let switch_href = format!("/editor/login?{}", switch.query().unwrap_or_default());
    // "Sign in with <provider>", when single sign-on is on.
    let oidc = &state.settings.auth.oidc;
    let sso_name = oidc.enabled.then(|| oidc.display_name.clone());
    let mut sso = url::Url::parse("http://x/editor/login/oidc").expect("a valid URL");
    sso.query_pairs_mut()
        .append_pair("lang", p.lang.as_str())
        .append_pair("next", &p.next);
    let sso_href = format!("/editor/login/oidc?{}", sso.query().unwrap_or_default());
    let ctx = context! {
        ..context! {
            csrf => p.csrf.clone(),
            next => p.next,
            email => p.email,
            notice => p.notice,
            error => p.error,
            other_lang,
            switch_href,
            sso_name,
            sso_href,
            passwords => oidc.passwords_allowed(),
        },
        ..page::anonymous(p.lang),
    };
    let mut res = page::render(status, "login.html", ctx)?;
    let cookie = Cookie::build(LOGIN_CSRF_COOKIE, p.csrf)
        .path("/editor/login")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure_cookie(state, req))
        .finish();
    res.add_cookie(&cookie)
        .map_err(|e| Problem::internal(format!("cookie: {e}")))?;
    Ok(res)
}

fn login_csrf(req: &HttpRequest) -> String {
    req.cookie(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() >= 32)
        .unwrap_or_else(secret::new_session_token)
}

/// GET /editor/login
pub async fn form(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, Problem> {
    let lang = login_lang(&req, query.lang.as_deref());
    let notice = if query.expired.is_some() {
        Some("expired")
    } else if query.bye.is_some() {
        Some("bye")
    } else if query.reset.is_some() {
        Some("reset_done")
    } else if query.setup.is_some() {
        Some("setup_done")
    } else {
        None
    };
    let p = LoginPage {
        lang,
        csrf: login_csrf(&req),
        next: safe_next(query.next.as_deref()),
        email: "",
        notice,
        error: None,
    };
    login_page(&req, &state, StatusCode::OK, p)
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
    lang: Option<String>,
}

/// POST /editor/login: the API's login (same limits, same answer for an
/// unknown address and a wrong password), then back to the page asked for.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let body = session::read_form(&req, &mut payload.into_inner()).await?;
    let sent = session::field(&body, session::CSRF_FIELD).unwrap_or_default();
    let expected = req.cookie(LOGIN_CSRF_COOKIE).map(|c| c.value().to_string());
    if !expected.is_some_and(|e| !sent.is_empty() && secret::same_secret(&sent, &e)) {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            ErrorCode::CsrfTokenInvalid,
            "CSRF token missing or wrong",
            "The login form must be sent from the login page.",
        ));
    }
    let f: LoginForm = session::parse(&body)?;
    let lang = login_lang(&req, f.lang.as_deref());
    let next = safe_next(f.next.as_deref());
    let ip = client_ip(&req, &state.settings.server.trusted_proxies);
    match accounts::login(&state, ip, f.email.clone(), f.password).await {
        Ok(login) => {
            let cookie = session_cookie(login.token, login.hours, secure_cookie(&state, &req));
            let mut res = see_other(&next);
            res.add_cookie(&cookie)
                .map_err(|e| Problem::internal(format!("cookie: {e}")))?;
            let mut gone = Cookie::build(LOGIN_CSRF_COOKIE, "")
                .path("/editor/login")
                .finish();
            gone.make_removal();
            res.add_cookie(&gone)
                .map_err(|e| Problem::internal(format!("cookie: {e}")))?;
            Ok(res)
        }
        Err(p) if p.status == StatusCode::UNAUTHORIZED || p.status.as_u16() == 429 => {
            let key = if p.status.as_u16() == 429 {
                "login.rate_limited"
            } else {
                "login.invalid"
            };
            let page = LoginPage {
                lang,
                csrf: sent,
                next,
                email: &f.email,
                notice: None,
                error: Some(i18n::text(lang, key)),
            };
            let res = login_page(&req, &state, p.status, page)?;
            Ok(page::with_retry_after(res, p.retry_after))
        }
        Err(p) => Err(p),
    }
}

/// POST /editor/logout: the session is revoked on the server, not only
/// forgotten by the browser.
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    posted: Posted<NoFields>,
) -> Result<HttpResponse, Problem> {
    if let Via::Session { session_id, .. } = posted.editor.via.clone() {
        accounts::logout(&state, posted.editor.id.clone(), session_id, false).await?;
    }
    let lang = page::lang_of(&posted.editor);
    let mut res = see_other(&format!("/editor/login?bye=1&lang={}", lang.as_str()));
    let mut gone = session_cookie(String::new(), 0, secure_cookie(&state, &req));
    gone.make_removal();
    res.add_cookie(&gone)
        .map_err(|e| Problem::internal(format!("cookie: {e}")))?;
    Ok(res)
}

#[derive(Deserialize)]
pub struct LanguageForm {
    language: String,
}

/// POST /editor/language: the editor's language (pages and emails).
pub async fn language(
    req: HttpRequest,
    state: web::Data<AppState>,
    posted: Posted<LanguageForm>,
) -> Result<HttpResponse, Problem> {
    let lang = Lang::from_tag(&posted.form.language);
    accounts::set_language(&state, posted.editor.actor(), lang).await?;
    Ok(see_other(&back_to(&req)))
}

/// The editor page the browser came from, or the queue.
pub fn back_to(req: &HttpRequest) -> String {
    req.headers()
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .filter(|u| u.path().starts_with("/editor/") && !u.path().starts_with("/editor/login"))
        .map(|u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        })
        .unwrap_or_else(|| "/editor/".to_string())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_these_pages() {
        assert_eq!(safe_next(Some("/editor/cases/1")), "/editor/cases/1");
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/editor/\\evil",
            "/api/v1/x",
            "/editor/\r\nSet-Cookie: x=1",
            "/editor/\n",
            "/editor/\u{7f}",
            "/editor/ a",
            "/editor/é",
        ] {
            assert_eq!(safe_next(Some(bad)), "/editor/", "{bad}");
        }
        assert_eq!(safe_next(None), "/editor/");
    }
}
