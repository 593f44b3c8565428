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
//! and page in SQL. `priority`/`reports` read the keys stored on the case
//! row, in index order; only the cases changed since the snapshot are
//! re-keyed from their reports (`by_stored_key`). Word searches are probed
//! once per request ([`Words`]).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::{count, count_star, exists, max, min, sql};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Text, Timestamp};
use serde::{Deserialize, Serialize};

use super::DbConn;
use super::any_of::any_of;
use super::capped_count::{Capped, CountOf};
use super::cases::{self, CaseRow, Stats};
use super::queue_words::QueueItem;
use super::schema::{articles, cases as cases_t, reports};
use crate::config::DueHours;
use crate::domain::actor::Actor;
use crate::domain::case_ref::CaseRef;
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
    /// When the first page was read (microseconds since the epoch); absent
    /// from cursors made before stop 34, which find the cases changed
    /// since from the reports instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<i64>,
    /// The newest entry a write had logged in the moves' log when the
    /// first page was read (microseconds; 0: none). Absent from cursors
    /// made before, which count the writes' entries after `t`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    m: Option<i64>,
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
    /// The cases, each with what its readers last said (`queue_words`).
    pub items: Vec<QueueItem>,
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

/// A condition written in SQL, with its values bound.
type Cond = Box<
    dyn BoxableExpression<cases_t::table, <DbConn as diesel::Connection>::Backend, SqlType = Bool>,
>;

type Boxed<'a> = cases_t::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend>;

/// The SQL part of the filters, and the snapshot's membership rule (a case
/// belongs to the snapshot when it has a report up to `watermark`).
fn filtered<'a>(
    f: &'a Filter,
    editor_id: &'a str,
    watermark: Option<&'a str>,
    words: Option<&Words>,
) -> Boxed<'a> {
    let statuses: Vec<&str> = f.statuses.iter().map(|s| s.as_str()).collect();
    let mut q = cases_t::table.into_boxed();
    q = if let [one] = statuses.as_slice() {
        q.filter(cases_t::status.eq(*one))
    } else {
        q.filter(cases_t::status.eq_any(statuses))
    };
    if let Some(w) = watermark {
        q = q.filter(exists(
            reports::table
                .filter(reports::case_id.eq(cases_t::id))
                .filter(reports::id.le(w)),
        ));
    }
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
        // The case row's own category counts (`{"typo":2,…}`): a test on
        // the row the sort's index leads to, not a probe of its reports.
        let pattern = format!("%\"{}\":%", c.as_str().replace('_', "\\_"));
        q = q.filter(
            sql::<Bool>("cases.categories LIKE ")
                .bind::<Text, _>(pattern)
                .sql(" ESCAPE '\\'"),
        );
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
        // `#1042` names a case by its number; anything else is words.
        q = match CaseRef::parse_hash_number(text) {
            Some(n) => q.filter(cases_t::number.eq(n)),
            None => match words {
                Some(w) => q.filter(w.cond()),
                None => q,
            },
        };
    }
    q
}

/// The cases a word search matches, settled before the page is read, so the
/// planner never has to guess how many there are.
///
/// Few matching documents (a rare word, a name): their case ids are listed,
/// and the page reads those cases by primary key and sorts at most
/// [`FEW_DOCS`] of them. Many (a common word): the page walks its sort's
/// index and tests each case with a correlated probe of its own documents
/// (`search_docs_case_idx`), stopping once the page is full; when a word is
/// that common, a page's worth of matches comes within a few thousand rows.
/// Either way the cost follows the page, not the number of matches.
pub enum Words {
    Few(Vec<String>),
    Many(String),
}

/// Matching documents beyond which a search walks the sort's index.
const FEW_DOCS: i64 = 2000;

