//! The email consumer: it turns the domain events the use cases record
//! (`domain::event`) into outbox rows, each batch in one writer transaction
//! that also moves its cursor (`app::events::consume`), so an event's emails
//! are written exactly once. After writing, the worker sends them.
//!
//! Who hears of what:
//! - a new case: editors following its desk (an editor with no desk follows
//!   every desk; a case without a desk reaches every editor);
//! - an escalation (the case reached `email.escalation.report_threshold`
//!   reports, or got a `factual_error` on an article published less than
//!   `email.escalation.fresh_article_hours` ago), once per case: the desk's
//!   followers and the assignee. It replaces the new-case email when both
//!   happen with the same report;
//! - an assignment: the assignee, unless they assigned themselves;
//! - a case past its due time, once: the assignee, else the desk's followers;
//! - the outcome: every reporter who gave an email with `notify: true`, in
//!   the article's language; a receipt on submission when
//!   `email.reader_receipt` is on.
//!
//! Viewers and disabled editors get no email.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::NotifyConfig;
use super::content::{CaseSummary, Content, Payload, case_summary};
use super::prefs::{self, Delivery, NotificationKind};
use crate::db::events::StoredEvent;
use crate::db::outbox::{self, NewEmail, NotQueued};
use crate::db::schema::{articles, cases, editors};
use crate::db::{DbConn, Pool, Writer, reports};
use crate::domain::editor::Role;
use crate::domain::event::{EscalationReason, Event};
use crate::domain::workflow::Resolution;
use crate::error::Problem;

/// The consumer's name in `event_cursors`.
pub const CONSUMER: &str = "email";
/// Events applied per writer job.
const BATCH: i64 = 200;

/// Write the emails of every event not yet handled; returns how many
/// events were handled.
pub async fn drain(pool: &Pool, writer: &Writer, cfg: &NotifyConfig) -> Result<usize, Problem> {
    // A read first: most wake-ups find nothing new, and then take no writer
    // transaction (on SQLite, the database's write lock).
    let pool = pool.clone();
    let pending = tokio::task::spawn_blocking(move || -> Result<bool, Problem> {
        Ok(crate::db::events::pending(&mut *pool.get()?, CONSUMER)?)
    })
    .await
    .map_err(Problem::internal)??;
    if !pending {
        return Ok(0);
    }
    let mut total = 0;
    loop {
        let cfg = cfg.clone();
        let n = writer
            .run(move |conn| {
                crate::app::events::consume(conn, CONSUMER, BATCH, |c, e| apply(c, &cfg, e))
            })
            .await?;
        total += n;
        if (n as i64) < BATCH {
            return Ok(total);
        }
    }
}

/// The emails one event causes.
pub fn apply(conn: &mut DbConn, cfg: &NotifyConfig, e: &StoredEvent) -> Result<(), Problem> {
    let t = e.created_at;
    match &e.event {
        Event::ReportFiled {
            report_id, case_id, ..
        } => reader_receipt(conn, cfg, report_id, case_id, t),
        Event::CaseOpened {
            case_id, escalated, ..
        } => case_opened(conn, cfg, case_id, *escalated, t),
        Event::CaseEscalated {
            case_id,
            reason,
            threshold,
        } => case_escalated(conn, cfg, case_id, *reason, *threshold, t),
        Event::CaseAssigned {
            case_id,
            assignee_id,
            by,
        } => case_assigned(conn, cfg, case_id, assignee_id, Some(by), t),
        Event::CaseResolved {
            case_id,
            resolution,
            public_note,
            correction,
            ..
        } => case_resolved(
            conn,
            cfg,
            case_id,
            *resolution,
            public_note.as_deref(),
            correction.as_deref(),
            t,
        ),
        Event::CaseOverdue { case_id } => case_overdue(conn, cfg, case_id, t),
        Event::PasswordResetRequested {
            reset_id,
            editor_id,
        } => password_reset(conn, cfg, reset_id, editor_id, t),
        Event::StatusLinkRequested { link_id, .. } => status_link(conn, cfg, link_id, t),
        Event::CaseTriaged { .. }
        | Event::CaseClaimed { .. }
        | Event::CaseUnassigned { .. }
        | Event::CaseNoted { .. }
        | Event::CasePrioritised { .. }
        | Event::CaseReopened { .. }
        | Event::CorrectionPublished { .. }
        | Event::ArticleRevised { .. }
        | Event::ReaderStandingChanged { .. } => Ok(()),
    }
}

