//! The writer's batch of reports (`ReportJob`), applied with a constant
//! number of statements instead of a dozen or more per report.
//!
//! Every report of a batch is still concurrent with the others (none has
//! been answered), so any serial order of them is a correct outcome. The
//! batch is applied in two parts:
//!
//! - the common report (no honeypot, no blocked or trusted reader, its
//!   sentence's case already open and its correction memory known) is filed
//!   set-wise, in one savepoint: the batch's reads once (stored
//!   Idempotency-Keys, reader standings, the open cases locked, whether the
//!   articles have corrections, earlier reports with the same comment, the
//!   readers already on each case, the scoring instant), the shared limits
//!   as one upsert per batch, then one multi-row insert each for reports,
//!   events and answers, and one update per touched case. Reports within
//!   the batch see each other exactly as if filed one after the other in
//!   arrival order (limits, duplicates, distinct readers, escalation).
//! - every other report, and the whole batch when that savepoint fails (a
//!   reference collision, a key another instance stored meanwhile, a lost
//!   connection), is filed one at a time by `submit` in a savepoint of its
//!   own, after the first part: one failing report never sinks the others.
//!
//! Before both, one read of the articles checks that each report's article
//! is as it was anchored to (same revision, same metadata); a report whose
//! article changed goes back to be anchored again (`None`).

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDateTime};

use super::{
    Filed, ReportJob, ReportReceipt, escalation, idempotency_key_hash, status_url, submit_alone,
};
use crate::auth::keys::status_token;
use crate::auth::limits::count_shared_many;
use crate::db::case_memory;
use crate::db::cases::{self as case_store, CaseRow};
use crate::db::reports::{self as store, NewReportRow, StoredAnswer};
use crate::db::{DbConn, events, new_id, now};
use crate::domain::event::Event;
use crate::domain::report::new_reference;
use crate::domain::text::sha256_hex;
use crate::error::Problem;

type Answer = Result<Option<(Filed, ReportReceipt)>, Problem>;

pub(super) fn apply(conn: &mut DbConn, jobs: &[ReportJob]) -> Vec<Answer> {
    let mut answers: Vec<Option<Answer>> = jobs.iter().map(|_| None).collect();
    let mut ids: Vec<String> = jobs.iter().map(|j| j.sub.article.id.clone()).collect();
    ids.sort();
    ids.dedup();
    let current = match crate::db::articles::by_ids(conn, &ids) {
        Ok(rows) => rows
            .into_iter()
            .map(|a| (a.id.clone(), (a.current_revision, a.updated_at)))
            .collect::<HashMap<_, _>>(),
        Err(e) => {
            let p = Problem::from(e);
            return jobs.iter().map(|_| Err(p.clone())).collect();
        }
    };
    let mut todo = Vec::with_capacity(jobs.len());
    for (i, job) in jobs.iter().enumerate() {
        let a = &job.sub.article;
        if current.get(&a.id) == Some(&(a.current_revision, a.updated_at)) {
            todo.push(i);
        } else {
            answers[i] = Some(Ok(None));
        }
    }
    let one_by_one = match crate::db::stable_plans::in_generic_savepoint(conn, |c| {
        file_together(c, jobs, &todo)
    }) {
        Ok((filed, rest)) => {
            for (i, answer) in filed {
                answers[i] = Some(answer);
            }
            rest
        }
        Err(p) => {
            tracing::debug!(error = %p, "batch of reports filed one at a time");
            todo
        }
    };
    for i in one_by_one {
        answers[i] = Some(submit_alone(conn, &jobs[i]).map(Some));
    }
    answers
        .into_iter()
        .map(|a| a.unwrap_or_else(|| Err(Problem::internal("report left unanswered"))))
        .collect()
}

/// What a report of the common kind needs, worked out before any write.
struct Prepared {
    i: usize,
    key_hash: Option<String>,
    client_hash: String,
    old_client_hash: Option<String>,
    reporter_key: String,
    comment_hash: String,
    open_key: String,
}

/// A report stored by this batch, for the later ones that repeat it.
struct StoredHere {
    article_id: String,
    comment_hash: String,
    client_hash: String,
    receipt: (String, String, String),
}

