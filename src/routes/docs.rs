//! The OpenAPI 3.1 description, generated from the handlers' annotations,
//! served at /api/openapi.json with the Swagger UI at /docs.

use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
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
        super::unsubscribe::confirm,
        super::unsubscribe::unsubscribe,
    ),
    components(schemas(crate::error::ProblemBody, crate::error::FieldError)),
    modifiers(&Security),
    tags(
        (name = "articles", description = "Articles from the CMS, split into sentences with stable ids"),
        (name = "reports", description = "Readers' error reports"),
        (name = "notifications", description = "Email notifications: one-click unsubscribe"),
        (name = "operations", description = "Health"),
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
    }
}

pub fn swagger() -> SwaggerUi {
    SwaggerUi::new("/docs/{_:.*}").url("/api/openapi.json", ApiDoc::openapi())
}
