//! Email notifications through a durable outbox.
//!
//! An event (a report, an assignment, a resolution, an overdue case) writes
//! its emails as `outbox` rows in the transaction that records the event, so
//! an email exists exactly when its cause was committed (`events`). A worker
//! (`worker`) claims due rows, renders them from templates (`render`), sends
//! them through the configured transport (`transport`) and marks them sent;
//! failures are retried with backoff and end in the dead letter. Editors choose
//! per kind between immediate emails, hourly or daily digests and nothing
//! (`prefs`, `digest`); every email carries a one-click unsubscribe link
//! (`unsubscribe`). Admins list and retry rows (`admin`).

pub mod admin;
pub mod cli;
pub mod content;
pub mod digest;
pub mod events;
pub mod prefs;
pub mod render;
pub mod transport;
pub mod unsubscribe;
pub mod worker;

use crate::config::EmailSettings;

/// What the event functions need from the settings; cheap to clone into a
/// writer job.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// The domain every Message-ID ends with (the sender's domain).
    pub message_id_domain: String,
    pub reader_daily_limit: u32,
    pub reader_receipt: bool,
    pub report_threshold: i32,
    pub fresh_article_hours: i64,
    pub daily_hour_utc: u32,
    pub retention_days: i64,
}

impl NotifyConfig {
    /// What the outbox needs to write an email.
    pub fn outbox(&self) -> crate::db::outbox::Policy<'_> {
        crate::db::outbox::Policy {
            message_id_domain: &self.message_id_domain,
            reader_daily_limit: self.reader_daily_limit,
        }
    }

    pub fn from_settings(s: &EmailSettings) -> NotifyConfig {
        let domain = s
            .from
            .parse::<lettre::message::Mailbox>()
            .map(|m| m.email.domain().to_string())
            .unwrap_or_else(|_| "localhost".into());
        NotifyConfig {
            message_id_domain: domain,
            reader_daily_limit: s.reader_daily_limit,
            reader_receipt: s.reader_receipt,
            report_threshold: s.escalation.report_threshold as i32,
            fresh_article_hours: s.escalation.fresh_article_hours as i64,
            daily_hour_utc: s.digest.daily_hour_utc,
            retention_days: s.retention_days as i64,
        }
    }
}

pub use crate::domain::email::EmailKind;

/// The languages emails are written in; anything else falls back to French,
/// the newsroom's language.
pub fn language(code: &str) -> &'static str {
    crate::domain::article::Language::parse(code)
        .unwrap_or_default()
        .as_str()
}