/// File the common reports of `todo` together; answers them, and returns
/// the others (to be filed one at a time).
#[allow(clippy::type_complexity)]
fn file_together(
    conn: &mut DbConn,
    jobs: &[ReportJob],
    todo: &[usize],
) -> Result<(Vec<(usize, Answer)>, Vec<usize>), Problem> {
    let mut rest = Vec::new();
    let Some(&first) = todo.first() else {
        return Ok((Vec::new(), rest));
    };
    let t = now();
    let keys = &jobs[first].keys;
    let secret = keys.status_secret(conn)?;
    let reader_secret = keys.reader_secret(conn)?;

    // Honeypot reports, and a second request with a key already in this
    // batch (it replays the first's answer), go one at a time.
    let mut prepared: Vec<Prepared> = Vec::with_capacity(todo.len());
    let mut batch_keys: HashSet<String> = HashSet::new();
    for &i in todo {
        let sub = &jobs[i].sub;
        let key_hash = sub
            .idempotency
            .as_ref()
            .map(|k| idempotency_key_hash(&sub.article.id, &k.key));
        if sub.report.is_spam
            || key_hash
                .as_ref()
                .is_some_and(|k| !batch_keys.insert(k.clone()))
        {
            rest.push(i);
            continue;
        }
        let (client_hash, old_client_hash) = keys.client_hashes(conn, &sub.client_ip, t)?;
        let reporter_key = crate::app::readers::intake_key(
            &reader_secret,
            sub.report.reporter.as_ref().map(|(e, _)| e.as_str()),
            &client_hash,
        );
        prepared.push(Prepared {
            i,
            key_hash,
            client_hash,
            old_client_hash,
            reporter_key,
            comment_hash: sha256_hex(sub.report.comment.to_lowercase()),
            open_key: case_store::open_key(&sub.article.id, &sub.anchor.sentence_id),
        });
    }
    // Answered keys replay, blocked readers' reports go to spam, trusted
    // readers mark their case: one at a time.
    let key_hashes: Vec<String> = prepared.iter().filter_map(|p| p.key_hash.clone()).collect();
    let answered = store::stored_keys(conn, &key_hashes)?;
    let reader_keys: Vec<String> = prepared.iter().map(|p| p.reporter_key.clone()).collect();
    let standings = crate::db::readers::standings(conn, &reader_keys)?;
    let (mut keep, mut open_keys) = (Vec::with_capacity(prepared.len()), Vec::new());
    for p in prepared {
        let answered = p.key_hash.as_ref().is_some_and(|k| answered.contains(k));
        if answered || standings.contains_key(&p.reporter_key) {
            rest.push(p.i);
        } else {
            open_keys.push(p.open_key.clone());
            keep.push(p);
        }
    }
    open_keys.sort();
    open_keys.dedup();
    // The open cases, locked; a report that opens a case (near-duplicate
    // search, a new case number) or whose case may be already corrected
    // goes one at a time.
    let locked = case_store::open_locked(conn, &open_keys)?;
    // Scores are stored as of the last re-score (now when none ran yet).
    let scored_at = locked.first().and_then(|(_, _, s)| *s).unwrap_or(t);
    let mut cases: HashMap<String, (CaseRow, Option<NaiveDateTime>)> = locked
        .into_iter()
        .filter_map(|(c, e, _)| Some((c.open_key.clone()?, (c, e))))
        .collect();
    let article_ids: Vec<String> = cases.values().map(|(c, _)| c.article_id.clone()).collect();
    let corrected = case_memory::articles_with_corrections(conn, &article_ids)?;
    let mut prepared = Vec::with_capacity(keep.len());
    for p in keep {
        match cases.get(&p.open_key) {
            Some((c, _))
                if c.known_correction_id.is_some() || !corrected.contains(&c.article_id) =>
            {
                prepared.push(p)
            }
            _ => rest.push(p.i),
        }
    }

    // The shared limits, counted as if one after the other.
    let limits: Vec<_> = prepared
        .iter()
        .map(|p| {
            let sub = &jobs[p.i].sub;
            sub.limits
                .shared(&p.client_hash, &sub.article.id, &sub.anchor.sentence_id)
        })
        .collect();
    let allowed = count_shared_many(conn, &limits, t)?;

    // Earlier reports with the same comment from the same client.
    let mut hashes: Vec<String> = prepared.iter().map(|p| p.comment_hash.clone()).collect();
    hashes.sort();
    hashes.dedup();
    let mut clients: Vec<String> = prepared
        .iter()
        .flat_map(|p| std::iter::once(p.client_hash.clone()).chain(p.old_client_hash.clone()))
        .collect();
    clients.sort();
    clients.dedup();
    let window = jobs[first].sub.rules.duplicate_window_hours as i64;
    let earlier = store::first_with_comments(conn, &hashes, &clients, t - Duration::hours(window))?;

    let case_ids: Vec<String> = cases.values().map(|(c, _)| c.id.clone()).collect();
    let on_case = store::reporters_in_cases(conn, &case_ids, &reader_keys)?;

    let mut references = fresh_references(conn, prepared.len(), new_reference)?;

    let mut out = Vec::with_capacity(prepared.len());
    let mut here: Vec<StoredHere> = Vec::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut touched: Vec<String> = Vec::new();
    let mut rows: Vec<(Owned, String)> = Vec::new();
    let mut events_out: Vec<Event> = Vec::new();
    let mut kept_answers: Vec<(String, StoredAnswer)> = Vec::new();
    for (p, allowed) in prepared.into_iter().zip(allowed) {
        if let Err(refused) = allowed {
            out.push((p.i, Err(refused)));
            continue;
        }
        let job = &jobs[p.i];
        let sub = &job.sub;
        let repeats = |article_id: &str, comment_hash: &str, client_hash: &str| {
            article_id == sub.article.id
                && comment_hash == p.comment_hash
                && (client_hash == p.client_hash
                    || p.old_client_hash.as_deref() == Some(client_hash))
        };
        let first_one = earlier
            .iter()
            .find(|r| repeats(&r.article_id, &r.comment_hash, &r.client_hash))
            .map(|r| (r.id.clone(), r.case_id.clone(), r.reference.clone()))
            .or_else(|| {
                here.iter()
                    .find(|h| repeats(&h.article_id, &h.comment_hash, &h.client_hash))
                    .map(|h| h.receipt.clone())
            });
        let message = sub.thanks.clone();
        let (filed, receipt) = match first_one {
            Some((report_id, case_id, reference)) => (
                Filed::Duplicate,
                ReportReceipt {
                    report_id,
                    case_id,
                    reference,
                    status_url: None,
                    message,
                    duplicate: true,
                },
            ),
            None => {
                let (case, escalated_at) = cases
                    .get_mut(&p.open_key)
                    .ok_or(diesel::result::Error::NotFound)?;
                let report = &sub.report;
                let new_reporter = !on_case.contains(&(case.id.clone(), p.reporter_key.clone()))
                    && seen.insert((case.id.clone(), p.reporter_key.clone()));
                let due = sub.rules.due(report.category, t);
                case_store::add_report(case, report.category, new_reporter, due, t);
                if !touched.contains(&case.id) {
                    touched.push(case.id.clone());
                }
                let report_id = new_id();
                let token = status_token(
                    &secret,
                    sub.idempotency.as_ref().map(|i| i.key.as_str()),
                    &report_id,
                );
                let reference = references.pop().unwrap_or_else(new_reference);
                // What `record_report` records for it.
                let already_corrected = case.known_correction_id.is_some();
                let reason = escalation(
                    &sub.rules,
                    case.report_count,
                    report.category,
                    sub.article.published_at,
                    already_corrected,
                    t,
                );
                let escalated = reason.is_some() && escalated_at.is_none();
                if escalated {
                    *escalated_at = Some(t);
                }
                events_out.push(Event::ReportFiled {
                    report_id: report_id.clone(),
                    case_id: case.id.clone(),
                    article_id: sub.article.id.clone(),
                    category: report.category,
                });
                if case.report_count == 1 {
                    events_out.push(Event::CaseOpened {
                        case_id: case.id.clone(),
                        article_id: sub.article.id.clone(),
                        escalated,
                    });
                }
                if let (true, Some(reason)) = (escalated, reason) {
                    events_out.push(Event::CaseEscalated {
                        case_id: case.id.clone(),
                        reason,
                        threshold: sub.rules.report_threshold,
                    });
                }
                rows.push((
                    Owned {
                        id: report_id.clone(),
                        case_id: case.id.clone(),
                        desk: case.desk.clone(),
                        reporter_key: p.reporter_key.clone(),
                        client_hash: p.client_hash.clone(),
                        comment_hash: p.comment_hash.clone(),
                        status_token_hash: sha256_hex(&token),
                        job: p.i,
                    },
                    reference.clone(),
                ));
                here.push(StoredHere {
                    article_id: sub.article.id.clone(),
                    comment_hash: p.comment_hash.clone(),
                    client_hash: p.client_hash.clone(),
                    receipt: (report_id.clone(), case.id.clone(), reference.clone()),
                });
                (
                    Filed::Created,
                    ReportReceipt {
                        report_id,
                        case_id: case.id.clone(),
                        reference,
                        status_url: Some(status_url(&job.public_url, &token)),
                        message,
                        duplicate: false,
                    },
                )
            }
        };
        if let (Some(key_hash), Some(idem)) = (&p.key_hash, &sub.idempotency) {
            let mut kept = receipt.clone();
            kept.status_url = None; // the token is never stored, only re-derived
            kept_answers.push((
                key_hash.clone(),
                StoredAnswer {
                    request_hash: idem.request_hash.clone(),
                    status_code: match filed {
                        Filed::Created => 201,
                        Filed::Duplicate => 200,
                    },
                    response_body: serde_json::to_string(&kept).map_err(Problem::internal)?,
                },
            ));
        }
        out.push((p.i, Ok(Some((filed, receipt)))));
    }

    let report_rows: Vec<(NewReportRow, String)> = rows
        .iter()
        .map(|(o, reference)| (o.row(&jobs[o.job], t), reference.clone()))
        .collect();
    store::insert_many(conn, &report_rows)?;
    let counted: Vec<case_store::Counted<'_>> = touched
        .iter()
        .filter_map(|id| cases.values().find(|(c, _)| &c.id == id))
        .map(|(case, escalated_at)| case_store::Counted {
            case,
            published_at: jobs
                .iter()
                .find(|j| j.sub.article.id == case.article_id)
                .and_then(|j| j.sub.article.published_at),
            escalated_at: *escalated_at,
        })
        .collect();
    case_store::store_counts(conn, &counted, scored_at)?;
    events::record_many(conn, &events_out, t)?;
    store::store_answers(conn, &kept_answers, t)?;
    Ok((out, rest))
}

