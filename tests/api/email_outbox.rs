//! The outbox's promises: no email lost while SMTP is down, none sent twice,
//! failures end in a dead letter that the CLI and the admin functions show
//! and retry, and workers on one database share the rows without overlap.

use std::collections::HashSet;
use std::process::Command;
use std::time::Duration;

use diesel::prelude::*;
use erratum::db::now;
use erratum::db::outbox::{NewEmail, enqueue};
use erratum::db::schema::outbox;
use erratum::notify::admin::{self, OutboxQuery};
use erratum::notify::content::{Content, Payload};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::mail::spawn_smtp;
use crate::smtp::{Mode, SmtpServer, free_port};

backend_tests!(
    smtp_down_keeps_reports_flowing_and_every_email_goes_out_once_when_it_returns,
    an_email_that_always_fails_is_dead_lettered_and_can_be_retried,
    two_workers_on_one_database_never_send_the_same_row_twice,
);

const QUOTES: [&str; 5] = [
    "Kim Yong-kyun",
    "Vladimir Poutine",
    "Lim Eul-chul",
    "La question clé",
    "Des combattants étrangers",
];

async fn smtp_down_keeps_reports_flowing_and_every_email_goes_out_once_when_it_returns(b: Backend) {
    let port = free_port();
    // The server is down at start: the service starts anyway (a warning).
    let app = spawn_smtp(b, port, "").await;
    app.insert_editor("ed@news.example", &[], "fr").await;
    app.report_on(QUOTES[0], "typo", "Coquille 0.", None).await;
    assert_eq!(app.run_worker_once().await.retried, 1);

    // It comes up: the waiting email goes out (pooled connection opened)…
    let smtp = SmtpServer::start_on(port);
    let make_due = || {
        app.write(|conn| {
            diesel::update(outbox::table.filter(outbox::status.eq("pending")))
                .set(outbox::next_attempt_at.eq(now()))
                .execute(conn)?;
            Ok(())
        })
    };
    make_due().await;
    assert_eq!(app.run_worker_once().await.sent, 1);
    // …and goes down again, pooled connection and all.
    smtp.stop();
    for (i, quote) in QUOTES.iter().enumerate().skip(1) {
        app.report_on(quote, "typo", &format!("Coquille {i}."), None)
            .await;
    }
    let stats = app.run_worker_once().await;
    assert_eq!(
        (stats.sent, stats.retried),
        (0, QUOTES.len() - 1),
        "{stats:?}"
    );
    let rows = app.outbox_rows().await;
    assert_eq!(rows.len(), QUOTES.len());
    for row in &rows[1..] {
        assert_eq!((row.status.as_str(), row.attempts), ("pending", 1));
        assert!(row.next_attempt_at > now(), "retried later, with backoff");
        assert!(row.last_error.is_some());
    }

    // Back up; the retries fall due and each email goes out once.
    let smtp = SmtpServer::start_on(port);
    make_due().await;
    let stats = app.run_worker_once().await;
    assert_eq!(stats.sent, QUOTES.len() - 1, "{stats:?}");
    assert_eq!(app.run_worker_once().await.sent, 0, "nothing is sent twice");
    let got = smtp.messages();
    let ids: HashSet<String> = got
        .iter()
        .map(|m| m.parse().message_id().unwrap().to_string())
        .collect();
    assert_eq!((got.len(), ids.len()), (QUOTES.len() - 1, QUOTES.len() - 1));
    // The retry reused the Message-ID written with the row.
    let stored: HashSet<String> = app.outbox_rows().await[1..]
        .iter()
        .map(|r| {
            assert_eq!((r.status.as_str(), r.attempts), ("sent", 2));
            r.message_id.trim_matches(['<', '>']).to_string()
        })
        .collect();
    assert_eq!(ids, stored);
}

