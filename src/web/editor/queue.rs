//! The queue page: the API's filters and sorts as a GET form, counts per
//! status, one row per case, bulk spam/duplicate, and the small JSON answer
//! the page polls to mark cases someone else changed meanwhile.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};
use serde::Deserialize;

use super::flash::{self, Flash};
use super::page;
use super::session::{Editor, Posted};
use crate::app::AppState;
use crate::app::queue::{self, QueueQuery};
use crate::app::{accounts, cases};
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
    let open: i64 = counts
        .iter()
        .filter(|(s, _)| *s != Status::Resolved)
        .map(|(_, n)| n)
        .sum();
    chips.push(
        context! { key => "open", n => open, href => href(&query, &[("status", None)]),
        current => status_now.is_empty() },
    );
    for (status, n) in &counts {
        let s = status.as_str();
        chips.push(
            context! { key => s, n => n, href => href(&query, &[("status", Some(s))]),
            current => status_now == s },
        );
    }
    let all: i64 = counts.iter().map(|(_, n)| n).sum();
    chips.push(
        context! { key => "all", n => all, href => href(&query, &[("status", Some("all"))]),
        current => status_now == "all" },
    );
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
    /// `spam`, `duplicate` or `rejected`.
    resolution: String,
    duplicate_of: Option<String>,
    return_to: Option<String>,
}

/// POST /editor/cases/bulk: resolve the selected cases alike (spam waves,
/// duplicates), each checked and audited as if resolved alone.
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
    if ids.is_empty() {
        return Ok(page::see_other(&flash::with(
            &back,
            &[("err", "none_selected")],
        )));
    }
    let resolution = Resolution::parse(&form.resolution)
        .filter(|r| cases::bulk_allowed(*r))
        .ok_or_else(|| {
            Problem::validation(vec![FieldError::new(
                "resolution",
                "invalid_value",
                "must be spam, duplicate, rejected or no_change",
            )])
        })?;
    if ids.len() > cases::MAX_BULK {
        return Ok(page::see_other(&flash::with(&back, &[("err", "too_many")])));
    }
    let duplicate_of = form
        .duplicate_of
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if Resolve::parse(resolution, None, duplicate_of).is_err() {
        return Ok(page::see_other(&flash::with(
            &back,
            &[("err", "duplicate_of_required")],
        )));
    }
    let results = cases::bulk_resolve(
        &state,
        editor.actor().clone(),
        &ids,
        resolution,
        None,
        duplicate_of,
    )
    .await?;
    let done = results.iter().filter(|r| r.resolved()).count();
    let failed = results.len() - done;
    tracing::info!(
        resolved = done,
        asked = results.len(),
        "bulk resolve (page)"
    );
    let (n, f) = (done.to_string(), failed.to_string());
    Ok(page::see_other(&flash::with(
        &back,
        &[("done", "bulk"), ("n", &n), ("failed", &f)],
    )))
}