/// `n` new references that no report has yet, nor each other. References
/// are short (31^6 values, for readers to quote): at a million reports one
/// new reference in about 900 is already taken, and one taken reference
/// made the batch's multi-row insert fail, so every report of that batch
/// was filed again one at a time. A concurrent instance may still take one
/// meanwhile; the batch then falls back as before.
fn fresh_references(
    conn: &mut DbConn,
    n: usize,
    mut draw: impl FnMut() -> String,
) -> Result<Vec<String>, Problem> {
    let mut fresh: Vec<String> = Vec::with_capacity(n);
    // A few rounds at most: each draws anew only what was taken.
    for _ in 0..8 {
        let candidates: Vec<String> = (fresh.len()..n).map(|_| draw()).collect();
        if candidates.is_empty() {
            break;
        }
        let taken = store::references_taken(conn, &candidates)?;
        for c in candidates {
            if !taken.contains(&c) && !fresh.contains(&c) {
                fresh.push(c);
            }
        }
    }
    Ok(fresh)
}

/// The parts of a report row made here (the rest is borrowed from its job).
struct Owned {
    id: String,
    case_id: String,
    desk: Option<String>,
    reporter_key: String,
    client_hash: String,
    comment_hash: String,
    status_token_hash: String,
    job: usize,
}

