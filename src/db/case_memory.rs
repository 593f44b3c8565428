//! What a case knows of the cases around it: short numbers, the sentence
//! lineage (the same sentence across revisions), similar cases, and the
//! published correction its sentence already has. Everything here reads a
//! bounded, indexed slice: one case's lineage, one article's recent cases,
//! or the rows of one queue page.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::any_of::any_of;
use serde::Serialize;

use super::DbConn;
use super::cases::{CaseRow, rescore, rescore_moved};
use super::schema::{articles, cases, corrections, reports, sentences};
use crate::domain::article::Language;
use crate::domain::report::me_too_comment;
use crate::domain::similar::{self, Signature};
use crate::domain::workflow::{Resolution, Status};

/// Resolved cases stay "recent" (listed as similar) this many days.
pub const RECENT_DAYS: i64 = 30;
/// At most this many cases of one lineage are listed.
const LINEAGE_LIMIT: i64 = 20;
/// At most this many of an article's newest cases are compared by text.
const CANDIDATES: i64 = 50;
/// Reports compared per case (the oldest first).
const REPORTS_PER_CASE: i64 = 5;
/// Near-duplicates listed.
const NEAR_LIMIT: usize = 10;

/// Another case, named by id and number.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseLink {
    pub id: String,
    /// The short number (`#1042`).
    pub number: i32,
}

/// The published correction a case's sentence (or the sentence it
/// replaced) already had when the case was opened or a report joined it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlreadyCorrected {
    pub correction_id: String,
    /// When the correction was published.
    #[serde(with = "crate::domain::utc")]
    pub date: NaiveDateTime,
    /// The public correction text.
    pub text: String,
    /// `corrected`, `clarified` or `updated`.
    pub kind: Resolution,
    /// The case that published it.
    pub case: CaseLink,
    /// The article, where the correction is shown to readers.
    pub url: String,
    #[serde(skip)]
    pub language: Language,
    /// The article's language tag, when the CMS gave one (`Article::locale`).
    #[serde(skip)]
    pub locale: Option<String>,
}

/// Why a case is listed as similar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SimilarReason {
    /// The same sentence, in this or another revision.
    SameSentence,
    /// Another sentence of the article, with near-duplicate reports.
    NearDuplicate,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SimilarCase {
    pub id: String,
    pub number: i32,
    pub reason: SimilarReason,
    /// Trigram Jaccard similarity of the closest reports (near duplicates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f64>,
    pub sentence_text: String,
    pub status: Status,
    pub resolution: Option<Resolution>,
    pub report_count: i32,
    #[serde(with = "crate::domain::utc")]
    pub first_reported_at: NaiveDateTime,
    #[serde(with = "crate::domain::utc::option")]
    pub resolved_at: Option<NaiveDateTime>,
}

impl SimilarCase {
    fn of(c: CaseRow, reason: SimilarReason, similarity: Option<f64>) -> SimilarCase {
        SimilarCase {
            id: c.id,
            number: c.number,
            reason,
            similarity: similarity.map(|s| (s * 100.0).round() / 100.0),
            sentence_text: c.sentence_text,
            status: c.status,
            resolution: c.resolution,
            report_count: c.report_count,
            first_reported_at: c.first_reported_at,
            resolved_at: c.resolved_at,
        }
    }
}

/// The case with this number.
pub fn id_by_number(conn: &mut DbConn, number: i32) -> QueryResult<Option<String>> {
    cases::table
        .filter(cases::number.eq(number))
        .select(cases::id)
        .first(conn)
        .optional()
}

/// The numbers of some cases (a page's links).
pub fn numbers(conn: &mut DbConn, ids: &[String]) -> QueryResult<HashMap<String, i32>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(cases::table
        .filter(cases::id.eq_any(ids))
        .select((cases::id, cases::number))
        .load::<(String, i32)>(conn)?
        .into_iter()
        .collect())
}

type CorrectionRow = (
    String,
    NaiveDateTime,
    String,
    Resolution,
    String,
    i32,
    String,
    Language,
    Option<String>,
);

/// Some corrections as `already_corrected` shows them, by correction id.
pub fn already_corrected(
    conn: &mut DbConn,
    correction_ids: &[String],
) -> QueryResult<HashMap<String, AlreadyCorrected>> {
    if correction_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<CorrectionRow> = corrections::table
        .inner_join(cases::table.on(cases::id.eq(corrections::case_id)))
        .inner_join(articles::table.on(articles::id.eq(corrections::article_id)))
        .filter(corrections::id.eq_any(correction_ids))
        .select((
            corrections::id,
            corrections::published_at,
            corrections::public_note,
            corrections::kind,
            cases::id,
            cases::number,
            articles::url,
            articles::language,
            articles::locale,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, date, text, kind, case_id, number, url, language, locale)| {
                (
                    id.clone(),
                    AlreadyCorrected {
                        correction_id: id,
                        date,
                        text,
                        kind,
                        case: CaseLink {
                            id: case_id,
                            number,
                        },
                        url,
                        language,
                        locale,
                    },
                )
            },
        )
        .collect())
}

