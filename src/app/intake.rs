//! A reader files a report, and later reads its status through the private
//! link.
//!
//! Filing anchors the report to a sentence of the article's current revision
//! (a read), counts it against the rate limits, then runs one writer job:
//! replay an answered Idempotency-Key, answer a duplicate with its first
//! reference, or store the report in its sentence's open case (a honeypot
//! report in a closed spam case of its own), decide escalation, and record
//! the events. A `Filed::Created` answer means all of it is committed.

use std::net::IpAddr;

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

mod batch;

use super::AppState;
use crate::auth::keys::{KeyCache, status_token};
use crate::db::articles::{self as article_store, Article};
use crate::db::case_memory;
use crate::db::cases::{self as case_store, NewCase};
use crate::db::reports::{self as store, NewReportRow, StoredAnswer};
use crate::db::{DbConn, events, new_id, now};
use crate::domain::anchor::{self, Anchor};
use crate::domain::article::{ExternalId, Language};
use crate::domain::event::{EscalationReason, Event};
use crate::domain::reader::Standing;
use crate::domain::report::{Category, NewReport, me_too_comment, new_reference};
use crate::domain::text::sha256_hex;
use crate::domain::workflow::{AnchorState, Resolution, Status};
use crate::error::{ErrorCode, Problem};

/// A report as the edge parsed it, with what it knows of the request.
pub struct FileReport {
    pub external_id: ExternalId,
    pub report: NewReport,
    pub idempotency: Option<Idempotency>,
    pub client_ip: IpAddr,
    /// Readers' words: the answer thanks them in the article's language.
    pub catalogs: std::sync::Arc<crate::locales::Catalogs>,
}

/// The `Idempotency-Key` of a request and the hash of its body.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

/// What filing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filed {
    /// Stored now, or the replay of a request that stored it.
    Created,
    /// The same comment from the same client within the duplicate window:
    /// the first report's reference.
    Duplicate,
}

/// What the reader gets back.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportReceipt {
    pub report_id: String,
    pub case_id: String,
    /// Short human reference, e.g. `ERR-7KQ2-MX`.
    #[schema(example = "ERR-7KQ2-MX")]
    pub reference: String,
    /// Private link to follow the report (absent when answering a duplicate:
    /// the first answer carried it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_url: Option<String>,
    pub message: String,
    /// True when this answers a duplicate of an earlier report.
    #[serde(default)]
    pub duplicate: bool,
}

pub async fn file_report(
    state: &AppState,
    input: FileReport,
) -> Result<(Filed, ReportReceipt), Problem> {
    let FileReport {
        external_id,
        report,
        idempotency,
        client_ip,
        catalogs,
    } = input;
    let mut report = report;
    let mut counted = false;
    let mut fresh = false;
    for _ in 0..3 {
        // Anchor against the current revision (from memory when it is
        // there), then check limits before taking the writer's time.
        let key = idempotency.as_ref().map(|i| i.key.clone());
        let (current, anchor, replay) =
            anchor_report(state, &external_id, &report, key, fresh).await?;
        // A retry of an answered request replays its answer and is not
        // counted again (nor is a request the writer sent back to be anchored
        // again).
        if !replay && !counted {
            state
                .intake
                .check(client_ip, &current.article.id, &anchor.sentence_id)?;
            counted = true;
        }
        if report.me_too && report.comment.is_empty() {
            report.comment = me_too_comment(current.article.language).to_string();
        }
        // The answer's words, in the catalog the article's tag resolves to.
        let thanks = catalogs
            .resolve(current.article.locale().as_str())
            .text("intake.thanks");
        let job = ReportJob {
            sub: Submission {
                thanks,
                article: current.article.clone(),
                anchor,
                report: report.clone(),
                client_ip: client_ip.to_string(),
                idempotency: idempotency.clone(),
                rules: Rules::from_state(state),
                limits: state.intake.clone(),
            },
            keys: state.keys.clone(),
            public_url: state.public_url.clone(),
        };
        match state.writer.run_batched(job).await? {
            Some((filed, receipt)) => {
                if filed == Filed::Created && !receipt.duplicate {
                    tracing::info!(reference = %receipt.reference, case_id = %receipt.case_id, "report stored");
                    state.committed();
                }
                return Ok((filed, receipt));
            }
            // The article changed since it was read (a new revision, on any
            // instance): anchor again on what the database holds now.
            None => {
                state.current_articles.forget(external_id.as_str());
                fresh = true;
            }
        }
    }
    Err(Problem::from(crate::db::DbError::Unavailable(
        "The article keeps changing; please retry.".into(),
    )))
}

