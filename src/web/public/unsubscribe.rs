//! One-click unsubscribe (RFC 8058): `POST /unsubscribe/{token}` turns the
//! notification off at once — what mail clients send for the
//! `List-Unsubscribe-Post` header. `GET` on the same link (the one in the
//! email's footer) only shows a page with a button that posts, because mail
//! scanners follow links: a GET must never unsubscribe anyone. No login: the
//! signed token is the authority, and it names one notification only. A link
//! that is not one answers 404 problem+json.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::{Audience, html, render};
use crate::app::AppState;
use crate::app::notifications::{self, NotificationKind, Scope, Unsubscribe};
use crate::error::Problem;

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

/// The page, asking (`done` false) or confirming.
fn page(u: &Unsubscribe, done: bool) -> Result<HttpResponse, Problem> {
    let en = u.lang == "en";
    let title = match (done, en) {
        (false, false) => "Se désabonner",
        (false, true) => "Unsubscribe",
        (true, false) => "Désabonnement confirmé",
        (true, true) => "Unsubscribed",
    };
    let lang = if en { "en" } else { "fr" };
    let ctx = minijinja::context! { lang, title, what => what(u), done };
    let mut res = html(
        StatusCode::OK,
        render("unsubscribe.html", ctx)?,
        Audience::Private,
    );
    // The link's token is a credential, like a status link's.
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
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
    let u = notifications::verify_unsubscribe(&state, path.into_inner()).await?;
    page(&u, false)
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
    let u = notifications::verify_unsubscribe(&state, path.into_inner()).await?;
    notifications::unsubscribe(&state, u.clone()).await?;
    tracing::info!(scope = scope_name(&u.scope), "unsubscribed");
    page(&u, true)
}

fn scope_name(s: &Scope) -> &'static str {
    match s {
        Scope::EditorKind { .. } => "editor_kind",
        Scope::EditorDigest { .. } => "editor_digest",
        Scope::Reader { .. } => "reader",
    }
}