impl Words {
    /// Cases whose sentence or a report's comment contains `text` (folded),
    /// from `search_docs`, which triggers keep folded. SQLite finds the
    /// documents through its FTS5 trigram index (`search_fts`) when the
    /// folded text has three characters or more, and those the index does
    /// not hold yet in its pending list (`db::search_index`); PostgreSQL's
    /// LIKE uses the pg_trgm index where the extension is installed
    /// (README, Benchmark).
    fn probe(conn: &mut DbConn, text: &str) -> QueryResult<Words> {
        let folded = crate::domain::search::fold(text);
        let sqlite = matches!(conn, DbConn::Sqlite(_));
        let docs = if sqlite && folded.chars().count() >= 3 {
            super::search_index::matching(conn, &folded, FEW_DOCS + 1)?
        } else {
            sql::<Text>("SELECT case_id FROM search_docs WHERE body LIKE ")
                .bind::<Text, _>(like_pattern(text))
                .sql(" ESCAPE '\\' LIMIT ")
                .bind::<diesel::sql_types::BigInt, _>(FEW_DOCS + 1)
                .load::<String>(conn)?
        };
        if docs.len() as i64 > FEW_DOCS {
            return Ok(Words::Many(like_pattern(text)));
        }
        let mut ids = docs;
        ids.sort_unstable();
        ids.dedup();
        Ok(Words::Few(ids))
    }

    fn cond(&self) -> Cond {
        match self {
            Words::Few(ids) => Box::new(cases_t::id.eq_any(ids.clone())),
            // OFFSET 0 keeps PostgreSQL from turning the probe into a join
            // over every matching document; SQLite runs it per row anyway.
            Words::Many(pattern) => Box::new(
                sql::<Bool>(
                    "EXISTS (SELECT 1 FROM search_docs d WHERE d.case_id = cases.id \
                     AND d.body LIKE ",
                )
                .bind::<Text, _>(pattern.clone())
                .sql(" ESCAPE '\\' LIMIT 1 OFFSET 0)"),
            ),
        }
    }
}

/// The search part of `f`, probed once per request (`None`: no word search).
fn words_of(conn: &mut DbConn, f: &Filter) -> QueryResult<Option<Words>> {
    match &f.q {
        Some(text) if CaseRef::parse_hash_number(text).is_none() => {
            Words::probe(conn, text).map(Some)
        }
        _ => Ok(None),
    }
}

/// `(key, id) op (k, i)`: a row comparison, which both backends answer by
/// seeking the sort's index rather than filtering every row before it.
fn after_int(key: &str, op: &str, k: i32, id: &str) -> Cond {
    Box::new(
        sql::<Bool>(&format!("({key}, cases.id) {op} ("))
            .bind::<Integer, _>(k)
            .sql(", ")
            .bind::<Text, _>(id.to_string())
            .sql(")"),
    )
}

fn after_time(op: &str, t: NaiveDateTime, id: &str) -> Cond {
    Box::new(
        sql::<Bool>(&format!("(cases.first_reported_at, cases.id) {op} ("))
            .bind::<Timestamp, _>(t)
            .sql(", ")
            .bind::<Text, _>(id.to_string())
            .sql(")"),
    )
}