/// The article's current revision as reports are anchored to it: what the
/// intake would otherwise read for every report.
pub struct Current {
    article: Article,
    sentences: Vec<article_store::SentenceView>,
}

/// The current revision of the articles reports were filed on, by external
/// id, per instance. An entry can be stale (another instance revised the
/// article): the writer checks each report's article against the database
/// in its batch (one statement) and sends a stale one back to be anchored
/// again, so a report is never stored against an old revision. The events
/// tail of `app::known` also drops the articles it sees revised.
#[derive(Default)]
pub struct CurrentArticles {
    entries: std::sync::RwLock<std::collections::HashMap<String, std::sync::Arc<Current>>>,
}

/// Entries kept before the map starts over (an article's sentences are a
/// few kilobytes).
const CURRENT_ARTICLES: usize = 10_000;

impl CurrentArticles {
    fn get(&self, external_id: &str) -> Option<std::sync::Arc<Current>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.get(external_id).cloned()
    }

    fn put(&self, external_id: &str, current: std::sync::Arc<Current>) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CURRENT_ARTICLES {
            entries.clear();
        }
        entries.insert(external_id.to_string(), current);
    }

    fn forget(&self, external_id: &str) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.remove(external_id);
    }

    /// Drop the entries of these articles (by article id).
    pub fn invalidate(&self, article_ids: &std::collections::HashSet<String>) {
        if article_ids.is_empty() {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, c| !article_ids.contains(&c.article.id));
    }
}

/// Resolve the quote against the article's current revision, from memory
/// unless `fresh`; "me too" needs an open case and an Idempotency-Key may
/// have been answered, which only the database knows. Returns the article,
/// the anchor and whether the key was answered.
async fn anchor_report(
    state: &AppState,
    external_id: &ExternalId,
    report: &NewReport,
    key: Option<String>,
    fresh: bool,
) -> Result<(std::sync::Arc<Current>, Anchor, bool), Problem> {
    let cached = if fresh {
        None
    } else {
        state.current_articles.get(external_id.as_str())
    };
    let me_too = report.me_too && !report.is_spam;
    if let (Some(current), false, None) = (&cached, me_too, &key) {
        let anchor = anchor::resolve(
            &current.sentences,
            report.sentence_id.as_deref(),
            &report.quote,
        )?;
        return Ok((current.clone(), anchor, false));
    }
    let loaded = cached.is_none();
    let (ext, quote_of) = (external_id.clone(), report.clone());
    let (current, anchor, replay) = state
        .read(move |conn| {
            let current = match cached {
                Some(c) => c,
                None => {
                    let article = article_store::find_by_external_id(conn, ext.as_str())?
                        .ok_or_else(|| super::articles::not_found(&ext))?;
                    let sentences = article_store::revision_sentences(
                        conn,
                        &article.id,
                        article.current_revision,
                    )?;
                    std::sync::Arc::new(Current { article, sentences })
                }
            };
            let article = &current.article;
            let anchor = anchor::resolve(
                &current.sentences,
                quote_of.sentence_id.as_deref(),
                &quote_of.quote,
            )?;
            // "Me too" joins a case; it never opens one.
            if me_too && case_store::open_case_on(conn, &article.id, &anchor.sentence_id)?.is_none()
            {
                return Err(no_open_case());
            }
            let replay = match key {
                Some(key) => {
                    store::idempotency_key_exists(conn, &idempotency_key_hash(&article.id, &key))?
                }
                None => false,
            };
            Ok((current, anchor, replay))
        })
        .await?;
    if loaded {
        state
            .current_articles
            .put(external_id.as_str(), current.clone());
    }
    Ok((current, anchor, replay))
}

/// One report for the writer: applied with the others of its batch
/// (`batch`), `None` when its article changed since it was anchored.
struct ReportJob {
    sub: Submission,
    keys: std::sync::Arc<KeyCache>,
    public_url: String,
}

