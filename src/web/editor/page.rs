//! Rendering: the embedded templates, the context every page shares (the
//! editor, the CSRF token, the words of its language), and the HTML error
//! pages that replace problem+json under /editor/.

use std::sync::LazyLock;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use minijinja::{Environment, Value, context};

use super::i18n::{self, Lang};
use crate::auth::{CurrentEditor, Via};
use crate::domain::editor::Role;
use crate::error::{ErrorCode, Problem};

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // Names end in .html, so every value is HTML-escaped; a value a page
    // forgot to pass is an error (caught by the tests), not an empty string.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_filter("dt", format_datetime);
    env.add_filter("truncate", truncate);
    env.add_function("asset", |name: String| super::assets::url(&name));
    for (name, source) in [
        ("base.html", include_str!("templates/base.html")),
        ("login.html", include_str!("templates/login.html")),
        ("error.html", include_str!("templates/error.html")),
        ("editors.html", include_str!("templates/editors.html")),
        ("queue.html", include_str!("templates/queue.html")),
        ("case.html", include_str!("templates/case.html")),
        ("dashboard.html", include_str!("templates/dashboard.html")),
        (
            "corrections.html",
            include_str!("templates/corrections.html"),
        ),
        (
            "notifications.html",
            include_str!("templates/notifications.html"),
        ),
        (
            "_field_errors.html",
            include_str!("templates/_field_errors.html"),
        ),
        ("_reader.html", include_str!("templates/_reader.html")),
        ("_live.html", include_str!("templates/_live.html")),
        (
            "_desks_language.html",
            include_str!("templates/_desks_language.html"),
        ),
        (
            "editor_edit.html",
            include_str!("templates/editor_edit.html"),
        ),
        ("account.html", include_str!("templates/account.html")),
        ("outbox.html", include_str!("templates/outbox.html")),
        ("subjects.html", include_str!("templates/subjects.html")),
        ("recovery.html", include_str!("templates/recovery.html")),
        (
            "sso_refused.html",
            include_str!("templates/sso_refused.html"),
        ),
        ("webhooks.html", include_str!("templates/webhooks.html")),
        (
            "_case_memory.html",
            include_str!("templates/_case_memory.html"),
        ),
        (
            "_case_similar.html",
            include_str!("templates/_case_similar.html"),
        ),
        (
            "_queue_case_marks.html",
            include_str!("templates/_queue_case_marks.html"),
        ),
        (
            "_queue_words.html",
            include_str!("templates/_queue_words.html"),
        ),
        (
            "_time_zone_field.html",
            include_str!("templates/_time_zone_field.html"),
        ),
        (
            "_bulk_actions.html",
            include_str!("templates/_bulk_actions.html"),
        ),
    ] {
        env.add_template(name, source)
            .expect("the embedded editor templates parse");
    }
    env
});

/// `2025-10-03T14:05:09Z` → `2025-10-03 16:05 (Paris)`: in the page's
/// `time_zone` (the editor's, set by `base`; UTC where none is set, as on
/// the login page), labelled. The `datetime` attribute stays UTC.
fn format_datetime(state: &minijinja::State, value: String) -> String {
    let zone = state
        .lookup("time_zone")
        .and_then(|v| v.as_str().and_then(crate::domain::time_zone::parse))
        .unwrap_or(chrono_tz::UTC);
    // Views serialise times as RFC 3339 with `Z` (`domain::utc`); some
    // pages pass a NaiveDateTime's own `to_string` (UTC too).
    let parsed = crate::domain::utc::parse(&value)
        .or_else(|| chrono::NaiveDateTime::parse_from_str(&value, "%Y-%m-%d %H:%M:%S%.f").ok());
    match parsed {
        Some(t) => crate::domain::time_zone::format(t, zone, "%Y-%m-%d %H:%M"),
        None => value,
    }
}

/// At most `n` characters, with an ellipsis when cut.
fn truncate(value: String, n: usize) -> String {
    if value.chars().count() <= n {
        return value;
    }
    let cut: String = value.chars().take(n.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

/// Render a template to a 200 page (or another status).
pub fn render(status: StatusCode, name: &str, ctx: Value) -> Result<HttpResponse, Problem> {
    let body = TEMPLATES
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| Problem::internal(format!("template {name}: {e:#}")))?;
    Ok(HttpResponse::build(status)
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ))
        .body(body))
}

