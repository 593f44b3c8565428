//! Mounts the newsroom side: login, tokens, accounts, the queue, cases and
//! published corrections.

use actix_web::web;

use super::{audit, auth, cases, corrections, editors, public_cors, queue, tokens};
use crate::config::CorsSettings;

pub fn configure(cfg: &mut web::ServiceConfig, cors: &CorsSettings) {
    cfg.route("/api/v1/auth/login", web::post().to(auth::login))
        .route("/api/v1/auth/logout", web::post().to(auth::logout))
        .route("/api/v1/auth/me", web::get().to(auth::me))
        .route(
            "/api/v1/auth/password",
            web::post().to(auth::change_password),
        )
        .service(
            web::resource("/api/v1/tokens")
                .route(web::get().to(tokens::list))
                .route(web::post().to(tokens::create)),
        )
        .route("/api/v1/tokens/{id}", web::delete().to(tokens::revoke))
        .service(
            web::resource("/api/v1/editors")
                .route(web::get().to(editors::list))
                .route(web::post().to(editors::create)),
        )
        .route("/api/v1/editors/{id}", web::patch().to(editors::update))
        .route("/api/v1/audit", web::get().to(audit::list))
        .route("/api/v1/queue", web::get().to(queue::list))
        // Before /cases/{id}, which would otherwise take "resolve" for an id.
        .route("/api/v1/cases/resolve", web::post().to(cases::bulk_resolve))
        .route("/api/v1/cases/{id}", web::get().to(cases::get))
        .route("/api/v1/cases/{id}/triage", web::post().to(cases::triage))
        .route("/api/v1/cases/{id}/claim", web::post().to(cases::claim))
        .route("/api/v1/cases/{id}/assign", web::post().to(cases::assign))
        .route(
            "/api/v1/cases/{id}/unassign",
            web::post().to(cases::unassign),
        )
        .route("/api/v1/cases/{id}/note", web::post().to(cases::note))
        .route(
            "/api/v1/cases/{id}/priority",
            web::post().to(cases::priority),
        )
        .route("/api/v1/cases/{id}/resolve", web::post().to(cases::resolve))
        .route("/api/v1/cases/{id}/reopen", web::post().to(cases::reopen))
        // Public: newsroom pages and feed readers fetch these.
        .service(
            web::resource("/api/v1/corrections")
                .wrap(public_cors(cors))
                .route(web::get().to(corrections::list)),
        )
        .route("/corrections.atom", web::get().to(corrections::atom))
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