impl crate::db::writer::Batched for ReportJob {
    type Out = Option<(Filed, ReportReceipt)>;
    type Err = Problem;

    fn apply(conn: &mut DbConn, jobs: Vec<ReportJob>) -> Vec<Result<Self::Out, Problem>> {
        batch::apply(conn, &jobs)
    }
}

/// File one report in a savepoint of its own, as `Writer::run` does.
fn submit_alone(conn: &mut DbConn, job: &ReportJob) -> Result<(Filed, ReportReceipt), Problem> {
    diesel::Connection::transaction(conn, |conn| {
        // One Idempotency-Key sent to two instances at once: the second
        // one's answer meets the first's (PostgreSQL makes it wait for the
        // first commit) and its savepoint rolls back; run again, it finds
        // the stored answer and replays it, as if the two had come one
        // after the other.
        match diesel::Connection::transaction(conn, |c| {
            submit(c, &job.sub, &job.keys, &job.public_url)
        }) {
            Err(p) if p.code == KEY_IN_FLIGHT => submit(conn, &job.sub, &job.keys, &job.public_url),
            other => other,
        }
    })
}

fn no_open_case() -> Problem {
    Problem::conflict(
        ErrorCode::NoOpenCase,
        "Nobody has an open report on this sentence any more: file a report of your own.",
    )
}

/// The settings a submission follows, copied into the writer job.
struct Rules {
    due_hours: crate::config::DueHours,
    duplicate_window_hours: u32,
    report_threshold: i32,
    fresh_article_hours: i64,
}

impl Rules {
    fn from_state(state: &AppState) -> Rules {
        let s = &state.settings;
        Rules {
            due_hours: s.queue.due_hours.clone(),
            duplicate_window_hours: s.intake.duplicate_window_hours,
            report_threshold: s.email.escalation.report_threshold as i32,
            fresh_article_hours: s.email.escalation.fresh_article_hours as i64,
        }
    }

    fn due(&self, category: Category, t: NaiveDateTime) -> NaiveDateTime {
        t + Duration::hours(category.due_hours(&self.due_hours) as i64)
    }
}

struct Submission {
    /// What the answer tells the reader (`[intake] thanks`).
    thanks: String,
    article: Article,
    anchor: Anchor,
    report: NewReport,
    client_ip: String,
    idempotency: Option<Idempotency>,
    rules: Rules,
    limits: std::sync::Arc<crate::auth::limits::IntakeLimits>,
}

/// Another process stored an answer for the same key first (see `file`).
const KEY_IN_FLIGHT: ErrorCode = ErrorCode::IdempotencyKeyInFlight;

fn idempotency_key_hash(article_id: &str, key: &str) -> String {
    sha256_hex(format!("{article_id}\0{key}"))
}

fn status_url(public_url: &str, token: &str) -> String {
    format!("{public_url}/r/{token}")
}

