//! The OpenAPI 3.1 description, generated from the handlers' annotations,
//! served at /api/openapi.json with the Swagger UI at /docs.

use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Erratum", description = "Reader error reports tied to article sentences, an editors' review queue and published corrections. Every error is application/problem+json (RFC 9457) with a stable `type` `urn:erratum:problem:<code>`."),
    paths(
        super::health::live,
        super::health::ready,
        super::articles::put,
        super::articles::get,
        super::articles::find_by_url,
        super::reports::submit,
        super::reports::status,
        super::auth::login,
        super::auth::logout,
        super::auth::me,
        super::auth::change_password,
        super::tokens::create,
        super::tokens::list,
        super::tokens::revoke,
        super::editors::list,
        super::editors::create,
        super::editors::update,
        super::audit::list,
        super::queue::list,
        super::cases::get,
        super::cases::triage,
        super::cases::claim,
        super::cases::assign,
        super::cases::unassign,
        super::cases::note,
        super::cases::priority,
        super::cases::resolve,
        super::cases::reopen,
        super::cases::bulk_resolve,
        super::corrections::list,
        super::corrections::atom,
        super::corrections::for_article,
        super::corrections::for_article_jsonld,
        crate::web::pages::demo,
        crate::web::pages::article,
        crate::web::pages::status,
        crate::web::pages::corrections,
        super::unsubscribe::confirm,
        super::unsubscribe::unsubscribe,
        super::notifications::get_prefs,
        super::notifications::put_prefs,
        super::notifications::list_outbox,
        super::notifications::retry_one,
        super::notifications::retry_dead,
        crate::web::editor::queue::versions,
        super::subjects::export,
        super::subjects::erase,
        super::subjects::requests,
        super::subjects::file,
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
