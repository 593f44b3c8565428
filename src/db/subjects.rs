//! Data-subject requests (GDPR arts. 15 and 17): everything held about one
//! reader's email address, its export and its erasure, and the requests
//! readers file from their status page.
//!
//! A reader's address is held in three places: the reports they filed
//! (`reporter_email`, and `reporter_key`, a keyed hash of it that outlives
//! the address's retention until the case's retention cuts it), the emails written to them (`outbox`, by
//! `recipient_key`), and the suppression list (their unsubscribe or bounce,
//! by the same hash). Everything is found by the hash, so reports whose
//! address the retention sweep already erased are found too.
//!
//! Erasing replaces the reports' key with one fresh random key per case
//! (so a case's count of distinct readers still holds, but nothing links the
//! reports to one another: `db::readers::unlink`), deletes the reader's
//! standing, drops the outbox
//! rows and the suppression entries, and, when asked, the reports' text.
//! Exports and erasures are audited by a fresh id, never by the address or
//! its hash: the audit log cannot be erased, and a hash there would let
//! anyone with the address find out that it was erased.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, Who as Actor};
use super::outbox::address_key;
use super::schema::{articles, cases, email_suppressions, outbox, reports};
use super::{DbConn, new_id, now};
use crate::domain::subject::RequestKind;
use crate::domain::text::sha256_hex;

// Declared here rather than in schema.rs so that this feature stays in its
// own files; the schema test still compares the migrated tables.
diesel::table! {
    subject_requests (id) {
        id -> Text,
        report_id -> Text,
        kind -> Text,
        created_at -> Timestamp,
        handled_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(subject_requests -> reports (report_id));
// One pair at a time: reports and articles are paired in schema.rs already.
diesel::allow_tables_to_appear_in_same_query!(subject_requests, reports);
diesel::allow_tables_to_appear_in_same_query!(subject_requests, articles);

/// One report as its reader sees it in an export.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HeldReport {
    pub reference: String,
    #[serde(with = "crate::domain::utc")]
    pub created_at: NaiveDateTime,
    pub article_external_id: String,
    pub article_title: String,
    pub article_url: String,
    pub category: String,
    pub quote: String,
    pub comment: String,
    pub suggested_correction: Option<String>,
    pub sources: Vec<String>,
    /// Whether the address itself is still stored on the report (the
    /// retention sweep erases it some time after the case is resolved).
    pub email_stored: bool,
    /// Whether the reader asked to hear the outcome.
    pub notify: bool,
    /// The case's status: `new`, `triaged`, `in_progress`, `resolved`.
    pub case_status: String,
}

/// One email written to the address.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HeldEmail {
    pub id: String,
    /// `reader_receipt`, `reader_outcome`, …
    pub kind: String,
    /// `pending`, `sent`, `dead`, `skipped`.
    pub status: String,
    pub language: String,
    #[serde(with = "crate::domain::utc")]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::domain::utc::option")]
    pub sent_at: Option<NaiveDateTime>,
    /// What the email was written from.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

/// The address on the suppression list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HeldSuppression {
    /// `unsubscribed` or `bounce`.
    pub reason: String,
    pub detail: Option<String>,
    #[serde(with = "crate::domain::utc")]
    pub created_at: NaiveDateTime,
}

/// A request the reader filed from a status page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HeldRequest {
    pub id: String,
    pub report_reference: String,
    pub kind: RequestKind,
    #[serde(with = "crate::domain::utc")]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::domain::utc::option")]
    pub handled_at: Option<NaiveDateTime>,
}

/// Everything held about one address (art. 15).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectExport {
    pub email: String,
    #[serde(with = "crate::domain::utc")]
    pub generated_at: NaiveDateTime,
    pub reports: Vec<HeldReport>,
    pub emails: Vec<HeldEmail>,
    pub suppressions: Vec<HeldSuppression>,
    pub requests: Vec<HeldRequest>,
}