/// Report counts per case as of the watermark.
///
/// `until`: a time no report up to the watermark was stamped after (the
/// snapshot's, plus `CHANGED_MARGIN_SECS`). It bounds the read of a hot
/// case's reports in `reports_case_order_idx` (case, time, id) to those
/// before the snapshot: the watermark alone is tested on every entry, and a
/// case that got 40,000 reports since was read whole for each page
/// (250 ms at 1,000,000 reports).
fn snapshot_stats(
    conn: &mut DbConn,
    ids: &[String],
    watermark: &str,
    until: Option<NaiveDateTime>,
    due_hours: &DueHours,
) -> QueryResult<HashMap<String, Stats>> {
    // Without a snapshot time (a cursor from before stop 34): no bound, as
    // a date both backends store.
    let until = until.unwrap_or_else(|| {
        chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default()
    });
    let mut out: HashMap<String, Stats> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<GroupRow> = reports::table
            .filter(reports::case_id.eq_any(chunk))
            .filter(reports::created_at.le(until))
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
            .filter(reports::created_at.le(until))
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

/// At most this many cases changed since a snapshot are re-keyed from
/// their reports; beyond, the page is computed the exact, slow way.
const MAX_CHANGED: i64 = 2000;

/// One page of the queue, read in one snapshot.
///
/// Read statement by statement, a first page's watermark was taken before
/// the reports filed a moment later, which `changed_since` then found: the
/// hot case they joined was recounted from every one of its reports, on
/// every first page while intake ran (the 8 editors of `scripts/bench`
/// beside intake waited up to 350-450 ms at p99). In one snapshot a first
/// page finds nothing newer than its own watermark.
pub fn page(
    conn: &mut DbConn,
    actor: &Actor,
    filter: &Filter,
    sort: Sort,
    cursor: Option<&str>,
    limit: i64,
    due_hours: &DueHours,
) -> Result<QueuePage, QueueError> {
    conn.transaction(|conn| {
        super::dialect::read_snapshot(conn)?;
        page_in_snapshot(conn, actor, filter, sort, cursor, limit, due_hours)
    })
}

fn page_in_snapshot(
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
    // Priorities are those stored, as of the last re-score (`scored_at`).
    let scoring = cases::scoring(conn)?;
    let scored = scoring.map(|s| s.scored_at);
    let (watermark, at, snapshot, written_seen) = match &cursor {
        Some(c) => {
            let time = |m: i64| from_micros(m).ok_or_else(|| invalid_cursor("is damaged"));
            let at = time(c.t)?;
            let snapshot = c.s.map(time).transpose()?;
            let written_seen = match c.m {
                Some(0) => None,
                Some(m) => Some(time(m)?),
                None => Some(at),
            };
            (c.w.clone(), at, snapshot, written_seen)
        }
        None => {
            let newest: Option<String> = reports::table
                .select(reports::id)
                .order(reports::id.desc())
                .first(conn)
                .optional()?;
            let at = match (sort, scored) {
                (Sort::Priority, Some(t)) => t,
                _ => super::now(),
            };
            let written = scoring.and_then(|s| s.written_at);
            (newest.unwrap_or_default(), at, Some(super::now()), written)
        }
    };
    // No report up to the watermark was stamped after this.
    let until = snapshot.map(|t| t + chrono::Duration::seconds(CHANGED_MARGIN_SECS));
    let after = cursor.as_ref().map(|c| (c.k, c.i.clone()));
    let words = words_of(conn, filter)?;
    let words = words.as_ref();

    // `changed`: the cases to recount as of the snapshot (`None`: all).
    let (rows, more, changed) = match sort {
        Sort::Oldest | Sort::Newest => {
            let (rows, more) =
                by_first_report(conn, filter, me, sort, &watermark, &after, limit, words)?;
            // The order needs no counts; the counts shown are the case
            // row's own unless reports came since the snapshot (a first
            // page: none), so a case with thousands of reports is not
            // recounted on every page.
            (rows, more, changed_since(conn, &watermark, snapshot)?)
        }
        Sort::Priority | Sort::Reports => {
            // The stored keys are the snapshot's unless a re-score ran
            // since the first page. Then the re-scores' log gives the cases
            // they moved, with their scores as of the snapshot; past the
            // log's reach, every case a re-score may have moved (first
            // reported within `RESCORE_WINDOW` of the snapshot's scores) is
            // keyed again. The log also holds the moves of writes other
            // than reports (a priority set by hand), and gives them back
            // the same way. Every other score stood still.
            let moved_since = match (sort, scoring) {
                (Sort::Reports, _) => Some(Moved::Nothing),
                (Sort::Priority, Some(s)) if s.scored_at == at && s.written_at <= written_seen => {
                    Some(Moved::Nothing)
                }
                (Sort::Priority, Some(s)) => Some(
                    match cases::moved_since(conn, &s, at, written_seen, MAX_LOGGED)? {
                        Some(log) => Moved::Logged(log),
                        None => Moved::Window(at - cases::RESCORE_WINDOW),
                    },
                ),
                (Sort::Priority, None) | (Sort::Oldest | Sort::Newest, _) => None,
            };
            let changed = match moved_since {
                Some(_) => changed_since(conn, &watermark, snapshot)?,
                None => None,
            };
            let stored = match (changed, moved_since) {
                (Some(changed), Some(moved)) => by_stored_key(
                    conn, filter, me, sort, &watermark, until, &changed, &moved, &after, limit, at,
                    due_hours, words,
                )?
                .map(|(rows, more)| (rows, more, changed)),
                _ => None,
            };
            match stored {
                Some((rows, more, changed)) => (rows, more, Some(changed)),
                None => {
                    let (rows, more) = exact(
                        conn, filter, me, sort, &watermark, until, &after, limit, at, due_hours,
                        words,
                    )?;
                    (rows, more, None)
                }
            }
        }
    };

    let next_cursor = match rows.last() {
        Some((k, c)) if more => Some(
            Cursor {
                q: qhash,
                w: watermark.clone(),
                t: micros(at),
                k: *k,
                i: c.id.clone(),
                s: snapshot.map(micros),
                m: Some(written_seen.map_or(0, micros)),
            }
            .encode(),
        ),
        _ => None,
    };
    let keys: Vec<i64> = rows.iter().map(|(k, _)| *k).collect();
    let case_rows: Vec<CaseRow> = rows.into_iter().map(|(_, c)| c).collect();
    // Counts as of the snapshot: recounted for cases changed since it (all
    // of them on the exact path), the case row's own for the others.
    let recount: Vec<String> = case_rows
        .iter()
        .filter(|c| changed.as_ref().is_none_or(|ids| ids.contains(&c.id)))
        .map(|c| c.id.clone())
        .collect();
    let stats = snapshot_stats(conn, &recount, &watermark, until, due_hours)?;
    let mut items = cases::summaries(conn, actor, case_rows, &stats, at)?;
    if sort == Sort::Priority {
        // The key the page is ordered by is the priority shown.
        for (item, k) in items.iter_mut().zip(keys) {
            item.priority = k as f64 / 10.0;
        }
    }
    let items = super::queue_words::attach(conn, items)?;
    Ok(QueuePage {
        items,
        next_cursor,
        as_of: at,
    })
}

/// How long before a snapshot a report committed after it may have been
/// stamped: every report is stamped by the writer that commits it, as its
/// batch begins, but with several instances on one PostgreSQL another
/// instance's batch may begin before the snapshot and commit after it, and
/// their clocks differ a little.
const CHANGED_MARGIN_SECS: i64 = 60;

/// The cases with a report newer than the watermark (whose counts moved
/// since the snapshot taken at `snapshot`), or `None` when there are too
/// many to re-key.
///
/// Up to 2,000 reports newer than the watermark, exactly their cases (read
/// from the reports' key). Beyond, until stop 34 the `priority` and
/// `reports` sorts fell back to the exact way (3 s a page at 1,000,000
/// reports, for any cursor followed after a burst of reports). Now they are
/// read from the cases' `(status, last_reported_at)` index: the cases
/// reported since a minute before the snapshot. That is a few more cases
/// than changed (re-keying or recounting one that did not change gives its
/// stored key and counts back), but their number is bounded by the cases,
/// not by the reports. Both lists only grow from one page to the next, and
/// once past 2,000 reports a cursor stays past them, so a case keyed from
/// its reports on one page is keyed so on every later page.
fn changed_since(
    conn: &mut DbConn,
    watermark: &str,
    snapshot: Option<NaiveDateTime>,
) -> QueryResult<Option<Vec<String>>> {
    // Few reports since the snapshot (a first page: none): exactly their
    // cases. A hot case re-keyed from its reports costs as many rows as it
    // has, so it is re-keyed only when it did change.
    let exact = changed_by_reports(conn, watermark)?;
    let (None, Some(snapshot)) = (&exact, snapshot) else {
        return Ok(exact);
    };
    let since = snapshot - chrono::Duration::seconds(CHANGED_MARGIN_SECS);
    let mut ids: Vec<String> = Vec::new();
    // One index range per status (a status changes without a report, so
    // every status counts).
    for status in Status::ALL {
        let left = MAX_CHANGED + 1 - ids.len() as i64;
        ids.extend(
            cases_t::table
                .filter(cases_t::status.eq(status.as_str()))
                .filter(cases_t::last_reported_at.ge(since))
                // In `cases_status_idx`'s order, which keeps PostgreSQL's
                // generic plan on the index.
                .order(cases_t::last_reported_at.asc())
                .select(cases_t::id)
                .limit(left)
                .load::<String>(conn)?,
        );
        if ids.len() as i64 > MAX_CHANGED {
            return Ok(None);
        }
    }
    ids.sort_unstable();
    Ok(Some(ids))
}

/// `changed_since` from a range of the reports' primary key, de-duplicated
/// here (with DISTINCT in the query, SQLite walks a whole `case_id` index
/// instead); `None` past `MAX_CHANGED` reports.
fn changed_by_reports(conn: &mut DbConn, watermark: &str) -> QueryResult<Option<Vec<String>>> {
    let mut ids: Vec<String> = reports::table
        .filter(reports::id.gt(watermark))
        .order(reports::id.asc())
        .select(reports::case_id)
        .limit(MAX_CHANGED + 1)
        .load(conn)?;
    if ids.len() as i64 > MAX_CHANGED {
        return Ok(None);
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(Some(ids))
}

type Keyed = Vec<(i64, CaseRow)>;

/// `oldest`/`newest`: the first report time never changes, so each status
/// is one ordered range of `cases_queue_first_idx`, merged here.
#[allow(clippy::too_many_arguments)]
fn by_first_report(
    conn: &mut DbConn,
    filter: &Filter,
    me: &str,
    sort: Sort,
    watermark: &str,
    after: &Option<(i64, String)>,
    limit: i64,
    words: Option<&Words>,
) -> Result<(Keyed, bool), QueueError> {
    let after = match after {
        Some((k, id)) => Some((
            from_micros(*k).ok_or_else(|| invalid_cursor("is damaged"))?,
            id.clone(),
        )),
        None => None,
    };
    let mut all: Vec<(i64, String)> = Vec::new();
    for status in &filter.statuses {
        let f = Filter {
            statuses: vec![*status],
            ..filter.clone()
        };
        let mut q = filtered(&f, me, Some(watermark), words);
        if let Some((t, id)) = &after {
            q = q.filter(after_time(
                if sort == Sort::Oldest { ">" } else { "<" },
                *t,
                id,
            ));
        }
        q = if sort == Sort::Oldest {
            q.order((cases_t::first_reported_at.asc(), cases_t::id.asc()))
        } else {
            q.order((cases_t::first_reported_at.desc(), cases_t::id.desc()))
        };
        let loaded: Vec<(NaiveDateTime, String)> = q
            .select((cases_t::first_reported_at, cases_t::id))
            .limit(limit + 1)
            .load(conn)?;
        all.extend(loaded.into_iter().map(|(t, id)| (micros(t), id)));
    }
    if sort == Sort::Oldest {
        all.sort();
    } else {
        all.sort_by(|a, b| b.cmp(a));
    }
    let more = all.len() as i64 > limit;
    all.truncate(limit as usize);
    Ok((rows_for(conn, all, HashMap::new())?, more))
}

/// The case rows of a page's keys, in the keys' order: those at hand, and
/// the others read in one statement.
///
/// A page's ranges (one per status) are read as keys and ids only: each
/// range reads `limit + 1` cases and the page keeps `limit` of them all, so
/// whole rows (the sentence, the categories, eight timestamps parsed from
/// text on SQLite) were decoded for three times as many cases as a default
/// page shows.
fn rows_for(
    conn: &mut DbConn,
    keys: Vec<(i64, String)>,
    mut at_hand: HashMap<String, CaseRow>,
) -> QueryResult<Keyed> {
    let missing: Vec<String> = keys
        .iter()
        .filter(|(_, id)| !at_hand.contains_key(id))
        .map(|(_, id)| id.clone())
        .collect();
    if !missing.is_empty() {
        let rows: Vec<CaseRow> = cases_t::table
            .filter(any_of(cases_t::id, &missing))
            .select(CaseRow::as_select())
            .load(conn)?;
        at_hand.extend(rows.into_iter().map(|c| (c.id.clone(), c)));
    }
    // Read in the page's snapshot, so every key's row is there.
    Ok(keys
        .into_iter()
        .filter_map(|(k, id)| at_hand.remove(&id).map(|c| (k, c)))
        .collect())
}

/// Highest key first, then by id (descending): a total order, so pages are
/// exact.
fn order_desc(keyed: &mut Keyed) {
    keyed.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.id.cmp(&a.1.id)));
}

