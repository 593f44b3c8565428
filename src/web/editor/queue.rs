//! The queue page: the API's filters and sorts as a GET form, counts per
//! status, one row per case, bulk actions, and the small JSON answer
//! the page polls to mark cases someone else changed meanwhile.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};
use serde::Deserialize;

use super::flash::{self, Flash};
use super::page;
use super::session::{Editor, Posted};
use crate::app::AppState;
use crate::app::cases::CaseAction;
use crate::app::queue::{self, Capped, QueueQuery};
use crate::app::{accounts, bulk, cases};
use crate::domain::editor::Role;
use crate::domain::report::Category;
use crate::domain::workflow::{Resolution, Resolve, Status};
use crate::error::{FieldError, Problem};

/// The filter parameters, in the order the form shows them.
const PARAMS: [&str; 9] = [
    "q",
    "status",
    "category",
    "desk",
    "article",
    "assignee",
    "min_reports",
    "resolution",
    "sort",
];

fn query_value<'a>(q: &'a QueueQuery, name: &str) -> Option<&'a str> {
    let v = match name {
        "q" => &q.q,
        "status" => &q.status,
        "category" => &q.category,
        "desk" => &q.desk,
        "article" => &q.article,
        "assignee" => &q.assignee,
        "min_reports" => &q.min_reports,
        "resolution" => &q.resolution,
        "sort" => &q.sort,
        "cursor" => &q.cursor,
        _ => &None,
    };
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// `/editor/?…` with the current filters, `changes` replacing some of them.
fn href(q: &QueueQuery, changes: &[(&str, Option<&str>)]) -> String {
    let mut u = url::Url::parse("http://x/editor/").expect("a valid URL");
    {
        let mut pairs = u.query_pairs_mut();
        for name in PARAMS.iter().chain(["cursor"].iter()) {
            let value = match changes.iter().find(|(n, _)| n == name) {
                Some((_, v)) => *v,
                None if *name == "cursor" => None,
                None => query_value(q, name),
            };
            if let Some(v) = value {
                pairs.append_pair(name, v);
            }
        }
    }
    match u.query().filter(|q| !q.is_empty()) {
        Some(q) => format!("/editor/?{q}"),
        None => "/editor/".to_string(),
    }
}

/// GET /editor/
pub async fn page(
    Editor(editor): Editor,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let query = web::Query::<QueueQuery>::from_query(req.query_string())
        .map_err(|e| {
            Problem::validation(vec![FieldError::new(
                "query",
                "invalid_query",
                e.to_string(),
            )])
        })?
        .into_inner();
    let flash: Flash = web::Query::<Flash>::from_query(req.query_string())
        .map(|f| f.into_inner())
        .unwrap_or_default();
    let (result, counts) = queue::page_with_counts(&state, editor.actor().clone(), &query).await?;
    let staff = accounts::staff_names(&state, editor.actor()).await?;
    let lang = page::lang_of(&editor);
    let status_now = query_value(&query, "status").unwrap_or("");
    let mut chips: Vec<Value> = Vec::new();
    let open = Capped::sum(
        counts
            .iter()
            .filter(|(s, _)| *s != Status::Resolved)
            .map(|(_, n)| n),
    );
    chips.push(context! { key => "open", n => open.n, more => open.more,
    href => href(&query, &[("status", None)]), current => status_now.is_empty() });
    for (status, n) in &counts {
        let s = status.as_str();
        chips.push(context! { key => s, n => n.n, more => n.more,
        href => href(&query, &[("status", Some(s))]), current => status_now == s });
    }
    let all = Capped::sum(counts.iter().map(|(_, n)| n));
    chips.push(context! { key => "all", n => all.n, more => all.more,
    href => href(&query, &[("status", Some("all"))]), current => status_now == "all" });
    let assignees: Vec<Value> = staff
        .iter()
        .filter(|r| !r.disabled && r.role >= Role::Editor)
        .map(|r| context! { id => r.id.clone(), name => r.name.clone() })
        .collect();
    let form = context! {
        q => query_value(&query, "q"), status => status_now,
        category => query_value(&query, "category"), desk => query_value(&query, "desk"),
        article => query_value(&query, "article"), assignee => query_value(&query, "assignee"),
        min_reports => query_value(&query, "min_reports"),
        resolution => query_value(&query, "resolution"), sort => query_value(&query, "sort"),
    };
    let next = result
        .next_cursor
        .as_deref()
        .map(|c| href(&query, &[("cursor", Some(c))]));
    let first = query_value(&query, "cursor").map(|_| href(&query, &[]));
    let filtered = PARAMS
        .iter()
        .any(|p| *p != "sort" && *p != "status" && query_value(&query, p).is_some());
    let ctx = context! {
        items => Value::from_serialize(&result.items),
        as_of => result.as_of.to_string(),
        chips, assignees, form, next, first, filtered,
        categories => Category::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        resolutions => Resolution::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        self_href => href(&query, &[]),
        flash => flash.message(lang),
        ..page::base(&editor, "queue"),
    };
    page::render(StatusCode::OK, "queue.html", ctx)
}