impl SubjectExport {
    pub fn is_empty(&self) -> bool {
        self.reports.is_empty() && self.emails.is_empty() && self.suppressions.is_empty()
    }
}

/// What an erasure removed (art. 17).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Erased {
    /// Reports no longer linked to the address.
    pub reports: usize,
    /// Whether their text (comment, suggested correction, sources) was removed too.
    pub text_removed: bool,
    /// Emails to the address dropped from the outbox.
    pub emails: usize,
    /// Suppression-list entries dropped.
    pub suppressions: usize,
    /// Readers' requests marked handled by this erasure.
    pub requests_handled: usize,
}

type ReportRow = (
    String,
    String,
    NaiveDateTime,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    bool,
    String,
);

fn report_ids(conn: &mut DbConn, reader_key: &str) -> QueryResult<Vec<String>> {
    reports::table
        .filter(reports::reporter_key.eq(reader_key))
        .order(reports::created_at.asc())
        .select(reports::id)
        .load(conn)
}

/// Everything held about `email`, whose reports are filed under
/// `reader_key` (`app::readers::key_of_email`), without recording anything.
pub fn find(conn: &mut DbConn, email: &str, reader_key: &str) -> QueryResult<SubjectExport> {
    let rows: Vec<ReportRow> = reports::table
        .inner_join(cases::table)
        .inner_join(articles::table.on(articles::id.eq(reports::article_id)))
        .filter(reports::reporter_key.eq(reader_key))
        .order((reports::created_at.asc(), reports::id.asc()))
        .select((
            reports::id,
            reports::reference,
            reports::created_at,
            articles::external_id,
            articles::title,
            articles::url,
            reports::category,
            reports::quote_exact,
            reports::comment,
            reports::suggested_correction,
            reports::sources,
            reports::reporter_email,
            reports::notify,
            cases::status,
        ))
        .load(conn)?;
    let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let reports = rows
        .into_iter()
        .map(|r| HeldReport {
            reference: r.1,
            created_at: r.2,
            article_external_id: r.3,
            article_title: r.4,
            article_url: r.5,
            category: r.6,
            quote: r.7,
            comment: r.8,
            suggested_correction: r.9,
            sources: serde_json::from_str(&r.10).unwrap_or_default(),
            email_stored: r.11.is_some(),
            notify: r.12,
            case_status: r.13,
        })
        .collect();
    let key = address_key(email);
    let emails = outbox::table
        .filter(outbox::recipient_key.eq(&key))
        .order(outbox::created_at.asc())
        .select((
            outbox::id,
            outbox::kind,
            outbox::status,
            outbox::language,
            outbox::created_at,
            outbox::sent_at,
            outbox::payload,
        ))
        .load::<(
            String,
            String,
            String,
            String,
            NaiveDateTime,
            Option<NaiveDateTime>,
            String,
        )>(conn)?
        .into_iter()
        .map(|r| HeldEmail {
            id: r.0,
            kind: r.1,
            status: r.2,
            language: r.3,
            created_at: r.4,
            sent_at: r.5,
            payload: serde_json::from_str(&r.6).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    let suppressions = email_suppressions::table
        .filter(email_suppressions::address_key.eq(&key))
        .order(email_suppressions::created_at.asc())
        .select((
            email_suppressions::reason,
            email_suppressions::detail,
            email_suppressions::created_at,
        ))
        .load::<(String, Option<String>, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|r| HeldSuppression {
            reason: r.0,
            detail: r.1,
            created_at: r.2,
        })
        .collect();
    let requests = subject_requests::table
        .inner_join(reports::table)
        .filter(subject_requests::report_id.eq_any(&ids))
        .order(subject_requests::created_at.asc())
        .select((
            subject_requests::id,
            reports::reference,
            subject_requests::kind,
            subject_requests::created_at,
            subject_requests::handled_at,
        ))
        .load::<(
            String,
            String,
            RequestKind,
            NaiveDateTime,
            Option<NaiveDateTime>,
        )>(conn)?
        .into_iter()
        .map(|r| HeldRequest {
            id: r.0,
            report_reference: r.1,
            kind: r.2,
            created_at: r.3,
            handled_at: r.4,
        })
        .collect();
    Ok(SubjectExport {
        email: email.to_string(),
        generated_at: now(),
        reports,
        emails,
        suppressions,
        requests,
    })
}

/// The export an admin asked for: found, audited, and the reader's open
/// export requests marked handled. Run in a write transaction.
pub fn export(
    conn: &mut DbConn,
    actor: &Actor,
    email: &str,
    reader_key: &str,
) -> QueryResult<SubjectExport> {
    let found = find(conn, email, reader_key)?;
    let ids = report_ids(conn, reader_key)?;
    let t = now();
    let handled = diesel::update(
        subject_requests::table
            .filter(subject_requests::report_id.eq_any(&ids))
            .filter(subject_requests::kind.eq(RequestKind::Export))
            .filter(subject_requests::handled_at.is_null()),
    )
    .set(subject_requests::handled_at.eq(Some(t)))
    .execute(conn)?;
    audit::record(
        conn,
        actor,
        "subject.export",
        audit::Subject::DataSubject(&new_id()),
        None,
        Some(serde_json::json!({
            "reports": found.reports.len(),
            "emails": found.emails.len(),
            "suppressions": found.suppressions.len(),
            "requests_handled": handled,
        })),
    )?;
    Ok(found)
}

/// Erase `email` everywhere; with `remove_text`, the reports' text too (the
/// quote is the article's words, not the reader's, and stays). Run in a
/// write transaction.
pub fn erase(
    conn: &mut DbConn,
    actor: &Actor,
    email: &str,
    reader_key: &str,
    remove_text: bool,
) -> QueryResult<Erased> {
    let ids = report_ids(conn, reader_key)?;
    let erasure = new_id();
    let t = now();
    let targets = reports::table.filter(reports::id.eq_any(&ids));
    let reports_done = diesel::update(targets)
        .set((
            reports::reporter_email.eq(None::<String>),
            reports::notify.eq(false),
        ))
        .execute(conn)?;
    // One fresh key per case: the reports no longer name one reader, and the
    // reader's standing (trusted, blocked) goes with the link.
    super::readers::unlink(conn, &ids)?;
    super::readers::forget(conn, reader_key)?;
    if remove_text {
        diesel::update(reports::table.filter(reports::id.eq_any(&ids)))
            .set((
                reports::comment.eq(""),
                reports::suggested_correction.eq(None::<String>),
                reports::sources.eq("[]"),
                // The duplicate check compares comments by this hash.
                reports::comment_hash.eq(sha256_hex(format!("erased:{erasure}"))),
            ))
            .execute(conn)?;
    }
    let key = address_key(email);
    let emails =
        diesel::delete(outbox::table.filter(outbox::recipient_key.eq(&key))).execute(conn)?;
    let suppressions =
        diesel::delete(email_suppressions::table.filter(email_suppressions::address_key.eq(&key)))
            .execute(conn)?;
    // Links asked for by email and not yet queued (the address waits there
    // for a moment; the outbox rows went above).
    super::status_links::forget_email(conn, &email.trim().to_lowercase())?;
    let requests_handled = diesel::update(
        subject_requests::table
            .filter(subject_requests::report_id.eq_any(&ids))
            .filter(subject_requests::handled_at.is_null()),
    )
    .set(subject_requests::handled_at.eq(Some(t)))
    .execute(conn)?;
    let erased = Erased {
        reports: reports_done,
        text_removed: remove_text,
        emails,
        suppressions,
        requests_handled,
    };
    audit::record(
        conn,
        actor,
        "subject.erase",
        audit::Subject::DataSubject(&erasure),
        None,
        Some(serde_json::to_value(&erased).unwrap_or_default()),
    )?;
    Ok(erased)
}

/// A reader's request as the status page and the admins' list show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectRequest {
    pub id: String,
    pub kind: RequestKind,
    #[serde(with = "crate::domain::utc")]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::domain::utc::option")]
    pub handled_at: Option<NaiveDateTime>,
    pub report_reference: String,
    /// The address to answer with `erratum subject export|erase`; null when
    /// the reader left none or it was already erased (the report's
    /// reference then identifies what is held).
    pub email: Option<String>,
    pub article_title: String,
}

type RequestRow = (
    String,
    RequestKind,
    NaiveDateTime,
    Option<NaiveDateTime>,
    String,
    Option<String>,
    String,
);

fn request(r: RequestRow) -> SubjectRequest {
    SubjectRequest {
        id: r.0,
        kind: r.1,
        created_at: r.2,
        handled_at: r.3,
        report_reference: r.4,
        email: r.5,
        article_title: r.6,
    }
}

fn load_requests(
    conn: &mut DbConn,
    report_id: Option<&str>,
    open_only: bool,
    limit: i64,
) -> QueryResult<Vec<SubjectRequest>> {
    let mut q = subject_requests::table
        .inner_join(reports::table)
        .inner_join(articles::table.on(articles::id.eq(reports::article_id)))
        .order((
            subject_requests::created_at.desc(),
            subject_requests::id.desc(),
        ))
        .limit(limit)
        .select((
            subject_requests::id,
            subject_requests::kind,
            subject_requests::created_at,
            subject_requests::handled_at,
            reports::reference,
            reports::reporter_email,
            articles::title,
        ))
        .into_boxed();
    if let Some(id) = report_id {
        q = q.filter(subject_requests::report_id.eq(id.to_string()));
    }
    if open_only {
        q = q.filter(subject_requests::handled_at.is_null());
    }
    Ok(q.load::<RequestRow>(conn)?
        .into_iter()
        .map(request)
        .collect())
}

/// The newest requests (open ones only, or all), for admins.
pub fn list(conn: &mut DbConn, open_only: bool, limit: i64) -> QueryResult<Vec<SubjectRequest>> {
    load_requests(conn, None, open_only, limit)
}

fn report_by_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<String>> {
    let hash = super::status_links::report_token_hash(conn, &sha256_hex(token))?;
    reports::table
        .filter(reports::status_token_hash.eq(hash))
        .select(reports::id)
        .first(conn)
        .optional()
}

/// The requests filed from one status link, newest first; None when no
/// report has this link.
pub fn for_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<Vec<SubjectRequest>>> {
    match report_by_token(conn, token)? {
        Some(id) => Ok(Some(load_requests(conn, Some(&id), false, 20)?)),
        None => Ok(None),
    }
}

/// Record a reader's request from their status link (None when no report
/// has this link). Asking again while the same kind is still open returns
/// the open one (`false`): one request per kind is enough, and the page
/// cannot be used to fill the table.
pub fn file(
    conn: &mut DbConn,
    token: &str,
    kind: RequestKind,
) -> QueryResult<Option<(SubjectRequest, bool)>> {
    let Some(report_id) = report_by_token(conn, token)? else {
        return Ok(None);
    };
    let open = load_requests(conn, Some(&report_id), true, 20)?
        .into_iter()
        .find(|r| r.kind == kind);
    if let Some(open) = open {
        return Ok(Some((open, false)));
    }
    let id = new_id();
    diesel::insert_into(subject_requests::table)
        .values((
            subject_requests::id.eq(&id),
            subject_requests::report_id.eq(&report_id),
            subject_requests::kind.eq(kind),
            subject_requests::created_at.eq(now()),
        ))
        .execute(conn)?;
    // Read back in the same transaction: it is there.
    let created = load_requests(conn, Some(&report_id), true, 20)?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(diesel::result::Error::NotFound)?;
    Ok(Some((created, true)))
}