fn before(after: &Option<(i64, String)>, key: i64, id: &str) -> bool {
    match after {
        None => true,
        Some((k, i)) => key < *k || (key == *k && id < i.as_str()),
    }
}

/// The cases whose stored score a re-score moved since a page's snapshot,
/// as `by_stored_key` takes them.
enum Moved {
    /// None moved (the sort is `reports`, or no re-score ran since).
    Nothing,
    /// These, with their scores as of the snapshot (`cases::moved_since`),
    /// sorted by id.
    Logged(Vec<(String, i32)>),
    /// Any case first reported from then on may have moved.
    Window(NaiveDateTime),
}

/// More moved cases than this in the re-scores' log, and a page keys every
/// case a re-score may have moved instead (`moved_keys`).
const MAX_LOGGED: usize = 5_000;

/// `priority`/`reports` from the stored keys: the cases unchanged since the
/// snapshot are read in index order (their stored key is their snapshot
/// key), the few changed since are re-keyed from their reports up to the
/// watermark, those a re-score moved since get their key as of the
/// snapshot back, and the three are merged.
#[allow(clippy::too_many_arguments)]
fn by_stored_key(
    conn: &mut DbConn,
    filter: &Filter,
    me: &str,
    sort: Sort,
    watermark: &str,
    until: Option<NaiveDateTime>,
    changed: &[String],
    moved: &Moved,
    after: &Option<(i64, String)>,
    limit: i64,
    at: NaiveDateTime,
    due_hours: &DueHours,
    words: Option<&Words>,
) -> Result<Option<(Keyed, bool)>, QueueError> {
    let column = match sort {
        Sort::Reports => "cases.report_count",
        _ => "cases.priority_tenths",
    };
    let mut all: Vec<(i64, String)> = Vec::new();
    // The stream of stored keys leaves out every case keyed otherwise.
    let mut elsewhere: Vec<String> = changed.to_vec();
    if let Moved::Logged(log) = moved {
        elsewhere.extend(log.iter().map(|(id, _)| id.clone()));
    }
    for status in &filter.statuses {
        let f = Filter {
            statuses: vec![*status],
            ..filter.clone()
        };
        let mut q = filtered(&f, me, None, words);
        if !elsewhere.is_empty() {
            q = q.filter(diesel::dsl::not(any_of(cases_t::id, &elsewhere)));
        }
        if let Moved::Window(t) = moved {
            q = q.filter(cases_t::first_reported_at.lt(*t));
        }
        if let Some((k, id)) = after {
            let k = i32::try_from(*k).map_err(|_| invalid_cursor("is damaged"))?;
            q = q.filter(after_int(column, "<", k, id));
        }
        q = match sort {
            Sort::Reports => q.order((cases_t::report_count.desc(), cases_t::id.desc())),
            _ => q.order((cases_t::priority_tenths.desc(), cases_t::id.desc())),
        };
        let loaded: Vec<(i32, String)> = match sort {
            Sort::Reports => q.select((cases_t::report_count, cases_t::id)),
            _ => q.select((cases_t::priority_tenths, cases_t::id)),
        }
        .limit(limit + 1)
        .load(conn)?;
        all.extend(loaded.into_iter().map(|(k, id)| (i64::from(k), id)));
    }
    // The cases keyed otherwise come with their rows.
    let mut keyed: Keyed = Vec::new();
    if !changed.is_empty() {
        let mut rekeyed = Vec::new();
        for chunk in changed.chunks(CHUNK) {
            let rows: Vec<CaseRow> = filtered(filter, me, Some(watermark), words)
                .filter(cases_t::id.eq_any(chunk))
                .select(CaseRow::as_select())
                .load(conn)?;
            rekeyed.extend(rows);
        }
        let rekeyed = snapshot_keys(conn, rekeyed, sort, watermark, until, at, due_hours)?;
        keyed.extend(
            rekeyed
                .into_iter()
                .filter(|(k, c)| before(after, *k, &c.id)),
        );
    }
    match moved {
        Moved::Nothing => {}
        Moved::Logged(log) => {
            keyed.extend(logged_keys(
                conn, filter, me, changed, log, after, limit, words,
            )?);
        }
        Moved::Window(t) => {
            let Some(moved) = moved_keys(conn, filter, me, changed, *t, at, after, limit, words)?
            else {
                return Ok(None);
            };
            keyed.extend(moved);
        }
    }
    let mut at_hand = HashMap::with_capacity(keyed.len());
    for (k, c) in keyed {
        all.push((k, c.id.clone()));
        at_hand.insert(c.id.clone(), c);
    }
    // Highest key first, then by id (descending).
    all.sort_by(|a, b| b.cmp(a));
    let more = all.len() as i64 > limit;
    all.truncate(limit as usize);
    Ok(Some((rows_for(conn, all, at_hand)?, more)))
}