/// `erratum outbox …` against the test's database.
fn cli(app: &TestApp, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_erratum"))
        .args(args)
        .current_dir(app.dir())
        .env("ERRATUM__DATABASE__URL", &app.database_url)
        .env("ERRATUM__LOG__LEVEL", "warn")
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

async fn an_email_that_always_fails_is_dead_lettered_and_can_be_retried(b: Backend) {
    let smtp = SmtpServer::start();
    smtp.set_mode(Mode::TempFail);
    let app = spawn_smtp(
        b,
        smtp.port,
        "[email]\nmax_attempts = 3\ndead_after_hours = 0\nretry_base_secs = 0\nretry_max_secs = 0\n",
    )
    .await;
    app.insert_editor("ed@news.example", &[], "fr").await;
    app.report_on("Kim Yong-kyun", "typo", "Coquille.", None)
        .await;
    // One try per pass: a row retried at once waits for the next pass.
    let mut stats = erratum::notify::worker::RunStats::default();
    for _ in 0..3 {
        let pass = app.run_worker_once().await;
        stats.sent += pass.sent;
        stats.retried += pass.retried;
        stats.dead += pass.dead;
    }
    assert_eq!(
        (stats.sent, stats.retried, stats.dead),
        (0, 2, 1),
        "{stats:?}"
    );
    let row = app.outbox_rows().await.remove(0);
    assert_eq!((row.status.as_str(), row.attempts), ("dead", 3));
    assert!(
        row.last_error.as_deref().unwrap().contains("451"),
        "{row:?}"
    );

    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"erratum_email_tries_total{outcome="dead"} 1"#)
            && metrics.contains(r#"erratum_email_tries_total{outcome="retry"} 2"#),
        "{metrics}"
    );

    // Visible through the admin functions…
    let dead = app
        .app_state
        .read(|conn| {
            admin::list(
                conn,
                &OutboxQuery {
                    status: Some("dead".into()),
                    limit: None,
                },
            )
        })
        .await
        .unwrap();
    assert_eq!(dead.counts.dead, 1);
    assert_eq!(dead.entries[0].id, row.id);
    assert_eq!(dead.entries[0].recipient, "e•••@news.example", "masked");
    let bad = app
        .app_state
        .read(|conn| {
            admin::list(
                conn,
                &OutboxQuery {
                    status: Some("lost".into()),
                    limit: None,
                },
            )
        })
        .await
        .unwrap_err();
    assert_eq!(bad.status.as_u16(), 422);

    // …and through the command line.
    let (ok, out) = cli(&app, &["outbox", "list", "--dead"]);
    assert!(ok, "{out}");
    assert!(out.contains(&row.id) && out.contains("1 dead"), "{out}");
    assert!(
        !out.contains("ed@news.example"),
        "addresses are masked: {out}"
    );
    let (ok, out) = cli(&app, &["outbox", "retry", "--all-dead"]);
    assert!(
        ok && out.contains("1 dead emails are queued again"),
        "{out}"
    );
    let row = app.outbox_rows().await.remove(0);
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 0));

    // The server recovers: the retried email goes out, once.
    smtp.set_mode(Mode::Accept);
    assert_eq!(app.run_worker_once().await.sent, 1);
    assert_eq!(smtp.messages().len(), 1);
    // A sent email cannot be retried; an unknown one is not found.
    let (ok, out) = cli(&app, &["outbox", "retry", &row.id]);
    assert!(!ok && out.contains("only dead or pending"), "{out}");
    let (ok, out) = cli(&app, &["outbox", "retry", "no-such-id"]);
    assert!(!ok && out.contains("No email has this id"), "{out}");
    let id = row.id.clone();
    let err = app
        .app_state
        .read(move |conn| admin::retry(conn, &id))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status.as_u16(), err.code.as_str()),
        (409, "outbox_entry_final")
    );
}