/// A member of staff who may receive email.
#[derive(Debug, Clone)]
struct Recipient {
    id: String,
    email: String,
    name: String,
    language: String,
}

type EditorRow = (String, String, String, String, Role, String);

fn recipient((id, email, name, language, _, _): EditorRow) -> Recipient {
    Recipient {
        id,
        email,
        name,
        language,
    }
}

fn follows(desks_json: &str, desk: Option<&str>) -> bool {
    let desks: Vec<String> = serde_json::from_str(desks_json).unwrap_or_default();
    match desk {
        None => true,
        Some(d) => {
            desks.is_empty()
                || desks
                    .iter()
                    .any(|x| x.trim().eq_ignore_ascii_case(d.trim()))
        }
    }
}

fn active_editors(conn: &mut DbConn) -> QueryResult<Vec<EditorRow>> {
    editors::table
        .filter(editors::disabled.eq(false))
        .filter(editors::role.ne(Role::Viewer))
        .order(editors::id.asc())
        .select((
            editors::id,
            editors::email,
            editors::name,
            editors::language,
            editors::role,
            editors::desks,
        ))
        .load(conn)
}

/// Active editors (not viewers) who follow `desk`.
fn desk_followers(conn: &mut DbConn, desk: Option<&str>) -> QueryResult<Vec<Recipient>> {
    Ok(active_editors(conn)?
        .into_iter()
        .filter(|row| follows(&row.5, desk))
        .map(recipient)
        .collect())
}

fn active_editor(conn: &mut DbConn, id: &str) -> QueryResult<Option<Recipient>> {
    Ok(active_editors(conn)?
        .into_iter()
        .find(|row| row.0 == id)
        .map(recipient))
}

/// Send `content` to an editor the way they chose for `kind`.
fn deliver(
    conn: &mut DbConn,
    cfg: &NotifyConfig,
    editor: &Recipient,
    kind: NotificationKind,
    content: Content,
    t: NaiveDateTime,
) -> QueryResult<()> {
    let delivery = prefs::delivery(conn, &editor.id, kind)?;
    match delivery {
        Delivery::Off => Ok(()),
        Delivery::Immediate => {
            let case_id = content.case_id().map(str::to_string);
            let queued = outbox::enqueue(
                conn,
                &cfg.outbox(),
                NewEmail {
                    kind: kind.email_kind(),
                    recipient: &editor.email,
                    editor_id: Some(&editor.id),
                    case_id: case_id.as_deref(),
                    language: &editor.language,
                    payload: Payload {
                        recipient_name: Some(editor.name.clone()),
                        content,
                    },
                    id: None,
                },
                t,
            )?;
            log_not_queued(kind.as_str(), queued);
            Ok(())
        }
        Delivery::Hourly | Delivery::Daily => {
            let case = match &content {
                Content::NewCase { case }
                | Content::Escalation { case, .. }
                | Content::Assigned { case }
                | Content::Overdue { case } => case,
                _ => return Ok(()),
            };
            super::digest::add_item(conn, cfg, &editor.id, delivery, kind, case, t)
        }
    }
}

fn log_not_queued(kind: &str, queued: Result<String, NotQueued>) {
    if let Err(why) = queued {
        // Never the address: it is personal data.
        tracing::info!(kind, reason = ?why, "email not queued");
    }
}

/// A password-reset link, to an enabled account, whatever its notification
/// choices (it answers the editor's own request). Viewers get it too.
fn password_reset(
    conn: &mut DbConn,
    cfg: &NotifyConfig,
    reset_id: &str,
    editor_id: &str,
    t: NaiveDateTime,
) -> Result<(), Problem> {
    let found: Option<(String, String, String)> = editors::table
        .filter(editors::id.eq(editor_id))
        .filter(editors::disabled.eq(false))
        .select((editors::email, editors::name, editors::language))
        .first(conn)
        .optional()?;
    let Some((email, name, language)) = found else {
        return Ok(());
    };
    let expires_at = t + chrono::Duration::minutes(crate::domain::editor::RESET_MINUTES);
    let queued = outbox::enqueue(
        conn,
        &cfg.outbox(),
        NewEmail {
            kind: super::EmailKind::PasswordReset,
            recipient: &email,
            editor_id: Some(editor_id),
            case_id: None,
            language: &language,
            payload: Payload {
                recipient_name: Some(name),
                content: Content::PasswordReset {
                    reset_id: reset_id.to_string(),
                    expires_at,
                    minutes: crate::domain::editor::RESET_MINUTES,
                },
            },
            id: None,
        },
        t,
    )?;
    log_not_queued("password_reset", queued);
    Ok(())
}