/// The first `limit + 1` cases after the cursor, among those the
/// re-scores' log says moved since the snapshot and that got no report
/// since (not in `changed`, which are keyed from their reports), with
/// their logged keys. Candidates are taken in key order and checked
/// against the page's filters a few at a time, so a page reads about as
/// many of them as it shows.
#[allow(clippy::too_many_arguments)]
fn logged_keys(
    conn: &mut DbConn,
    filter: &Filter,
    me: &str,
    changed: &[String],
    log: &[(String, i32)],
    after: &Option<(i64, String)>,
    limit: i64,
    words: Option<&Words>,
) -> QueryResult<Keyed> {
    let mut candidates: Vec<(i64, &str)> = log
        .iter()
        .filter(|(id, _)| changed.binary_search(id).is_err())
        .map(|(id, k)| (i64::from(*k), id.as_str()))
        .filter(|(k, id)| before(after, *k, id))
        .collect();
    candidates.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(a.1)));
    let want = limit as usize + 1;
    let mut out: Keyed = Vec::new();
    let step = (2 * want).max(64);
    for chunk in candidates.chunks(step) {
        let ids: Vec<String> = chunk.iter().map(|(_, id)| id.to_string()).collect();
        let mut found: HashMap<String, CaseRow> = filtered(filter, me, None, words)
            .filter(any_of(cases_t::id, &ids))
            .select(CaseRow::as_select())
            .load::<CaseRow>(conn)?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        for (k, id) in chunk {
            if let Some(c) = found.remove(*id) {
                out.push((*k, c));
                if out.len() == want {
                    return Ok(out);
                }
            }
        }
    }
    Ok(out)
}