fn submit(
    conn: &mut DbConn,
    sub: &Submission,
    keys: &KeyCache,
    public_url: &str,
) -> Result<(Filed, ReportReceipt), Problem> {
    let t = now();
    let secret = keys.status_secret(conn)?;
    let key_hash = sub
        .idempotency
        .as_ref()
        .map(|i| idempotency_key_hash(&sub.article.id, &i.key));
    if let (Some(key_hash), Some(idem)) = (&key_hash, &sub.idempotency)
        && let Some(stored) = store::stored_answer(conn, key_hash)?
    {
        if stored.request_hash != idem.request_hash {
            return Err(Problem::field(
                ErrorCode::IdempotencyKeyReused,
                "Idempotency key reused",
                "Idempotency-Key",
                "was already used with a different request body",
            ));
        }
        let mut receipt: ReportReceipt =
            serde_json::from_str(&stored.response_body).map_err(Problem::internal)?;
        if !receipt.duplicate {
            receipt.status_url = Some(status_url(
                public_url,
                &status_token(&secret, Some(&idem.key), &receipt.report_id),
            ));
        }
        let filed = if stored.status_code == 201 {
            Filed::Created
        } else {
            Filed::Duplicate
        };
        return Ok((filed, receipt));
    }

    let (client_hash, old_client_hash) = keys.client_hashes(conn, &sub.client_ip, t)?;
    // The sentence's open case is locked before the shared limits' rows, in
    // the order the writer's batch takes them (`batch::file_together`):
    // the other way round, a report filed alone and a batch on another
    // instance could each hold what the other waits for (a deadlock that
    // PostgreSQL breaks after a second by failing one of them).
    crate::db::dialect::lock_open_case(
        conn,
        &case_store::open_key(&sub.article.id, &sub.anchor.sentence_id),
    )?;
    // The limits again, across every instance on this database (counted in
    // this transaction; a refusal rolls back with the savepoint).
    let shared = sub
        .limits
        .shared(&client_hash, &sub.article.id, &sub.anchor.sentence_id);
    crate::auth::limits::count_shared(conn, &shared, t)?;
    let comment_hash = sha256_hex(sub.report.comment.to_lowercase());
    let clients: Vec<&str> = std::iter::once(client_hash.as_str())
        .chain(old_client_hash.as_deref())
        .collect();
    let since = t - Duration::hours(sub.rules.duplicate_window_hours as i64);
    let first = store::first_with_comment(conn, &sub.article.id, &comment_hash, &clients, since)?;
    let answer = match first {
        Some((report_id, case_id, reference)) => (
            Filed::Duplicate,
            ReportReceipt {
                report_id,
                case_id,
                reference,
                status_url: None,
                message: sub.thanks.clone(),
                duplicate: true,
            },
        ),
        None => {
            let receipt = insert(
                conn,
                sub,
                keys,
                &secret,
                public_url,
                &client_hash,
                &comment_hash,
                t,
            )?;
            (Filed::Created, receipt)
        }
    };
    if let (Some(key_hash), Some(idem)) = (key_hash, &sub.idempotency) {
        let mut kept = answer.1.clone();
        kept.status_url = None; // the token is never stored, only re-derived
        let stored = StoredAnswer {
            request_hash: idem.request_hash.clone(),
            status_code: match answer.0 {
                Filed::Created => 201,
                Filed::Duplicate => 200,
            },
            response_body: serde_json::to_string(&kept).map_err(Problem::internal)?,
        };
        store::store_answer(conn, &key_hash, &stored, t).map_err(|e| {
            if crate::db::dialect::is_unique_violation(&e) {
                Problem::conflict(
                    KEY_IN_FLIGHT,
                    "A request with this Idempotency-Key is being answered; retry.",
                )
            } else {
                e.into()
            }
        })?;
    }
    Ok(answer)
}

/// What a report row holds beside what the reader sent.
struct RowParts<'a> {
    id: &'a str,
    case_id: &'a str,
    reporter_key: &'a str,
    client_hash: &'a str,
    comment_hash: &'a str,
    status_token_hash: &'a str,
    is_spam: bool,
    /// Filed into spam because its reader is blocked.
    blocked: bool,
    /// The desk of the report's case.
    desk: Option<&'a str>,
}

/// The report row of `sub`: one shape for the one-at-a-time path and the
/// batch (`batch::Owned::row`).
fn report_row<'a>(sub: &'a Submission, p: RowParts<'a>, t: NaiveDateTime) -> NewReportRow<'a> {
    let report = &sub.report;
    NewReportRow {
        id: p.id,
        case_id: p.case_id,
        article_id: &sub.article.id,
        revision: sub.article.current_revision,
        sentence_id: &sub.anchor.sentence_id,
        span_sentence_ids: serde_json::to_string(&sub.anchor.span).unwrap_or_default(),
        quote_exact: &report.quote.exact,
        quote_prefix: report.quote.prefix.as_deref(),
        quote_suffix: report.quote.suffix.as_deref(),
        category: report.category,
        comment: &report.comment,
        suggested_correction: report.suggested_correction.as_deref(),
        sources: serde_json::to_string(&report.sources).unwrap_or_default(),
        reporter_email: report.reporter.as_ref().map(|(e, _)| e.as_str()),
        // A blocked reader hears nothing more (their case never moves).
        notify: !p.blocked && report.reporter.as_ref().is_some_and(|(_, n)| *n),
        reporter_key: p.reporter_key,
        client_hash: p.client_hash,
        comment_hash: p.comment_hash,
        status_token_hash: p.status_token_hash,
        is_spam: p.is_spam,
        blocked: p.blocked,
        created_at: t,
        desk: p.desk,
    }
}

