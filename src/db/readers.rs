//! Storage of readers without accounts: their standing (trusted, blocked),
//! their history (reports filed, reports upheld), the trusted flag of the
//! cases they reported on, and the unlinking an erasure does.
//!
//! A reader is a `reports.reporter_key` (see `app::readers` for how keys
//! are made); this module only compares keys.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::any_of::any_of;

use super::schema::{cases, reports};
use super::{DbConn, new_id};
use crate::domain::reader::{Standing, is_linkable};
use crate::domain::workflow::{Resolution, Status};

// Declared here rather than in schema.rs so that this feature stays in its
// own files; the schema test still compares the migrated tables.
diesel::table! {
    reader_standings (id) {
        id -> Text,
        reader_key -> Text,
        standing -> Text,
        set_by -> Nullable<Text>,
        set_at -> Timestamp,
    }
}

/// A reader's standing row: its own id (what the audit log and the events
/// name) and the standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandingRow {
    pub id: String,
    pub standing: Standing,
}

pub fn standing_of(conn: &mut DbConn, reader_key: &str) -> QueryResult<Option<StandingRow>> {
    reader_standings::table
        .filter(reader_standings::reader_key.eq(reader_key))
        .select((reader_standings::id, reader_standings::standing))
        .first::<(String, Standing)>(conn)
        .optional()
        .map(|r| r.map(|(id, standing)| StandingRow { id, standing }))
}

/// Replace a reader's standing (`None`: back to ordinary). Answers the row
/// before and the row after.
pub fn set_standing(
    conn: &mut DbConn,
    reader_key: &str,
    standing: Option<Standing>,
    by: Option<&str>,
    t: NaiveDateTime,
) -> QueryResult<(Option<StandingRow>, Option<StandingRow>)> {
    let before = standing_of(conn, reader_key)?;
    if before.as_ref().map(|b| b.standing) == standing {
        return Ok((before.clone(), before));
    }
    diesel::delete(reader_standings::table.filter(reader_standings::reader_key.eq(reader_key)))
        .execute(conn)?;
    let after = match standing {
        Some(standing) => {
            let id = new_id();
            diesel::insert_into(reader_standings::table)
                .values((
                    reader_standings::id.eq(&id),
                    reader_standings::reader_key.eq(reader_key),
                    reader_standings::standing.eq(standing),
                    reader_standings::set_by.eq(by),
                    reader_standings::set_at.eq(t),
                ))
                .execute(conn)?;
            Some(StandingRow { id, standing })
        }
        None => None,
    };
    Ok((before, after))
}

/// The standings of some readers (those with one).
pub fn standings(conn: &mut DbConn, keys: &[String]) -> QueryResult<HashMap<String, Standing>> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(reader_standings::table
        .filter(any_of(reader_standings::reader_key, keys))
        .select((reader_standings::reader_key, reader_standings::standing))
        .load::<(String, Standing)>(conn)?
        .into_iter()
        .collect())
}

/// What a reader filed: every report under the key, and how many of them
/// are in cases resolved with a published correction (corrected, clarified
/// or updated).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct History {
    pub reports: i64,
    pub upheld: i64,
}

