//! Everything about one case, for the case page: the sentence in its
//! current context, a page of its reports, internal notes, corrections and
//! history. A case can gather thousands of reports: they come a page at a
//! time (keyset on `(created_at, id)`, the `reports_case_order_idx` order)
//! while the case's totals come from its own counters.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::articles::{self as article_store, SentenceView};
use super::audit::{self, AuditEntry, Subject};
use super::case_memory::{self, SimilarCase};
use super::cases::{self, CaseSummary};
use super::corrections::{self, CorrectionView};
use super::schema::{articles, case_notes, editors, reports};
use super::{DbConn, now};
use crate::domain::actor::Actor;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseDetail {
    pub case: CaseSummary,
    pub context: SentenceContext,
    /// One page of the reports, oldest first (`REPORTS_PAGE` at most); the
    /// totals are the case's `report_count`, `reporter_count` and
    /// `categories`.
    pub reports: Vec<ReportView>,
    /// Give it as `reports_cursor` for the next page of reports; absent on
    /// the last page.
    pub reports_next_cursor: Option<String>,
    /// Internal notes, oldest first; never shown to readers.
    pub notes: Vec<NoteView>,
    /// Corrections published for this case, oldest first.
    pub corrections: Vec<CorrectionView>,
    /// The audit trail of the case, oldest first.
    pub history: Vec<AuditEntry>,
    /// The open and recently resolved cases of the same sentence (across
    /// revisions), then the article's cases with near-duplicate reports:
    /// the likely originals when marking a duplicate.
    pub similar: Vec<SimilarCase>,
}

/// The reported sentence where it stands in the article's current revision.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SentenceContext {
    pub revision: i32,
    /// `current` (the sentence is in the current revision), `successor`
    /// (it was edited: `sentence` is the text that replaced it) or `gone`.
    pub found: String,
    pub previous: Option<SentenceView>,
    pub sentence: Option<SentenceView>,
    pub next: Option<SentenceView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Quote {
    pub exact: String,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportView {
    pub id: String,
    pub reference: String,
    pub category: String,
    pub comment: String,
    pub suggested_correction: Option<String>,
    pub sources: Vec<String>,
    pub quote: Quote,
    /// The article revision the reader saw.
    pub revision: i32,
    #[serde(with = "crate::domain::utc")]
    pub created_at: NaiveDateTime,
    /// Personal data: shown to editors and admins, not to viewers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter_email: Option<String>,
    /// Whether the reader asked to hear about the outcome (with the email).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<bool>,
    /// Caught by the honeypot field.
    pub honeypot: bool,
    /// Filed straight into spam because its reader is blocked.
    pub blocked: bool,
    /// The reader's history and standing across every case (absent once
    /// the reader was erased: nothing links their reports any more).
    pub reader: Option<super::readers::ReaderSummary>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoteView {
    pub id: String,
    pub author: cases::EditorRef,
    pub body: String,
    #[serde(with = "crate::domain::utc")]
    pub created_at: NaiveDateTime,
}

type ReportRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    i32,
    NaiveDateTime,
    Option<String>,
    bool,
    bool,
    String,
    bool,
);

/// How many reports a case page or answer carries.
pub const REPORTS_PAGE: i64 = 50;

/// Where a page of reports starts: after this `(created_at, id)`.
pub type ReportsAfter = (NaiveDateTime, String);

/// The case page's data, its reports from `after` on; `None` when there is
/// no such case.
pub fn detail(
    conn: &mut DbConn,
    actor: &Actor,
    case_id: &str,
    after: Option<ReportsAfter>,
) -> QueryResult<Option<CaseDetail>> {
    let Some(row) = cases::find(conn, case_id)? else {
        return Ok(None);
    };
    let current_revision: i32 = articles::table
        .find(&row.article_id)
        .select(articles::current_revision)
        .first(conn)?;
    let sentences = article_store::revision_sentences(conn, &row.article_id, current_revision)?;
    let context = context_of(
        current_revision,
        &sentences,
        &row.sentence_id,
        row.successor_sentence_id.as_deref(),
    );

    // Addresses are personal data: only for editors whose desks cover the case.
    let with_email = actor.sees_reporter_emails() && actor.covers_desk(row.desk.as_deref());
    let mut query = reports::table
        .filter(reports::case_id.eq(case_id))
        .order((reports::created_at.asc(), reports::id.asc()))
        .limit(REPORTS_PAGE + 1)
        .select((
            reports::id,
            reports::reference,
            reports::category,
            reports::comment,
            reports::suggested_correction,
            reports::sources,
            reports::quote_exact,
            reports::quote_prefix,
            reports::quote_suffix,
            reports::revision,
            reports::created_at,
            reports::reporter_email,
            reports::notify,
            reports::is_spam,
            reports::reporter_key,
            reports::blocked,
        ))
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            reports::created_at
                .gt(at)
                .or(reports::created_at.eq(at).and(reports::id.gt(id))),
        );
    }
    let mut report_rows: Vec<ReportRow> = query.load(conn)?;
    let more = report_rows.len() as i64 > REPORTS_PAGE;
    report_rows.truncate(REPORTS_PAGE as usize);
    let reports_next_cursor = report_rows
        .last()
        .filter(|_| more)
        .map(|r| encode_reports_cursor(r.10, &r.0));
    let keys: Vec<String> = report_rows.iter().map(|r| r.14.clone()).collect();
    let readers = super::readers::summaries(conn, &keys)?;
    let reports = report_rows
        .into_iter()
        .map(|r| ReportView {
            id: r.0,
            reference: r.1,
            category: r.2,
            comment: r.3,
            suggested_correction: r.4,
            sources: serde_json::from_str(&r.5).unwrap_or_default(),
            quote: Quote {
                exact: r.6,
                prefix: r.7,
                suffix: r.8,
            },
            revision: r.9,
            created_at: r.10,
            notify: (with_email && r.11.is_some()).then_some(r.12),
            reporter_email: r.11.filter(|_| with_email),
            honeypot: r.13 && !r.15,
            blocked: r.15,
            reader: readers.get(&r.14).cloned(),
        })
        .collect();

    let notes = case_notes::table
        .inner_join(editors::table.on(editors::id.eq(case_notes::author_id)))
        .filter(case_notes::case_id.eq(case_id))
        .order((case_notes::created_at.asc(), case_notes::id.asc()))
        .select((
            case_notes::id,
            editors::id,
            editors::name,
            case_notes::body,
            case_notes::created_at,
        ))
        .load::<(String, String, String, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, author_id, name, body, created_at)| NoteView {
            id,
            author: cases::EditorRef {
                id: author_id,
                name,
            },
            body,
            created_at,
        })
        .collect();

    let similar = case_memory::similar(conn, &row, now())?;
    let Some(summary) = cases::summaries(conn, actor, vec![row], &HashMap::new(), now())?.pop()
    else {
        return Ok(None);
    };
    Ok(Some(CaseDetail {
        case: summary,
        context,
        reports,
        reports_next_cursor,
        notes,
        corrections: corrections::for_case(conn, case_id)?,
        history: audit::history(conn, Subject::Case(case_id))?,
        similar,
    }))
}

