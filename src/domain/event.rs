//! What happened, as the use cases record it.
//!
//! Each use case writes one or more `Event`s into the `events` table inside
//! the transaction that made the change, so an event exists exactly when its
//! change was committed. Consumers (email today; webhooks, chat, statistics,
//! live updates tomorrow) read the table in order, each from its own cursor,
//! without the use cases knowing they exist (`app::events`).
//!
//! An event carries ids and the facts a consumer cannot read back later
//! (a resolution's note can change on reopen): consumers look up the rest.
//! Reader text and addresses are never copied into events.

use serde::{Deserialize, Serialize};

use super::report::Category;
use super::workflow::Resolution;

/// Why a case was escalated.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    /// It reached `email.escalation.report_threshold` reports.
    Threshold,
    /// A factual error on an article published less than
    /// `email.escalation.fresh_article_hours` ago.
    FreshFactualError,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A reader's report was stored in an open case (honeypot reports record
    /// nothing: they never reach anyone).
    ReportFiled {
        report_id: String,
        case_id: String,
        article_id: String,
        category: Category,
    },
    /// A report opened a new case on its sentence. `escalated` tells
    /// consumers that an `CaseEscalated` for the same report follows.
    CaseOpened {
        case_id: String,
        article_id: String,
        escalated: bool,
    },
    /// The case crossed an escalation rule (once per case).
    CaseEscalated {
        case_id: String,
        reason: EscalationReason,
        /// The report-count threshold in force, for the message.
        threshold: i32,
    },
    CaseTriaged {
        case_id: String,
        by: String,
    },
    CaseClaimed {
        case_id: String,
        by: String,
    },
    CaseAssigned {
        case_id: String,
        assignee_id: String,
        by: String,
    },
    CaseUnassigned {
        case_id: String,
        by: String,
    },
    CaseNoted {
        case_id: String,
        note_id: String,
        by: String,
    },
    CasePrioritised {
        case_id: String,
        priority: Option<i32>,
        by: String,
    },
    CaseResolved {
        case_id: String,
        resolution: Resolution,
        public_note: Option<String>,
        duplicate_of: Option<String>,
        /// Set when the resolution published a correction.
        correction_id: Option<String>,
        /// The published correction's text, when there is one.
        correction: Option<String>,
        by: String,
    },
    CaseReopened {
        case_id: String,
        by: String,
    },
    CorrectionPublished {
        correction_id: String,
        case_id: String,
        article_id: String,
    },
    /// An open case passed its due time (once per case).
    CaseOverdue {
        case_id: String,
    },
    /// The CMS sent a new revision; cases whose sentence changed or vanished.
    ArticleRevised {
        article_id: String,
        revision: i32,
        possibly_fixed: Vec<String>,
        orphaned: Vec<String>,
    },
    /// Someone asked for a password-reset link for this account (local
    /// password, enabled). The link's token is derived from `reset_id` with
    /// an instance key when the email is sent: it is never stored.
    PasswordResetRequested {
        reset_id: String,
        editor_id: String,
    },
    /// A reader asked for their status link by email. The link's token is
    /// derived from `link_id` when the email is sent; the address waits on
    /// the link's row until then.
    StatusLinkRequested {
        link_id: String,
        report_id: String,
    },
    /// An editor marked a reader as trusted or blocked, or back to ordinary
    /// (`standing` absent). Named by the standing row's id, never the
    /// reader's key.
    ReaderStandingChanged {
        standing_id: String,
        standing: Option<super::reader::Standing>,
        by: String,
    },
}

impl Event {
    /// The stable name stored in `events.kind` (and, dotted, the name
    /// integrations will subscribe to).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::ReportFiled { .. } => "report_filed",
            Event::CaseOpened { .. } => "case_opened",
            Event::CaseEscalated { .. } => "case_escalated",
            Event::CaseTriaged { .. } => "case_triaged",
            Event::CaseClaimed { .. } => "case_claimed",
            Event::CaseAssigned { .. } => "case_assigned",
            Event::CaseUnassigned { .. } => "case_unassigned",
            Event::CaseNoted { .. } => "case_noted",
            Event::CasePrioritised { .. } => "case_prioritised",
            Event::CaseResolved { .. } => "case_resolved",
            Event::CaseReopened { .. } => "case_reopened",
            Event::CorrectionPublished { .. } => "correction_published",
            Event::CaseOverdue { .. } => "case_overdue",
            Event::ArticleRevised { .. } => "article_revised",
            Event::PasswordResetRequested { .. } => "password_reset_requested",
            Event::StatusLinkRequested { .. } => "status_link_requested",
            Event::ReaderStandingChanged { .. } => "reader_standing_changed",
        }
    }

    /// The case the event is about, for indexing and per-case ordering.
    pub fn case_id(&self) -> Option<&str> {
        match self {
            Event::ReportFiled { case_id, .. }
            | Event::CaseOpened { case_id, .. }
            | Event::CaseEscalated { case_id, .. }
            | Event::CaseTriaged { case_id, .. }
            | Event::CaseClaimed { case_id, .. }
            | Event::CaseAssigned { case_id, .. }
            | Event::CaseUnassigned { case_id, .. }
            | Event::CaseNoted { case_id, .. }
            | Event::CasePrioritised { case_id, .. }
            | Event::CaseResolved { case_id, .. }
            | Event::CaseReopened { case_id, .. }
            | Event::CorrectionPublished { case_id, .. }
            | Event::CaseOverdue { case_id } => Some(case_id),
            Event::ArticleRevised { .. }
            | Event::PasswordResetRequested { .. }
            | Event::StatusLinkRequested { .. }
            | Event::ReaderStandingChanged { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_as_tagged_json() {
        let e = Event::CaseResolved {
            case_id: "c".into(),
            resolution: Resolution::NoChange,
            public_note: None,
            duplicate_of: None,
            correction_id: None,
            correction: None,
            by: "e".into(),
        };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["type"], e.kind());
        assert_eq!(json["resolution"], "no_change");
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), e);
    }
}
