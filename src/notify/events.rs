//! The events that cause emails. Each runs inside the caller's transaction
//! (a writer job), so the emails exist exactly when the event was committed.
//! After the commit, call `Mailer::wake` so the worker sends them at once.
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

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::NotifyConfig;
use super::content::{CaseSummary, Content, EscalationReason, Payload, case_summary};
use super::prefs::{self, Delivery, NotificationKind};
use crate::db::articles::Article;
use crate::db::dialect::lock_case;
use crate::db::outbox::{self, NewEmail, NotQueued};
use crate::db::schema::{articles, cases, editors, reports};
use crate::db::{DbConn, now};
use crate::domain::report::{Category, ReporterEmail};
use crate::error::Problem;

/// A report just stored in an open case.
pub struct ReportEvent<'a> {
    pub case_id: &'a str,
    pub reference: &'a str,
    pub article: &'a Article,
    pub category: Category,
    /// The reporter's address and whether they asked to be told the outcome.
    pub reporter: Option<(&'a ReporterEmail, bool)>,
    pub t: NaiveDateTime,
}

/// A member of staff who may receive email.
#[derive(Debug, Clone)]
struct Recipient {
    id: String,
    email: String,
    name: String,
    language: String,
}

type EditorRow = (String, String, String, String, String, String);

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
        .filter(editors::role.ne("viewer"))
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
                cfg,
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

/// A report was stored in an open (non-spam) case: new-case and escalation
/// emails to editors, and the reader's receipt when enabled.
pub fn report_received(
    conn: &mut DbConn,
    cfg: &NotifyConfig,
    ev: &ReportEvent,
) -> Result<(), Problem> {
    let t = ev.t;
    let (report_count, escalated_at, assignee, desk): (
        i32,
        Option<NaiveDateTime>,
        Option<String>,
        Option<String>,
    ) = cases::table
        .find(ev.case_id)
        .select((
            cases::report_count,
            cases::escalated_at,
            cases::assignee_id,
            cases::desk,
        ))
        .first(conn)?;
    let new_case = report_count == 1;
    let fresh = ev.article.published_at.is_some_and(|p| {
        p <= t + Duration::minutes(5) && t - p < Duration::hours(cfg.fresh_article_hours)
    });
    let reason = if report_count >= cfg.report_threshold {
        Some(EscalationReason::Threshold)
    } else if ev.category == Category::FactualError && fresh {
        Some(EscalationReason::FreshFactualError)
    } else {
        None
    };
    // Escalate once per case; the conditional update makes concurrent
    // reports on other instances agree on who does it.
    let escalate = match (reason, escalated_at) {
        (Some(_), None) => {
            diesel::update(
                cases::table
                    .find(ev.case_id)
                    .filter(cases::escalated_at.is_null()),
            )
            .set(cases::escalated_at.eq(t))
            .execute(conn)?
                == 1
        }
        _ => false,
    };
    if escalate || new_case {
        let case = case_summary(conn, ev.case_id)?;
        let mut followers = desk_followers(conn, desk.as_deref())?;
        if escalate
            && let Some(assignee) = assignee.as_deref()
            && !followers.iter().any(|f| f.id == assignee)
            && let Some(r) = active_editor(conn, assignee)?
        {
            followers.push(r);
        }
        for editor in &followers {
            let escalation_on = escalate
                && prefs::delivery(conn, &editor.id, NotificationKind::Escalation)?
                    != Delivery::Off;
            if escalation_on {
                let content = Content::Escalation {
                    case: case.clone(),
                    reason: reason.unwrap_or(EscalationReason::Threshold),
                    threshold: cfg.report_threshold,
                };
                deliver(conn, cfg, editor, NotificationKind::Escalation, content, t)?;
            } else if new_case {
                let content = Content::NewCase { case: case.clone() };
                deliver(conn, cfg, editor, NotificationKind::NewCase, content, t)?;
            }
        }
    }
    if cfg.reader_receipt
        && let Some((email, true)) = ev.reporter
    {
        let sentence: String = cases::table
            .find(ev.case_id)
            .select(cases::sentence_text)
            .first(conn)?;
        let queued = outbox::enqueue(
            conn,
            cfg,
            NewEmail {
                kind: super::EmailKind::ReaderReceipt,
                recipient: email.as_str(),
                editor_id: None,
                case_id: Some(ev.case_id),
                language: &ev.article.language,
                payload: Payload {
                    recipient_name: None,
                    content: Content::ReaderReceipt {
                        reference: ev.reference.to_string(),
                        article_title: ev.article.title.clone(),
                        article_url: ev.article.url.clone(),
                        sentence,
                    },
                },
                id: None,
            },
            t,
        )?;
        log_not_queued("reader_receipt", queued);
    }
    Ok(())
}