/// The cases a re-score since `at` may have moved (first reported from
/// `since` on) that got no report since the snapshot (not in `changed`,
/// which are keyed from their reports), keyed with the score the re-score
/// at `at` stored, from the row as it still is: the first `limit + 1` of
/// them after the cursor. Only the score's inputs are read for all of
/// them; whole rows for the few kept. At most `MAX_MOVED` of them;
/// beyond (`None`), the caller's page is computed the exact way.
#[allow(clippy::too_many_arguments)]
fn moved_keys(
    conn: &mut DbConn,
    filter: &Filter,
    me: &str,
    changed: &[String],
    since: NaiveDateTime,
    at: NaiveDateTime,
    after: &Option<(i64, String)>,
    limit: i64,
    words: Option<&Words>,
) -> QueryResult<Option<Keyed>> {
    let mut rows: Vec<cases::ScoreRow> = Vec::new();
    for status in &filter.statuses {
        let f = Filter {
            statuses: vec![*status],
            ..filter.clone()
        };
        rows.extend(
            filtered(&f, me, None, words)
                .filter(cases_t::first_reported_at.ge(since))
                // In the index's order: PostgreSQL's generic plan for the
                // unordered read was a scan of the whole table (96 ms
                // against 17 ms at 1,000,000 reports).
                .order(cases_t::first_reported_at.asc())
                .select(cases::ScoreRow::as_select())
                .limit(MAX_MOVED + 1)
                .load::<cases::ScoreRow>(conn)?,
        );
        if rows.len() as i64 > MAX_MOVED {
            return Ok(None);
        }
    }
    rows.retain(|c| changed.binary_search(&c.id).is_err());
    let published = published_of(conn, rows.iter().map(|r| r.article_id.as_str()))?;
    let mut keyed: Vec<(i64, String)> = rows
        .iter()
        .map(|r| {
            let p = published.get(&r.article_id).copied().flatten();
            (r.tenths(p, at), r.id.clone())
        })
        .filter(|(k, id)| before(after, *k, id))
        .collect();
    keyed.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
    keyed.truncate(limit as usize + 1);
    let ids: Vec<String> = keyed.iter().map(|(_, id)| id.clone()).collect();
    let mut found: HashMap<String, CaseRow> = cases_t::table
        .filter(cases_t::id.eq_any(&ids))
        .select(CaseRow::as_select())
        .load::<CaseRow>(conn)?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    Ok(Some(
        keyed
            .into_iter()
            .filter_map(|(k, id)| found.remove(&id).map(|c| (k, c)))
            .collect(),
    ))
}