impl Owned {
    fn row<'a>(&'a self, job: &'a ReportJob, t: NaiveDateTime) -> NewReportRow<'a> {
        super::report_row(
            &job.sub,
            super::RowParts {
                id: &self.id,
                case_id: &self.case_id,
                reporter_key: &self.reporter_key,
                client_hash: &self.client_hash,
                comment_hash: &self.comment_hash,
                status_token_hash: &self.status_token_hash,
                is_spam: false,
                blocked: false,
                desk: self.desk.as_deref(),
            },
            t,
        )
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;

    use super::*;

    #[test]
    fn fresh_references_skip_those_taken_and_repeated() {
        let (_dir, mut conn) = crate::db::scratch_sqlite();
        let DbConn::Sqlite(c) = &mut *conn else {
            unreachable!()
        };
        // A report holding ERR-AAAA-AA (its case and article left out).
        c.batch_execute(
            "PRAGMA foreign_keys = OFF; \
             INSERT INTO reports (id, reference, case_id, article_id, revision, sentence_id, \
             span_sentence_ids, quote_exact, category, comment, sources, notify, reporter_key, \
             client_hash, comment_hash, status_token_hash, is_spam, created_at, blocked) \
             VALUES ('r', 'ERR-AAAA-AA', 'c', 'a', 1, 's', '[]', 'q', 'typo', '', '[]', 0, \
             'k', 'h', 'h', 't', 0, '2026-01-01 00:00:00', 0)",
        )
        .unwrap();
        let mut draws = [
            "ERR-AAAA-AA",
            "ERR-BBBB-BB",
            "ERR-BBBB-BB",
            "ERR-CCCC-CC",
            "ERR-DDDD-DD",
        ]
        .into_iter()
        .map(str::to_string);
        let fresh = fresh_references(&mut conn, 3, || draws.next().unwrap()).unwrap();
        assert_eq!(fresh, ["ERR-BBBB-BB", "ERR-CCCC-CC", "ERR-DDDD-DD"]);
    }
}
