//! The queue: the cases to triage, filtered, sorted and paged, and the
//! counts beside each status.

use serde::Deserialize;

use super::AppState;
pub use crate::db::capped_count::Capped;
use crate::db::queue::{self, Assignee, DEFAULT_PAGE, MAX_PAGE, QueueError, Sort};
pub use crate::db::queue::{Filter, QueuePage};
use crate::domain::actor::Actor;
use crate::domain::case_ref::CaseRef;
use crate::domain::report::Category;
use crate::domain::text::clean;
use crate::domain::workflow::{Resolution, Status};
use crate::error::{FieldError, Problem};

impl From<QueueError> for Problem {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::InvalidCursor(msg) => {
                Problem::validation(vec![FieldError::new("cursor", "invalid_cursor", msg)])
            }
            QueueError::Db(e) => e.into(),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Comma-separated statuses (`new`, `triaged`, `in_review`, `resolved`),
    /// or `all`. Default: the open ones.
    pub status: Option<String>,
    /// Only cases with a report of this category.
    pub category: Option<String>,
    /// Only cases of this desk.
    pub desk: Option<String>,
    /// Only cases on this article (its external id).
    pub article: Option<String>,
    /// `me`, `none` or an editor id.
    pub assignee: Option<String>,
    /// Only cases with at least this many reports.
    #[param(value_type = Option<i32>, minimum = 1, maximum = 2147483647)]
    pub min_reports: Option<String>,
    /// Words to find in the sentence or the readers' comments
    /// (case-insensitive), or a case number (`#1042`: that case, in any
    /// status unless `status` is given). Plain digits are words.
    pub q: Option<String>,
    /// Only cases resolved this way; cases resolved as `spam` appear only
    /// when asked for by name.
    pub resolution: Option<String>,
    /// `priority` (default), `oldest`, `newest` or `reports`.
    pub sort: Option<String>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1–100 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
}

fn bad(field: &str, code: &'static str, msg: impl Into<String>) -> FieldError {
    FieldError::new(field, code, msg)
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Parse every parameter, collecting all errors at once.
/// The query, checked: filter, sort and page size.
pub fn parse(query: &QueueQuery) -> Result<(Filter, Sort, i64), Problem> {
    let mut errors = Vec::new();
    // A case asked for by number (`q=#1042`) is found whatever its status.
    let by_number = present(&query.q).and_then(CaseRef::parse_hash_number);
    let statuses = match present(&query.status) {
        None if by_number.is_none() => Status::OPEN.to_vec(),
        None | Some("all") => vec![
            Status::New,
            Status::Triaged,
            Status::InReview,
            Status::Resolved,
        ],
        Some(list) => {
            let mut out = Vec::new();
            for s in list.split(',').map(str::trim) {
                match Status::parse(s) {
                    Some(st) if !out.contains(&st) => out.push(st),
                    Some(_) => {}
                    None => errors.push(bad(
                        "status",
                        "invalid_value",
                        format!("{s:?} is not new, triaged, in_review, resolved or all"),
                    )),
                }
            }
            out
        }
    };
    let category = present(&query.category).and_then(|c| {
        Category::parse(c).or_else(|| {
            errors.push(bad("category", "invalid_value", "is not a category"));
            None
        })
    });
    let resolution = present(&query.resolution).and_then(|r| {
        Resolution::parse(r).or_else(|| {
            errors.push(bad("resolution", "invalid_value", "is not a resolution"));
            None
        })
    });
    let desk = present(&query.desk).map(str::to_string);
    let article = present(&query.article).map(str::to_string);
    let assignee = present(&query.assignee).and_then(|a| match a {
        "me" => Some(Assignee::Me),
        "none" => Some(Assignee::Nobody),
        id if uuid::Uuid::parse_str(id).is_ok() => Some(Assignee::Editor(id.to_string())),
        _ => {
            errors.push(bad(
                "assignee",
                "invalid_value",
                "must be me, none or an editor id",
            ));
            None
        }
    });
    let min_reports = present(&query.min_reports).and_then(|n| match n.parse::<i32>() {
        Ok(n) if n >= 1 => Some(n),
        _ => {
            errors.push(bad(
                "min_reports",
                "invalid_value",
                "must be a whole number of at least 1",
            ));
            None
        }
    });
    let q = present(&query.q).and_then(|q| match clean(q, 200, false) {
        Ok(q) => Some(q),
        Err(e) => {
            errors.push(bad("q", e.code(), e.message()));
            None
        }
    });
    let sort = match present(&query.sort) {
        None | Some("priority") => Sort::Priority,
        Some("oldest") => Sort::Oldest,
        Some("newest") => Sort::Newest,
        Some("reports") => Sort::Reports,
        Some(_) => {
            errors.push(bad(
                "sort",
                "invalid_value",
                "must be priority, oldest, newest or reports",
            ));
            Sort::Priority
        }
    };
    let limit = match present(&query.limit) {
        None => DEFAULT_PAGE,
        Some(n) => match n.parse::<i64>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                errors.push(bad(
                    "limit",
                    "out_of_range",
                    format!("must be between 1 and {MAX_PAGE}"),
                ));
                DEFAULT_PAGE
            }
        },
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    Ok((
        Filter {
            statuses,
            resolution,
            category,
            desk,
            article,
            assignee,
            min_reports,
            q,
        },
        sort,
        limit,
    ))
}

