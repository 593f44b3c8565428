//! What an email says, captured when its event happens and stored as the
//! outbox row's JSON payload: a retry renders the same email, and the email
//! tells what was true when the event occurred.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::DbConn;
use crate::db::schema::{articles, cases, corrections, reports};
use crate::domain::workflow::Resolution;

/// A case as the editors' emails show it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CaseSummary {
    pub case_id: String,
    /// The short case number (`#1042`); absent in emails queued before
    /// numbers existed.
    #[serde(default)]
    pub number: Option<i32>,
    pub article_title: String,
    pub article_url: String,
    pub desk: Option<String>,
    /// The sentence as reported.
    pub sentence: String,
    pub report_count: i32,
    pub reporter_count: i32,
    /// Category codes, the most reported first.
    pub categories: Vec<String>,
    pub due_at: NaiveDateTime,
    /// The latest report (reader text: escaped in HTML by the templates).
    pub latest: Option<ReportExcerpt>,
    /// The sentence already had a published correction: its date and text.
    #[serde(default)]
    pub already_corrected: Option<KnownCorrection>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KnownCorrection {
    pub date: NaiveDateTime,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReportExcerpt {
    pub reference: String,
    pub category: String,
    pub comment: String,
    pub suggested_correction: Option<String>,
}

pub use crate::domain::event::EscalationReason;

/// One notification waiting in, or listed by, a digest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DigestEntry {
    /// new_case, escalation, assigned or overdue.
    pub kind: String,
    pub at: NaiveDateTime,
    pub case: CaseSummary,
}

/// The content of each kind of email.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    NewCase {
        case: CaseSummary,
    },
    Escalation {
        case: CaseSummary,
        reason: EscalationReason,
        threshold: i32,
    },
    Assigned {
        case: CaseSummary,
    },
    Overdue {
        case: CaseSummary,
    },
    Digest {
        cadence: String,
        entries: Vec<DigestEntry>,
    },
    ReaderReceipt {
        reference: String,
        article_title: String,
        article_url: String,
        sentence: String,
    },
    ReaderOutcome {
        reference: String,
        article_title: String,
        article_url: String,
        sentence: String,
        /// How the case ended (never spam: spam tells no one).
        resolution: Resolution,
        /// The editors' note to readers, if any.
        public_note: Option<String>,
        /// The published correction, if any.
        correction: Option<String>,
    },
    /// A password-reset link: the link itself is made when the email is
    /// sent, from `reset_id` and an instance key (never stored).
    PasswordReset {
        reset_id: String,
        expires_at: NaiveDateTime,
        minutes: i64,
    },
    /// A reader's status link, at their request: the link is made when the
    /// email is sent, from `link_id` and an instance key (never stored).
    StatusLink {
        link_id: String,
        reference: String,
        article_title: String,
        article_url: String,
        sentence: String,
    },
}

impl Content {
    pub fn case_id(&self) -> Option<&str> {
        match self {
            Content::NewCase { case }
            | Content::Escalation { case, .. }
            | Content::Assigned { case }
            | Content::Overdue { case } => Some(&case.case_id),
            _ => None,
        }
    }
}

/// The outbox row's payload: the content and how to greet the recipient.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Payload {
    pub recipient_name: Option<String>,
    pub content: Content,
}

/// Read a case as the emails show it.
pub fn case_summary(
    conn: &mut DbConn,
    case_id: &str,
    at: NaiveDateTime,
) -> QueryResult<CaseSummary> {
    let (sentence, desk, due_at, title, url, number, known): (
        String,
        Option<String>,
        NaiveDateTime,
        String,
        String,
        i32,
        Option<String>,
    ) = cases::table
        .inner_join(articles::table.on(articles::id.eq(cases::article_id)))
        .filter(cases::id.eq(case_id))
        .select((
            cases::sentence_text,
            cases::desk,
            cases::due_at,
            articles::title,
            articles::url,
            cases::number,
            cases::known_correction_id,
        ))
        .first(conn)?;
    let already_corrected = match known {
        Some(id) => corrections::table
            .find(id)
            .select((corrections::published_at, corrections::public_note))
            .first::<(NaiveDateTime, String)>(conn)
            .optional()?
            .map(|(date, text)| KnownCorrection { date, text }),
        None => None,
    };
    // The case as it stood at `at`, when the event happened: the emails are
    // written later, by the event consumer, and must not count reports that
    // came after.
    let filed: Vec<(String, String, String, String, Option<String>)> = reports::table
        .filter(reports::case_id.eq(case_id))
        .filter(reports::is_spam.eq(false))
        .filter(reports::created_at.le(at))
        .order((reports::created_at.asc(), reports::id.asc()))
        .select((
            reports::reporter_key,
            reports::reference,
            reports::category,
            reports::comment,
            reports::suggested_correction,
        ))
        .load(conn)?;
    let report_count = filed.len() as i32;
    let reporter_count = filed
        .iter()
        .map(|r| r.0.as_str())
        .collect::<std::collections::HashSet<_>>()
        .len() as i32;
    let mut counts: std::collections::BTreeMap<String, i64> = Default::default();
    for r in &filed {
        *counts.entry(r.2.clone()).or_default() += 1;
    }
    let latest =
        filed
            .into_iter()
            .last()
            .map(
                |(_, reference, category, comment, suggested_correction)| ReportExcerpt {
                    reference,
                    category,
                    comment,
                    suggested_correction,
                },
            );
    let mut categories: Vec<(String, i64)> = counts.into_iter().collect();
    categories.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(CaseSummary {
        case_id: case_id.to_string(),
        number: Some(number),
        already_corrected,
        article_title: title,
        article_url: crate::domain::fragment::link(&url, &sentence, None, None),
        desk,
        sentence,
        report_count,
        reporter_count,
        categories: categories.into_iter().map(|(c, _)| c).collect(),
        due_at,
        latest,
    })
}