/// A reader's status link, at their request: to the address they gave,
/// which the link's row then forgets (the outbox row holds it until sent).
fn status_link(
    conn: &mut DbConn,
    cfg: &NotifyConfig,
    link_id: &str,
    t: NaiveDateTime,
) -> Result<(), Problem> {
    let Some(p) = crate::db::status_links::take_pending(conn, link_id)? else {
        return Ok(());
    };
    let queued = outbox::enqueue(
        conn,
        &cfg.outbox(),
        NewEmail {
            kind: super::EmailKind::StatusLink,
            recipient: &p.email,
            editor_id: None,
            case_id: None,
            language: &p.language,
            payload: Payload {
                recipient_name: None,
                content: Content::StatusLink {
                    link_id: link_id.to_string(),
                    reference: p.reference,
                    article_title: p.article_title,
                    article_url: crate::domain::fragment::link(
                        &p.article_url,
                        &p.sentence,
                        None,
                        None,
                    ),
                    sentence: p.sentence,
                },
            },
            id: None,
        },
        t,
    )?;
    log_not_queued("status_link", queued);
    Ok(())
}

/// The reader's receipt, when enabled and the reader asked for news.
fn reader_receipt(
    conn: &mut DbConn,
    cfg: &NotifyConfig,
    report_id: &str,
    case_id: &str,
    t: NaiveDateTime,
) -> Result<(), Problem> {
    if !cfg.reader_receipt {
        return Ok(());
    }
    let Some(r) = reports::reporter(conn, report_id)? else {
        return Ok(());
    };
    let (Some(email), true, false) = (r.email, r.notify, r.is_spam) else {
        return Ok(());
    };
    let (sentence, title, url, language) = case_article(conn, case_id)?;
    let queued = outbox::enqueue(
        conn,
        &cfg.outbox(),
        NewEmail {
            kind: super::EmailKind::ReaderReceipt,
            recipient: &email,
            editor_id: None,
            case_id: Some(case_id),
            language: &language,
            payload: Payload {
                recipient_name: None,
                content: Content::ReaderReceipt {
                    reference: r.reference,
                    article_title: title,
                    article_url: crate::domain::fragment::link(&url, &sentence, None, None),
                    sentence,
                },
            },
            id: None,
        },
        t,
    )?;
    log_not_queued("reader_receipt", queued);
    Ok(())
}

/// A case's sentence and its article's title, URL and language tag (`es`,
/// `pt-br`…: the language of its readers' emails).
fn case_article(conn: &mut DbConn, case_id: &str) -> QueryResult<(String, String, String, String)> {
    let (sentence, title, url, language, locale): (String, String, String, String, Option<String>) =
        cases::table
            .inner_join(articles::table.on(articles::id.eq(cases::article_id)))
            .filter(cases::id.eq(case_id))
            .select((
                cases::sentence_text,
                articles::title,
                articles::url,
                articles::language,
                articles::locale,
            ))
            .first(conn)?;
    Ok((sentence, title, url, locale.unwrap_or(language)))
}

/// A new case: its desk's followers hear of it, but for those who will get
/// the escalation of the same report instead.
fn case_opened(
    conn: &mut DbConn,
    cfg: &NotifyConfig,
    case_id: &str,
    escalated: bool,
    t: NaiveDateTime,
) -> Result<(), Problem> {
    let Some((desk, _)) = crate::db::cases::routing(conn, case_id)? else {
        return Ok(());
    };
    let followers = desk_followers(conn, desk.as_deref())?;
    if followers.is_empty() {
        return Ok(());
    }
    let case = case_summary(conn, case_id, t)?;
    for editor in &followers {
        if escalated
            && prefs::delivery(conn, &editor.id, NotificationKind::Escalation)? != Delivery::Off
        {
            continue;
        }
        let content = Content::NewCase { case: case.clone() };
        deliver(conn, cfg, editor, NotificationKind::NewCase, content, t)?;
    }
    Ok(())
}

