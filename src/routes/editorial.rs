//! Mounts the newsroom side: login, tokens, accounts, the queue, cases and
//! published corrections.

use actix_web::web;

use super::{audit, auth, cases, corrections, editors, public_cors, queue, tokens};
use crate::config::CorsSettings;

/// A resource of one route. Not `cfg.route(path, …)`: that puts the method
/// guard on the resource, so another method on the path finds no resource
/// and answers 404; a resource answers 405 with `Allow`.
fn one(path: &str, route: actix_web::Route) -> actix_web::Resource {
    web::resource(path).route(route)
}

pub fn configure(cfg: &mut web::ServiceConfig, cors: &CorsSettings) {
    cfg.service(one("/api/v1/auth/login", web::post().to(auth::login)))
        .service(one("/api/v1/auth/logout", web::post().to(auth::logout)))
        .service(one("/api/v1/auth/me", web::get().to(auth::me)))
        .service(one(
            "/api/v1/auth/password",
            web::post().to(auth::change_password),
        ))
        .service(
            web::resource("/api/v1/tokens")
                .route(web::get().to(tokens::list))
                .route(web::post().to(tokens::create)),
        )
        .service(one("/api/v1/tokens/{id}", web::delete().to(tokens::revoke)))
        .service(
            web::resource("/api/v1/editors")
                .route(web::get().to(editors::list))
                .route(web::post().to(editors::create)),
        )
        .service(one(
            "/api/v1/editors/{id}",
            web::patch().to(editors::update),
        ))
        .service(one("/api/v1/audit", web::get().to(audit::list)))
        .service(one("/api/v1/queue", web::get().to(queue::list)))
        // Before /cases/{id}, which would otherwise take "resolve" for an id.
        .service(one(
            "/api/v1/cases/resolve",
            web::post().to(cases::bulk_resolve),
        ))
        .service(one("/api/v1/cases/{id}", web::get().to(cases::get)))
        .service(one(
            "/api/v1/cases/{id}/triage",
            web::post().to(cases::triage),
        ))
        .service(one(
            "/api/v1/cases/{id}/claim",
            web::post().to(cases::claim),
        ))
        .service(one(
            "/api/v1/cases/{id}/assign",
            web::post().to(cases::assign),
        ))
        .service(one(
            "/api/v1/cases/{id}/unassign",
            web::post().to(cases::unassign),
        ))
        .service(one("/api/v1/cases/{id}/note", web::post().to(cases::note)))
        .service(one(
            "/api/v1/cases/{id}/priority",
            web::post().to(cases::priority),
        ))
        .service(one(
            "/api/v1/cases/{id}/resolve",
            web::post().to(cases::resolve),
        ))
        .service(one(
            "/api/v1/cases/{id}/reopen",
            web::post().to(cases::reopen),
        ))
        // Public: newsroom pages and feed readers fetch these.
        .service(
            web::resource("/api/v1/corrections")
                .wrap(public_cors(cors))
                .route(web::get().to(corrections::list)),
        )
        .service(one("/corrections.atom", web::get().to(corrections::atom)))
        .service(
            web::resource("/api/v1/articles/{external_id}/corrections")
                .wrap(public_cors(cors))
                .route(web::get().to(corrections::for_article)),
        )
        .service(
            web::resource("/api/v1/articles/{external_id}/corrections.jsonld")
                .wrap(public_cors(cors))
                .route(web::get().to(corrections::for_article_jsonld)),
        );
}
