//! Admins' page for readers' data-subject requests: the requests filed from
//! status pages, a link to each reader's export (the admin API's JSON) and
//! the erasure form. The same functions as `erratum subject …` and
//! `/api/v1/admin/subject…`, audited the same way.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

use super::flash::{self, Flash};
use super::page;
use super::session::{Editor, Posted};
use crate::app::AppState;
use crate::app::subjects;
use crate::domain::editor::Role;
use crate::error::{ErrorCode, Problem};

pub const PATH: &str = "/editor/admin/subject-requests";

/// GET /editor/admin/subject-requests (`?all=1` shows handled ones too)
pub async fn page(
    Editor(editor): Editor,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    editor.require(Role::Admin)?;
    let all = req.query_string().split('&').any(|p| p == "all=1");
    let rows = subjects::requests(&state, editor.actor(), !all).await?;
    let rows: Vec<minijinja::Value> = rows
        .into_iter()
        .map(|r| {
            context! {
                id => r.id,
                kind => r.kind,
                created_at => r.created_at,
                handled_at => r.handled_at,
                reference => r.report_reference,
                article_title => r.article_title,
                export_url => r.email.as_deref().map(|e| {
                    format!("/api/v1/admin/subjects?email={}", url::form_urlencoded::byte_serialize(e.as_bytes()).collect::<String>())
                }),
                email => r.email,
            }
        })
        .collect();
    page::render(
        StatusCode::OK,
        "subjects.html",
        context! {
            ..context! {
                rows,
                all,
                flash => Flash::from_request(&req).message(page::lang_of(&editor)),
            },
            ..page::base(&editor, "subjects"),
        },
    )
}

#[derive(Deserialize)]
pub struct EraseForm {
    email: String,
    /// A checkbox: present ("1") when ticked.
    remove_text: Option<String>,
}

/// POST /editor/admin/subject-requests/erase
pub async fn erase(
    state: web::Data<AppState>,
    posted: Posted<EraseForm>,
) -> Result<HttpResponse, Problem> {
    posted.editor.require(Role::Admin)?;
    let remove_text = posted.form.remove_text.is_some();
    let erased = match subjects::erase(
        &state,
        posted.editor.actor(),
        &posted.form.email,
        remove_text,
    )
    .await
    {
        Ok(e) => e,
        Err(p) if p.code == ErrorCode::Validation => {
            return Ok(page::see_other(&flash::with(
                PATH,
                &[("err", "validation")],
            )));
        }
        Err(p) => return Err(p),
    };
    let n = erased.reports.to_string();
    Ok(page::see_other(&flash::with(
        PATH,
        &[("done", "subject_erased"), ("n", &n)],
    )))
}