/// The ids of the sentences of a sentence's lineage (itself included).
fn lineage(conn: &mut DbConn, sentence_id: &str) -> QueryResult<Vec<String>> {
    let root: Option<String> = sentences::table
        .find(sentence_id)
        .select(sentences::lineage_id)
        .first(conn)
        .optional()?;
    let Some(root) = root.filter(|r| !r.is_empty()) else {
        return Ok(vec![sentence_id.to_string()]);
    };
    let mut ids: Vec<String> = sentences::table
        .filter(sentences::lineage_id.eq(&root))
        .select(sentences::id)
        .limit(100)
        .load(conn)?;
    if !ids.iter().any(|i| i == sentence_id) {
        ids.push(sentence_id.to_string());
    }
    Ok(ids)
}

/// The latest correction published on a sentence's lineage by a case other
/// than `except_case`.
pub fn lineage_correction(
    conn: &mut DbConn,
    sentence_id: &str,
    except_case: &str,
) -> QueryResult<Option<String>> {
    let ids = lineage(conn, sentence_id)?;
    corrections::table
        .filter(corrections::sentence_id.eq_any(ids))
        .filter(corrections::case_id.ne(except_case))
        .order((corrections::published_at.desc(), corrections::id.desc()))
        .select(corrections::id)
        .first(conn)
        .optional()
}

/// Remember the lineage's correction on a case that has none yet (and
/// re-score it: an already corrected case loses its freshness). True when
/// the case is (now) already corrected.
pub fn remember_correction(conn: &mut DbConn, case: &CaseRow) -> QueryResult<bool> {
    if case.known_correction_id.is_some() {
        return Ok(true);
    }
    // Most articles have no correction at all: one index probe says so.
    let any: Option<String> = corrections::table
        .filter(corrections::article_id.eq(&case.article_id))
        .select(corrections::id)
        .first(conn)
        .optional()?;
    if any.is_none() {
        return Ok(false);
    }
    let Some(id) = lineage_correction(conn, &case.sentence_id, &case.id)? else {
        return Ok(false);
    };
    diesel::update(cases::table.find(&case.id))
        .set(cases::known_correction_id.eq(id))
        .execute(conn)?;
    rescore(conn, &case.id)?;
    Ok(true)
}