/// At most this many cases a re-score may have moved since a page's
/// snapshot are keyed again for it; beyond, the exact way.
const MAX_MOVED: i64 = 20_000;

/// The keys of `rows` as of the snapshot: counts up to the watermark,
/// priorities at `at`.
fn snapshot_keys(
    conn: &mut DbConn,
    rows: Vec<CaseRow>,
    sort: Sort,
    watermark: &str,
    until: Option<NaiveDateTime>,
    at: NaiveDateTime,
    due_hours: &DueHours,
) -> QueryResult<Keyed> {
    let ids: Vec<String> = rows.iter().map(|c| c.id.clone()).collect();
    let stats = snapshot_stats(conn, &ids, watermark, until, due_hours)?;
    let published = published_at(conn, &rows)?;
    Ok(rows
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
        .collect())
}

/// The exact, slow way: every filtered case keyed as of the snapshot in
/// Rust. Used when the stored scores moved on since the first page (a
/// re-score ran meanwhile) or too many cases changed since it.
#[allow(clippy::too_many_arguments)]
fn exact(
    conn: &mut DbConn,
    filter: &Filter,
    me: &str,
    sort: Sort,
    watermark: &str,
    until: Option<NaiveDateTime>,
    after: &Option<(i64, String)>,
    limit: i64,
    at: NaiveDateTime,
    due_hours: &DueHours,
    words: Option<&Words>,
) -> Result<(Keyed, bool), QueueError> {
    let all: Vec<CaseRow> = filtered(filter, me, Some(watermark), words)
        .select(CaseRow::as_select())
        .load(conn)?;
    let mut keyed = snapshot_keys(conn, all, sort, watermark, until, at, due_hours)?;
    keyed.retain(|(k, c)| before(after, *k, &c.id));
    order_desc(&mut keyed);
    let more = keyed.len() as i64 > limit;
    keyed.truncate(limit as usize);
    Ok((keyed, more))
}