/// The review queue: one item per case (all the reports on one sentence).
///
/// Pages are keyset-paginated with an opaque `cursor`; a page never skips
/// nor repeats a case while new reports arrive (counts and priorities are
/// those of the first page's snapshot, `as_of`).
/// One page of the queue as `actor` sees it.
pub async fn page(
    state: &AppState,
    actor: Actor,
    query: &QueueQuery,
) -> Result<QueuePage, Problem> {
    let (filter, sort, limit) = parse(query)?;
    let cursor = present(&query.cursor).map(str::to_string);
    let due_hours = state.settings.queue.due_hours.clone();
    state
        .heavy_read(move |conn| {
            Ok(queue::page(
                conn,
                &actor,
                &filter,
                sort,
                cursor.as_deref(),
                limit,
                &due_hours,
            )?)
        })
        .await
}

/// A page of the queue with the counts per status beside it (the editors'
/// queue page).
///
/// Two reads at once on two of the editors' read connections: the counts
/// (up to `[queue] count_cap` index entries per status, about 10 ms on
/// PostgreSQL at a million reports) no longer wait for the page, nor it
/// for them. Neither read was ever one snapshot with the other.
pub async fn page_with_counts(
    state: &AppState,
    actor: Actor,
    query: &QueueQuery,
) -> Result<(QueuePage, Vec<(Status, Capped)>), Problem> {
    let (filter, sort, limit) = parse(query)?;
    let cursor = present(&query.cursor).map(str::to_string);
    let due_hours = state.settings.queue.due_hours.clone();
    let cap = i64::from(state.settings.queue.count_cap);
    let (counted_by, counted) = (actor.clone(), filter.clone());
    futures_util::future::try_join(
        state.heavy_read(move |conn| {
            Ok(queue::page(
                conn,
                &actor,
                &filter,
                sort,
                cursor.as_deref(),
                limit,
                &due_hours,
            )?)
        }),
        state.heavy_read(move |conn| Ok(queue::counts(conn, &counted_by, &counted, cap)?)),
    )
    .await
}

/// The version and status of each listed case that exists (at most a page
/// of them), for pages that mark cases changed since they were shown.
pub async fn versions(
    state: &AppState,
    ids: Vec<String>,
) -> Result<Vec<(String, i32, Status)>, Problem> {
    let ids: Vec<String> = ids
        .into_iter()
        .filter(|id| uuid::Uuid::parse_str(id).is_ok())
        .take(MAX_PAGE as usize)
        .collect();
    state
        .read(move |conn| Ok(crate::db::cases::versions(conn, &ids)?))
        .await
}
