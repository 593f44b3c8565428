//! Cases as editors see them: one summary shape shared by the queue, the case
//! page and the answers to actions.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::any_of::any_of;
use serde::Serialize;

use super::case_memory::{self, AlreadyCorrected, CaseLink};
use super::dialect::{is_unique_violation, lock_case};
use super::reports::ArticleRef;
use super::schema::{articles, cases, editors, queue_score_moves as m};
use super::{DbConn, DbResult};
use crate::domain::actor::Actor;
use crate::domain::priority;
use crate::domain::report::Category;
use crate::domain::workflow::{self, Action, AnchorState, Resolution, Status};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cases)]
pub struct CaseRow {
    pub id: String,
    pub article_id: String,
    pub sentence_id: String,
    pub open_key: Option<String>,
    pub sentence_text: String,
    pub desk: Option<String>,
    pub status: Status,
    pub anchor_state: AnchorState,
    pub successor_sentence_id: Option<String>,
    pub report_count: i32,
    pub reporter_count: i32,
    pub categories: String,
    pub first_reported_at: NaiveDateTime,
    pub last_reported_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub assignee_id: Option<String>,
    pub priority_override: Option<i32>,
    pub resolution: Option<Resolution>,
    pub public_note: Option<String>,
    pub duplicate_of: Option<String>,
    pub resolved_at: Option<NaiveDateTime>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The priority score (tenths) as of `queue_scores.scored_at`: what the
    /// queue's `priority` sort reads from its index (`rescore`).
    pub priority_tenths: i32,
    /// The short per-installation number (`#1042`).
    pub number: i32,
    /// A near-duplicate case open on another sentence when this one opened.
    pub possible_duplicate_of: Option<String>,
    /// The sentence lineage's published correction (`already_corrected`).
    pub known_correction_id: Option<String>,
    /// A trusted reader reported on the case (`db::readers`).
    pub trusted_reader: bool,
}

impl CaseRow {
    pub fn status(&self) -> Status {
        self.status
    }

    /// The categories reported, with their counts.
    pub fn category_counts(&self) -> BTreeMap<Category, i64> {
        category_counts(&self.categories)
    }
}

