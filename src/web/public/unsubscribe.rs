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
use crate::locales::Catalogs;

/// What the link turns off: its key in the catalog's `[unsubscribe.what]`.
fn what(u: &Unsubscribe) -> &'static str {
    match &u.scope {
        Scope::EditorKind { kind, .. } => match kind {
            NotificationKind::NewCase => "new_case",
            NotificationKind::Escalation => "escalation",
            NotificationKind::Assigned => "assigned",
            NotificationKind::Overdue => "overdue",
        },
        Scope::EditorDigest { cadence, .. } if cadence == "daily" => "daily",
        Scope::EditorDigest { .. } => "hourly",
        Scope::Reader { .. } => "reader",
    }
}

/// The page, asking (`done` false) or confirming, in the email's language:
/// a reader's is the article's (its catalog, `crate::locales`), an editor's
/// French or English.
fn page(u: &Unsubscribe, catalogs: &Catalogs, done: bool) -> Result<HttpResponse, Problem> {
    let words = catalogs.resolve(&u.lang);
    let title = words.text(if done {
        "unsubscribe.done_title"
    } else {
        "unsubscribe.title"
    });
    let ctx = minijinja::context! {
        lang => words.tag.as_str(),
        title,
        what => words.text(&format!("unsubscribe.what.{}", what(u))),
        done,
        t => words.value(),
    };
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
    catalogs: web::Data<Catalogs>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let u = notifications::verify_unsubscribe(&state, path.into_inner()).await?;
    page(&u, &catalogs, false)
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
    catalogs: web::Data<Catalogs>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let u = notifications::verify_unsubscribe(&state, path.into_inner()).await?;
    notifications::unsubscribe(&state, u.clone()).await?;
    tracing::info!(scope = scope_name(&u.scope), "unsubscribed");
    page(&u, &catalogs, true)
}

fn scope_name(s: &Scope) -> &'static str {
    match s {
        Scope::EditorKind { .. } => "editor_kind",
        Scope::EditorDigest { .. } => "editor_digest",
        Scope::Reader { .. } => "reader",
    }
}