/// An escalation: the desk's followers and the assignee.
fn case_escalated(
    conn: &mut DbConn,
    cfg: &NotifyConfig,
    case_id: &str,
    reason: EscalationReason,
    threshold: i32,
    t: NaiveDateTime,
) -> Result<(), Problem> {
    let Some((desk, assignee)) = crate::db::cases::routing(conn, case_id)? else {
        return Ok(());
    };
    let mut recipients = desk_followers(conn, desk.as_deref())?;
    if let Some(assignee) = assignee.as_deref()
        && !recipients.iter().any(|f| f.id == assignee)
        && let Some(r) = active_editor(conn, assignee)?
    {
        recipients.push(r);
    }
    if recipients.is_empty() {
        return Ok(());
    }
    let case = case_summary(conn, case_id, t)?;
    for editor in &recipients {
        let content = Content::Escalation {
            case: case.clone(),
            reason,
            threshold,
        };
        deliver(conn, cfg, editor, NotificationKind::Escalation, content, t)?;
    }
    Ok(())
}

/// A case was assigned to `assignee_id` (by `assigned_by`, when an editor did
/// it): tell the assignee, unless they took it themselves.
fn case_assigned(
    conn: &mut DbConn,
    cfg: &NotifyConfig,
    case_id: &str,
    assignee_id: &str,
    assigned_by: Option<&str>,
    t: NaiveDateTime,
) -> Result<(), Problem> {
    if assigned_by == Some(assignee_id) {
        return Ok(());
    }
    let Some(editor) = active_editor(conn, assignee_id)? else {
        return Ok(());
    };
    let case = case_summary(conn, case_id, t)?;
    deliver(
        conn,
        cfg,
        &editor,
        NotificationKind::Assigned,
        Content::Assigned { case },
        t,
    )?;
    Ok(())
}

/// A case was resolved: tell every reporter who asked (`notify: true`), once
/// per address, in the article's language, with the resolution, the public
/// note and the published correction (`correction`, when there is one). A
/// case resolved as spam tells no one.
fn case_resolved(
    conn: &mut DbConn,
    cfg: &NotifyConfig,
    case_id: &str,
    resolution: Resolution,
    public_note: Option<&str>,
    correction: Option<&str>,
    t: NaiveDateTime,
) -> Result<(), Problem> {
    if resolution == Resolution::Spam {
        return Ok(());
    }
    let readers = reports::outcome_subscribers(conn, case_id)?;
    if readers.is_empty() {
        return Ok(());
    }
    let (sentence, title, url, language) = case_article(conn, case_id)?;
    let mut told = std::collections::HashSet::new();
    for (email, reference) in readers {
        if !told.insert(outbox::address_key(&email)) {
            continue;
        }
        let queued = outbox::enqueue(
            conn,
            &cfg.outbox(),
            NewEmail {
                kind: super::EmailKind::ReaderOutcome,
                recipient: &email,
                editor_id: None,
                case_id: Some(case_id),
                language: &language,
                payload: Payload {
                    recipient_name: None,
                    content: Content::ReaderOutcome {
                        reference,
                        article_title: title.clone(),
                        article_url: crate::domain::fragment::link(&url, &sentence, None, None),
                        sentence: sentence.clone(),
                        resolution: resolution.for_reader(),
                        // The correction is the public note: said once.
                        public_note: public_note
                            .filter(|n| Some(*n) != correction)
                            .map(str::to_string),
                        correction: correction.map(str::to_string),
                    },
                },
                id: None,
            },
            t,
        )?;
        log_not_queued("reader_outcome", queued);
    }
    Ok(())
}

/// A case past its due time: the assignee, else the desk's followers.
fn case_overdue(
    conn: &mut DbConn,
    cfg: &NotifyConfig,
    case_id: &str,
    t: NaiveDateTime,
) -> Result<(), Problem> {
    let Some((desk, assignee)) = crate::db::cases::routing(conn, case_id)? else {
        return Ok(());
    };
    let recipients = match assignee.as_deref() {
        Some(a) => active_editor(conn, a)?.into_iter().collect(),
        None => desk_followers(conn, desk.as_deref())?,
    };
    if recipients.is_empty() {
        return Ok(());
    }
    let case: CaseSummary = case_summary(conn, case_id, t)?;
    for editor in &recipients {
        let content = Content::Overdue { case: case.clone() };
        deliver(conn, cfg, editor, NotificationKind::Overdue, content, t)?;
    }
    Ok(())
}

