//! The kinds of email Erratum sends.

/// The kinds of email, as stored in `outbox.kind` and named by the template
/// folders.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum EmailKind {
    NewCase,
    Escalation,
    Assigned,
    Overdue,
    Digest,
    ReaderReceipt,
    ReaderOutcome,
    /// A password-reset link: sent whatever the editor's notification
    /// choices, without an unsubscribe link.
    PasswordReset,
    /// A reader's status link, sent at their request.
    StatusLink,
}

impl EmailKind {
    pub const ALL: [EmailKind; 9] = [
        EmailKind::NewCase,
        EmailKind::Escalation,
        EmailKind::Assigned,
        EmailKind::Overdue,
        EmailKind::Digest,
        EmailKind::ReaderReceipt,
        EmailKind::ReaderOutcome,
        EmailKind::PasswordReset,
        EmailKind::StatusLink,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EmailKind::NewCase => "new_case",
            EmailKind::Escalation => "escalation",
            EmailKind::Assigned => "assigned",
            EmailKind::Overdue => "overdue",
            EmailKind::Digest => "digest",
            EmailKind::ReaderReceipt => "reader_receipt",
            EmailKind::ReaderOutcome => "reader_outcome",
            EmailKind::PasswordReset => "password_reset",
            EmailKind::StatusLink => "status_link",
        }
    }

    pub fn parse(s: &str) -> Option<EmailKind> {
        EmailKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// An email that answers the recipient's own request: no unsubscribe.
    pub fn is_transactional(self) -> bool {
        matches!(self, EmailKind::PasswordReset | EmailKind::StatusLink)
    }

    pub fn is_for_reader(self) -> bool {
        matches!(
            self,
            EmailKind::ReaderReceipt | EmailKind::ReaderOutcome | EmailKind::StatusLink
        )
    }
}

/// Where an outbox row stands (`outbox.status`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for its first try or its next retry.
    Pending,
    /// Accepted by the transport.
    Sent,
    /// Out of retries: the dead letter, until an admin requeues it.
    Dead,
    /// Not sent on purpose (unsubscribed, suppressed, or its kind turned off).
    Skipped,
}

impl OutboxStatus {
    pub const ALL: [OutboxStatus; 4] = [
        OutboxStatus::Pending,
        OutboxStatus::Sent,
        OutboxStatus::Dead,
        OutboxStatus::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Dead => "dead",
            OutboxStatus::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<OutboxStatus> {
        OutboxStatus::ALL.into_iter().find(|k| k.as_str() == s)
    }
}
