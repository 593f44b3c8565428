//! The review queue: filtered cases, sorted, in pages that neither skip nor
//! repeat a case while reports keep arriving.
//!
//! A first page fixes a snapshot: the newest report id visible then (the
//! *watermark*; ids are time-ordered UUID v7) and the time priorities are
//! computed at. Later pages count only reports up to the watermark, so the
//! sort keys (report counts, priority) cannot move under the reader; cases
//! whose first report is newer appear on the next first page. The cursor
//! carries the snapshot, the last item's sort key and its id.
//!
//! `oldest`/`newest` sort on the first report time, which never changes,
//! and page in SQL. `priority`/`reports` keys are computed in Rust over the
//! filtered cases (the open queue), then paged the same way.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::{count, count_star, exists, max, min};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::DbConn;
use super::cases::{self, CaseRow, CaseSummary, Stats};
use super::dialect::fold;
use super::schema::{articles, cases as cases_t, reports};
use crate::config::DueHours;
use crate::domain::actor::Actor;
use crate::domain::report::Category;
use crate::domain::workflow::{Resolution, Status};

pub const MAX_PAGE: i64 = 100;
pub const DEFAULT_PAGE: i64 = 50;
/// Ids per `IN (…)` list: well under both backends' parameter limits.
const CHUNK: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Highest priority score first.
    Priority,
    /// First reported first.
    Oldest,
    /// Most recently opened first.
    Newest,
    /// Most reports first.
    Reports,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Assignee {
    Me,
    Nobody,
    Editor(String),
}

/// Validated filters.
#[derive(Debug, Clone, Serialize)]
pub struct Filter {
    pub statuses: Vec<Status>,
    pub resolution: Option<Resolution>,
    pub category: Option<Category>,
    pub desk: Option<String>,
    pub article: Option<String>,
    pub assignee: Option<Assignee>,
    pub min_reports: Option<i32>,
    pub q: Option<String>,
}

/// The opaque cursor's content.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cursor {
    /// Which query it belongs to (hash of sort and filters).
    q: String,
    /// Watermark: the newest report id counted.
    w: String,
    /// Time priorities are computed at (microseconds since the epoch).
    t: i64,
    /// The last item's sort key and id.
    k: i64,
    i: String,
}