async fn two_workers_on_one_database_never_send_the_same_row_twice(b: Backend) {
    const ROWS: usize = 300;
    let smtp = SmtpServer::start();
    let app = TestApp::spawn(b).await;
    let editor = app.insert_editor("ed@news.example", &[], "fr").await;
    let cfg = app.app_state.mailer.config.clone();
    app.write(move |conn| {
        for i in 0..ROWS {
            let payload = Payload {
                recipient_name: None,
                content: Content::ReaderReceipt {
                    reference: format!("ERR-{i:04}-XX"),
                    article_title: "Titre".into(),
                    article_url: "https://news.example/a".into(),
                    sentence: "Une phrase.".into(),
                },
            };
            let email = NewEmail {
                kind: erratum::notify::EmailKind::ReaderReceipt,
                recipient: "ed@news.example",
                editor_id: Some(&editor),
                case_id: None,
                language: "fr",
                payload,
                id: None,
            };
            enqueue(conn, &cfg.outbox(), email, now())?.expect("queued");
        }
        Ok(())
    })
    .await;

    // Two `erratum worker --drain` processes race over the same rows.
    let spawn = |name: &str| {
        Command::new(env!("CARGO_BIN_EXE_erratum"))
            .args(["worker", "--drain"])
            .current_dir(app.dir())
            .env("ERRATUM__DATABASE__URL", &app.database_url)
            .env("ERRATUM__EMAIL__TRANSPORT", "smtp")
            .env("ERRATUM__EMAIL__SMTP__HOST", "127.0.0.1")
            .env("ERRATUM__EMAIL__SMTP__PORT", smtp.port.to_string())
            .env("ERRATUM__EMAIL__SMTP__SECURITY", "none")
            .env("ERRATUM__EMAIL__WORKER__BATCH_SIZE", "7")
            .env("ERRATUM__LOG__LEVEL", "warn")
            .env("ERRATUM__DEMO__ENABLED", "false")
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let (a, b2) = (spawn("a"), spawn("b"));
    let outputs = tokio::task::spawn_blocking(move || {
        [a, b2].map(|c| {
            let out = c.wait_with_output().unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
    })
    .await
    .unwrap();
    let mut total = 0;
    for (ok, stdout, stderr) in &outputs {
        assert!(ok, "{stdout}{stderr}");
        let sent: usize = stdout
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.trim_end_matches(',').parse().ok())
            .unwrap_or_else(|| panic!("{stdout}"));
        total += sent;
    }
    eprintln!(
        "worker a: {} worker b: {}",
        outputs[0].1.trim(),
        outputs[1].1.trim()
    );
    let got = smtp.wait_for(ROWS, Duration::from_secs(5));
    let ids: HashSet<String> = got
        .iter()
        .map(|m| m.parse().message_id().unwrap().to_string())
        .collect();
    let rows = app.outbox_rows().await;
    let not_sent: Vec<_> = rows
        .iter()
        .filter(|r| r.status != "sent" || r.attempts != 1)
        .collect();
    assert_eq!(
        ids.len(),
        ROWS,
        "every row was sent; received {}, counted {total}, rows not sent once: {not_sent:?}, workers: {outputs:?}",
        got.len()
    );
    assert_eq!(got.len(), ROWS, "and none twice");
    assert_eq!(total, ROWS, "each row counted by exactly one worker");
    assert!(not_sent.is_empty(), "{not_sent:?}");
}

/// A broken mail configuration stops the start with one line naming the key
/// (exit code 2), before anything is served.
#[test]
fn a_broken_mail_configuration_is_reported_at_start() {
    let dir = tempfile::tempdir().unwrap();
    for (env, key) in [
        (
            vec![("ERRATUM__EMAIL__TRANSPORT", "smtp")],
            "email.smtp.host",
        ),
        (
            vec![("ERRATUM__EMAIL__FROM", "not an address")],
            "email.from",
        ),
        (
            vec![
                ("ERRATUM__EMAIL__TRANSPORT", "smtp"),
                ("ERRATUM__EMAIL__SMTP__HOST", "smtp.example.org"),
                ("ERRATUM__EMAIL__SMTP__SECURITY", "ssl"),
            ],
            "email.smtp.security",
        ),
        (
            vec![
                ("ERRATUM__EMAIL__TRANSPORT", "smtp"),
                ("ERRATUM__EMAIL__SMTP__HOST", "smtp.example.org"),
                ("ERRATUM__EMAIL__SMTP__USERNAME", "erratum"),
            ],
            "email.smtp.password",
        ),
        (
            vec![("ERRATUM__EMAIL__TRANSPORT", "carrier-pigeon")],
            "email.transport",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_erratum"))
            .arg("migrate")
            .current_dir(dir.path())
            .envs(env.iter().copied())
            .env("ERRATUM__DATABASE__URL", "sqlite://never-created.db")
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{env:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("invalid configuration: {key}")),
            "{key}: {stderr}"
        );
        assert!(!dir.path().join("never-created.db").exists());
    }
}
