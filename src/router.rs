//! The one route table: every path the server answers — health, the API
//! documentation, the JSON API, the readers' pages and the editors' pages —
//! is mounted here and nowhere else, so the whole surface reads in one
//! place. `configure` also returns the table as data; a test checks it
//! against the OpenAPI description, so no API route can go undocumented.

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{Route, web};

use crate::config::CorsSettings;
use crate::routes::extract::BodyLimit;
use crate::routes::{
    articles, audit, auth, cases, corrections, editors, health, notifications, public_cors, queue,
    readers, reports, stats, subjects, tokens, webhooks,
};
use crate::web::editor::{self as ed, page as editor_page};
use crate::web::public::{self as pages, assets, subject_requests, unsubscribe};

/// One mounted route: a method on a path (in actix's `{param}` syntax,
/// which is OpenAPI's too).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Entry {
    pub method: String,
    pub path: String,
}

/// Request body limits of the two public write endpoints.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub ingest: usize,
    pub intake: usize,
}

/// Who may call a JSON resource from a browser on another origin.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Only this origin (the API for staff and the CMS).
    Own,
    /// Any configured newsroom origin (`cors.public_origins`): what the
    /// widget and newsroom pages call.
    Newsroom,
}

/// The table being mounted and written down.
struct Table<'a> {
    cfg: &'a mut web::ServiceConfig,
    cors: &'a CorsSettings,
    entries: Vec<Entry>,
}

impl Table<'_> {
    fn note(&mut self, method: &Method, path: &str) {
        self.entries.push(Entry {
            method: method.as_str().to_string(),
            path: path.to_string(),
        });
    }

    /// A JSON resource with its routes, allowed from `origin`, with an
    /// optional body limit.
    fn api(
        &mut self,
        path: &str,
        origin: Origin,
        limit: Option<usize>,
        routes: Vec<(Method, Route)>,
    ) {
        let resource = self.resource(path, limit, routes);
        match origin {
            Origin::Own => self.cfg.service(resource),
            Origin::Newsroom => self.cfg.service(resource.wrap(public_cors(self.cors))),
        };
    }

    /// The readers' report resource: like a newsroom `api` resource, with
    /// the cheap refusal of addresses over their limit before the body is
    /// read (inside CORS, so the widget can read the 429).
    fn intake(&mut self, path: &str, limit: usize, routes: Vec<(Method, Route)>) {
        let resource = self
            .resource(path, Some(limit), routes)
            .wrap(from_fn(crate::routes::middleware::refuse_over_intake_limit));
        self.cfg.service(resource.wrap(public_cors(self.cors)));
    }

    fn resource(
        &mut self,
        path: &str,
        limit: Option<usize>,
        routes: Vec<(Method, Route)>,
    ) -> actix_web::Resource {
        let mut resource = web::resource(path);
        if let Some(limit) = limit {
            resource = resource.app_data(BodyLimit(limit));
        }
        for (method, route) in routes {
            self.note(&method, path);
            resource = resource.route(route.method(method));
        }
        resource
    }

    /// A page or file for readers' browsers (GET and HEAD).
    fn page(&mut self, path: &str, route: Route) {
        self.note(&Method::GET, path);
        self.cfg.service(pages::resource(path, route));
    }
}

fn get() -> Method {
    Method::GET
}

fn post() -> Method {
    Method::POST
}

