//! What readers' browsers load: the widget's script and stylesheet, the demo
//! news page, article pages for imported articles, and the private status page
//! behind each status link. Everything is compiled into the binary; templates
//! are rendered with minijinja, HTML-escaping every value.

pub mod assets;
pub mod dates;
/// The newsroom's review interface under `/editor/` (mounted by
/// `routes::configure`).
pub mod editor;
pub mod pages;
pub mod subject_requests;

use std::sync::LazyLock;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Compress;
use actix_web::{HttpResponse, Route, guard, web};
use minijinja::Environment;

use crate::error::Problem;

/// The pages' Content-Security-Policy: nothing but this origin's own files, no
/// inline script or style, no framing. The widget is written to work under it,
/// so the demo page proves that a newsroom can embed it under the same.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'self'";

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // Names ending in .html are auto-escaped (minijinja's default); a value the
    // page forgot to pass is an error rather than an empty string.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, source) in [
        ("demo.html", include_str!("templates/demo.html")),
        ("status.html", include_str!("templates/status.html")),
        (
            "data_requests.html",
            include_str!("templates/data_requests.html"),
        ),
        ("error.html", include_str!("templates/error.html")),
        ("index.html", include_str!("templates/index.html")),
        (
            "corrections.html",
            include_str!("templates/corrections.html"),
        ),
    ] {
        env.add_template(name, source)
            .expect("the embedded templates parse");
    }
    env
});

/// Mount the pages and files, GET and HEAD only, gzip-compressed for clients
/// that accept it (the widget weighs a third as much on the wire).
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mount = |cfg: &mut web::ServiceConfig, path: &str, route: Route| {
        cfg.service(
            web::resource(path)
                .wrap(Compress::default())
                .route(route.guard(guard::Any(guard::Get()).or(guard::Head()))),
        );
    };
    for (path, _, _) in assets::FILES {
        mount(cfg, path, web::route().to(assets::serve));
    }
    mount(cfg, "/", web::route().to(pages::root));
    mount(cfg, "/demo", web::route().to(pages::demo));
    mount(
        cfg,
        "/articles/{external_id}",
        web::route().to(pages::article),
    );
    mount(cfg, "/r/{token}", web::route().to(pages::status));
    subject_requests::configure(cfg);
    mount(cfg, "/corrections", web::route().to(pages::corrections));
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
    .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_CSP))
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
        tracing::error!(status = status.as_u16(), code = problem.code, error = %problem.detail, "page error");
    }
    let ctx = minijinja::context! {
        status => status.as_u16(), title_fr, detail_fr, title_en, detail_en,
    };
    match render("error.html", ctx) {
        Ok(body) => html(status, body, audience),
        // The error page itself failed: answer the status with plain text.
        Err(_) => HttpResponse::build(status)
            .content_type("text/plain; charset=utf-8")
            .body(status.canonical_reason().unwrap_or("Error")),
    }
}
