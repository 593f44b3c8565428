//! How the outbox drains (issue 19): a claim takes many rows in one
//! statement, half of them the newest due so a fresh email never waits
//! behind a backlog; a pass retries only what was due when it began; sends,
//! skips and sent-marks are recorded a batch at a time; and a backlog
//! larger than the worker's window goes out in one pass, each email once.

use std::collections::HashSet;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use erratum::db::now;
use erratum::db::outbox::{self as store, NewEmail, enqueue};
use erratum::db::schema::outbox;
use erratum::notify::EmailKind;
use erratum::notify::content::{Content, Payload};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::mail::spawn_smtp;
use crate::smtp::SmtpServer;

backend_tests!(
    a_claim_takes_the_newest_and_the_oldest_due_rows,
    a_pass_retries_only_what_was_due_when_it_began,
    sent_marks_and_skips_take_a_batch_and_leave_final_rows_alone,
    suppressed_addresses_are_skipped_at_claim_time,
    a_backlog_larger_than_the_window_goes_out_in_one_pass_each_email_once,
);

/// Queue `n` receipts, the i-th written (and due) `n - i` seconds ago, each
/// to its own address (`<prefix>-<i>@example.org`, a reader's unless
/// `editor` is given). Returns their ids, oldest first.
async fn queue(app: &TestApp, n: usize, prefix: &str, editor: Option<String>) -> Vec<String> {
    let cfg = app.app_state.mailer.config.clone();
    let prefix = prefix.to_string();
    app.write(move |conn| {
        let t = now();
        let mut ids = Vec::new();
        for i in 0..n {
            let recipient = format!("{prefix}-{i}@example.org");
            let email = NewEmail {
                kind: EmailKind::ReaderReceipt,
                recipient: &recipient,
                editor_id: editor.as_deref(),
                case_id: None,
                language: "fr",
                payload: Payload {
                    recipient_name: None,
                    content: Content::ReaderReceipt {
                        reference: format!("ERR-{i:04}-XX"),
                        article_title: "Titre".into(),
                        article_url: "https://news.example/a".into(),
                        sentence: "Une phrase.".into(),
                    },
                },
                id: None,
            };
            let at = t - chrono::Duration::seconds((n - i) as i64);
            ids.push(enqueue(conn, &cfg.outbox(), email, at)?.expect("queued"));
        }
        Ok(ids)
    })
    .await
}

async fn claim(
    app: &TestApp,
    token: &str,
    retries_by: Option<NaiveDateTime>,
    n: i64,
) -> Vec<String> {
    let token = token.to_string();
    app.write(move |conn| {
        let t = now();
        let until = t + chrono::Duration::hours(1);
        let rows = store::claim_due(conn, &token, t, retries_by.unwrap_or(t), until, n)?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    })
    .await
}

async fn a_claim_takes_the_newest_and_the_oldest_due_rows(b: Backend) {
    let app = TestApp::spawn(b).await;
    let ids = queue(&app, 10, "r", None).await;
    // Two newest, two oldest; they come back newest first.
    let first = claim(&app, "w/1", None, 4).await;
    assert_eq!(
        first,
        vec![
            ids[9].clone(),
            ids[8].clone(),
            ids[1].clone(),
            ids[0].clone()
        ]
    );
    // An odd claim gives the extra row to the newest half.
    let second = claim(&app, "w/2", None, 3).await;
    assert_eq!(second, vec![ids[7].clone(), ids[6].clone(), ids[2].clone()]);
    // Fewer due rows than asked: the halves overlap and the claim takes
    // them all, each once.
    let third = claim(&app, "w/3", None, 100).await;
    assert_eq!(third, ids[3..6].iter().rev().cloned().collect::<Vec<_>>());
    assert!(claim(&app, "w/4", None, 100).await.is_empty());
}

async fn a_pass_retries_only_what_was_due_when_it_began(b: Backend) {
    let app = TestApp::spawn(b).await;
    let ids = queue(&app, 3, "r", None).await;
    let t = now();
    let pass_began = t - chrono::Duration::seconds(10);
    let (retried_late, retried_early) = (ids[0].clone(), ids[1].clone());
    app.write(move |conn| {
        // Tried once and due again after the pass began (a 0 s retry)…
        diesel::update(outbox::table.find(&retried_late))
            .set((
                outbox::attempts.eq(1),
                outbox::next_attempt_at.eq(t - chrono::Duration::seconds(1)),
            ))
            .execute(conn)?;
        // …and tried twice, due before it began.
        diesel::update(outbox::table.find(&retried_early))
            .set((
                outbox::attempts.eq(2),
                outbox::next_attempt_at.eq(t - chrono::Duration::seconds(20)),
            ))
            .execute(conn)?;
        Ok(())
    })
    .await;
    let got: HashSet<String> = claim(&app, "w/1", Some(pass_began), 10)
        .await
        .into_iter()
        .collect();
    // A first try is taken whenever it is due; the late retry waits.
    assert_eq!(got, HashSet::from([ids[1].clone(), ids[2].clone()]));
    assert_eq!(claim(&app, "w/2", None, 10).await, vec![ids[0].clone()]);
}

