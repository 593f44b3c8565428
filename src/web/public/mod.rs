//! What readers' browsers load: the widget's script and stylesheet, the demo
//! news page, article pages for imported articles, and the private status page
//! behind each status link. Everything is compiled into the binary; templates
//! are rendered with minijinja, HTML-escaping every value.

pub mod assets;
pub mod dates;
pub mod i18n;
pub mod pages;
pub mod subject_requests;
pub mod transparency;
pub mod unsubscribe;

use std::sync::LazyLock;

use actix_web::dev::HttpServiceFactory;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Compress;
use actix_web::{HttpResponse, Route, guard, web};
use minijinja::Environment;

use crate::error::Problem;

use super::CSP;

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // Names ending in .html are auto-escaped (minijinja's default); a value the
    // page forgot to pass is an error rather than an empty string.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    // A catalog string with its `{name}` placeholders filled, escaped.
    env.add_filter("fill", crate::locales::fill_filter);
    for (name, source) in [
        ("demo.html", include_str!("templates/demo.html")),
        ("status.html", include_str!("templates/status.html")),
        ("error.html", include_str!("templates/error.html")),
        ("index.html", include_str!("templates/index.html")),
        (
            "corrections.html",
            include_str!("templates/corrections.html"),
        ),
        (
            "transparency.html",
            include_str!("templates/transparency.html"),
        ),
        (
            "data_requests.html",
            include_str!("templates/data_requests.html"),
        ),
        (
            "unsubscribe.html",
            include_str!("templates/unsubscribe.html"),
        ),
    ] {
        env.add_template(name, source)
            .expect("the embedded templates parse");
    }
    env
});

/// A page or file: GET and HEAD only, gzip-compressed for clients that
/// accept it (the widget weighs a third as much on the wire).
pub fn resource(path: &str, route: Route) -> impl HttpServiceFactory + use<> {
    web::resource(path)
        .wrap(Compress::default())
        .route(route.guard(guard::Any(guard::Get()).or(guard::Head())))
}

fn render(name: &str, ctx: minijinja::Value) -> Result<String, Problem> {
    TEMPLATES
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| Problem::internal(format!("template {name}: {e:#}")))
}

/// Whose eyes a page is for, which decides its caching and referrer headers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// Anyone: may be cached, but revalidated (articles change).
    Public,
    /// The holder of a status link: the token in the URL is a credential, so
    /// the page is never stored and never leaks it in a Referer header.
    Private,
}

fn html(status: StatusCode, body: String, audience: Audience) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    res.insert_header((
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    ))
    .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
    .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    match audience {
        Audience::Public => {
            res.insert_header((header::CACHE_CONTROL, "no-cache"));
        }
        Audience::Private => {
            res.insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header((header::REFERRER_POLICY, "no-referrer"));
        }
    }
    res.body(body)
}

/// A problem as a small HTML page with the same status, for browsers.
fn error_page(problem: &Problem, audience: Audience) -> HttpResponse {
    let status = problem.status;
    let (title_fr, detail_fr, title_en, detail_en) = match status {
        StatusCode::NOT_FOUND => (
            "Page introuvable",
            "Cette adresse ne correspond à aucune page. Si vous suivez un lien de suivi de signalement, vérifiez qu’il est complet.",
            "Page not found",
            "This address matches no page. If you followed a report status link, check that it is complete.",
        ),
        StatusCode::SERVICE_UNAVAILABLE => (
            "Service momentanément indisponible",
            "Veuillez réessayer dans quelques instants.",
            "Service temporarily unavailable",
            "Please try again in a few moments.",
        ),
        _ => (
            "Une erreur est survenue",
            "La page n’a pas pu être affichée. Veuillez réessayer plus tard.",
            "Something went wrong",
            "The page could not be shown. Please try again later.",
        ),
    };
    if status.is_server_error() {
        // Never shown to the reader; logged like the API's internal errors.
        tracing::error!(status = status.as_u16(), code = problem.code.as_str(), error = %problem.detail, "page error");
    }
    let ctx = minijinja::context! {
        status => status.as_u16(), title_fr, detail_fr, title_en, detail_en,
    };
    let mut res = match render("error.html", ctx) {
        Ok(body) => html(status, body, audience),
        // The error page itself failed: answer the status with plain text.
        Err(_) => HttpResponse::build(status)
            .content_type("text/plain; charset=utf-8")
            .body(status.canonical_reason().unwrap_or("Error")),
    };
    // A 429 or 503 page tells browsers and crawlers when to come back, as
    // the API's problems do.
    if let Some(secs) = problem.retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    res
}
