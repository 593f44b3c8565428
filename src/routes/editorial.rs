//! Mounts the newsroom side: login, tokens, accounts, the queue, cases and
//! published corrections.

use actix_web::web;

use super::{auth, editors, public_cors, tokens};
use crate::config::CorsSettings;

pub fn configure(cfg: &mut web::ServiceConfig, _cors: &CorsSettings) {
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
        .route("/api/v1/editors/{id}", web::patch().to(editors::update));
    let _ = public_cors;
}
