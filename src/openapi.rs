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
        crate::routes::articles::known,
        crate::routes::reports::submit,
        crate::routes::reports::status,
        crate::routes::reports::email_link,
        crate::routes::auth::login,
        crate::routes::auth::logout,
        crate::routes::auth::me,
        crate::routes::auth::change_password,
        crate::routes::auth::request_reset,
        crate::routes::auth::confirm_reset,
        crate::routes::tokens::create,
        crate::routes::tokens::list,
        crate::routes::tokens::revoke,
        crate::routes::editors::list,
        crate::routes::editors::create,
        crate::routes::editors::update,
        crate::routes::audit::list,
        crate::routes::queue::list,
        crate::routes::stats::get,
        crate::routes::stats::csv,
        crate::routes::cases::get,
        crate::routes::cases::triage,
        crate::routes::cases::claim,
        crate::routes::cases::assign,
        crate::routes::cases::unassign,
        crate::routes::cases::note,
        crate::routes::cases::priority,
        crate::routes::cases::resolve,
        crate::routes::cases::already_corrected,
        crate::routes::cases::reopen,
        crate::routes::cases::bulk_resolve,
        crate::routes::readers::set_standing,
        crate::routes::bulk::bulk,
        crate::routes::corrections::list,
        crate::routes::corrections::atom,
        crate::routes::corrections::for_article,
        crate::routes::corrections::for_article_jsonld,
        crate::web::public::pages::demo,
        crate::web::public::pages::article,
        crate::web::public::pages::status,
        crate::web::public::i18n::widget_strings,
        crate::web::public::pages::corrections,
        crate::web::public::transparency::page,
        crate::web::public::unsubscribe::confirm,
        crate::web::public::unsubscribe::unsubscribe,
        crate::routes::notifications::get_prefs,
        crate::routes::notifications::put_prefs,
        crate::routes::notifications::list_outbox,
        crate::routes::notifications::retry_one,
        crate::routes::notifications::retry_dead,
        crate::routes::subjects::export,
        crate::routes::subjects::erase,
        crate::routes::subjects::requests,
        crate::routes::subjects::file,
        crate::routes::webhooks::create,
        crate::routes::webhooks::list,
        crate::routes::webhooks::delete,
        crate::routes::webhooks::test,
        crate::routes::webhooks::deliveries,
        crate::routes::webhooks::retry,
    ),
    components(schemas(
        crate::error::ProblemBody,
        crate::error::FieldError,
        crate::hooks::payload::WebhookMessage,
        crate::hooks::payload::MessageData,
        crate::hooks::payload::CaseData,
        crate::hooks::payload::CaseInfo,
        crate::hooks::payload::ReportWords,
        crate::hooks::payload::ArticleInfo,
        crate::hooks::payload::CorrectionData,
        crate::hooks::payload::ArticleRevisedData,
        crate::hooks::payload::TestData,
        crate::domain::hook::HookEvent,
    )),
    modifiers(&Security, &BoundaryResponses, &TextAndTimes),
    tags(
        (name = "articles", description = "Articles from the CMS, split into sentences with stable ids"),
        (name = "reports", description = "Readers' error reports"),
        (name = "notifications", description = "Email notifications: one-click unsubscribe"),
        (name = "operations", description = "Health"),
        (name = "auth", description = "Editors' login sessions and personal API tokens"),
        (name = "editors", description = "Editor accounts"),
        (name = "cases", description = "The review queue and the case workflow"),
        (name = "stats", description = "The editors' dashboard: figures on reports, decisions and corrections, as JSON and CSV"),
        (name = "corrections", description = "Published corrections: list, Atom feed, JSON-LD"),
        (name = "webhooks", description = "Outgoing webhooks (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`) and Slack / Teams chat alerts. Every standard delivery's body is a `WebhookMessage` (see the schemas)."),
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

/// The answers every operation can give whatever its handler does, added
/// where an annotation leaves them out, so the description matches the
/// server: a JSON body can be malformed (400), too large (413), not JSON
/// (415) or of the wrong shape (422); a path or query can hold a control
/// character (422, `extract::refuse_controls_in_url`).
struct BoundaryResponses;

impl utoipa::Modify for BoundaryResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    crate::error::PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ProblemBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                let mut add = Vec::new();
                if op.request_body.is_some() {
                    add.extend([
                        ("400", "Malformed JSON"),
                        ("413", "Body too large"),
                        ("415", "Not JSON"),
                        ("422", "Invalid fields"),
                    ]);
                }
                let has_params = op.parameters.iter().flatten().any(|p| match p {
                    RefOr::T(p) => matches!(p.parameter_in, ParameterIn::Path | ParameterIn::Query),
                    RefOr::Ref(_) => true,
                });
                if has_params {
                    add.push(("422", "A parameter is invalid or holds a control character"));
                }
                for p in op.parameters.iter_mut().flatten() {
                    if let RefOr::T(p) = p
                        && let Some(RefOr::T(schema)) = &mut p.schema
                    {
                        walk(schema, &mut |o| forbid_controls(o, PARAM_TEXT));
                    }
                }
                for (status, description) in add {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| RefOr::T(problem(description)));
                }
            }
        }
    }
}

