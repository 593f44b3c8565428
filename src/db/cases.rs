//! Cases as editors see them: one summary shape shared by the queue, the case
//! page and the answers to actions.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::DbConn;
use super::reports::ArticleRef;
use super::schema::{articles, cases, editors};
use crate::auth::CurrentEditor;
use crate::domain::priority;
use crate::domain::report::Category;
use crate::domain::workflow::{self, Action, Status};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cases)]
pub struct CaseRow {
    pub id: String,
    pub article_id: String,
    pub sentence_id: String,
    pub open_key: Option<String>,
    pub sentence_text: String,
    pub desk: Option<String>,
    pub status: String,
    pub anchor_state: String,
    pub successor_sentence_id: Option<String>,
    pub report_count: i32,
    pub reporter_count: i32,
    pub categories: String,
    pub first_reported_at: NaiveDateTime,
    pub last_reported_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub assignee_id: Option<String>,
    pub priority_override: Option<i32>,
    pub resolution: Option<String>,
    pub public_note: Option<String>,
    pub duplicate_of: Option<String>,
    pub resolved_at: Option<NaiveDateTime>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl CaseRow {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::New)
    }

    /// The categories reported, with their counts.
    pub fn category_counts(&self) -> BTreeMap<Category, i64> {
        let raw: BTreeMap<String, i64> = serde_json::from_str(&self.categories).unwrap_or_default();
        raw.into_iter()
            .filter_map(|(k, v)| Category::parse(&k).map(|c| (c, v)))
            .collect()
    }
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<CaseRow>> {
    cases::table
        .find(id)
        .select(CaseRow::as_select())
        .first(conn)
        .optional()
}

/// Report counts of a case, live or as of a queue snapshot.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub report_count: i64,
    pub reporter_count: i64,
    pub categories: BTreeMap<Category, i64>,
    pub first_reported_at: Option<NaiveDateTime>,
    pub last_reported_at: Option<NaiveDateTime>,
    pub due_at: Option<NaiveDateTime>,
}

impl Stats {
    pub fn live(c: &CaseRow) -> Stats {
        Stats {
            report_count: c.report_count.into(),
            reporter_count: c.reporter_count.into(),
            categories: c.category_counts(),
            first_reported_at: Some(c.first_reported_at),
            last_reported_at: Some(c.last_reported_at),
            due_at: Some(c.due_at),
        }
    }
}

