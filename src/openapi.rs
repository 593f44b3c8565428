//! The OpenAPI 3.1 description, generated from the handlers' annotations,
//! served at /api/openapi.json with the Swagger UI at /docs. A test in
//! `router` checks it lists exactly the API routes the table mounts.

use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Erratum", description = "Reader error reports tied to article sentences, an editors' review queue and published corrections. Every error is application/problem+json (RFC 9457) with a stable `type` `urn:erratum:problem:<code>`."),
    paths(
        crate::routes::health::live,
        crate::routes::health::ready,
        crate::routes::articles::put,
        crate::routes::articles::get,
        crate::routes::articles::find_by_url,
        crate::routes::reports::submit,
        crate::routes::reports::status,
        crate::routes::auth::login,
        crate::routes::auth::logout,
        crate::routes::auth::me,
        crate::routes::auth::change_password,
        crate::routes::tokens::create,
        crate::routes::tokens::list,
        crate::routes::tokens::revoke,
        crate::routes::editors::list,
        crate::routes::editors::create,
        crate::routes::editors::update,
        crate::routes::audit::list,
        crate::routes::queue::list,
        crate::routes::cases::get,
        crate::routes::cases::triage,
        crate::routes::cases::claim,
        crate::routes::cases::assign,
        crate::routes::cases::unassign,
        crate::routes::cases::note,
        crate::routes::cases::priority,
        crate::routes::cases::resolve,
        crate::routes::cases::reopen,
        crate::routes::cases::bulk_resolve,
        crate::routes::corrections::list,
        crate::routes::corrections::atom,
        crate::routes::corrections::for_article,
        crate::routes::corrections::for_article_jsonld,
        crate::web::public::pages::demo,
        crate::web::public::pages::article,
        crate::web::public::pages::status,
        crate::web::public::pages::corrections,
        crate::web::public::unsubscribe::confirm,
        crate::web::public::unsubscribe::unsubscribe,
        crate::routes::notifications::get_prefs,
        crate::routes::notifications::put_prefs,
        crate::routes::notifications::list_outbox,
        crate::routes::notifications::retry_one,
        crate::routes::notifications::retry_dead,
        crate::web::editor::queue::versions,
        crate::routes::subjects::export,
        crate::routes::subjects::erase,
        crate::routes::subjects::requests,
        crate::routes::subjects::file,
    ),
    components(schemas(crate::error::ProblemBody, crate::error::FieldError)),
    modifiers(&Security),
    tags(
        (name = "articles", description = "Articles from the CMS, split into sentences with stable ids"),
        (name = "reports", description = "Readers' error reports"),
        (name = "notifications", description = "Email notifications: one-click unsubscribe"),
        (name = "operations", description = "Health"),
        (name = "auth", description = "Editors' login sessions and personal API tokens"),
        (name = "editors", description = "Editor accounts"),
        (name = "cases", description = "The review queue and the case workflow"),
        (name = "corrections", description = "Published corrections: list, Atom feed, JSON-LD"),
        (name = "pages", description = "HTML pages for readers' browsers (the widget itself is /widget.js)"),
    )
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // Unsafe methods with the cookie also need the X-CSRF-Token header.
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

pub fn swagger() -> SwaggerUi {
    SwaggerUi::new("/docs/{_:.*}").url("/api/openapi.json", ApiDoc::openapi())
}