/// Field errors as a form's template shows them: `{field, code, message}`.
pub fn field_errors(errors: &[crate::error::FieldError]) -> Vec<Value> {
    errors
        .iter()
        .map(
            |e| context! { field => e.field.clone(), code => e.code, message => e.message.clone() },
        )
        .collect()
}

/// The language of an editor's pages.
pub fn lang_of(editor: &CurrentEditor) -> Lang {
    editor.language
}

/// What every signed-in page's template gets: `t`, `lang`, `me`, `csrf`,
/// `section` (for the navigation).
pub fn base(editor: &CurrentEditor, section: &str) -> Value {
    let lang = lang_of(editor);
    let csrf = match &editor.via {
        Via::Session { csrf_token, .. } => csrf_token.clone(),
        Via::Token { .. } => String::new(),
    };
    context! {
        t => i18n::strings(lang),
        lang => lang.as_str(),
        csrf,
        section,
        time_zone => editor.time_zone.name(),
        min_password => crate::domain::editor::MIN_PASSWORD,
        me => context! {
            id => editor.id.clone(),
            name => editor.name.clone(),
            role => editor.role.as_str(),
            is_admin => editor.is_admin(),
            can_edit => editor.role >= Role::Editor,
        },
    }
}

/// Context for pages shown to nobody in particular (login, errors before login).
pub fn anonymous(lang: Lang) -> Value {
    context! {
        t => i18n::strings(lang),
        lang => lang.as_str(),
        csrf => "",
        section => "",
        min_password => crate::domain::editor::MIN_PASSWORD,
        me => Value::from(()),
    }
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

pub async fn not_found() -> Result<HttpResponse, Problem> {
    Err(Problem::not_found(ErrorCode::NotFound, "No page here."))
}

/// Responses under /editor/ that are problems become pages: 401 sends the
/// browser to the login page (and back afterwards), anything else is an
/// error page in the editor's language. The JSON endpoints the script calls
/// keep their problem+json.
pub fn problem_page(req: &HttpRequest, problem: &Problem) -> Option<HttpResponse> {
    if wants_json(req) {
        return None;
    }
    let lang = req.extensions().get::<Lang>().copied().unwrap_or_else(|| {
        Lang::from_accept_language(
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        )
    });
    if problem.status == StatusCode::UNAUTHORIZED {
        let next = if req.method() == actix_web::http::Method::GET {
            req.uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default()
        } else {
            String::new()
        };
        let mut to = url::Url::parse("http://x/editor/login").expect("a valid URL");
        if !next.is_empty() && next != "/editor/" {
            to.query_pairs_mut().append_pair("next", &next);
        }
        if req.cookie(crate::auth::SESSION_COOKIE).is_some() {
            to.query_pairs_mut().append_pair("expired", "1");
        }
        let location = match to.query() {
            Some(q) => format!("{}?{q}", to.path()),
            None => to.path().to_string(),
        };
        return Some(see_other(&location));
    }
    let key = match problem.status.as_u16() {
        403 if problem.code == ErrorCode::CsrfTokenInvalid => "csrf",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        413 | 415 | 400 | 422 => "invalid",
        429 => "rate_limited",
        503 => "unavailable",
        _ => "internal",
    };
    // Problem details are written for API clients, in English; an error page
    // shows them only where they say something useful to an editor.
    // In another language, the code's own words when there are some, else
    // nothing beyond the page's translated title and text.
    let detail = match key {
        "conflict" | "invalid" | "forbidden" | "rate_limited" => {
            let words = format!("flash_error.{}", problem.code);
            match i18n::text(lang, &words) {
                t if t != words => t,
                _ if lang == Lang::En => problem.detail.clone(),
                _ => String::new(),
            }
        }
        _ => String::new(),
    };
    let mut ctx = anonymous(lang);
    if let Some(ed) = req.extensions().get::<CurrentEditor>() {
        ctx = base(ed, "");
    }
    let ctx = context! {
        ..context! {
            status => problem.status.as_u16(),
            kind => key,
            detail,
            errors => field_errors(&problem.errors),
            back => req.headers().get(header::REFERER).and_then(|v| v.to_str().ok())
                .filter(|r| same_origin_path(r)).map(str::to_string),
        },
        ..ctx,
    };
    let res = render(problem.status, "error.html", ctx).ok()?;
    Some(with_retry_after(res, problem.retry_after))
}

/// A page that answers a rate limit says when to try again, as the API does.
pub fn with_retry_after(mut res: HttpResponse, secs: Option<u64>) -> HttpResponse {
    if let Some(secs) = secs {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    res
}

/// Only back links into the editor pages are offered.
fn same_origin_path(referer: &str) -> bool {
    url::Url::parse(referer).is_ok_and(|u| u.path().starts_with("/editor/"))
}

/// The script's requests (`Accept: application/json`) get problem+json.
fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.starts_with("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_and_error_pages_render_in_both_languages() {
        for lang in Lang::ALL {
            let ctx = context! {
                ..context! { csrf => "tok", next => "/editor/", email => "", notice => "expired",
                    error => (), other_lang => "en", switch_href => "/editor/login?lang=en",
                    sso_name => (), sso_href => "/editor/login/oidc", passwords => true },
                ..anonymous(lang),
            };
            let html = TEMPLATES
                .get_template("login.html")
                .unwrap()
                .render(ctx)
                .unwrap_or_else(|e| panic!("{e:#}"));
            assert!(html.contains("name=\"csrf_token\" value=\"tok\""));
            assert!(!html.contains("sso-login"));
            // Single sign-on only: the provider's button, no password form.
            let ctx = context! {
                ..context! { csrf => "tok", next => "/editor/", email => "", notice => (),
                    error => (), other_lang => "en", switch_href => "/editor/login?lang=en",
                    sso_name => "Newsroom <ID>", sso_href => "/editor/login/oidc?lang=fr",
                    passwords => false },
                ..anonymous(lang),
            };
            let html = TEMPLATES
                .get_template("login.html")
                .unwrap()
                .render(ctx)
                .unwrap_or_else(|e| panic!("{e:#}"));
            assert!(html.contains("Newsroom &lt;ID&gt;"), "{html}");
            assert!(!html.contains("name=\"password\""));
            for reason in [
                "state",
                "token",
                "not_mapped",
                "domain_not_allowed",
                "disabled",
            ] {
                let ctx = context! {
                    ..context! { reason, retry_href => "/editor/login" },
                    ..anonymous(lang),
                };
                let html = TEMPLATES
                    .get_template("sso_refused.html")
                    .unwrap()
                    .render(ctx)
                    .unwrap_or_else(|e| panic!("{e:#}"));
                assert!(html.contains(&format!("data-reason=\"{reason}\"")));
                assert!(
                    !html.contains(&format!(">sso.{reason}<")),
                    "{reason} has a text"
                );
            }
            let ctx = context! {
                ..context! { status => 404, kind => "not_found", detail => "", back => (),
                    errors => Vec::<Value>::new() },
                ..anonymous(lang),
            };
            TEMPLATES
                .get_template("error.html")
                .unwrap()
                .render(ctx)
                .unwrap_or_else(|e| panic!("{e:#}"));
        }
    }

    /// The context of a signed-in page, without a database.
    pub fn signed_in(lang: Lang, role: &str) -> Value {
        context! {
            me => context! { id => "e1", name => "Ana", role, is_admin => role == "admin",
                can_edit => role != "viewer" },
            csrf => "tok",
            section => "queue",
            ..anonymous(lang),
        }
    }

    pub fn render_ok(name: &str, ctx: Value) -> String {
        TEMPLATES
            .get_template(name)
            .unwrap()
            .render(ctx)
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    #[test]
    fn the_accounts_page_renders() {
        for lang in Lang::ALL {
            let html = render_ok(
                "editors.html",
                context! {
                    accounts => vec![context! { id => "e1", email => "a@x.org", name => "<b>Ana</b>",
                        role => "admin", desks => Vec::<String>::new(), language => "fr",
                        disabled => false, created_at => "2025-01-01T00:00:00", is_me => true }],
                    form => context! { email => "", name => "", role => "editor", desks => "", language => "fr" },
                    errors => vec![
                        context! { field => "password", code => "too_short", message => "too short" },
                        context! { field => "email", code => "brand_new", message => "as the server says" },
                    ],
                    done => "ok",
                    ..signed_in(lang, "admin"),
                },
            );
            assert!(html.contains("&lt;b&gt;Ana&lt;&#x2f;b&gt;"), "{html}");
            assert!(html.contains("data-csrf=\"tok\""));
            // Known codes in the interface's language, others as the server said.
            let short = match lang {
                Lang::Fr => "doit compter au moins 12 caractères",
                Lang::En => "must be at least 12 characters",
            };
            assert!(html.contains(short), "{html}");
            // Unknown codes: the server's English in English, a generic
            // phrase in any other language (issue 13, item 9).
            match lang {
                Lang::En => assert!(html.contains("as the server says")),
                _ => assert!(
                    !html.contains("as the server says") && html.contains("n’est pas valable")
                ),
            }
        }
    }

    #[test]
    fn the_webhooks_page_renders_its_secret_and_log_escaped() {
        for lang in Lang::ALL {
            let hook = context! { id => "w1", format => "slack", url => "https://hooks.slack.com/…",
            events => vec!["case.opened"], desk => "<i>city</i>", description => "",
            secret_hint => "whsec_ab…", created_at => "2025-01-01T00:00:00", paused_until => () };
            let html = render_ok(
                "webhooks.html",
                context! {
                    hooks => vec![hook.clone()],
                    events => vec!["case.opened", "case.resolved"],
                    chat_events => vec!["case.opened"],
                    created => context! { secret => "whsec_s3cret" },
                    log => vec![context! { id => "msg_1", event_type => "case.opened", status => "dead",
                        attempts => 3, last_status => 500, last_error => "<b>boom</b>",
                        created_at => "2025-01-01T00:00:00" }],
                    log_hook => hook,
                    flash => (),
                    ..signed_in(lang, "admin"),
                },
            );
            assert!(html.contains("whsec_s3cret"), "{html}");
            assert!(html.contains("&lt;b&gt;boom"), "{html}");
            assert!(html.contains("&lt;i&gt;city"), "{html}");
        }
    }

    #[test]
    fn the_notification_and_outbox_pages_render() {
        for lang in Lang::ALL {
            let kinds: Vec<_> = ["new_case", "escalation", "assigned", "overdue"]
                .into_iter()
                .map(|k| context! { kind => k, delivery => "daily" })
                .collect();
            let html = render_ok(
                "notifications.html",
                context! {
                    kinds, choices => ["immediate", "hourly", "daily", "off"],
                    desks => vec!["<i>sport</i>"], flash => (),
                    ..signed_in(lang, "viewer"),
                },
            );
            assert_eq!(html.matches("value=\"daily\" selected").count(), 4);
            assert!(html.contains("&lt;i&gt;sport"), "{html}");
            let html = render_ok(
                "outbox.html",
                context! {
                    rows => vec![context! { id => "o1", kind => "reader_receipt",
                        recipient => "j•••@x.org", attempts => 3, last_error => "<b>550</b>",
                        created_at => "2025-01-01T00:00:00", updated_at => "2025-01-01T01:00:00" }],
                    counts => context! { pending => 0, sent => 0, dead => 2, skipped => 0 },
                    flash => (),
                    ..signed_in(lang, "admin"),
                },
            );
            assert!(html.contains("&lt;b&gt;550"), "{html}");
            // Two dead, one shown: the page says only the newest are listed.
            assert!(html.contains("<p class=\"hint\">") && !html.contains("{n}"));
        }
    }

    #[test]
    fn dates_are_shown_in_the_page_time_zone_and_labelled() {
        let render = |t: &str, zone: Option<&str>| {
            TEMPLATES
                .render_str("{{ t|dt }}", context! { t, time_zone => zone })
                .unwrap()
        };
        assert_eq!(
            render("2025-10-03T14:05:09.123456", Some("Europe/Paris")),
            "2025-10-03 16:05 (Paris)"
        );
        assert_eq!(
            render("2025-12-03T14:05:09Z", Some("America/New_York")),
            "2025-12-03 09:05 (New York)"
        );
        assert_eq!(
            render("2025-10-03T14:05:09Z", None),
            "2025-10-03 14:05 (UTC)"
        );
        assert_eq!(
            render("2025-10-03 14:05:09.5", Some("Europe/Paris")),
            "2025-10-03 16:05 (Paris)"
        );
        assert_eq!(render("nonsense", Some("Europe/Paris")), "nonsense");
    }
}