/// Cases one overdue job flags at most, and jobs one scan runs at most
/// (500 a scan, as before). One job of 500 held the writer 270 ms on the
/// 1M SQLite copy every minute, and every report queued behind it waited
/// as long (stop 39): most of it was the look-up's plan
/// (`db::cases::overdue_unflagged`), the rest an update and an event per
/// case, now a few dozen at a time between the reports' batches.
pub const OVERDUE_PER_JOB: i64 = 50;
pub const OVERDUE_JOBS: usize = 10;

/// Flag up to `OVERDUE_PER_JOB` cases past their due time at `now` (their
/// emails follow from the events). Returns how many cases were flagged,
/// and whether more may be waiting.
pub fn scan_overdue(
    conn: &mut DbConn,
    _cfg: &NotifyConfig,
    now: NaiveDateTime,
) -> Result<(usize, bool), Problem> {
    crate::app::events::flag_overdue(conn, now, OVERDUE_PER_JOB)
}

#[cfg(test)]
mod outcome_texts {
    use crate::domain::workflow::Resolution;
    use crate::notify::render::Renderer;

    /// The sentence each outcome gives a reader, in French and English.
    fn expected(r: Resolution) -> (&'static str, &'static str) {
        match r {
            Resolution::Corrected => (
                "Vous aviez raison : l'article a été corrigé.",
                "You were right: the article has been corrected.",
            ),
            Resolution::Clarified => ("L'article a été précisé", "The article has been clarified"),
            Resolution::Updated => (
                "L'article a été mis à jour.",
                "The article has been updated.",
            ),
            Resolution::NoChange => (
                "la rédaction a estimé que cette phrase est exacte",
                "the newsroom found the sentence accurate",
            ),
            // Readers are never told of spam; it reads as not upheld.
            Resolution::Rejected | Resolution::Spam => (
                "la rédaction n'a pas retenu votre signalement",
                "the newsroom did not uphold your report",
            ),
            Resolution::Duplicate => (
                "Cette erreur nous avait déjà été signalée",
                "This error had already been reported to us",
            ),
        }
    }

    #[test]
    fn every_resolution_tells_readers_its_own_outcome_in_both_languages() {
        let renderer =
            Renderer::new(std::sync::Arc::new(crate::locales::Catalogs::built_in())).unwrap();
        for r in Resolution::ALL {
            let (fr, en) = expected(r);
            for (lang, want) in [("fr", fr), ("en", en)] {
                let ctx = serde_json::json!({
                    "reference": "ERR-AAAA-BB", "article_title": "T",
                    "article_url": "https://news.example/a", "sentence": "S.",
                    "resolution": r.for_reader(), "public_note": null, "correction": null,
                    "lang": lang, "name": null, "unsubscribe_url": "https://x/u",
                    "public_url": "https://x",
                });
                let email = renderer.render("reader_outcome", lang, &ctx).unwrap();
                let text = email.text.replace(['\n', ' '], " ");
                let html = email.html.replace("&#39;", "'");
                assert!(text.contains(want), "{r:?} {lang}: {text}");
                assert!(html.contains(want), "{r:?} {lang}: {html}");
                // Exactly one outcome sentence: no other resolution's text.
                for other in Resolution::ALL {
                    let (ofr, oen) = expected(other);
                    let theirs = if lang == "fr" { ofr } else { oen };
                    if theirs != want {
                        assert!(!text.contains(theirs), "{r:?} {lang} also says {theirs:?}");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::follows;

    #[test]
    fn desks_are_followed_by_name_and_empty_means_all() {
        assert!(follows("[]", Some("politique")));
        assert!(follows(r#"["Politique"]"#, Some("politique")));
        assert!(!follows(r#"["sport"]"#, Some("politique")));
        // A case without a desk belongs to no one in particular: everyone hears.
        assert!(follows(r#"["sport"]"#, None));
        assert!(follows("not json", Some("x")));
    }
}