/// The history of each of `keys` (erased keys have none).
pub fn histories(conn: &mut DbConn, keys: &[String]) -> QueryResult<HashMap<String, History>> {
    let keys: Vec<&String> = keys.iter().filter(|k| is_linkable(k)).collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let filed: Vec<(String, i64)> = reports::table
        .filter(reports::reporter_key.eq_any(&keys))
        .group_by(reports::reporter_key)
        .select((reports::reporter_key, count_star()))
        .load(conn)?;
    let upheld_kinds = [
        Resolution::Corrected.as_str(),
        Resolution::Clarified.as_str(),
        Resolution::Updated.as_str(),
    ];
    let upheld: HashMap<String, i64> = reports::table
        .inner_join(cases::table)
        .filter(reports::reporter_key.eq_any(&keys))
        .filter(cases::status.eq(Status::Resolved.as_str()))
        .filter(cases::resolution.eq_any(upheld_kinds))
        .group_by(reports::reporter_key)
        .select((reports::reporter_key, count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(filed
        .into_iter()
        .map(|(k, n)| {
            let up = upheld.get(&k).copied().unwrap_or(0);
            (
                k,
                History {
                    reports: n,
                    upheld: up,
                },
            )
        })
        .collect())
}

/// A report's reader key, case and the case's desk.
pub fn of_report(
    conn: &mut DbConn,
    report_id: &str,
) -> QueryResult<Option<(String, String, Option<String>)>> {
    reports::table
        .inner_join(cases::table)
        .filter(reports::id.eq(report_id))
        .select((reports::reporter_key, reports::case_id, cases::desk))
        .first(conn)
        .optional()
}

/// Set a case's trusted flag; true when it changed (the caller re-scores).
pub fn set_case_trusted(conn: &mut DbConn, case_id: &str, trusted: bool) -> QueryResult<bool> {
    Ok(diesel::update(
        cases::table
            .find(case_id)
            .filter(cases::trusted_reader.ne(trusted)),
    )
    .set(cases::trusted_reader.eq(trusted))
    .execute(conn)?
        > 0)
}

/// Recompute the trusted flag of every case `reader_key` reported on, and
/// re-score those that changed. Returns how many changed.
pub fn refresh_trust(conn: &mut DbConn, reader_key: &str) -> QueryResult<usize> {
    let case_ids: Vec<String> = reports::table
        .filter(reports::reporter_key.eq(reader_key))
        .select(reports::case_id)
        .distinct()
        .load(conn)?;
    let mut changed = 0;
    for case_id in case_ids {
        let keys: Vec<String> = reports::table
            .filter(reports::case_id.eq(&case_id))
            .filter(reports::is_spam.eq(false))
            .select(reports::reporter_key)
            .distinct()
            .load(conn)?;
        let trusted = standings(conn, &keys)?
            .values()
            .any(|s| *s == Standing::Trusted);
        if set_case_trusted(conn, &case_id, trusted)? {
            super::cases::rescore_moved(conn, &case_id)?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Cut the link between `report_ids` and their readers: each (case,
/// reader) pair gets a fresh key of its own, so a case's count of distinct
/// readers still holds but nothing ties the reports to one another or to
/// the reader any more. A standing left without reports goes too. Returns
/// how many reports were unlinked.
pub fn unlink(conn: &mut DbConn, report_ids: &[String]) -> QueryResult<usize> {
    let mut done = 0;
    for chunk in report_ids.chunks(500) {
        let rows: Vec<(String, String, String)> = reports::table
            .filter(reports::id.eq_any(chunk))
            .select((reports::id, reports::case_id, reports::reporter_key))
            .load(conn)?;
        // Each (case, reader) pair's reports, updated by their ids: a filter
        // on the pair beside the chunk's ids let SQLite's planner probe all
        // 500 ids once per pair (80 s for a first sweep of 15,000 reports).
        let mut pairs: std::collections::BTreeMap<(String, String), Vec<String>> =
            Default::default();
        for (id, case_id, key) in rows {
            if is_linkable(&key) {
                pairs.entry((case_id, key)).or_default().push(id);
            }
        }
        let mut keys = std::collections::BTreeSet::new();
        for ((_, key), ids) in pairs {
            done += diesel::update(reports::table.filter(reports::id.eq_any(&ids)))
                .set(reports::reporter_key.eq(format!("erased:{}", new_id())))
                .execute(conn)?;
            keys.insert(key);
        }
        for key in keys {
            forget_if_unused(conn, &key)?;
        }
    }
    Ok(done)
}

/// Delete the standing of `reader_key` when no report carries the key.
pub fn forget_if_unused(conn: &mut DbConn, reader_key: &str) -> QueryResult<usize> {
    let used: i64 = reports::table
        .filter(reports::reporter_key.eq(reader_key))
        .select(count_star())
        .first(conn)?;
    if used > 0 {
        return Ok(0);
    }
    diesel::delete(reader_standings::table.filter(reader_standings::reader_key.eq(reader_key)))
        .execute(conn)
}

/// Delete a reader's standing whatever is left (a data-subject erasure).
pub fn forget(conn: &mut DbConn, reader_key: &str) -> QueryResult<usize> {
    diesel::delete(reader_standings::table.filter(reader_standings::reader_key.eq(reader_key)))
        .execute(conn)
}

/// Up to `limit` keys of reports filed before keyed hashes
/// (`email:<sha256>`).
pub fn legacy_keys(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<String>> {
    reports::table
        .filter(reports::reporter_key.like("email:%"))
        .select(reports::reporter_key)
        .distinct()
        .limit(limit)
        .load(conn)
}

/// Move every report (and standing) from key `from` to `to`.
pub fn rekey(conn: &mut DbConn, from: &str, to: &str) -> QueryResult<usize> {
    diesel::update(reader_standings::table.filter(reader_standings::reader_key.eq(from)))
        .set(reader_standings::reader_key.eq(to))
        .execute(conn)?;
    diesel::update(reports::table.filter(reports::reporter_key.eq(from)))
        .set(reports::reporter_key.eq(to))
        .execute(conn)
}

/// A report's reader as the case page and the API show it: never the key.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReaderSummary {
    /// Reports this reader filed, in every case (this one included).
    pub reports: i64,
    /// Of those, reports in cases resolved with a published correction
    /// (corrected, clarified or updated).
    pub upheld: i64,
    /// `trusted` or `blocked`; absent for an ordinary reader.
    pub standing: Option<Standing>,
    /// Grouped by `email` (a keyed hash of the address) or `client` (the
    /// day's client hash: one day's reports at most).
    pub by: ReaderBy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReaderBy {
    Email,
    Client,
}

/// The summaries of the readers of some reports, by reader key (erased
/// keys have none).
pub fn summaries(
    conn: &mut DbConn,
    keys: &[String],
) -> QueryResult<HashMap<String, ReaderSummary>> {
    let mut keys: Vec<String> = keys.iter().filter(|k| is_linkable(k)).cloned().collect();
    keys.sort();
    keys.dedup();
    let history = histories(conn, &keys)?;
    let standing = standings(conn, &keys)?;
    Ok(keys
        .into_iter()
        .map(|k| {
            let h = history.get(&k).copied().unwrap_or_default();
            let by = if k.starts_with("client:") {
                ReaderBy::Client
            } else {
                ReaderBy::Email
            };
            let summary = ReaderSummary {
                reports: h.reports,
                upheld: h.upheld,
                standing: standing.get(&k).copied(),
                by,
            };
            (k, summary)
        })
        .collect())
}