/// What `extract` lets through: no control character in a path or query…
const PARAM_TEXT: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$";
/// …and none but tab, LF and CR in a body.
const BODY_TEXT: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

fn is_string(t: &utoipa::openapi::schema::SchemaType) -> bool {
    use utoipa::openapi::schema::{SchemaType, Type};
    match t {
        SchemaType::Type(t) => *t == Type::String,
        SchemaType::Array(ts) => ts.contains(&Type::String),
        SchemaType::AnyValue => false,
    }
}

/// A free-text string (not an enum, no pattern of its own) gets `pattern`.
fn forbid_controls(o: &mut utoipa::openapi::schema::Object, pattern: &str) {
    if is_string(&o.schema_type) && o.enum_values.is_none() && o.pattern.is_none() {
        o.pattern = Some(pattern.to_string());
    }
}

/// Apply `f` to every object schema inside `schema` (not through `$ref`s).
fn walk(
    schema: &mut utoipa::openapi::schema::Schema,
    f: &mut dyn FnMut(&mut utoipa::openapi::schema::Object),
) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ArrayItems, Schema};
    let inner = |items: &mut Vec<RefOr<Schema>>, f: &mut dyn FnMut(&mut _)| {
        for item in items {
            if let RefOr::T(s) = item {
                walk(s, f);
            }
        }
    };
    match schema {
        Schema::Object(o) => {
            f(o);
            for p in o.properties.values_mut() {
                if let RefOr::T(s) = p {
                    walk(s, f);
                }
            }
        }
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(item) = &mut a.items
                && let RefOr::T(s) = item.as_mut()
            {
                walk(s, f);
            }
        }
        Schema::OneOf(o) => inner(&mut o.items, f),
        Schema::AllOf(o) => inner(&mut o.items, f),
        Schema::AnyOf(o) => inner(&mut o.items, f),
        _ => {}
    }
}

/// The names of the component schemas a schema refers to, directly.
fn refs_in(schema: &utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>) -> Vec<String> {
    let json = serde_json::to_value(schema).unwrap_or_default();
    let mut out = Vec::new();
    let mut stack = vec![&json];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::String(r)) = m.get("$ref")
                    && let Some(name) = r.strip_prefix("#/components/schemas/")
                {
                    out.push(name.to_string());
                }
                stack.extend(m.values());
            }
            serde_json::Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
    out
}

/// Schemas say what the server does with text: request bodies' free-text
/// strings carry `BODY_TEXT` (control characters are refused at the
/// boundary). Times keep utoipa's `date-time`: the API writes them in
/// RFC 3339 with `Z` (`domain::utc`).
struct TextAndTimes;

impl utoipa::Modify for TextAndTimes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        // Every schema a request body reaches, through $refs.
        let mut requests: Vec<String> = Vec::new();
        for item in openapi.paths.paths.values() {
            for op in [&item.get, &item.put, &item.post, &item.delete, &item.patch]
                .into_iter()
                .flatten()
            {
                if let Some(utoipa::openapi::RefOr::T(body)) = &op.request_body {
                    for content in body.content.values() {
                        if let utoipa::openapi::RefOr::T(content) = content
                            && let Some(schema) = &content.schema
                        {
                            requests.extend(refs_in(schema));
                        }
                    }
                }
            }
        }
        let mut i = 0;
        while i < requests.len() {
            if let Some(schema) = components.schemas.get(&requests[i]) {
                for name in refs_in(schema) {
                    if !requests.contains(&name) {
                        requests.push(name);
                    }
                }
            }
            i += 1;
        }
        for (name, schema) in components.schemas.iter_mut() {
            let utoipa::openapi::RefOr::T(schema) = schema else {
                continue;
            };
            if requests.contains(name) {
                walk(schema, &mut |o| forbid_controls(o, BODY_TEXT));
            }
        }
        // Request bodies given inline, not by $ref.
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                if let Some(utoipa::openapi::RefOr::T(body)) = &mut op.request_body {
                    for content in body.content.values_mut() {
                        if let utoipa::openapi::RefOr::T(content) = content
                            && let Some(utoipa::openapi::RefOr::T(schema)) = &mut content.schema
                        {
                            walk(schema, &mut |o| forbid_controls(o, BODY_TEXT));
                        }
                    }
                }
            }
        }
    }
}

pub fn swagger() -> SwaggerUi {
    SwaggerUi::new("/docs/{_:.*}").url("/api/openapi.json", ApiDoc::openapi())
}
