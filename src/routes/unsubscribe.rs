//! One-click unsubscribe (RFC 8058): `POST /unsubscribe/{token}` turns the
//! notification off at once — what mail clients send for the
//! `List-Unsubscribe-Post` header. `GET` on the same link (the one in the
//! email's footer) only shows a page with a button that posts, because mail
//! scanners follow links: a GET must never unsubscribe anyone. No login: the
//! signed token is the authority, and it names one notification only.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::db::now;
use crate::error::Problem;
use crate::notify::prefs::NotificationKind;
use crate::notify::unsubscribe::{self, Scope, Unsubscribe};
use crate::state::AppState;

async fn verify(state: &AppState, token: String) -> Result<Unsubscribe, Problem> {
    let invalid = || {
        Problem::not_found(
            "unsubscribe_link_invalid",
            "This unsubscribe link is not valid; copy the whole link from the email.",
        )
    };
    let secret = state
        .read(|conn| Ok(unsubscribe::read_secret(conn)?))
        .await?
        .ok_or_else(invalid)?;
    Unsubscribe::verify(&token, &secret).ok_or_else(invalid)
}

/// What the link turns off, in words.
fn what(u: &Unsubscribe) -> &'static str {
    let en = u.lang == "en";
    match &u.scope {
        Scope::EditorKind { kind, .. } => match (kind, en) {
            (NotificationKind::NewCase, false) => "les e-mails sur les nouveaux signalements",
            (NotificationKind::NewCase, true) => "emails about new reports",
            (NotificationKind::Escalation, false) => "les alertes sur les dossiers prioritaires",
            (NotificationKind::Escalation, true) => "alerts about cases that need attention now",
            (NotificationKind::Assigned, false) => {
                "les e-mails sur les dossiers qui vous sont confiés"
            }
            (NotificationKind::Assigned, true) => "emails about cases assigned to you",
            (NotificationKind::Overdue, false) => "les rappels sur les dossiers en retard",
            (NotificationKind::Overdue, true) => "reminders about overdue cases",
        },
        Scope::EditorDigest { cadence, .. } => match (cadence.as_str(), en) {
            ("daily", false) => "le résumé quotidien",
            ("daily", true) => "the daily digest",
            (_, false) => "le résumé horaire",
            (_, true) => "the hourly digest",
        },
        Scope::Reader { .. } => {
            if en {
                "emails about your reports"
            } else {
                "les e-mails sur vos signalements"
            }
        }
    }
}

/// A small self-contained page; every string in it is ours, none the reader's.
fn page(lang: &str, title: &str, body: &str) -> HttpResponse {
    let html = format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title}</title>\
         <style>body{{font-family:Georgia,serif;max-width:34rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}}\
         button{{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:4px;background:#1a4d8f;color:#fff;cursor:pointer}}</style>\
         </head><body><h1>{title}</h1>{body}</body></html>"
    );
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(html)
}

/// The page behind an unsubscribe link: says what it turns off, with a
/// button that does it. Changes nothing by itself.
#[utoipa::path(get, path = "/unsubscribe/{token}", tag = "notifications",
    params(("token" = String, Path, description = "The token from the email's unsubscribe link")),
    responses(
        (status = 200, description = "A page with a button that unsubscribes", content_type = "text/html"),
        (status = 404, description = "Not a valid link", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn confirm(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let u = verify(&state, path.into_inner()).await?;
    let (title, lead, button) = if u.lang == "en" {
        ("Unsubscribe", "Stop receiving", "Unsubscribe")
    } else {
        ("Se désabonner", "Ne plus recevoir", "Me désabonner")
    };
    let body = format!(
        "<p>{lead} {} ?</p><form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\"><button type=\"submit\">{button}</button></form>",
        what(&u)
    );
    Ok(page(&u.lang, title, &body))
}

/// Unsubscribe in one click (RFC 8058): turns the notification named by the
/// token off at once and drops its unsent emails. Idempotent. The body
/// (`List-Unsubscribe=One-Click`) is accepted and not needed.
#[utoipa::path(post, path = "/unsubscribe/{token}", tag = "notifications",
    params(("token" = String, Path, description = "The token from the email's unsubscribe link")),
    responses(
        (status = 200, description = "Unsubscribed (a confirmation page)", content_type = "text/html"),
        (status = 404, description = "Not a valid link", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn unsubscribe(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let u = verify(&state, path.into_inner()).await?;
    let applied = u.clone();
    state
        .writer
        .run(move |conn| Ok(unsubscribe::apply(conn, &applied, now())?))
        .await?;
    tracing::info!(scope = scope_name(&u.scope), "unsubscribed");
    let (title, body) = if u.lang == "en" {
        (
            "Unsubscribed",
            format!("<p>Done: you will no longer receive {}.</p>", what(&u)),
        )
    } else {
        (
            "Désabonnement confirmé",
            format!("<p>C'est fait : vous ne recevrez plus {}.</p>", what(&u)),
        )
    };
    Ok(page(&u.lang, title, &body))
}

fn scope_name(s: &Scope) -> &'static str {
    match s {
        Scope::EditorKind { .. } => "editor_kind",
        Scope::EditorDigest { .. } => "editor_digest",
        Scope::Reader { .. } => "reader",
    }
}