/// The priority score (tenths) of a case with these counts, at `at`.
pub fn priority_tenths(
    c: &CaseRow,
    s: &Stats,
    published_at: Option<NaiveDateTime>,
    at: NaiveDateTime,
) -> i64 {
    let categories: Vec<Category> = s.categories.keys().copied().collect();
    priority::score_tenths(&priority::Inputs {
        categories: &categories,
        reporters: s.reporter_count,
        article_published_at: published_at,
        first_reported_at: s.first_reported_at.unwrap_or(c.first_reported_at),
        due_at: s.due_at.unwrap_or(c.due_at),
        priority_override: c.priority_override,
        now: at,
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EditorRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CategoryCount {
    pub category: Category,
    pub count: i64,
}

/// A case as the queue, the case page and every action answer show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseSummary {
    pub id: String,
    pub article: ArticleRef,
    pub sentence_id: String,
    /// The sentence as it was reported.
    pub sentence_text: String,
    /// `current`, `possibly_fixed` (the sentence was edited since; see
    /// `successor_sentence_id`) or `orphaned` (it was removed).
    pub anchor_state: String,
    pub successor_sentence_id: Option<String>,
    pub desk: Option<String>,
    pub status: Status,
    pub assignee: Option<EditorRef>,
    pub report_count: i64,
    pub reporter_count: i64,
    pub categories: Vec<CategoryCount>,
    pub first_reported_at: NaiveDateTime,
    pub last_reported_at: NaiveDateTime,
    /// The decision target: the earliest of each report's time plus its
    /// category's `queue.due_hours`.
    pub due_at: NaiveDateTime,
    pub overdue: bool,
    /// 0–100, see the README's formula; an explicit priority replaces it.
    pub priority: f64,
    pub priority_override: Option<i32>,
    pub resolution: Option<String>,
    pub public_note: Option<String>,
    pub duplicate_of: Option<String>,
    pub resolved_at: Option<NaiveDateTime>,
    /// Grows with every change to the case.
    pub version: i32,
    /// What the calling editor may do to the case now.
    pub allowed_actions: Vec<Action>,
}

/// The actions `editor` may take on `c` now: the workflow's, for the desks
/// the editor covers; claiming only when nobody else holds the case.
pub fn allowed_for(editor: &CurrentEditor, c: &CaseRow) -> Vec<Action> {
    if editor.require_desk(c.desk.as_deref()).is_err() {
        return Vec::new();
    }
    let held_by_other = c.assignee_id.as_deref().is_some_and(|a| a != editor.id);
    workflow::allowed(c.status(), c.assignee_id.is_some())
        .into_iter()
        .filter(|a| !(held_by_other && *a == Action::Claim))
        .collect()
}

/// Build summaries for rows, with their articles and assignees fetched in
/// bulk. `stats` (by case id) replaces the live counts, for the queue's
/// snapshot; `at` is the time priorities and `overdue` are computed at.
pub fn summaries(
    conn: &mut DbConn,
    editor: &CurrentEditor,
    rows: Vec<CaseRow>,
    stats: &HashMap<String, Stats>,
    at: NaiveDateTime,
) -> QueryResult<Vec<CaseSummary>> {
    let article_ids: Vec<&str> = rows.iter().map(|r| r.article_id.as_str()).collect();
    let arts: HashMap<String, (ArticleRef, Option<NaiveDateTime>)> = articles::table
        .filter(articles::id.eq_any(&article_ids))
        .select((
            articles::id,
            articles::external_id,
            articles::title,
            articles::url,
            articles::published_at,
        ))
        .load::<(String, String, String, String, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .map(|(id, external_id, title, url, p)| {
            (
                id,
                (
                    ArticleRef {
                        external_id,
                        title,
                        url,
                    },
                    p,
                ),
            )
        })
        .collect();
    let assignee_ids: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.assignee_id.as_deref())
        .collect();
    let names: HashMap<String, String> = editors::table
        .filter(editors::id.eq_any(&assignee_ids))
        .select((editors::id, editors::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|c| {
            let s = stats.get(&c.id).cloned().unwrap_or_else(|| Stats::live(&c));
            let (article, published_at) = arts.get(&c.article_id).cloned().unwrap_or((
                ArticleRef {
                    external_id: String::new(),
                    title: String::new(),
                    url: String::new(),
                },
                None,
            ));
            let tenths = priority_tenths(&c, &s, published_at, at);
            let due_at = s.due_at.unwrap_or(c.due_at);
            let open = c.status() != Status::Resolved;
            CaseSummary {
                allowed_actions: allowed_for(editor, &c),
                assignee: c.assignee_id.as_ref().map(|id| EditorRef {
                    id: id.clone(),
                    name: names.get(id).cloned().unwrap_or_default(),
                }),
                article,
                report_count: s.report_count,
                reporter_count: s.reporter_count,
                categories: s
                    .categories
                    .iter()
                    .map(|(category, count)| CategoryCount {
                        category: *category,
                        count: *count,
                    })
                    .collect(),
                first_reported_at: s.first_reported_at.unwrap_or(c.first_reported_at),
                last_reported_at: s.last_reported_at.unwrap_or(c.last_reported_at),
                due_at,
                overdue: open && at >= due_at,
                priority: tenths as f64 / 10.0,
                status: c.status(),
                id: c.id,
                sentence_id: c.sentence_id,
                sentence_text: c.sentence_text,
                anchor_state: c.anchor_state,
                successor_sentence_id: c.successor_sentence_id,
                desk: c.desk,
                priority_override: c.priority_override,
                resolution: c.resolution,
                public_note: c.public_note,
                duplicate_of: c.duplicate_of,
                resolved_at: c.resolved_at,
                version: c.version,
            }
        })
        .collect())
}

/// The version and status of each listed case that exists (for pages that
/// mark cases changed since they were shown).
pub fn versions(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<(String, i32, String)>> {
    use super::schema::cases as c;
    c::table
        .filter(c::id.eq_any(ids))
        .select((c::id, c::version, c::status))
        .load(conn)
}