async fn sent_marks_and_skips_take_a_batch_and_leave_final_rows_alone(b: Backend) {
    let app = TestApp::spawn(b).await;
    let ids = queue(&app, 5, "r", None).await;
    assert_eq!(claim(&app, "w/1", None, 5).await.len(), 5);
    let (dead, all) = (ids[0].clone(), ids.clone());
    let (sent, skipped) = app
        .write(move |conn| {
            let t = now();
            store::mark_failed(conn, &dead, "550 no", None, t)?;
            let first: Vec<&str> = all[..3].iter().map(String::as_str).collect();
            let rest: Vec<&str> = all[3..].iter().map(String::as_str).collect();
            Ok((
                store::mark_sent_many(conn, &first, t)?,
                store::mark_skipped_many(conn, &rest, "suppressed", t)?,
            ))
        })
        .await;
    // The dead row stays dead; the others are final and hold no lease.
    assert_eq!((sent, skipped), (2, 2));
    let rows = app.outbox_rows().await;
    let status: Vec<(&str, i32)> = rows
        .iter()
        .map(|r| (r.status.as_str(), r.attempts))
        .collect();
    assert_eq!(
        status,
        vec![
            ("dead", 1),
            ("sent", 1),
            ("sent", 1),
            ("skipped", 0),
            ("skipped", 0)
        ]
    );
    assert!(
        rows.iter()
            .all(|r| r.locked_by.is_none() && r.locked_until.is_none())
    );
    assert!(rows[1].sent_at.is_some() && rows[3].sent_at.is_none());
    // Nothing to mark is no statement at all.
    assert_eq!(
        app.write(|conn| Ok(store::mark_sent_many(conn, &[], now())?))
            .await,
        0
    );
}

async fn suppressed_addresses_are_skipped_at_claim_time(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_smtp(b, smtp.port, "").await;
    let editor = app.insert_editor("ed@news.example", &[], "fr").await;
    let readers = queue(&app, 2, "reader", None).await;
    let editors = queue(&app, 2, "editor", Some(editor)).await;
    // Suppressed after the emails were written: a bounce stops every email,
    // an unsubscribe only readers' ones.
    app.write(|conn| {
        let t = now();
        for (address, reason) in [
            ("reader-0@example.org", store::UNSUBSCRIBED),
            ("editor-0@example.org", store::BOUNCE),
            ("editor-1@example.org", store::UNSUBSCRIBED),
        ] {
            store::suppress(conn, &store::address_key(address), reason, None, t)?;
        }
        Ok(())
    })
    .await;
    let stats = app.run_worker_once().await;
    assert_eq!((stats.sent, stats.skipped), (2, 2), "{stats:?}");
    let rows = app.outbox_rows().await;
    let status = |id: &str| rows.iter().find(|r| r.id == id).unwrap().status.clone();
    assert_eq!(status(&readers[0]), "skipped");
    assert_eq!(status(&readers[1]), "sent");
    assert_eq!(status(&editors[0]), "skipped");
    assert_eq!(status(&editors[1]), "sent");
    assert_eq!(smtp.wait_for(2, Duration::from_secs(5)).len(), 2);
}

async fn a_backlog_larger_than_the_window_goes_out_in_one_pass_each_email_once(b: Backend) {
    const ROWS: usize = 150;
    let smtp = SmtpServer::start();
    let app = spawn_smtp(b, smtp.port, "[email.worker]\nbatch_size = 8\n").await;
    queue(&app, ROWS, "r", None).await;
    // 150 rows through a window of 16 with 2 connections: one pass.
    let stats = app.run_worker_once().await;
    assert_eq!(stats.sent, ROWS, "{stats:?}");
    let got = smtp.wait_for(ROWS, Duration::from_secs(10));
    let ids: HashSet<String> = got
        .iter()
        .map(|m| m.parse().message_id().unwrap().to_string())
        .collect();
    assert_eq!((got.len(), ids.len()), (ROWS, ROWS));
    let rows = app.outbox_rows().await;
    assert!(
        rows.iter()
            .all(|r| r.status == "sent" && r.attempts == 1 && r.locked_by.is_none())
    );
    assert_eq!(app.run_worker_once().await.sent, 0, "nothing is sent twice");
}