pub fn encode_reports_cursor(at: NaiveDateTime, id: &str) -> String {
    let raw = format!("{}|{id}", at.and_utc().timestamp_micros());
    data_encoding::BASE64URL_NOPAD.encode(raw.as_bytes())
}

/// `None` for anything `encode_reports_cursor` did not write.
pub fn decode_reports_cursor(s: &str) -> Option<ReportsAfter> {
    let raw = data_encoding::BASE64URL_NOPAD.decode(s.as_bytes()).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (t, id) = raw.split_once('|')?;
    let t = chrono::DateTime::from_timestamp_micros(t.parse().ok()?)?.naive_utc();
    uuid::Uuid::parse_str(id).ok()?;
    Some((t, id.to_string()))
}

/// Previous and next sentences around the case's sentence (or the text that
/// replaced it) in reading order.
fn context_of(
    revision: i32,
    sentences: &[SentenceView],
    sentence_id: &str,
    successor: Option<&str>,
) -> SentenceContext {
    let position = |id: &str| sentences.iter().position(|s| s.id == id);
    let (found, at) = match position(sentence_id) {
        Some(i) => ("current", Some(i)),
        None => match successor.and_then(position) {
            Some(i) => ("successor", Some(i)),
            None => ("gone", None),
        },
    };
    let get = |i: Option<usize>| i.and_then(|i| sentences.get(i)).cloned();
    SentenceContext {
        revision,
        found: found.into(),
        previous: get(at.and_then(|i| i.checked_sub(1))),
        sentence: get(at),
        next: get(at.map(|i| i + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: &str) -> SentenceView {
        SentenceView {
            id: id.into(),
            paragraph: 1,
            index: 0,
            text: id.to_uppercase(),
        }
    }

    #[test]
    fn context_has_neighbours_and_follows_edits() {
        let all = [s("a"), s("b"), s("c")];
        let c = context_of(2, &all, "b", None);
        assert_eq!(c.found, "current");
        assert_eq!(
            (
                c.previous.unwrap().id,
                c.sentence.unwrap().id,
                c.next.unwrap().id
            ),
            ("a".into(), "b".into(), "c".into())
        );
        let c = context_of(2, &all, "a", None);
        assert!(c.previous.is_none() && c.next.is_some());
        let c = context_of(2, &all, "gone", Some("c"));
        assert_eq!(
            (c.found.as_str(), c.sentence.unwrap().id),
            ("successor", "c".into())
        );
        assert!(c.next.is_none());
        let c = context_of(2, &all, "gone", None);
        assert_eq!(c.found, "gone");
        assert!(c.sentence.is_none() && c.previous.is_none());
    }

    #[test]
    fn reports_cursor_round_trips_and_refuses_garbage() {
        let at = chrono::DateTime::from_timestamp_micros(1_780_000_000_123_456)
            .unwrap()
            .naive_utc();
        let id = "0193a4f0-0000-7000-8000-000000000001";
        let c = encode_reports_cursor(at, id);
        assert_eq!(decode_reports_cursor(&c), Some((at, id.to_string())));
        assert_eq!(decode_reports_cursor("nope"), None);
        let bad = data_encoding::BASE64URL_NOPAD.encode(b"12|not-an-id");
        assert_eq!(decode_reports_cursor(&bad), None);
    }
}
