//! What outgoing integrations subscribe to: the public names of the domain
//! events (`case.opened`, …) and the formats a destination speaks.

use serde::{Deserialize, Serialize};

use super::event::Event;

/// An event as integrations name it: the domain event's kind, dotted, plus
/// `webhook.test` (the "send test event" button).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum HookEvent {
    #[serde(rename = "report.filed")]
    ReportFiled,
    #[serde(rename = "case.opened")]
    CaseOpened,
    #[serde(rename = "case.escalated")]
    CaseEscalated,
    #[serde(rename = "case.triaged")]
    CaseTriaged,
    #[serde(rename = "case.claimed")]
    CaseClaimed,
    #[serde(rename = "case.assigned")]
    CaseAssigned,
    #[serde(rename = "case.unassigned")]
    CaseUnassigned,
    #[serde(rename = "case.noted")]
    CaseNoted,
    #[serde(rename = "case.prioritised")]
    CasePrioritised,
    #[serde(rename = "case.resolved")]
    CaseResolved,
    #[serde(rename = "case.reopened")]
    CaseReopened,
    #[serde(rename = "case.overdue")]
    CaseOverdue,
    #[serde(rename = "correction.published")]
    CorrectionPublished,
    #[serde(rename = "article.revised")]
    ArticleRevised,
    #[serde(rename = "webhook.test")]
    Test,
}

impl HookEvent {
    /// What a destination may subscribe to (the test event always goes).
    pub const SUBSCRIBABLE: [HookEvent; 14] = [
        HookEvent::ReportFiled,
        HookEvent::CaseOpened,
        HookEvent::CaseEscalated,
        HookEvent::CaseTriaged,
        HookEvent::CaseClaimed,
        HookEvent::CaseAssigned,
        HookEvent::CaseUnassigned,
        HookEvent::CaseNoted,
        HookEvent::CasePrioritised,
        HookEvent::CaseResolved,
        HookEvent::CaseReopened,
        HookEvent::CaseOverdue,
        HookEvent::CorrectionPublished,
        HookEvent::ArticleRevised,
    ];

    /// What chat alerts are about: new cases, escalations, overdue cases and
    /// published corrections.
    pub const CHAT: [HookEvent; 4] = [
        HookEvent::CaseOpened,
        HookEvent::CaseEscalated,
        HookEvent::CaseOverdue,
        HookEvent::CorrectionPublished,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HookEvent::ReportFiled => "report.filed",
            HookEvent::CaseOpened => "case.opened",
            HookEvent::CaseEscalated => "case.escalated",
            HookEvent::CaseTriaged => "case.triaged",
            HookEvent::CaseClaimed => "case.claimed",
            HookEvent::CaseAssigned => "case.assigned",
            HookEvent::CaseUnassigned => "case.unassigned",
            HookEvent::CaseNoted => "case.noted",
            HookEvent::CasePrioritised => "case.prioritised",
            HookEvent::CaseResolved => "case.resolved",
            HookEvent::CaseReopened => "case.reopened",
            HookEvent::CaseOverdue => "case.overdue",
            HookEvent::CorrectionPublished => "correction.published",
            HookEvent::ArticleRevised => "article.revised",
            HookEvent::Test => "webhook.test",
        }
    }

    pub fn parse(s: &str) -> Option<HookEvent> {
        Self::SUBSCRIBABLE
            .into_iter()
            .chain([HookEvent::Test])
            .find(|e| e.as_str() == s)
    }

    /// The public name of a domain event; None for events that stay
    /// inside (an account's password reset is nobody else's business).
    pub fn of(e: &Event) -> Option<HookEvent> {
        Some(match e {
            Event::ReportFiled { .. } => HookEvent::ReportFiled,
            Event::CaseOpened { .. } => HookEvent::CaseOpened,
            Event::CaseEscalated { .. } => HookEvent::CaseEscalated,
            Event::CaseTriaged { .. } => HookEvent::CaseTriaged,
            Event::CaseClaimed { .. } => HookEvent::CaseClaimed,
            Event::CaseAssigned { .. } => HookEvent::CaseAssigned,
            Event::CaseUnassigned { .. } => HookEvent::CaseUnassigned,
            Event::CaseNoted { .. } => HookEvent::CaseNoted,
            Event::CasePrioritised { .. } => HookEvent::CasePrioritised,
            Event::CaseResolved { .. } => HookEvent::CaseResolved,
            Event::CaseReopened { .. } => HookEvent::CaseReopened,
            Event::CaseOverdue { .. } => HookEvent::CaseOverdue,
            Event::CorrectionPublished { .. } => HookEvent::CorrectionPublished,
            Event::ArticleRevised { .. } => HookEvent::ArticleRevised,
            // A reader's standing is the newsroom's internal judgement.
            Event::PasswordResetRequested { .. }
            | Event::StatusLinkRequested { .. }
            | Event::ReaderStandingChanged { .. } => {
                return None;
            }
        })
    }
}

/// What a destination receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HookFormat {
    /// Signed JSON following the Standard Webhooks specification.
    Standard,
    /// A Slack incoming webhook (Block Kit message).
    Slack,
    /// A Microsoft Teams incoming webhook or workflow (Adaptive Card).
    Teams,
}

impl HookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            HookFormat::Standard => "standard",
            HookFormat::Slack => "slack",
            HookFormat::Teams => "teams",
        }
    }

    pub fn parse(s: &str) -> Option<HookFormat> {
        [HookFormat::Standard, HookFormat::Slack, HookFormat::Teams]
            .into_iter()
            .find(|f| f.as_str() == s)
    }

    pub fn is_chat(self) -> bool {
        self != HookFormat::Standard
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_the_event_kinds() {
        for e in HookEvent::SUBSCRIBABLE {
            assert_eq!(HookEvent::parse(e.as_str()), Some(e));
            let json = serde_json::to_value(e).unwrap();
            assert_eq!(json, e.as_str());
        }
        assert_eq!(HookEvent::parse("case.nope"), None);
        let e = Event::CaseOverdue {
            case_id: "c".into(),
        };
        assert_eq!(
            HookEvent::of(&e).unwrap().as_str().replace('.', "_"),
            e.kind()
        );
    }
}

/// Where one delivery to a destination stands (`webhook_deliveries.status`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its first attempt or its next retry.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Out of retries: the dead letter, until an admin retries it.
    Dead,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Dead,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}