#[derive(Deserialize)]
pub struct VersionsQuery {
    ids: String,
}

/// Each listed case's version and status, for the editors' queue page to
/// mark cases that changed since it was drawn (session cookie only). A
/// helper of that page, not part of the API: it is left out of the OpenAPI
/// description (scripts use `GET /api/v1/queue`).
pub async fn versions(
    Editor(_editor): Editor,
    state: web::Data<AppState>,
    query: web::Query<VersionsQuery>,
) -> Result<HttpResponse, Problem> {
    let ids: Vec<String> = query.ids.split(',').map(str::to_string).collect();
    let rows = queue::versions(&state, ids).await?;
    let cases: Vec<_> = rows
        .into_iter()
        .map(|(id, version, status)| serde_json::json!({"id": id, "version": version, "status": status}))
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "cases": cases })))
}

#[derive(Deserialize)]
pub struct BulkForm {
    #[serde(default)]
    ids: Vec<String>,
    /// `claim`, `triage`, `assign` or `priority`; absent when a resolution
    /// button was pressed.
    action: Option<String>,
    /// `spam`, `duplicate`, `rejected` or `no_change`.
    resolution: Option<String>,
    /// An editor id (assign).
    assignee: Option<String>,
    /// 0–100, or empty to clear (priority).
    priority: Option<String>,
    /// One public note for every case (rejected, no_change, duplicate).
    public_note: Option<String>,
    duplicate_of: Option<String>,
    return_to: Option<String>,
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The form's action, or the flash error word that says what is missing.
fn bulk_action(form: &BulkForm) -> Result<CaseAction, &'static str> {
    if let Some(resolution) = present(&form.resolution) {
        let resolution = Resolution::parse(resolution)
            .filter(|r| cases::bulk_allowed(*r))
            .ok_or("validation")?;
        let note = match resolution {
            Resolution::Spam => None,
            _ => present(&form.public_note),
        };
        let dup = match resolution {
            Resolution::Duplicate => present(&form.duplicate_of),
            _ => None,
        };
        return match Resolve::parse(resolution, note, dup) {
            Ok(r) => Ok(CaseAction::Resolve(r)),
            Err(_) if resolution == Resolution::Duplicate => Err("duplicate_of_required"),
            Err(_) => Err("public_note_invalid"),
        };
    }
    match present(&form.action) {
        Some("claim") => Ok(CaseAction::Claim),
        Some("triage") => Ok(CaseAction::Triage),
        Some("assign") => match present(&form.assignee) {
            Some(id) if uuid::Uuid::parse_str(id).is_ok() => Ok(CaseAction::Assign {
                editor_id: id.to_string(),
            }),
            _ => Err("assignee_required"),
        },
        Some("priority") => match present(&form.priority).map(str::parse::<i32>) {
            None => Ok(CaseAction::Priority { priority: None }),
            Some(Ok(n)) if (0..=100).contains(&n) => Ok(CaseAction::Priority { priority: Some(n) }),
            Some(_) => Err("priority_invalid"),
        },
        _ => Err("validation"),
    }
}

/// POST /editor/cases/bulk: one action on the selected cases (claim,
/// assign, triage, priority, or a resolution without correction), each
/// checked and audited as if acted on alone. The refused ones come back
/// listed with the reason (`flash::failures`).
pub async fn bulk(
    state: web::Data<AppState>,
    posted: Posted<BulkForm>,
) -> Result<HttpResponse, Problem> {
    let Posted { editor, form } = posted;
    editor.require(Role::Editor)?;
    let back = flash::safe_return(form.return_to.as_deref());
    let mut ids: Vec<String> = Vec::new();
    for id in &form.ids {
        if uuid::Uuid::parse_str(id).is_ok() && !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    let refuse = |word: &str| Ok(page::see_other(&flash::with(&back, &[("err", word)])));
    if ids.is_empty() {
        return refuse("none_selected");
    }
    if ids.len() > cases::MAX_BULK {
        return refuse("too_many");
    }
    let action = match bulk_action(&form) {
        Ok(a) => a,
        Err(word) => return refuse(word),
    };
    let results = bulk::run(&state, editor.actor().clone(), &ids, action).await?;
    let done = results.iter().filter(|r| r.done()).count();
    let failed = results.len() - done;
    let word = results
        .iter()
        .find(|r| r.done())
        .map(|r| r.outcome.as_str())
        .unwrap_or("none");
    tracing::info!(done, asked = results.len(), "bulk action (page)");
    let (n, f) = (done.to_string(), failed.to_string());
    let failures = flash::failures(
        results
            .iter()
            .filter(|r| !r.done())
            .map(|r| (r.case_id.as_str(), r.outcome.as_str())),
    );
    // `bulk` is the resolutions' word (the first bulk action there was).
    let done_word = match word {
        "resolved" => "bulk".to_string(),
        w => format!("bulk_{w}"),
    };
    let mut params = vec![("done", done_word.as_str()), ("n", &n), ("failed", &f)];
    if !failures.is_empty() {
        params.push(("bf", &failures));
    }
    Ok(page::see_other(&flash::with(&back, &params)))
}