/// Mount everything; returns the table.
pub fn configure(
    cfg: &mut web::ServiceConfig,
    cors: &CorsSettings,
    limits: BodyLimits,
) -> Vec<Entry> {
    use Origin::{Newsroom, Own};
    let mut t = Table {
        cfg,
        cors,
        entries: Vec::new(),
    };

    // Operations and documentation.
    t.api(
        "/health/live",
        Own,
        None,
        vec![(get(), web::to(health::live))],
    );
    t.api(
        "/health/ready",
        Own,
        None,
        vec![(get(), web::to(health::ready))],
    );
    t.cfg.service(crate::openapi::swagger());

    // Readers and the CMS (public).
    t.api(
        "/api/v1/articles",
        Newsroom,
        None,
        vec![(get(), web::to(articles::find_by_url))],
    );
    t.api(
        "/api/v1/articles/{external_id}",
        Newsroom,
        Some(limits.ingest),
        vec![
            (get(), web::to(articles::get)),
            (Method::PUT, web::to(articles::put)),
        ],
    );
    t.api(
        "/api/v1/articles/{external_id}/known",
        Newsroom,
        None,
        vec![(get(), web::to(articles::known))],
    );
    t.intake(
        "/api/v1/articles/{external_id}/reports",
        limits.intake,
        vec![(post(), web::to(reports::submit))],
    );
    t.api(
        "/api/v1/reports/status/{token}",
        Newsroom,
        None,
        vec![(get(), web::to(reports::status))],
    );
    t.api(
        "/api/v1/reports/status/{token}/email",
        Newsroom,
        None,
        vec![(post(), web::to(reports::email_link))],
    );
    t.api(
        "/api/v1/reports/{id}/reader",
        Own,
        None,
        vec![(post(), web::to(readers::set_standing))],
    );
    t.api(
        "/api/v1/corrections",
        Newsroom,
        None,
        vec![(get(), web::to(corrections::list))],
    );
    t.api(
        "/corrections.atom",
        Own,
        None,
        vec![(get(), web::to(corrections::atom))],
    );
    t.api(
        "/api/v1/articles/{external_id}/corrections",
        Newsroom,
        None,
        vec![(get(), web::to(corrections::for_article))],
    );
    t.api(
        "/api/v1/articles/{external_id}/corrections.jsonld",
        Newsroom,
        None,
        vec![(get(), web::to(corrections::for_article_jsonld))],
    );

    // Staff: sessions, tokens, accounts, the queue and the workflow.
    t.api(
        "/api/v1/auth/login",
        Own,
        None,
        vec![(post(), web::to(auth::login))],
    );
    t.api(
        "/api/v1/auth/logout",
        Own,
        None,
        vec![(post(), web::to(auth::logout))],
    );
    t.api(
        "/api/v1/auth/me",
        Own,
        None,
        vec![(get(), web::to(auth::me))],
    );
    t.api(
        "/api/v1/auth/password",
        Own,
        None,
        vec![(post(), web::to(auth::change_password))],
    );
    t.api(
        "/api/v1/auth/password-reset",
        Own,
        None,
        vec![(post(), web::to(auth::request_reset))],
    );
    t.api(
        "/api/v1/auth/password-reset/confirm",
        Own,
        None,
        vec![(post(), web::to(auth::confirm_reset))],
    );
    t.api(
        "/api/v1/tokens",
        Own,
        None,
        vec![
            (get(), web::to(tokens::list)),
            (post(), web::to(tokens::create)),
        ],
    );
    t.api(
        "/api/v1/tokens/{id}",
        Own,
        None,
        vec![(Method::DELETE, web::to(tokens::revoke))],
    );
    t.api(
        "/api/v1/editors",
        Own,
        None,
        vec![
            (get(), web::to(editors::list)),
            (post(), web::to(editors::create)),
        ],
    );
    t.api(
        "/api/v1/editors/{id}",
        Own,
        None,
        vec![(Method::PATCH, web::to(editors::update))],
    );
    t.api(
        "/api/v1/webhooks",
        Own,
        None,
        vec![
            (get(), web::to(webhooks::list)),
            (post(), web::to(webhooks::create)),
        ],
    );
    t.api(
        "/api/v1/webhooks/{id}",
        Own,
        None,
        vec![(Method::DELETE, web::to(webhooks::delete))],
    );
    t.api(
        "/api/v1/webhooks/{id}/test",
        Own,
        None,
        vec![(post(), web::to(webhooks::test))],
    );
    t.api(
        "/api/v1/webhooks/{id}/deliveries",
        Own,
        None,
        vec![(get(), web::to(webhooks::deliveries))],
    );
    t.api(
        "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry",
        Own,
        None,
        vec![(post(), web::to(webhooks::retry))],
    );
    t.api(
        "/api/v1/audit",
        Own,
        None,
        vec![(get(), web::to(audit::list))],
    );
    t.api(
        "/api/v1/queue",
        Own,
        None,
        vec![(get(), web::to(queue::list))],
    );
    t.api(
        "/api/v1/stats",
        Own,
        None,
        vec![(get(), web::to(stats::get))],
    );
    t.api(
        "/api/v1/stats.csv",
        Own,
        None,
        vec![(get(), web::to(stats::csv))],
    );
    // Before /cases/{id}, which would otherwise take "resolve" for an id.
    t.api(
        "/api/v1/cases/bulk",
        Own,
        None,
        vec![(post(), web::to(crate::routes::bulk::bulk))],
    );
    t.api(
        "/api/v1/cases/resolve",
        Own,
        None,
        vec![(post(), web::to(cases::bulk_resolve))],
    );
    t.api(
        "/api/v1/cases/{id}",
        Own,
        None,
        vec![(get(), web::to(cases::get))],
    );
    for (action, route) in [
        ("triage", web::to(cases::triage)),
        ("claim", web::to(cases::claim)),
        ("assign", web::to(cases::assign)),
        ("unassign", web::to(cases::unassign)),
        ("note", web::to(cases::note)),
        ("priority", web::to(cases::priority)),
        ("resolve", web::to(cases::resolve)),
        ("already-corrected", web::to(cases::already_corrected)),
        ("reopen", web::to(cases::reopen)),
    ] {
        t.api(
            &format!("/api/v1/cases/{{id}}/{action}"),
            Own,
            None,
            vec![(post(), route)],
        );
    }
    t.api(
        "/api/v1/me/notifications",
        Own,
        None,
        vec![
            (get(), web::to(notifications::get_prefs)),
            (Method::PUT, web::to(notifications::put_prefs)),
        ],
    );
    t.api(
        "/api/v1/admin/outbox",
        Own,
        None,
        vec![(get(), web::to(notifications::list_outbox))],
    );
    t.api(
        "/api/v1/admin/outbox/retry-dead",
        Own,
        None,
        vec![(post(), web::to(notifications::retry_dead))],
    );
    t.api(
        "/api/v1/admin/outbox/{id}/retry",
        Own,
        None,
        vec![(post(), web::to(notifications::retry_one))],
    );

    // Data-subject requests: admins export and erase; readers ask with their
    // status link.
    t.api(
        "/api/v1/admin/subjects",
        Own,
        None,
        vec![(get(), web::to(subjects::export))],
    );
    t.api(
        "/api/v1/admin/subjects/erase",
        Own,
        None,
        vec![(post(), web::to(subjects::erase))],
    );
    t.api(
        "/api/v1/admin/subject-requests",
        Own,
        None,
        vec![(get(), web::to(subjects::requests))],
    );
    t.api(
        "/api/v1/reports/status/{token}/data-requests",
        Newsroom,
        None,
        vec![(post(), web::to(subjects::file))],
    );

    // One-click unsubscribe (RFC 8058): mail providers POST here.
    t.note(&get(), "/unsubscribe/{token}");
    t.note(&post(), "/unsubscribe/{token}");
    t.cfg.service(
        web::resource("/unsubscribe/{token}")
            .route(web::get().to(unsubscribe::confirm))
            .route(web::post().to(unsubscribe::unsubscribe)),
    );

    // Readers' pages and the widget's files.
    for (path, _, _) in assets::FILES {
        t.page(path, web::route().to(assets::serve));
    }
    t.page(
        "/widget/strings/{tag}.json",
        web::route().to(pages::i18n::widget_strings),
    );
    t.page("/", web::route().to(pages::pages::root));
    t.page("/demo", web::route().to(pages::pages::demo));
    t.page(
        "/articles/{external_id}",
        web::route().to(pages::pages::article),
    );
    t.page("/r/{token}", web::route().to(pages::pages::status));
    t.note(&get(), "/r/{token}/data-requests");
    t.note(&post(), "/r/{token}/data-requests");
    t.cfg.service(
        web::resource("/r/{token}/data-requests")
            .route(web::get().to(subject_requests::page))
            .route(web::post().to(subject_requests::submit)),
    );
    t.page("/corrections", web::route().to(pages::pages::corrections));
    t.page("/transparency", web::route().to(pages::transparency::page));

    // The editors' pages, under one scope with their security headers.
    let editor: Vec<(Method, &str, Route)> = vec![
        (
            get(),
            "",
            web::get().to(|| async { editor_page::see_other("/editor/") }),
        ),
        (get(), "/", web::get().to(ed::queue::page)),
        (get(), "/queue/versions", web::get().to(ed::queue::versions)),
        (get(), "/queue/live", web::get().to(ed::live::stream)),
        (get(), "/queue/live/poll", web::get().to(ed::live::poll)),
        (post(), "/cases/bulk", web::post().to(ed::queue::bulk)),
        (get(), "/cases/{id}", web::get().to(ed::case::show)),
        (
            post(),
            "/cases/{id}/{action}",
            web::post().to(ed::case::act),
        ),
        (
            post(),
            "/reports/{id}/reader",
            web::post().to(ed::readers::set),
        ),
        (get(), "/corrections", web::get().to(ed::corrections::list)),
        (get(), "/dashboard", web::get().to(ed::dashboard::page)),
        (get(), "/static/{file}", web::get().to(ed::assets::serve)),
        (get(), "/login", web::get().to(ed::login::form)),
        (get(), "/login/oidc", web::get().to(ed::sso::start)),
        (
            get(),
            "/login/oidc/callback",
            web::get().to(ed::sso::callback),
        ),
        (post(), "/login", web::post().to(ed::login::submit)),
        (post(), "/logout", web::post().to(ed::login::logout)),
        (
            get(),
            "/password/forgot",
            web::get().to(ed::recovery::forgot_form),
        ),
        (
            post(),
            "/password/forgot",
            web::post().to(ed::recovery::forgot_submit),
        ),
        (
            get(),
            "/password/reset",
            web::get().to(ed::recovery::reset_form),
        ),
        (
            post(),
            "/password/reset",
            web::post().to(ed::recovery::reset_submit),
        ),
        (get(), "/setup", web::get().to(ed::recovery::setup_form)),
        (post(), "/setup", web::post().to(ed::recovery::setup_submit)),
        (post(), "/language", web::post().to(ed::login::language)),
        (get(), "/admin/editors", web::get().to(ed::admin::editors)),
        (
            post(),
            "/admin/editors",
            web::post().to(ed::admin::create_editor),
        ),
        (
            get(),
            "/admin/editors/{id}",
            web::get().to(ed::admin::edit_editor),
        ),
        (
            post(),
            "/admin/editors/{id}",
            web::post().to(ed::admin::update_editor),
        ),
        (
            post(),
            "/admin/editors/{id}/status",
            web::post().to(ed::admin::set_disabled),
        ),
        (
            get(),
            "/settings/notifications",
            web::get().to(ed::settings::notifications),
        ),
        (
            post(),
            "/settings/notifications",
            web::post().to(ed::settings::save_notifications),
        ),
        (get(), "/settings/account", web::get().to(ed::account::show)),
        (
            post(),
            "/settings/time-zone",
            web::post().to(ed::time_zone::save),
        ),
        (
            post(),
            "/settings/password",
            web::post().to(ed::account::change_password),
        ),
        (
            post(),
            "/settings/tokens",
            web::post().to(ed::account::create_token),
        ),
        (
            post(),
            "/settings/tokens/{id}/revoke",
            web::post().to(ed::account::revoke_token),
        ),
        (get(), "/admin/outbox", web::get().to(ed::outbox::page)),
        (
            post(),
            "/admin/outbox/retry-dead",
            web::post().to(ed::outbox::retry_all),
        ),
        (
            post(),
            "/admin/outbox/{id}/retry",
            web::post().to(ed::outbox::retry),
        ),
        (
            get(),
            "/admin/subject-requests",
            web::get().to(ed::subjects::page),
        ),
        (
            post(),
            "/admin/subject-requests/erase",
            web::post().to(ed::subjects::erase),
        ),
        (get(), "/admin/webhooks", web::get().to(ed::webhooks::page)),
        (
            post(),
            "/admin/webhooks",
            web::post().to(ed::webhooks::create),
        ),
        (
            get(),
            "/admin/webhooks/{id}",
            web::get().to(ed::webhooks::log),
        ),
        (
            post(),
            "/admin/webhooks/{id}/test",
            web::post().to(ed::webhooks::test),
        ),
        (
            post(),
            "/admin/webhooks/{id}/delete",
            web::post().to(ed::webhooks::delete),
        ),
    ];
    let mut scope = web::scope("/editor").wrap(from_fn(ed::security_headers));
    for (method, path, route) in editor {
        t.note(&method, &format!("/editor{path}"));
        scope = scope.route(path, route);
    }
    t.cfg
        .service(scope.default_service(web::to(editor_page::not_found)));
    t.entries
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use utoipa::OpenApi;

    use super::*;

    /// The table, mounted on a throw-away app.
    fn table() -> Vec<Entry> {
        let mut entries = Vec::new();
        let cors = CorsSettings {
            public_origins: vec!["*".into()],
        };
        let _app = actix_web::App::new().configure(|cfg| {
            entries = configure(
                cfg,
                &cors,
                BodyLimits {
                    ingest: 1,
                    intake: 1,
                },
            )
        });
        entries
    }

    /// Paths the OpenAPI description leaves out on purpose: the editors'
    /// pages and their helpers (a browser interface, not an API), the
    /// readers' data-request form, the widget's static files and the home
    /// page.
    fn undocumented(e: &Entry) -> bool {
        e.path.starts_with("/editor")
            || e.path == "/r/{token}/data-requests"
            || assets::FILES.iter().any(|(p, _, _)| *p == e.path)
            || e.path == "/"
    }

    #[test]
    fn every_route_is_documented_and_every_documented_route_exists() {
        let doc = crate::openapi::ApiDoc::openapi();
        let documented: BTreeSet<Entry> = doc
            .paths
            .paths
            .iter()
            .flat_map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ];
                methods
                    .into_iter()
                    .filter(|(_, present)| *present)
                    .map(|(m, _)| Entry {
                        method: m.to_string(),
                        path: path.clone(),
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let mounted: BTreeSet<Entry> = table().into_iter().filter(|e| !undocumented(e)).collect();
        let missing: Vec<_> = mounted.difference(&documented).collect();
        assert!(
            missing.is_empty(),
            "mounted but not in the OpenAPI description: {missing:?}"
        );
        let ghosts: Vec<_> = documented.difference(&mounted).collect();
        assert!(ghosts.is_empty(), "documented but not mounted: {ghosts:?}");
    }

    #[test]
    fn the_table_lists_each_route_once() {
        let all = table();
        let unique: BTreeSet<&Entry> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
        assert!(all.len() > 60, "{} routes", all.len());
    }
}