fn new_case(sub: &Submission, t: NaiveDateTime) -> NewCase {
    NewCase {
        id: new_id(),
        article_id: sub.article.id.clone(),
        sentence_id: sub.anchor.sentence_id.clone(),
        open_key: None,
        sentence_text: sub.anchor.sentence_text.clone(),
        desk: sub.article.desk.clone(),
        status: Status::New,
        anchor_state: AnchorState::Current,
        report_count: 0,
        reporter_count: 0,
        categories: "{}".into(),
        first_reported_at: t,
        last_reported_at: t,
        due_at: sub.rules.due(sub.report.category, t),
        version: 1,
        created_at: t,
        updated_at: t,
        resolution: None,
        resolved_at: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn insert(
    conn: &mut DbConn,
    sub: &Submission,
    keys: &KeyCache,
    secret: &str,
    public_url: &str,
    client_hash: &str,
    comment_hash: &str,
    t: NaiveDateTime,
) -> Result<ReportReceipt, Problem> {
    let report = &sub.report;
    // The reader: the keyed hash of their address, else the day's client
    // hash (`app::readers`). A blocked reader's report is accepted as any
    // other but filed like a honeypot's, straight into spam.
    let reader_secret = keys.reader_secret(conn)?;
    let reporter_key = super::readers::intake_key(
        &reader_secret,
        report.reporter.as_ref().map(|(e, _)| e.as_str()),
        client_hash,
    );
    let standing = crate::db::readers::standing_of(conn, &reporter_key)?.map(|s| s.standing);
    let blocked = standing == Some(Standing::Blocked);
    let is_spam = report.is_spam || blocked;
    let mut case = new_case(sub, t);
    let case_id = if is_spam {
        // A honeypot report gets a case of its own, already resolved as
        // spam, so it never reaches the queue nor counts in real cases.
        case.status = Status::Resolved;
        case.resolution = Some(Resolution::Spam);
        case.resolved_at = Some(t);
        case.report_count = 1;
        case.reporter_count = 1;
        case.categories = serde_json::json!({ report.category.as_str(): 1 }).to_string();
        case_store::insert(conn, &case)?;
        case.id
    } else {
        case.open_key = Some(case_store::open_key(
            &sub.article.id,
            &sub.anchor.sentence_id,
        ));
        let (id, created) = case_store::find_or_open(conn, &case)?;
        if created {
            // A near-duplicate already open on another sentence: linked for
            // the editor to decide, never merged.
            if let Some(other) = case_memory::near_duplicate_open(
                conn,
                &sub.article.id,
                &id,
                &report.comment,
                report.suggested_correction.as_deref(),
            )? {
                case_memory::set_possible_duplicate(conn, &id, &other)?;
            }
        }
        id
    };
    // Lock the case before the report's insert takes its foreign-key share
    // lock: two instances filing on one case would otherwise both hold that
    // share lock and deadlock upgrading it (`count_report` locks it too).
    crate::db::dialect::lock_case(conn, &case_id)?;
    // The sentence (or the one it replaced) already corrected: remembered on
    // the case, which then loses its freshness (priority, escalation).
    let (already_corrected, desk) = if is_spam {
        (false, case.desk)
    } else {
        let row = case_store::find(conn, &case_id)?.ok_or(diesel::result::Error::NotFound)?;
        (case_memory::remember_correction(conn, &row)?, row.desk)
    };
    let new_reporter = !is_spam && !store::reporter_in_case(conn, &case_id, &reporter_key)?;

    let report_id = new_id();
    let token = status_token(
        secret,
        sub.idempotency.as_ref().map(|i| i.key.as_str()),
        &report_id,
    );
    let token_hash = sha256_hex(&token);
    let row = report_row(
        sub,
        RowParts {
            id: &report_id,
            case_id: &case_id,
            reporter_key: &reporter_key,
            client_hash,
            comment_hash,
            status_token_hash: &token_hash,
            is_spam,
            blocked,
            desk: desk.as_deref(),
        },
        t,
    );
    let reference = store::insert(conn, &row, new_reference)?;
    if !is_spam {
        if standing == Some(Standing::Trusted) {
            // Before the count, whose re-score then includes the bonus.
            crate::db::readers::set_case_trusted(conn, &case_id, true)?;
        }
        let due = sub.rules.due(report.category, t);
        let count =
            case_store::count_report(conn, &case_id, report.category, new_reporter, due, t)?;
        record_report(conn, sub, &report_id, &case_id, count, already_corrected, t)?;
    }
    Ok(ReportReceipt {
        report_id,
        case_id,
        reference,
        status_url: Some(status_url(public_url, &token)),
        message: sub.thanks.clone(),
        duplicate: false,
    })
}

/// Why a case with `report_count` reports, the latest of `category`, is
/// escalated now, if it is: the report threshold, or a factual error on an
/// article published less than `fresh_article_hours` ago, unless the
/// sentence already has a published correction (the error is most likely
/// the one already fixed).
fn escalation(
    rules: &Rules,
    report_count: i32,
    category: Category,
    published_at: Option<NaiveDateTime>,
    already_corrected: bool,
    t: NaiveDateTime,
) -> Option<EscalationReason> {
    let fresh = !already_corrected
        && published_at.is_some_and(|p| {
            p <= t + Duration::minutes(5) && t - p < Duration::hours(rules.fresh_article_hours)
        });
    if report_count >= rules.report_threshold {
        Some(EscalationReason::Threshold)
    } else if category == Category::FactualError && fresh {
        Some(EscalationReason::FreshFactualError)
    } else {
        None
    }
}

/// Record the report's events: filed; the case opened (its first report);
/// escalated (once per case, whichever instance gets there first).
fn record_report(
    conn: &mut DbConn,
    sub: &Submission,
    report_id: &str,
    case_id: &str,
    report_count: i32,
    already_corrected: bool,
    t: NaiveDateTime,
) -> Result<(), Problem> {
    let reason = escalation(
        &sub.rules,
        report_count,
        sub.report.category,
        sub.article.published_at,
        already_corrected,
        t,
    );
    let escalated = match reason {
        Some(_) => case_store::mark_escalated(conn, case_id, t)?,
        None => false,
    };
    events::record(
        conn,
        &Event::ReportFiled {
            report_id: report_id.to_string(),
            case_id: case_id.to_string(),
            article_id: sub.article.id.clone(),
            category: sub.report.category,
        },
        t,
    )?;
    if report_count == 1 {
        events::record(
            conn,
            &Event::CaseOpened {
                case_id: case_id.to_string(),
                article_id: sub.article.id.clone(),
                escalated,
            },
            t,
        )?;
    }
    if let (true, Some(reason)) = (escalated, reason) {
        events::record(
            conn,
            &Event::CaseEscalated {
                case_id: case_id.to_string(),
                reason,
                threshold: sub.rules.report_threshold,
            },
            t,
        )?;
    }
    Ok(())
}

/// What a reader sees through the status link: nothing about other readers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportStatus {
    pub reference: String,
    /// `received`, `in_review` or `resolved`.
    pub status: String,
    /// Once resolved: `corrected`, `clarified`, `updated`, `no_change`,
    /// `rejected` or `duplicate`. (A case an editor marks as spam reads
    /// `rejected`: readers are not told they were taken for spammers.)
    pub resolution: Option<Resolution>,
    pub public_note: Option<String>,
    /// The published correction, when the case (or the case it duplicates)
    /// was corrected, clarified or updated.
    pub correction: Option<CorrectionSummary>,
    #[serde(with = "crate::domain::utc")]
    pub updated_at: NaiveDateTime,
    pub article: crate::db::reports::ArticleRef,
    pub language: Language,
    /// The article's address with a text fragment (`#:~:text=`) that makes
    /// the browser scroll to the reported words and highlight them.
    pub quote_url: String,
    /// What this reader reported (shown only to the holder of the link).
    pub your_report: YourReport,
    /// When each step was reached (UTC).
    pub timeline: Timeline,
    /// With a correction: the article's address with a text fragment
    /// (`#:~:text=`) that scrolls to the sentence.
    pub sentence_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct YourReport {
    /// The sentence as it read when it was reported.
    pub sentence: String,
    /// The words the reader selected.
    pub quote: String,
    pub category: Category,
    pub comment: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Timeline {
    #[serde(with = "crate::domain::utc")]
    pub received_at: NaiveDateTime,
    #[serde(with = "crate::domain::utc::option")]
    pub in_review_at: Option<NaiveDateTime>,
    #[serde(with = "crate::domain::utc::option")]
    pub decided_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CorrectionSummary {
    pub text: String,
    pub kind: Resolution,
    #[serde(with = "crate::domain::utc")]
    pub published_at: NaiveDateTime,
}

/// `status` for a client at `ip`, counted against its lookup limit first
/// (429 past it): what every edge that takes a token from a reader calls.
pub async fn status_for(
    state: &AppState,
    ip: std::net::IpAddr,
    token: String,
) -> Result<ReportStatus, Problem> {
    count_status_lookup(state, ip)?;
    status(state, token).await
}

/// Count one lookup by status token from `ip` (429 past the limit), for an
/// edge that looks a token up another way (the data-request form).
pub fn count_status_lookup(state: &AppState, ip: std::net::IpAddr) -> Result<(), Problem> {
    state.status_lookups.check(ip)
}

/// A report's status through its private link's token; 404 for any token
/// that is not one.
pub async fn status(state: &AppState, token: String) -> Result<ReportStatus, Problem> {
    let unknown =
        || Problem::not_found(ErrorCode::ReportNotFound, "No report has this status link.");
    if token.is_empty() || token.len() > 128 {
        return Err(unknown());
    }
    state
        .read(move |conn| {
            // A link emailed at the reader's request has a token of its own.
            let hash = crate::db::status_links::report_token_hash(conn, &sha256_hex(&token))?;
            let row = store::by_status_token_hash(conn, &hash)?.ok_or_else(unknown)?;
            let copy = store::reader_copy(conn, &hash)?.ok_or_else(unknown)?;
            reader_view(conn, row, copy)
        })
        .await
}

fn reader_view(
    conn: &mut DbConn,
    row: store::StatusRow,
    copy: store::ReaderCopy,
) -> Result<ReportStatus, Problem> {
    // A honeypot report must look like any other to whoever filed it.
    let (status, resolution, public_note, correction) = if row.is_spam {
        ("received", None, None, None)
    } else {
        let shown = match row.status {
            Status::InReview => "in_review",
            Status::Resolved => "resolved",
            Status::New | Status::Triaged => "received",
        };
        let resolution = row.resolution.filter(|_| row.status == Status::Resolved);
        // A correction is shown for the case's own resolution, or for the
        // case it duplicates: that is where this reader's error was fixed.
        let corrected_in = match resolution {
            Some(r) if r.publishes_correction() => Some(row.case_id.as_str()),
            Some(Resolution::Duplicate) => row.duplicate_of.as_deref(),
            _ => None,
        };
        let correction = match corrected_in {
            Some(case_id) => {
                store::latest_correction(conn, case_id)?.map(|(text, kind, published_at)| {
                    CorrectionSummary {
                        text,
                        kind,
                        published_at,
                    }
                })
            }
            None => None,
        };
        (
            shown,
            // Spam is shown as rejected, without a note.
            resolution.map(Resolution::for_reader),
            row.public_note
                .clone()
                .filter(|_| resolution.is_some_and(|r| r != Resolution::Spam)),
            correction,
        )
    };
    let (exact, prefix, suffix, sentence) = &row.quote;
    let quote_url = crate::domain::fragment::for_quote(
        &row.article.url,
        exact,
        prefix.as_deref(),
        suffix.as_deref(),
        Some(sentence),
    );
    let (reviewed, decided) = if row.is_spam {
        (false, false)
    } else {
        (
            matches!(row.status, Status::InReview | Status::Resolved),
            row.status == Status::Resolved,
        )
    };
    let timeline = Timeline {
        received_at: copy.filed_at,
        in_review_at: copy.in_review_at.filter(|_| reviewed),
        decided_at: copy.decided_at.filter(|_| decided),
    };
    let sentence_url = correction.as_ref().map(|_| {
        crate::domain::fragment::link(&row.article.url, &copy.current_sentence, None, None)
    });
    Ok(ReportStatus {
        quote_url,
        reference: row.reference,
        status: status.to_string(),
        resolution,
        public_note,
        correction,
        updated_at: row.updated_at,
        article: row.article,
        language: row.language,
        your_report: YourReport {
            sentence: copy.sentence_text,
            quote: copy.quote_exact,
            category: copy.category,
            comment: copy.comment,
        },
        timeline,
        sentence_url,
    })
}
