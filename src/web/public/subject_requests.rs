//! The reader's side of data-subject requests: the status page's form posts
//! here, and the page it leads to lists what the reader asked and whether the
//! newsroom answered. The status token in the path is the only credential,
//! as for the status page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::i18n::Catalogs;
use super::{Audience, dates, error_page, html, render};
use crate::app::AppState;
use crate::app::{articles, intake, subjects};
use crate::error::Problem;

/// POST /r/{token}/data-requests (`kind=export|erase`): record, then show
/// the list (303, so a reload does not post again).
pub async fn submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let token = path.into_inner();
    let ip = crate::auth::client_ip(&req, &state.settings.server.trusted_proxies);
    let filed = async {
        intake::count_status_lookup(&state, ip)?;
        let mut inner = payload.into_inner();
        let body = crate::web::editor::session::read_form(&req, &mut inner).await?;
        let kind = crate::web::editor::session::field(&body, "kind").unwrap_or_default();
        subjects::file_request(&state, token.clone(), &kind).await
    }
    .await;
    match filed {
        Ok(_) => HttpResponse::SeeOther()
            .insert_header(("Location", format!("/r/{token}/data-requests")))
            .insert_header(("Referrer-Policy", "no-referrer"))
            .insert_header(("Cache-Control", "no-store"))
            .finish(),
        Err(p) => error_page(&p, Audience::Private),
    }
}

/// GET /r/{token}/data-requests
pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    catalogs: web::Data<Catalogs>,
    path: web::Path<String>,
) -> HttpResponse {
    let ip = crate::auth::client_ip(&req, &state.settings.server.trusted_proxies);
    shown(&state, &catalogs, ip, path.into_inner())
        .await
        .unwrap_or_else(|p| error_page(&p, Audience::Private))
}

async fn shown(
    state: &AppState,
    catalogs: &Catalogs,
    ip: std::net::IpAddr,
    token: String,
) -> Result<HttpResponse, Problem> {
    let status = intake::status_for(state, ip, token.clone()).await?;
    // The status page's language: the article's, when a catalog has it.
    let locale =
        articles::locale(state, status.article.external_id.clone(), status.language).await?;
    let words = catalogs.resolve(locale.as_str());
    let requests = subjects::for_token(state, token.clone()).await?;
    let requests: Vec<minijinja::Value> = requests
        .into_iter()
        .map(|r| {
            minijinja::context! {
                kind => r.kind,
                created_at => words.moment(r.created_at),
                created_at_iso => dates::iso(r.created_at),
                handled => r.handled_at.is_some(),
            }
        })
        .collect();
    let ctx = minijinja::context! {
        lang => words.tag.as_str(),
        t => words.value(),
        token,
        reference => status.reference,
        requests,
    };
    Ok(html(
        StatusCode::OK,
        render("data_requests.html", ctx)?,
        Audience::Private,
    ))
}