impl Cursor {
    fn encode(&self) -> String {
        data_encoding::BASE64URL_NOPAD.encode(&serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(s: &str) -> Option<Cursor> {
        let bytes = data_encoding::BASE64URL_NOPAD.decode(s.as_bytes()).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// Why a page could not be read.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The cursor is not one this query handed out (its message says why).
    #[error("cursor {0}")]
    InvalidCursor(&'static str),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

fn invalid_cursor(msg: &'static str) -> QueueError {
    QueueError::InvalidCursor(msg)
}

fn query_hash(sort: Sort, f: &Filter, editor_id: &str) -> String {
    let me = matches!(f.assignee, Some(Assignee::Me)).then_some(editor_id);
    let text = serde_json::to_string(&(sort, f, me)).unwrap_or_default();
    crate::domain::text::sha256_hex(text)[..16].to_string()
}

fn micros(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_micros()
}

fn from_micros(m: i64) -> Option<NaiveDateTime> {
    chrono::DateTime::from_timestamp_micros(m).map(|d| d.naive_utc())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueuePage {
    pub items: Vec<CaseSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// The time priorities and `overdue` are computed at (the first page's).
    #[serde(with = "crate::domain::utc")]
    pub as_of: NaiveDateTime,
}

/// The folded words (`domain::search`), with `%`, `_` and `\` escaped for a
/// LIKE pattern (with ESCAPE '\').
fn like_pattern(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 2);
    out.push('%');
    for c in crate::domain::search::fold(q).chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Per case and category: count, first and last report time.
type GroupRow = (
    String,
    String,
    i64,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
);

type Boxed<'a> = cases_t::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend>;

/// The SQL part of the filters, and the snapshot's membership rule.
fn filtered<'a>(f: &'a Filter, editor_id: &'a str, watermark: &'a str) -> Boxed<'a> {
    let statuses: Vec<&str> = f.statuses.iter().map(|s| s.as_str()).collect();
    let mut q = cases_t::table
        .filter(cases_t::status.eq_any(statuses))
        .filter(exists(
            reports::table
                .filter(reports::case_id.eq(cases_t::id))
                .filter(reports::id.le(watermark)),
        ))
        .into_boxed();
    q = match f.resolution {
        Some(r) => q.filter(cases_t::resolution.eq(r.as_str())),
        // Spam stays out of sight unless asked for by name.
        None => q.filter(
            cases_t::resolution
                .is_null()
                .or(cases_t::resolution.ne(Resolution::Spam.as_str())),
        ),
    };
    if let Some(c) = f.category {
        q = q.filter(exists(
            reports::table
                .filter(reports::case_id.eq(cases_t::id))
                .filter(reports::category.eq(c.as_str())),
        ));
    }
    if let Some(d) = &f.desk {
        q = q.filter(cases_t::desk.eq(d));
    }
    if let Some(a) = &f.article {
        q = q.filter(
            cases_t::article_id.eq_any(
                articles::table
                    .filter(articles::external_id.eq(a))
                    .select(articles::id),
            ),
        );
    }
    q = match &f.assignee {
        None => q,
        Some(Assignee::Nobody) => q.filter(cases_t::assignee_id.is_null()),
        Some(Assignee::Me) => q.filter(cases_t::assignee_id.eq(editor_id)),
        Some(Assignee::Editor(id)) => q.filter(cases_t::assignee_id.eq(id)),
    };
    if let Some(n) = f.min_reports {
        q = q.filter(cases_t::report_count.ge(n));
    }
    if let Some(text) = &f.q {
        let pattern = like_pattern(text);
        q = q.filter(
            fold(cases_t::sentence_text)
                .like(pattern.clone())
                .escape('\\')
                .or(exists(
                    reports::table
                        .filter(reports::case_id.eq(cases_t::id))
                        .filter(fold(reports::comment).like(pattern).escape('\\')),
                )),
        );
    }
    q
}

/// Report counts per case as of the watermark.
fn snapshot_stats(
    conn: &mut DbConn,
    ids: &[String],
    watermark: &str,
    due_hours: &DueHours,
) -> QueryResult<HashMap<String, Stats>> {
    let mut out: HashMap<String, Stats> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<GroupRow> = reports::table
            .filter(reports::case_id.eq_any(chunk))
            .filter(reports::id.le(watermark))
            .group_by((reports::case_id, reports::category))
            .select((
                reports::case_id,
                reports::category,
                count_star(),
                min(reports::created_at),
                max(reports::created_at),
            ))
            .load(conn)?;
        for (case_id, category, n, first, last) in rows {
            let s = out.entry(case_id).or_default();
            s.report_count += n;
            let earliest = |a: Option<NaiveDateTime>, b: Option<NaiveDateTime>| match (a, b) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            s.first_reported_at = earliest(s.first_reported_at, first);
            s.last_reported_at = match (s.last_reported_at, last) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            if let Some(c) = Category::parse(&category) {
                *s.categories.entry(c).or_default() += n;
                let due = first.map(|f| f + chrono::Duration::hours(c.due_hours(due_hours).into()));
                s.due_at = earliest(s.due_at, due);
            }
        }
        let reporters: Vec<(String, i64)> = reports::table
            .filter(reports::case_id.eq_any(chunk))
            .filter(reports::id.le(watermark))
            .group_by(reports::case_id)
            .select((
                reports::case_id,
                count(reports::reporter_key).aggregate_distinct(),
            ))
            .load(conn)?;
        for (case_id, n) in reporters {
            out.entry(case_id).or_default().reporter_count = n;
        }
    }
    Ok(out)
}

/// One page of the queue.
pub fn page(
    conn: &mut DbConn,
    actor: &Actor,
    filter: &Filter,
    sort: Sort,
    cursor: Option<&str>,
    limit: i64,
    due_hours: &DueHours,
) -> Result<QueuePage, QueueError> {
    let me = actor.editor_id().unwrap_or_default();
    let qhash = query_hash(sort, filter, me);
    let cursor = match cursor {
        None => None,
        Some(raw) => {
            let c = Cursor::decode(raw)
                .ok_or_else(|| invalid_cursor("is not a cursor from this queue"))?;
            if c.q != qhash {
                return Err(invalid_cursor(
                    "belongs to another query: keep the sort and the filters while paging",
                ));
            }
            Some(c)
        }
    };
    let (watermark, at) = match &cursor {
        Some(c) => (
            c.w.clone(),
            from_micros(c.t).ok_or_else(|| invalid_cursor("is damaged"))?,
        ),
        None => {
            let newest: Option<String> = reports::table
                .select(reports::id)
                .order(reports::id.desc())
                .first(conn)
                .optional()?;
            (newest.unwrap_or_default(), super::now())
        }
    };
    let after = cursor.as_ref().map(|c| (c.k, c.i.clone()));

    let mut rows: Vec<(i64, CaseRow)>;
    let more;
    match sort {
        Sort::Oldest | Sort::Newest => {
            let mut q = filtered(filter, me, &watermark);
            if let Some((k, id)) = &after {
                let t = from_micros(*k).ok_or_else(|| invalid_cursor("is damaged"))?;
                q = if sort == Sort::Oldest {
                    q.filter(
                        cases_t::first_reported_at
                            .gt(t)
                            .or(cases_t::first_reported_at
                                .eq(t)
                                .and(cases_t::id.gt(id.clone()))),
                    )
                } else {
                    q.filter(
                        cases_t::first_reported_at
                            .lt(t)
                            .or(cases_t::first_reported_at
                                .eq(t)
                                .and(cases_t::id.lt(id.clone()))),
                    )
                };
            }
            q = if sort == Sort::Oldest {
                q.order((cases_t::first_reported_at.asc(), cases_t::id.asc()))
            } else {
                q.order((cases_t::first_reported_at.desc(), cases_t::id.desc()))
            };
            let loaded: Vec<CaseRow> =
                q.select(CaseRow::as_select()).limit(limit + 1).load(conn)?;
            more = loaded.len() as i64 > limit;
            rows = loaded
                .into_iter()
                .take(limit as usize)
                .map(|c| (micros(c.first_reported_at), c))
                .collect();
        }
        Sort::Priority | Sort::Reports => {
            let all: Vec<CaseRow> = filtered(filter, me, &watermark)
                .select(CaseRow::as_select())
                .load(conn)?;
            let ids: Vec<String> = all.iter().map(|c| c.id.clone()).collect();
            let stats = snapshot_stats(conn, &ids, &watermark, due_hours)?;
            let published = published_at(conn, &all)?;
            let mut keyed: Vec<(i64, CaseRow)> = all
                .into_iter()
                .map(|c| {
                    let s = stats.get(&c.id).cloned().unwrap_or_default();
                    let key = match sort {
                        Sort::Reports => s.report_count,
                        _ => cases::priority_tenths(
                            &c,
                            &s,
                            published.get(&c.article_id).copied().flatten(),
                            at,
                        ),
                    };
                    (key, c)
                })
                .collect();
            // Highest key first, then by id: a total order, so pages are exact.
            keyed.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
            if let Some((k, id)) = &after {
                keyed.retain(|(key, c)| *key < *k || (*key == *k && c.id > *id));
            }
            more = keyed.len() as i64 > limit;
            keyed.truncate(limit as usize);
            rows = keyed;
        }
    }

    let next_cursor = match rows.last() {
        Some((k, c)) if more => Some(
            Cursor {
                q: qhash,
                w: watermark.clone(),
                t: micros(at),
                k: *k,
                i: c.id.clone(),
            }
            .encode(),
        ),
        _ => None,
    };
    let case_rows: Vec<CaseRow> = rows.drain(..).map(|(_, c)| c).collect();
    let ids: Vec<String> = case_rows.iter().map(|c| c.id.clone()).collect();
    let stats = snapshot_stats(conn, &ids, &watermark, due_hours)?;
    let items = cases::summaries(conn, actor, case_rows, &stats, at)?;
    Ok(QueuePage {
        items,
        next_cursor,
        as_of: at,
    })
}

fn published_at(
    conn: &mut DbConn,
    rows: &[CaseRow],
) -> QueryResult<HashMap<String, Option<NaiveDateTime>>> {
    let mut ids: Vec<&str> = rows.iter().map(|c| c.article_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let found: Vec<(String, Option<NaiveDateTime>)> = articles::table
            .filter(articles::id.eq_any(chunk))
            .select((articles::id, articles::published_at))
            .load(conn)?;
        out.extend(found);
    }
    Ok(out)
}

/// How many cases of each status match `filter` (its statuses aside): the
/// counts the editors' queue page shows next to each status.
pub fn counts(
    conn: &mut DbConn,
    actor: &Actor,
    filter: &Filter,
) -> QueryResult<Vec<(Status, i64)>> {
    // Every report counts (no snapshot to keep stable here): the largest
    // id, in lower-case hex like every id, under any collation.
    let watermark = "ffffffff-ffff-ffff-ffff-ffffffffffff";
    let mut out = Vec::with_capacity(4);
    for status in [
        Status::New,
        Status::Triaged,
        Status::InReview,
        Status::Resolved,
    ] {
        let f = Filter {
            statuses: vec![status],
            ..filter.clone()
        };
        let n: i64 = filtered(&f, actor.editor_id().unwrap_or_default(), watermark)
            .count()
            .get_result(conn)?;
        out.push((status, n));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards_and_fold_case() {
        assert_eq!(like_pattern("Élysée"), "%elysee%");
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = Cursor {
            q: "abc".into(),
            w: "w".into(),
            t: 1,
            k: -5,
            i: "id".into(),
        };
        let back = Cursor::decode(&c.encode()).unwrap();
        assert_eq!(
            (back.q, back.k, back.i),
            ("abc".to_string(), -5, "id".to_string())
        );
        assert!(Cursor::decode("not a cursor!").is_none());
        assert!(Cursor::decode("e30").is_none(), "{{}} lacks fields");
    }
}