/// A case row's `categories` column: reports per category, as JSON.
fn category_counts(column: &str) -> BTreeMap<Category, i64> {
    let raw: BTreeMap<String, i64> = serde_json::from_str(column).unwrap_or_default();
    raw.into_iter()
        .filter_map(|(k, v)| Category::parse(&k).map(|c| (c, v)))
        .collect()
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

/// What a case's stored score is computed from, without the rest of its
/// row: the queue keys thousands of these again when a re-score ran since
/// a page's snapshot (`db::queue`).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cases)]
pub struct ScoreRow {
    pub id: String,
    pub article_id: String,
    pub categories: String,
    pub reporter_count: i32,
    pub first_reported_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub priority_override: Option<i32>,
    pub known_correction_id: Option<String>,
    pub trusted_reader: bool,
}

impl ScoreRow {
    /// The score the re-score at `at` stores for this row
    /// (`priority_tenths` with the row's own counts).
    pub fn tenths(&self, published_at: Option<NaiveDateTime>, at: NaiveDateTime) -> i64 {
        let categories: Vec<Category> = category_counts(&self.categories).into_keys().collect();
        priority::score_tenths(&priority::Inputs {
            categories: &categories,
            reporters: self.reporter_count.into(),
            article_published_at: published_at,
            first_reported_at: self.first_reported_at,
            due_at: self.due_at,
            priority_override: self.priority_override,
            already_corrected: self.known_correction_id.is_some(),
            trusted: self.trusted_reader,
            now: at,
        })
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
        already_corrected: c.known_correction_id.is_some(),
        trusted: c.trusted_reader,
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
    /// The short per-installation number (`#1042`), accepted wherever a
    /// case id is.
    pub number: i32,
    pub article: ArticleRef,
    pub sentence_id: String,
    /// The sentence as it was reported.
    pub sentence_text: String,
    /// `current`, `possibly_fixed` (the sentence was edited since; see
    /// `successor_sentence_id`) or `orphaned` (it was removed).
    pub anchor_state: AnchorState,
    pub successor_sentence_id: Option<String>,
    pub desk: Option<String>,
    pub status: Status,
    pub assignee: Option<EditorRef>,
    pub report_count: i64,
    pub reporter_count: i64,
    pub categories: Vec<CategoryCount>,
    #[serde(with = "crate::domain::utc")]
    pub first_reported_at: NaiveDateTime,
    #[serde(with = "crate::domain::utc")]
    pub last_reported_at: NaiveDateTime,
    /// The decision target: the earliest of each report's time plus its
    /// category's `queue.due_hours`.
    #[serde(with = "crate::domain::utc")]
    pub due_at: NaiveDateTime,
    pub overdue: bool,
    /// 0–100, see the README's formula; an explicit priority replaces it.
    pub priority: f64,
    pub priority_override: Option<i32>,
    pub resolution: Option<Resolution>,
    pub public_note: Option<String>,
    pub duplicate_of: Option<String>,
    /// The number of the case it duplicates.
    pub duplicate_of_number: Option<i32>,
    /// An open case on another sentence whose reports were near-duplicates
    /// of this one's first report when it arrived (linked, not merged).
    pub possible_duplicate_of: Option<CaseLink>,
    /// The sentence (or the one it replaced) already had a published
    /// correction: "already corrected on <date>".
    pub already_corrected: Option<AlreadyCorrected>,
    #[serde(with = "crate::domain::utc::option")]
    pub resolved_at: Option<NaiveDateTime>,
    /// Grows with every change to the case.
    pub version: i32,
    /// What the calling editor may do to the case now.
    pub allowed_actions: Vec<Action>,
}

/// The actions `actor` may take on `c` now: the workflow's, for the desks
/// the actor covers; claiming only when nobody else holds the case.
pub fn allowed_for(actor: &Actor, c: &CaseRow) -> Vec<Action> {
    if actor.require_desk(c.desk.as_deref()).is_err() {
        return Vec::new();
    }
    let held_by_other = c
        .assignee_id
        .as_deref()
        .is_some_and(|a| Some(a) != actor.editor_id());
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
    actor: &Actor,
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
    // Links and memory, for these rows only (a page at most).
    let linked: Vec<String> = rows
        .iter()
        .flat_map(|r| [r.duplicate_of.clone(), r.possible_duplicate_of.clone()])
        .flatten()
        .collect();
    let numbers = case_memory::numbers(conn, &linked)?;
    let known: Vec<String> = rows
        .iter()
        .filter_map(|r| r.known_correction_id.clone())
        .collect();
    let known = case_memory::already_corrected(conn, &known)?;
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
                allowed_actions: allowed_for(actor, &c),
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
                number: c.number,
                duplicate_of_number: c
                    .duplicate_of
                    .as_ref()
                    .and_then(|d| numbers.get(d).copied()),
                possible_duplicate_of: c.possible_duplicate_of.as_ref().and_then(|d| {
                    numbers.get(d).map(|n| CaseLink {
                        id: d.clone(),
                        number: *n,
                    })
                }),
                already_corrected: c
                    .known_correction_id
                    .as_ref()
                    .and_then(|k| known.get(k).cloned()),
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
pub fn versions(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<(String, i32, Status)>> {
    use super::schema::cases as c;
    c::table
        .filter(c::id.eq_any(ids))
        .select((c::id, c::version, c::status))
        .load(conn)
}

/// A new case row (the intake decides its values).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = cases)]
pub struct NewCase {
    pub id: String,
    pub article_id: String,
    pub sentence_id: String,
    /// `article/sentence` while open: unique, so one open case per sentence.
    pub open_key: Option<String>,
    pub sentence_text: String,
    pub desk: Option<String>,
    pub status: Status,
    pub anchor_state: AnchorState,
    pub report_count: i32,
    pub reporter_count: i32,
    /// JSON object of category → count.
    pub categories: String,
    pub first_reported_at: NaiveDateTime,
    pub last_reported_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub resolution: Option<Resolution>,
    pub resolved_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, case: &NewCase) -> QueryResult<()> {
    diesel::insert_into(cases::table)
        .values(case)
        .execute(conn)?;
    Ok(())
}

/// The open case holding `open_key`, inserting `case` when there is none.
/// The unique `open_key` makes concurrent creators (other instances) agree on
/// one case. Returns the case id and whether it was created.
pub fn find_or_open(conn: &mut DbConn, case: &NewCase) -> DbResult<(String, bool)> {
    let key = case.open_key.clone().unwrap_or_default();
    let find = |conn: &mut DbConn| {
        cases::table
            .filter(cases::open_key.eq(&key))
            .select(cases::id)
            .first::<String>(conn)
            .optional()
    };
    if let Some(id) = find(conn)? {
        return Ok((id, false));
    }
    match conn.transaction(|c| insert(c, case)) {
        Ok(()) => Ok((case.id.clone(), true)),
        Err(e) if is_unique_violation(&e) => {
            Ok((find(conn)?.ok_or(diesel::result::Error::NotFound)?, false))
        }
        Err(e) => Err(e.into()),
    }
}

/// Count one more report of `category` on a case: counters, categories,
/// last report time, and the due time (the earliest of the case's and
/// `due`). Returns the case's report count after it.
pub fn count_report(
    conn: &mut DbConn,
    case_id: &str,
    category: Category,
    new_reporter: bool,
    due: NaiveDateTime,
    t: NaiveDateTime,
) -> QueryResult<i32> {
    lock_case(conn, case_id)?;
    let (categories, due_at): (String, NaiveDateTime) = cases::table
        .find(case_id)
        .select((cases::categories, cases::due_at))
        .first(conn)?;
    let mut counts: BTreeMap<String, i64> = serde_json::from_str(&categories).unwrap_or_default();
    *counts.entry(category.as_str().to_string()).or_default() += 1;
    diesel::update(cases::table.find(case_id))
        .set((
            cases::report_count.eq(cases::report_count + 1),
            cases::reporter_count.eq(cases::reporter_count + new_reporter as i32),
            cases::categories.eq(serde_json::to_string(&counts).unwrap_or_default()),
            cases::last_reported_at.eq(t),
            cases::due_at.eq(due.min(due_at)),
            cases::version.eq(cases::version + 1),
            cases::updated_at.eq(t),
        ))
        .execute(conn)?;
    rescore(conn, case_id)?;
    cases::table
        .find(case_id)
        .select(cases::report_count)
        .first(conn)
}

/// An open case as the writer's batch of reports reads it: the row, when
/// it was escalated, and the instant stored scores are computed at
/// (`scored_at`, the same on every row).
pub type LockedCase = (CaseRow, Option<NaiveDateTime>, Option<NaiveDateTime>);

/// The open cases holding `open_keys`, locked for the rest of the
/// transaction on PostgreSQL (as `lock_case` does, in id order so that two
/// writers lock in one order): the writer's batch of reports reads them
/// once and writes each once (`store_counts`). The scoring instant comes in
/// the same statement, a round trip fewer per batch on PostgreSQL.
pub fn open_locked(conn: &mut DbConn, open_keys: &[String]) -> QueryResult<Vec<LockedCase>> {
    use super::schema::queue_scores as q;
    if open_keys.is_empty() {
        return Ok(Vec::new());
    }
    macro_rules! query {
        () => {
            cases::table
                .filter(any_of(cases::open_key, open_keys))
                .order(cases::id.asc())
                .select((
                    CaseRow::as_select(),
                    cases::escalated_at,
                    q::table.find(1).select(q::scored_at).single_value(),
                ))
        };
    }
    match conn {
        DbConn::Pg(pg) => query!().for_update().load(pg),
        DbConn::Sqlite(_) => query!().load(conn),
    }
}

/// `count_report` on a case row in memory (the writer's batch applies a
/// batch's reports to a case, then stores it once with `store_counts`).
pub fn add_report(
    c: &mut CaseRow,
    category: Category,
    new_reporter: bool,
    due: NaiveDateTime,
    t: NaiveDateTime,
) {
    let mut counts: BTreeMap<String, i64> = serde_json::from_str(&c.categories).unwrap_or_default();
    *counts.entry(category.as_str().to_string()).or_default() += 1;
    c.categories = serde_json::to_string(&counts).unwrap_or_default();
    c.report_count += 1;
    c.reporter_count += new_reporter as i32;
    c.last_reported_at = t;
    c.due_at = due.min(c.due_at);
    c.version += 1;
    c.updated_at = t;
}

/// A case changed by `add_report`, to be stored by `store_counts`: its
/// article's publication time (for the score) and, when set, when it was
/// escalated.
pub struct Counted<'a> {
    pub case: &'a CaseRow,
    pub published_at: Option<NaiveDateTime>,
    pub escalated_at: Option<NaiveDateTime>,
}

/// Store what `add_report` changed on locked cases, each scored at
/// `scored_at` (`rescore`): one statement for all of a batch's cases.
/// A statement per case cost a round trip each, and on PostgreSQL a parse
/// and a plan each (diesel never keeps an UPDATE prepared): with reports on
/// a dozen sentences at once, a batch touched three or four cases, and
/// their updates were the batch's largest cost after the reports' insert.
pub fn store_counts(
    conn: &mut DbConn,
    counted: &[Counted<'_>],
    scored_at: NaiveDateTime,
) -> QueryResult<()> {
    // A CTE's column list names the VALUES' columns on both backends
    // (SQLite allows no alias list on VALUES itself); `UPDATE … FROM` is in
    // both (SQLite since 3.33).
    super::rows::execute_chunked(
        conn,
        counted,
        |tuples| {
            format!(
                "WITH v (id, report_count, reporter_count, categories, last_reported_at, \
                 due_at, version, updated_at, priority_tenths, escalated_at) AS \
                 (VALUES {tuples}) \
                 UPDATE cases SET report_count = v.report_count, \
                 reporter_count = v.reporter_count, categories = v.categories, \
                 last_reported_at = v.last_reported_at, due_at = v.due_at, \
                 version = v.version, updated_at = v.updated_at, \
                 priority_tenths = v.priority_tenths, escalated_at = v.escalated_at \
                 FROM v WHERE cases.id = v.id"
            )
        },
        |k| {
            let c = k.case;
            let p = priority_tenths(c, &Stats::live(c), k.published_at, scored_at) as i32;
            [
                c.id.as_str().into(),
                c.report_count.into(),
                c.reporter_count.into(),
                c.categories.as_str().into(),
                c.last_reported_at.into(),
                c.due_at.into(),
                c.version.into(),
                c.updated_at.into(),
                p.into(),
                k.escalated_at.into(),
            ]
        },
    )
}

/// The instant every stored `priority_tenths` is computed at, when a
/// re-score ran (`rescore_recent`).
pub fn scored_at(conn: &mut DbConn) -> QueryResult<Option<NaiveDateTime>> {
    Ok(scoring(conn)?.map(|s| s.scored_at))
}

/// The queue's one `queue_scores` row, when a re-score ran.
#[derive(Debug, Clone, Copy, Queryable)]
pub struct Scoring {
    /// The instant every stored `priority_tenths` is computed at.
    pub scored_at: NaiveDateTime,
    /// From this instant on, the log of moves holds every re-score.
    pub moves_since: Option<NaiveDateTime>,
    /// The newest entry a write logged (`rescore_moved`), when any.
    pub written_at: Option<NaiveDateTime>,
}

pub fn scoring(conn: &mut DbConn) -> QueryResult<Option<Scoring>> {
    use super::schema::queue_scores as q;
    q::table
        .find(1)
        .select((q::scored_at, q::moves_since, q::written_at))
        .first(conn)
        .optional()
}

/// Lock the `queue_scores` row (PostgreSQL's row lock; SQLite's writer
/// holds the whole database), then read it. Re-scores and the writes that
/// log a move take turns on it, so the instants they stamp on the log are
/// in the order they commit.
fn scoring_locked(conn: &mut DbConn) -> QueryResult<Option<Scoring>> {
    use super::schema::queue_scores as q;
    diesel::update(q::table.find(1))
        .set(q::scored_at.eq(q::scored_at))
        .execute(conn)?;
    scoring(conn)
}

/// Store the priority of one case as of the current `scored_at` (now when
/// no re-score ran yet), after a report on it changed what the score
/// depends on. A queue page re-keys the cases reported since its snapshot
/// from their reports, so this move needs no log entry.
pub fn rescore(conn: &mut DbConn, case_id: &str) -> QueryResult<()> {
    let at = scored_at(conn)?.unwrap_or_else(super::now);
    store_score(conn, case_id, at).map(|_| ())
}

/// `rescore` for a write that is not a report (a priority set by hand, a
/// reader trusted or blocked, a correction published on the sentence): a
/// move of the stored score is logged as a re-score's moves are, with the
/// score until then, so that a queue cursor whose first page came before
/// still finds the case's key as of its snapshot (`moved_since`).
pub fn rescore_moved(conn: &mut DbConn, case_id: &str) -> QueryResult<()> {
    use super::schema::queue_scores as q;
    // Without a re-score yet, pages are keyed the exact way: no log.
    let Some(scoring) = scoring_locked(conn)? else {
        return store_score(conn, case_id, super::now()).map(|_| ());
    };
    let Some(before) = store_score(conn, case_id, scoring.scored_at)? else {
        return Ok(());
    };
    let t = stamp_after(super::now(), [Some(scoring.scored_at), scoring.written_at]);
    diesel::insert_into(m::table)
        .values((
            m::scored_at.eq(t),
            m::case_id.eq(case_id),
            m::tenths.eq(before),
            m::by_write.eq(true),
        ))
        .execute(conn)?;
    diesel::update(q::table.find(1))
        .set(q::written_at.eq(t))
        .execute(conn)?;
    Ok(())
}

/// `at`, or just after the latest of `stamps` when that is not earlier:
/// an entry of the moves' log is stamped after every instant stored
/// before it (by the clock of another instance, or a step of this one's),
/// so that the log's order is the order of commits.
fn stamp_after<const N: usize>(
    at: NaiveDateTime,
    stamps: [Option<NaiveDateTime>; N],
) -> NaiveDateTime {
    let tick = chrono::Duration::microseconds(1);
    stamps
        .into_iter()
        .flatten()
        .map(|s| s + tick)
        .fold(at, NaiveDateTime::max)
}

/// Store the case's score at `at`; its score until then when it moved.
fn store_score(conn: &mut DbConn, case_id: &str, at: NaiveDateTime) -> QueryResult<Option<i32>> {
    let Some(c) = find(conn, case_id)? else {
        return Ok(None);
    };
    let published: Option<NaiveDateTime> = articles::table
        .find(&c.article_id)
        .select(articles::published_at)
        .first(conn)?;
    let p = priority_tenths(&c, &Stats::live(&c), published, at) as i32;
    if p == c.priority_tenths {
        return Ok(None);
    }
    diesel::update(cases::table.find(case_id))
        .set(cases::priority_tenths.eq(p))
        .execute(conn)?;
    Ok(Some(c.priority_tenths))
}

/// How far back from the previous re-score a case's score can still move:
/// freshness is under 0.05 nine days after publication and urgency is full
/// once due (due targets up to 36 days). The queue keys again every case
/// first reported within it when its log of moves falls short (`db::queue`):
/// every case a re-score looks at (`rescore_recent`) is one of them.
pub const RESCORE_WINDOW: chrono::Duration = chrono::Duration::days(45);

/// How long after an article's publication the freshness of its cases can
/// still move a stored score: 15 × 2^(−16) of a point, a fortieth of the
/// queue's unit, is all that is left to fade after 16 days.
pub const FRESHNESS_MOVES: chrono::Duration = chrono::Duration::days(16);

/// Move the stored scores to `at`: every case when no re-score ran yet (or
/// `full`), otherwise the cases whose score can still move with time
/// since the previous re-score: those not yet due then (urgency grows
/// until the due time), and those on an article published within
/// `FRESHNESS_MOVES` of it (freshness fades). Each set is read through
/// its index (`cases_due_idx`, `articles_published_idx`): the cases first
/// reported within `RESCORE_WINDOW`, as the re-score read them before,
/// were 12,000 of 200,000 at a million reports, and held the writer about
/// 130 ms once a minute, where these are about 3,000.
/// Returns how many scores changed.
pub fn rescore_recent(conn: &mut DbConn, at: NaiveDateTime, full: bool) -> QueryResult<usize> {
    use super::schema::queue_scores as q;
    // Each instance's worker re-scores on its own schedule. The row lock
    // makes them take turns, and one that finds a later re-score stored
    // leaves it, so the stored instant and the log of moves only go
    // forward.
    let stored = scoring_locked(conn)?;
    let previous = stored.map(|s| s.scored_at);
    // After the newest entry a write logged (stamped by a clock that may
    // be ahead of the caller's).
    let at = stamp_after(at, [stored.and_then(|s| s.written_at)]);
    if let (Some(prev), false) = (previous, full)
        && prev >= at
    {
        return Ok(0);
    }
    let scored = || {
        cases::table.inner_join(articles::table).select((
            ScoreRow::as_select(),
            cases::priority_tenths,
            articles::published_at,
        ))
    };
    let rows: Vec<(ScoreRow, i32, Option<NaiveDateTime>)> = match (previous, full) {
        (Some(prev), false) => {
            let mut rows = scored().filter(cases::due_at.ge(prev)).load(conn)?;
            rows.extend(
                scored()
                    .filter(articles::published_at.ge(prev - FRESHNESS_MOVES))
                    .filter(cases::due_at.lt(prev))
                    .load::<(ScoreRow, i32, Option<NaiveDateTime>)>(conn)?,
            );
            rows
        }
        _ => scored().load(conn)?,
    };
    // Each moved case with the score it had until now.
    let mut moved: Vec<(String, i32)> = Vec::new();
    for (c, until_now, published) in rows {
        let p = c.tenths(published, at) as i32;
        if p != until_now {
            diesel::update(cases::table.find(&c.id))
                .set(cases::priority_tenths.eq(p))
                .execute(conn)?;
            moved.push((c.id, until_now));
        }
    }
    let moves_since = match (previous, full) {
        (Some(prev), false) => {
            log_moves(conn, at, &moved)?;
            let kept_from = at - MOVES_KEPT;
            diesel::delete(m::table.filter(m::scored_at.le(kept_from))).execute(conn)?;
            // Before the first logged re-score, the log covers those after
            // the previous one.
            stored
                .and_then(|s| s.moves_since)
                .unwrap_or(prev)
                .max(kept_from)
        }
        // Everything may have moved: no earlier snapshot can use the log.
        _ => at,
    };
    let updated = diesel::update(q::table.find(1))
        .set((q::scored_at.eq(at), q::moves_since.eq(moves_since)))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(q::table)
            .values((
                q::id.eq(1),
                q::scored_at.eq(at),
                q::moves_since.eq(moves_since),
            ))
            .execute(conn)?;
    }
    Ok(moved.len())
}

/// How long the re-scores' moves are kept (`queue_score_moves`). A queue
/// cursor followed later than this after its first page keys every case a
/// re-score may have moved again itself (`db::queue`).
pub const MOVES_KEPT: chrono::Duration = chrono::Duration::hours(3);

/// Record what the re-score at `at` moved: each case's score until then.
/// Another instance's re-score at the very same instant logged the same.
fn log_moves(conn: &mut DbConn, at: NaiveDateTime, moved: &[(String, i32)]) -> QueryResult<()> {
    super::rows::execute_chunked(
        conn,
        moved,
        |tuples| {
            format!(
                "INSERT INTO queue_score_moves (scored_at, case_id, tenths) VALUES {tuples} \
                 ON CONFLICT DO NOTHING"
            )
        },
        |(id, tenths)| [at.into(), id.as_str().into(), (*tenths).into()],
    )
}

/// The stored score each case had at a page's snapshot, for the cases
/// moved since: the score before the first move after it, by a re-score
/// after `at` (the snapshot's re-score) or by a write the snapshot did not
/// see (logged after `written_seen`, the newest write's entry it saw;
/// `None`: it saw none). `None` when the log does not cover every re-score
/// after `at` (it is kept for `MOVES_KEPT`, and starts over with a full
/// re-score), or when more than `max` cases moved. Sorted by case id.
/// `scoring` is the caller's read of the `queue_scores` row, in the same
/// transaction.
pub fn moved_since(
    conn: &mut DbConn,
    scoring: &Scoring,
    at: NaiveDateTime,
    written_seen: Option<NaiveDateTime>,
    max: usize,
) -> QueryResult<Option<Vec<(String, i32)>>> {
    match scoring.moves_since {
        Some(since) if since <= at => {}
        _ => return Ok(None),
    }
    // Entries are stamped in the order they commit (`rescore_moved`), so a
    // case's earliest entry after the snapshot holds its key as of then.
    let from = written_seen.map_or(at, |w| w.min(at));
    let rows: Vec<(String, i32, NaiveDateTime, bool)> = m::table
        .filter(m::scored_at.gt(from))
        .order((m::scored_at.asc(), m::case_id.asc()))
        .select((m::case_id, m::tenths, m::scored_at, m::by_write))
        .load(conn)?;
    let rows = rows
        .into_iter()
        .filter(|(_, _, t, by_write)| match by_write {
            true => written_seen.is_none_or(|w| *t > w),
            false => *t > at,
        });
    let mut first: HashMap<String, i32> = HashMap::new();
    for (id, tenths, _, _) in rows {
        first.entry(id).or_insert(tenths);
        if first.len() > max {
            return Ok(None);
        }
    }
    let mut out: Vec<(String, i32)> = first.into_iter().collect();
    out.sort_unstable();
    Ok(Some(out))
}

/// Set `escalated_at` unless it is set: true for the one writer (of any
/// instance) that did.
pub fn mark_escalated(conn: &mut DbConn, case_id: &str, t: NaiveDateTime) -> QueryResult<bool> {
    Ok(diesel::update(
        cases::table
            .find(case_id)
            .filter(cases::escalated_at.is_null()),
    )
    .set(cases::escalated_at.eq(t))
    .execute(conn)?
        == 1)
}

/// Open cases past their due time at `now` that were never flagged overdue
/// (`limit` at most, the most overdue first).
pub fn overdue_unflagged(
    conn: &mut DbConn,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<String>> {
    // SQLite's planner took `cases_decided_idx` for `resolved_at IS NULL`
    // (every open case, then sorted): 240 ms a scan on the 1M copy, in the
    // writer, every minute. The partial index holds just the candidates,
    // in due order; `INDEXED BY` makes SQLite use it (PostgreSQL does).
    if let DbConn::Sqlite(c) = conn {
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Text)]
            id: String,
        }
        return diesel::sql_query(
            "SELECT id FROM cases INDEXED BY cases_overdue_scan_idx \
             WHERE overdue_notified_at IS NULL AND open_key IS NOT NULL AND due_at < ? \
             AND resolved_at IS NULL AND status <> ? ORDER BY due_at LIMIT ?",
        )
        .bind::<diesel::sql_types::Timestamp, _>(now)
        .bind::<diesel::sql_types::Text, _>(Status::Resolved)
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .load::<Id>(c)
        .map(|rows| rows.into_iter().map(|r| r.id).collect());
    }
    cases::table
        .filter(cases::resolved_at.is_null())
        .filter(cases::status.ne(Status::Resolved))
        .filter(cases::open_key.is_not_null())
        .filter(cases::due_at.lt(now))
        .filter(cases::overdue_notified_at.is_null())
        .order(cases::due_at.asc())
        .limit(limit)
        .select(cases::id)
        .load(conn)
}

/// Flag a case overdue unless it is: true for the one writer that did.
pub fn mark_overdue(conn: &mut DbConn, case_id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    Ok(diesel::update(
        cases::table
            .find(case_id)
            .filter(cases::overdue_notified_at.is_null()),
    )
    .set(cases::overdue_notified_at.eq(now))
    .execute(conn)?
        == 1)
}

/// Every change to a case row bumps its version and `updated_at`.
macro_rules! touch {
    ($next:expr, $t:expr) => {
        (
            cases::status.eq($next),
            cases::version.eq(cases::version + 1),
            cases::updated_at.eq($t),
        )
    };
}

/// Give the case to `editor_id` if nobody else holds it and it is still in
/// `from`: false when another claimant won. With several instances the row
/// lock is PostgreSQL's only, and this condition is what makes exactly one
/// claimant win everywhere.
pub fn claim(
    conn: &mut DbConn,
    case_id: &str,
    editor_id: &str,
    from: Status,
    next: Status,
    t: NaiveDateTime,
) -> QueryResult<bool> {
    let won = diesel::update(
        cases::table
            .find(case_id)
            .filter(
                cases::assignee_id
                    .is_null()
                    .or(cases::assignee_id.eq(editor_id)),
            )
            .filter(cases::status.eq(from)),
    )
    .set((cases::assignee_id.eq(editor_id), touch!(next, t)))
    .execute(conn)?;
    Ok(won == 1)
}

pub fn set_status(
    conn: &mut DbConn,
    case_id: &str,
    next: Status,
    t: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(cases::table.find(case_id))
        .set(touch!(next, t))
        .execute(conn)?;
    Ok(())
}

pub fn set_assignee(
    conn: &mut DbConn,
    case_id: &str,
    assignee: Option<&str>,
    next: Status,
    t: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(cases::table.find(case_id))
        .set((cases::assignee_id.eq(assignee), touch!(next, t)))
        .execute(conn)?;
    Ok(())
}

pub fn set_priority(
    conn: &mut DbConn,
    case_id: &str,
    priority: Option<i32>,
    next: Status,
    t: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(cases::table.find(case_id))
        .set((cases::priority_override.eq(priority), touch!(next, t)))
        .execute(conn)?;
    rescore_moved(conn, case_id)
}

/// Close the case with its decision; a new report on its sentence then
/// opens a new case (the open slot is freed).
pub fn resolve(
    conn: &mut DbConn,
    case_id: &str,
    resolution: Resolution,
    public_note: Option<&str>,
    duplicate_of: Option<&str>,
    t: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(cases::table.find(case_id))
        .set((
            cases::resolution.eq(resolution),
            cases::public_note.eq(public_note),
            cases::duplicate_of.eq(duplicate_of),
            cases::resolved_at.eq(t),
            cases::open_key.eq(None::<String>),
            touch!(Status::Resolved, t),
        ))
        .execute(conn)?;
    Ok(())
}

/// Reopen: the case takes its sentence's open slot back (in a savepoint:
/// a unique violation means a newer case on the sentence holds it).
pub fn reopen(
    conn: &mut DbConn,
    case: &CaseRow,
    next: Status,
    t: NaiveDateTime,
) -> QueryResult<()> {
    let key = open_key(&case.article_id, &case.sentence_id);
    conn.transaction(|c| {
        diesel::update(cases::table.find(&case.id))
            .set((
                cases::open_key.eq(&key),
                cases::resolution.eq(None::<Resolution>),
                cases::public_note.eq(None::<String>),
                cases::duplicate_of.eq(None::<String>),
                cases::resolved_at.eq(None::<NaiveDateTime>),
                touch!(next, t),
            ))
            .execute(c)
    })?;
    Ok(())
}

/// The key that holds a sentence's one open case.
pub fn open_key(article_id: &str, sentence_id: &str) -> String {
    format!("{article_id}/{sentence_id}")
}

/// The open case on a sentence, if any.
pub fn open_case_on(
    conn: &mut DbConn,
    article_id: &str,
    sentence_id: &str,
) -> QueryResult<Option<String>> {
    cases::table
        .filter(cases::open_key.eq(open_key(article_id, sentence_id)))
        .select(cases::id)
        .first(conn)
        .optional()
}

/// Add an internal note; returns its id.
pub fn add_note(
    conn: &mut DbConn,
    case_id: &str,
    author_id: &str,
    body: &str,
    t: NaiveDateTime,
) -> QueryResult<String> {
    use super::schema::case_notes;
    let id = super::new_id();
    diesel::insert_into(case_notes::table)
        .values((
            case_notes::id.eq(&id),
            case_notes::case_id.eq(case_id),
            case_notes::author_id.eq(author_id),
            case_notes::body.eq(body),
            case_notes::created_at.eq(t),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Who hears about a case: (desk, assignee).
pub fn routing(
    conn: &mut DbConn,
    case_id: &str,
) -> QueryResult<Option<(Option<String>, Option<String>)>> {
    cases::table
        .find(case_id)
        .select((cases::desk, cases::assignee_id))
        .first(conn)
        .optional()
}

/// The desk of each of `ids` that exists (the live queue filters its
/// changes by the editor's desks).
pub fn desks(conn: &mut DbConn, ids: &[&String]) -> QueryResult<HashMap<String, Option<String>>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, Option<String>)> = cases::table
            .filter(cases::id.eq_any(chunk))
            .select((cases::id, cases::desk))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}