/// Which of `article_ids` have any correction: the one index probe of
/// `remember_correction`, for a batch of reports.
pub fn articles_with_corrections(
    conn: &mut DbConn,
    article_ids: &[String],
) -> QueryResult<std::collections::HashSet<String>> {
    if article_ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(corrections::table
        .filter(any_of(corrections::article_id, article_ids))
        .select(corrections::article_id)
        .distinct()
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

/// A correction was just published by `case`: the other open cases of its
/// lineage are now "already corrected" too.
pub fn correction_published(
    conn: &mut DbConn,
    case: &CaseRow,
    correction_id: &str,
) -> QueryResult<()> {
    let ids = lineage(conn, &case.sentence_id)?;
    let open: Vec<String> = cases::table
        .filter(cases::sentence_id.eq_any(ids))
        .filter(cases::open_key.is_not_null())
        .filter(cases::id.ne(&case.id))
        .select(cases::id)
        .limit(LINEAGE_LIMIT)
        .load(conn)?;
    for id in open {
        diesel::update(cases::table.find(&id))
            .set(cases::known_correction_id.eq(correction_id))
            .execute(conn)?;
        rescore_moved(conn, &id)?;
    }
    Ok(())
}

/// The signatures of some cases' reports: the oldest few of each (spam,
/// "me too" and too-short texts left out), one small read of
/// `reports_case_order_idx` per case, so a case with thousands of reports
/// costs no more than one with three.
fn signatures(
    conn: &mut DbConn,
    case_ids: &[String],
) -> QueryResult<HashMap<String, Vec<Signature>>> {
    let me_too = [me_too_comment(Language::Fr), me_too_comment(Language::En)];
    let mut out: HashMap<String, Vec<Signature>> = HashMap::with_capacity(case_ids.len());
    for case_id in case_ids {
        let rows: Vec<(String, Option<String>)> = reports::table
            .filter(reports::case_id.eq(case_id))
            .filter(reports::is_spam.eq(false))
            .order((reports::created_at, reports::id))
            .select((reports::comment, reports::suggested_correction))
            .limit(REPORTS_PER_CASE)
            .load(conn)?;
        let sigs = rows
            .iter()
            .filter(|(comment, _)| !me_too.contains(&comment.as_str()))
            .filter_map(|(comment, suggestion)| Signature::of(comment, suggestion.as_deref()))
            .collect();
        out.insert(case_id.clone(), sigs);
    }
    Ok(out)
}

/// An article's newest cases that are open, or were resolved (not as spam)
/// after `since`; `open_only` keeps the open ones.
fn article_cases(
    conn: &mut DbConn,
    article_id: &str,
    except: &[String],
    since: NaiveDateTime,
    open_only: bool,
) -> QueryResult<Vec<CaseRow>> {
    let mut q = cases::table
        .filter(cases::article_id.eq(article_id))
        .filter(cases::id.ne_all(except.to_vec()))
        .into_boxed();
    q = if open_only {
        q.filter(cases::open_key.is_not_null())
    } else {
        q.filter(
            cases::resolved_at
                .is_null()
                .or(cases::resolved_at.ge(since)),
        )
        .filter(
            cases::resolution
                .is_null()
                .or(cases::resolution.ne(Resolution::Spam.as_str())),
        )
    };
    q.order((cases::created_at.desc(), cases::id.desc()))
        .limit(CANDIDATES)
        .select(CaseRow::as_select())
        .load(conn)
}

/// The open case on another sentence of the article whose reports are the
/// closest near-duplicate of a new report, if any reaches the threshold.
pub fn near_duplicate_open(
    conn: &mut DbConn,
    article_id: &str,
    new_case_id: &str,
    comment: &str,
    suggestion: Option<&str>,
) -> QueryResult<Option<String>> {
    let Some(sig) = Signature::of(comment, suggestion) else {
        return Ok(None);
    };
    let candidates = article_cases(
        conn,
        article_id,
        &[new_case_id.to_string()],
        super::now(),
        true,
    )?;
    let ids: Vec<String> = candidates.iter().map(|c| c.id.clone()).collect();
    let sigs = signatures(conn, &ids)?;
    let best = ids
        .into_iter()
        .filter_map(|id| {
            let s = similar::best(std::slice::from_ref(&sig), sigs.get(&id)?);
            (s >= similar::THRESHOLD).then_some((s, id))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0));
    Ok(best.map(|(_, id)| id))
}

/// Link a new case to the open near-duplicate found on arrival.
pub fn set_possible_duplicate(conn: &mut DbConn, case_id: &str, other: &str) -> QueryResult<()> {
    diesel::update(cases::table.find(case_id))
        .set(cases::possible_duplicate_of.eq(other))
        .execute(conn)?;
    Ok(())
}

/// Similar cases of `case` at `now`: first the open and recently resolved
/// cases of its sentence lineage (newest first), then the article's other
/// cases whose reports are near-duplicates of its own (closest first).
pub fn similar(
    conn: &mut DbConn,
    case: &CaseRow,
    now: NaiveDateTime,
) -> QueryResult<Vec<SimilarCase>> {
    let since = now - chrono::Duration::days(RECENT_DAYS);
    let lineage_ids = lineage(conn, &case.sentence_id)?;
    let same: Vec<CaseRow> = cases::table
        .filter(cases::sentence_id.eq_any(&lineage_ids))
        .filter(cases::id.ne(&case.id))
        .filter(
            cases::resolved_at
                .is_null()
                .or(cases::resolved_at.ge(since)),
        )
        .filter(
            cases::resolution
                .is_null()
                .or(cases::resolution.ne(Resolution::Spam.as_str())),
        )
        .order((cases::created_at.desc(), cases::id.desc()))
        .limit(LINEAGE_LIMIT)
        .select(CaseRow::as_select())
        .load(conn)?;
    let mut except: Vec<String> = same.iter().map(|c| c.id.clone()).collect();
    except.push(case.id.clone());
    let others: Vec<CaseRow> = article_cases(conn, &case.article_id, &except, since, false)?
        .into_iter()
        .filter(|c| !lineage_ids.contains(&c.sentence_id))
        .collect();
    let mut ids: Vec<String> = others.iter().map(|c| c.id.clone()).collect();
    ids.push(case.id.clone());
    let sigs = signatures(conn, &ids)?;
    let mine = sigs.get(&case.id).cloned().unwrap_or_default();
    let mut near: Vec<(f64, CaseRow)> = others
        .into_iter()
        .filter_map(|c| {
            let s = similar::best(&mine, sigs.get(&c.id)?);
            (s >= similar::THRESHOLD).then_some((s, c))
        })
        .collect();
    near.sort_by(|a, b| b.0.total_cmp(&a.0));
    near.truncate(NEAR_LIMIT);
    Ok(same
        .into_iter()
        .map(|c| SimilarCase::of(c, SimilarReason::SameSentence, None))
        .chain(
            near.into_iter()
                .map(|(s, c)| SimilarCase::of(c, SimilarReason::NearDuplicate, Some(s))),
        )
        .collect())
}