fn published_at(
    conn: &mut DbConn,
    rows: &[CaseRow],
) -> QueryResult<HashMap<String, Option<NaiveDateTime>>> {
    published_of(conn, rows.iter().map(|c| c.article_id.as_str()))
}

/// The publication time of each of these articles.
fn published_of<'a>(
    conn: &mut DbConn,
    article_ids: impl Iterator<Item = &'a str>,
) -> QueryResult<HashMap<String, Option<NaiveDateTime>>> {
    let mut ids: Vec<&str> = article_ids.collect();
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

/// How many cases of each status match `filter` (its statuses aside), up to
/// `cap` (`[queue] count_cap`): the counts the editors' queue page shows
/// next to each status. Each walks at most the cap's worth of `cases_counts_idx`
/// entries when only status, desk and assignee filter, so its cost does not
/// grow with the history.
pub fn counts(
    conn: &mut DbConn,
    actor: &Actor,
    filter: &Filter,
    cap: i64,
) -> QueryResult<Vec<(Status, Capped)>> {
    // Every report counts (no snapshot to keep stable here).
    let words = words_of(conn, filter)?;
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
        let rows = filtered(
            &f,
            actor.editor_id().unwrap_or_default(),
            None,
            words.as_ref(),
        )
        .select(sql::<Integer>("1"))
        .limit(cap + 1);
        let n: i64 = CountOf(rows).get_result(conn)?;
        out.push((status, Capped::of(n, cap)));
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
            s: Some(7),
            m: Some(0),
        };
        let back = Cursor::decode(&c.encode()).unwrap();
        assert_eq!(
            (back.q, back.k, back.i, back.s, back.m),
            ("abc".to_string(), -5, "id".to_string(), Some(7), Some(0))
        );
        // A cursor made before the snapshot time was kept still pages.
        let old =
            data_encoding::BASE64URL_NOPAD.encode(br#"{"q":"abc","w":"w","t":1,"k":-5,"i":"id"}"#);
        assert_eq!(Cursor::decode(&old).unwrap().s, None);
        assert!(Cursor::decode("not a cursor!").is_none());
        assert!(Cursor::decode("e30").is_none(), "{{}} lacks fields");
    }
}