/// A case was assigned to `assignee_id` (by `assigned_by`, when an editor did
/// it): tell the assignee, unless they took it themselves. Call it inside the
/// transaction that records the assignment.
pub fn case_assigned(
    conn: &mut DbConn,
    cfg: &NotifyConfig,
    case_id: &str,
    assignee_id: &str,
    assigned_by: Option<&str>,
) -> Result<(), Problem> {
    if assigned_by == Some(assignee_id) {
        return Ok(());
    }
    let Some(editor) = active_editor(conn, assignee_id)? else {
        return Ok(());
    };
    lock_case(conn, case_id)?;
    let case = case_summary(conn, case_id)?;
    deliver(
        conn,
        cfg,
        &editor,
        NotificationKind::Assigned,
        Content::Assigned { case },
        now(),
    )?;
    Ok(())
}

/// A case was resolved: tell every reporter who asked (`notify: true`), once
/// per address, in the article's language, with the resolution, the public
/// note and the published correction (`correction`, when there is one). A
/// case resolved as spam tells no one. Call it inside the transaction that
/// records the resolution (the case row must already carry `resolution` and
/// `public_note`).
pub fn case_resolved(
    conn: &mut DbConn,
    cfg: &NotifyConfig,
    case_id: &str,
    correction: Option<&str>,
) -> Result<(), Problem> {
    lock_case(conn, case_id)?;
    let (resolution, public_note, sentence, title, url, language): (
        Option<String>,
        Option<String>,
        String,
        String,
        String,
        String,
    ) = cases::table
        .inner_join(articles::table.on(articles::id.eq(cases::article_id)))
        .filter(cases::id.eq(case_id))
        .select((
            cases::resolution,
            cases::public_note,
            cases::sentence_text,
            articles::title,
            articles::url,
            articles::language,
        ))
        .first(conn)?;
    let resolution = resolution.unwrap_or_else(|| "resolved".into());
    if resolution == "spam" {
        return Ok(());
    }
    let readers: Vec<(String, String)> = reports::table
        .filter(reports::case_id.eq(case_id))
        .filter(reports::notify.eq(true))
        .filter(reports::is_spam.eq(false))
        .filter(reports::reporter_email.is_not_null())
        .order((reports::created_at.asc(), reports::id.asc()))
        .select((
            reports::reporter_email.assume_not_null(),
            reports::reference,
        ))
        .load(conn)?;
    let t = now();
    let mut told = std::collections::HashSet::new();
    for (email, reference) in readers {
        if !told.insert(outbox::address_key(&email)) {
            continue;
        }
        let queued = outbox::enqueue(
            conn,
            cfg,
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
                        article_url: url.clone(),
                        sentence: sentence.clone(),
                        resolution: resolution.clone(),
                        public_note: public_note.clone(),
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

/// Tell of open cases past their due time at `now`, once per case (the
/// assignee, else the desk's followers). Returns how many cases were found.
/// Safe to run from several workers at once.
pub fn scan_overdue(
    conn: &mut DbConn,
    cfg: &NotifyConfig,
    now: NaiveDateTime,
) -> Result<usize, Problem> {
    let overdue: Vec<(String, Option<String>, Option<String>)> = cases::table
        .filter(cases::resolved_at.is_null())
        .filter(cases::status.ne("resolved"))
        .filter(cases::open_key.is_not_null())
        .filter(cases::due_at.lt(now))
        .filter(cases::overdue_notified_at.is_null())
        .order(cases::due_at.asc())
        .limit(500)
        .select((cases::id, cases::assignee_id, cases::desk))
        .load(conn)?;
    let mut count = 0;
    for (case_id, assignee, desk) in overdue {
        let claimed = diesel::update(
            cases::table
                .find(&case_id)
                .filter(cases::overdue_notified_at.is_null()),
        )
        .set(cases::overdue_notified_at.eq(now))
        .execute(conn)?;
        if claimed == 0 {
            continue;
        }
        count += 1;
        let recipients = match assignee.as_deref() {
            Some(a) => active_editor(conn, a)?.into_iter().collect(),
            None => desk_followers(conn, desk.as_deref())?,
        };
        if recipients.is_empty() {
            continue;
        }
        let case: CaseSummary = case_summary(conn, &case_id)?;
        for editor in &recipients {
            let content = Content::Overdue { case: case.clone() };
            deliver(conn, cfg, editor, NotificationKind::Overdue, content, now)?;
        }
    }
    Ok(count)
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
