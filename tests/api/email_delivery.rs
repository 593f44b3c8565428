//! Emails as they arrive at a real SMTP server over TCP: headers, both parts,
//! escaping, threading, languages, who gets what.

use std::time::Duration;

use diesel::prelude::*;
use erratum::db::now;
use erratum::db::schema::{cases, email_suppressions};
use erratum::domain::event::Event;
use erratum::domain::workflow::Resolution;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::mail::{parts, raw_header, spawn_smtp, unsubscribe_url};
use crate::smtp::SmtpServer;

backend_tests!(
    new_case_email_reaches_followers_with_headers_parts_and_escaping,
    emails_about_a_case_are_threaded_and_readers_get_the_outcome_in_the_article_language,
    escalation_on_threshold_and_on_fresh_factual_error_happens_once,
    file_transport_writes_eml_files_by_default,
    worker_wakes_when_a_report_commits,
    reader_receipt_is_opt_in_and_daily_limit_caps_a_reader,
    permanent_bounce_marks_the_address_and_it_is_not_mailed_again,
);

const TITLE: &str = "La Corée du Nord envoie prétendument des troupes pour soutenir la Russie dans le conflit ukrainien";
const XSS: &str = "<img src=x onerror=alert(1)> Le 4 octobre, pas le 3.";

async fn new_case_email_reaches_followers_with_headers_parts_and_escaping(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_smtp(b, smtp.port, "").await;
    // The demo article is on the "international" desk.
    let all_desks = app.insert_editor("alice@news.example", &[], "fr").await;
    app.insert_editor("intl@news.example", &["International"], "en")
        .await;
    app.insert_editor("sport@news.example", &["sport"], "fr")
        .await;
    app.insert_staff("viewer@news.example", &[], "fr", "viewer")
        .await;

    let receipt = app.report_on("le 3 octobre", "misleading", XSS, None).await;
    let case_id = receipt["case_id"].as_str().unwrap().to_string();
    let stats = app.run_worker_once().await;
    assert_eq!(stats.sent, 2, "{stats:?}");

    let got = smtp.messages();
    let mut to: Vec<String> = got.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["alice@news.example", "intl@news.example"]);

    let rows = app.outbox_rows().await;
    let alice = got.iter().find(|m| m.to == ["alice@news.example"]).unwrap();
    let raw = alice.raw();
    let m = alice.parse();
    // From, To, Subject (RFC 2047-encoded on the wire, French when decoded).
    let from = m.from().unwrap().first().unwrap();
    assert_eq!(from.address(), Some("erratum@news.example"));
    assert_eq!(from.name(), Some("Erratum"));
    assert_eq!(
        m.to().unwrap().first().unwrap().address(),
        Some("alice@news.example")
    );
    assert_eq!(
        m.subject(),
        Some(format!("Nouveau signalement : {TITLE}").as_str())
    );
    assert!(
        raw_header(&raw, "Subject").unwrap().contains("=?utf-8?"),
        "the French subject is encoded: {raw}"
    );
    // Its Message-ID is the one stored with the row.
    let row = rows
        .iter()
        .find(|r| r.editor_id.as_deref() == Some(all_desks.as_str()))
        .unwrap();
    assert_eq!(format!("<{}>", m.message_id().unwrap()), row.message_id);
    assert_eq!(row.status, "sent");
    assert_eq!(row.case_id.as_deref(), Some(case_id.as_str()));
    // One-click unsubscribe and an automatic-mail marker.
    let unsubscribe = unsubscribe_url(&raw);
    assert!(
        unsubscribe.starts_with(&format!("{}/unsubscribe/", app.address)),
        "{unsubscribe}"
    );
    assert_eq!(
        raw_header(&raw, "List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert_eq!(
        raw_header(&raw, "Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    // Both parts; the reader's text raw in the text part, escaped in HTML.
    let (text, html) = parts(&m);
    assert!(text.contains(XSS), "{text}");
    assert!(text.contains("le 3 octobre"), "the sentence: {text}");
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt; Le 4 octobre"),
        "{html}"
    );
    // A link that opens the case.
    let case_link = format!("{}/editor/cases/{case_id}", app.address);
    assert!(
        text.contains(&case_link) && html.contains(&case_link),
        "{html}"
    );
    assert!(html.contains(&unsubscribe), "the footer link: {html}");

    // The English-speaking editor got the English template.
    let intl = got
        .iter()
        .find(|m| m.to == ["intl@news.example"])
        .unwrap()
        .parse();
    assert_eq!(
        intl.subject(),
        Some(format!("New report: {TITLE}").as_str())
    );
    assert_ne!(
        intl.message_id(),
        m.message_id(),
        "every message has its own id"
    );

    // A second report on the same case is not a new case: no more email.
    app.report_on("le 3 octobre", "typo", "Autre remarque.", None)
        .await;
    assert_eq!(app.run_worker_once().await.sent, 0);
}

async fn emails_about_a_case_are_threaded_and_readers_get_the_outcome_in_the_article_language(
    b: Backend,
) {
    let smtp = SmtpServer::start();
    let app = spawn_smtp(b, smtp.port, "").await;
    let editor = app
        .insert_editor("ed@news.example", &["science"], "en")
        .await;
    let r = app
        .put_article(
            "en-article",
            &json!({"url": "https://news.example/en", "title": "Rover lands on Mars", "language": "en",
                    "desk": "science", "body_text": "The rover landed on 3 May. It weighs a tonne."}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let receipt = app
        .report_on_article(
            "en-article",
            "3 May",
            "factual_error",
            "It landed on 4 May.",
            Some(("reader@example.org", true)),
        )
        .await;
    let case_id = receipt["case_id"].as_str().unwrap().to_string();
    let reference = receipt["reference"].as_str().unwrap().to_string();
    // Another reader who did not ask to be told, and the first one again.
    app.report_on_article(
        "en-article",
        "3 May",
        "typo",
        "Typo here.",
        Some(("quiet@example.org", false)),
    )
    .await;
    app.report_on_article(
        "en-article",
        "3 May",
        "other",
        "And again.",
        Some(("READER@example.org", true)),
    )
    .await;
    app.run_worker_once().await;
    let first = smtp.messages();
    assert_eq!(first.len(), 1, "one new-case email");
    let first_id = first[0].parse().message_id().unwrap().to_string();

    // Assignment, through the event the case workflow records.
    let (c, e) = (case_id.clone(), editor.clone());
    app.write(move |conn| {
        diesel::update(cases::table.find(&c))
            .set(cases::assignee_id.eq(&e))
            .execute(conn)?;
        let event = Event::CaseAssigned {
            case_id: c,
            assignee_id: e,
            by: "another-editor".into(),
        };
        Ok(erratum::db::events::record(conn, &event, now())?)
    })
    .await;
    // Assigning oneself sends nothing.
    let (c, e) = (case_id.clone(), editor.clone());
    app.write(move |conn| {
        let event = Event::CaseAssigned {
            case_id: c,
            assignee_id: e.clone(),
            by: e,
        };
        Ok(erratum::db::events::record(conn, &event, now())?)
    })
    .await;
    app.resolve_case(
        &case_id,
        Resolution::Corrected,
        Some("Thanks to our readers."),
        Some("An earlier version said the rover landed on 3 May. It landed on 4 May."),
    )
    .await;
    app.run_worker_once().await;
    let all = smtp.messages();
    assert_eq!(all.len(), 3, "assignment and one outcome (one per address)");

    let assigned = all
        .iter()
        .find(|m| m.to == ["ed@news.example"] && m.raw() != first[0].raw())
        .unwrap();
    let outcome = all.iter().find(|m| m.to == ["reader@example.org"]).unwrap();
    for m in [assigned, outcome] {
        let raw = m.raw();
        let parsed = m.parse();
        // Threaded on the case's first email.
        assert_eq!(
            raw_header(&raw, "In-Reply-To").as_deref(),
            Some(format!("<{first_id}>").as_str()),
            "{raw}"
        );
        assert_eq!(
            raw_header(&raw, "References").as_deref(),
            Some(format!("<{first_id}>").as_str())
        );
        assert_ne!(parsed.message_id().unwrap(), first_id);
    }
    assert_eq!(
        assigned.parse().subject(),
        Some("Case assigned to you: Rover lands on Mars")
    );
    let parsed = outcome.parse();
    assert_eq!(
        parsed.subject(),
        Some(format!("Article corrected after your report {reference}").as_str())
    );
    let (text, html) = parts(&parsed);
    assert!(
        text.contains("You were right: the article has been corrected."),
        "{text}"
    );
    assert!(text.contains("It landed on 4 May."), "{text}");
    assert!(text.contains("Thanks to our readers."), "{text}");
    assert!(
        html.contains("An earlier version said the rover landed on 3 May."),
        "{html}"
    );
    assert!(!text.contains("Typo here."), "never another reader's text");
}

async fn escalation_on_threshold_and_on_fresh_factual_error_happens_once(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_smtp(b, smtp.port, "[email.escalation]\nreport_threshold = 3\n").await;
    app.insert_editor("ed@news.example", &[], "fr").await;
    for i in 0..4 {
        app.report_on(
            "Lim Eul-chul",
            "misleading",
            &format!("Remarque {i}."),
            None,
        )
        .await;
    }
    app.run_worker_once().await;
    let subjects = |from: usize| {
        let mut s: Vec<String> = smtp.messages()[from..]
            .iter()
            .map(|m| m.parse().subject().unwrap().to_string())
            .collect();
        s.sort();
        s
    };
    assert_eq!(
        subjects(0),
        [
            format!("Nouveau signalement : {TITLE}"),
            format!("À traiter en priorité : {TITLE}")
        ],
        "a new case, then one escalation at the third report"
    );
    let escalation = smtp
        .messages()
        .into_iter()
        .find(|m| m.parse().subject().unwrap().starts_with("À traiter"))
        .unwrap();
    let text = parts(&escalation.parse()).0;
    assert!(
        text.contains("Ce dossier a atteint 3 signalements (seuil : 3)"),
        "{text}"
    );

    // A factual error on an article published an hour ago escalates at once,
    // in place of the new-case email.
    let published = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let r = app
        .put_article(
            "fresh",
            &json!({"url": "https://news.example/fresh", "title": "Séisme au large du Japon", "language": "fr",
                    "published_at": published, "body_text": "Le séisme a eu lieu à 3 heures. Il a fait deux victimes."}),
        )
        .await;
    assert_eq!(r.status(), 201);
    app.report_on_article(
        "fresh",
        "deux victimes",
        "factual_error",
        "Trois victimes.",
        None,
    )
    .await;
    app.report_on_article("fresh", "à 3 heures", "typo", "Coquille.", None)
        .await;
    app.run_worker_once().await;
    assert_eq!(
        subjects(2),
        [
            "Nouveau signalement : Séisme au large du Japon".to_string(),
            "À traiter en priorité : Séisme au large du Japon".to_string(),
        ],
        "a factual error on a fresh article is urgent, a typo is not"
    );
    let fresh = smtp
        .messages()
        .into_iter()
        .find(|m| m.parse().subject() == Some("À traiter en priorité : Séisme au large du Japon"))
        .unwrap();
    let text = parts(&fresh.parse()).0;
    assert!(text.contains("publié il y a moins de 48 heures"), "{text}");
    assert!(text.contains("Trois victimes."), "{text}");
}

async fn file_transport_writes_eml_files_by_default(b: Backend) {
    let app = TestApp::spawn(b).await;
    app.insert_editor("ed@news.example", &[], "fr").await;
    app.report_on("Vladimir Poutine", "typo", "Coquille dans le nom.", None)
        .await;
    assert_eq!(app.run_worker_once().await.sent, 1);
    let dir = app.dir().join("mail");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let bytes = std::fs::read(&files[0]).unwrap();
    let m = mail_parser::MessageParser::default().parse(&bytes).unwrap();
    assert_eq!(
        m.subject(),
        Some(format!("Nouveau signalement : {TITLE}").as_str())
    );
    assert!(parts(&m).0.contains("Coquille dans le nom."));
    assert_eq!(
        m.from().unwrap().first().unwrap().address(),
        Some("erratum@localhost")
    );
}

async fn worker_wakes_when_a_report_commits(b: Backend) {
    let smtp = SmtpServer::start();
    // Polls and scans an hour apart: only the wake-up can explain a prompt email.
    let app = spawn_smtp(
        b,
        smtp.port,
        "[email.worker]\nenabled = true\npoll_secs = 3600\nscan_secs = 3600\n",
    )
    .await;
    app.insert_editor("ed@news.example", &[], "fr").await;
    // Let the worker finish its first pass and go to sleep.
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.report_on("Kim Yong-kyun", "typo", "Coquille.", None)
        .await;
    let got = tokio::task::spawn_blocking(move || {
        let got = smtp.wait_for(1, Duration::from_secs(30));
        (got, smtp)
    })
    .await
    .unwrap()
    .0;
    assert_eq!(
        got.len(),
        1,
        "the worker sent the email without waiting for a poll"
    );
}

async fn reader_receipt_is_opt_in_and_daily_limit_caps_a_reader(b: Backend) {
    let smtp = SmtpServer::start();
    // Off by default.
    let app = spawn_smtp(b, smtp.port, "").await;
    app.report_on(
        "Kim Yong-kyun",
        "typo",
        "Coquille.",
        Some(("r@example.org", true)),
    )
    .await;
    assert!(
        app.outbox_rows().await.is_empty(),
        "no receipt unless enabled"
    );
    drop(app);

    let app = spawn_smtp(
        b,
        smtp.port,
        "[email]\nreader_receipt = true\nreader_daily_limit = 2\n",
    )
    .await;
    for (i, quote) in ["Kim Yong-kyun", "Vladimir Poutine", "Lim Eul-chul"]
        .iter()
        .enumerate()
    {
        app.report_on(
            quote,
            "typo",
            &format!("Coquille {i}."),
            Some(("r@example.org", true)),
        )
        .await;
    }
    // Consent matters: no receipt without notify.
    app.report_on(
        "La question clé",
        "typo",
        "Sans suivi.",
        Some(("other@example.org", false)),
    )
    .await;
    app.run_worker_once().await;
    let got = smtp.messages();
    assert_eq!(got.len(), 2, "two receipts, then the daily limit");
    let m = got[0].parse();
    assert_eq!(got[0].to, ["r@example.org"]);
    let subject = m.subject().unwrap();
    assert!(
        subject.starts_with("Nous avons bien reçu votre signalement ERR-"),
        "{subject}"
    );
    assert!(raw_header(&got[0].raw(), "List-Unsubscribe").is_some());
}

async fn permanent_bounce_marks_the_address_and_it_is_not_mailed_again(b: Backend) {
    let smtp = SmtpServer::start();
    smtp.set_mode(crate::smtp::Mode::Reject("gone@example.org".into()));
    let app = spawn_smtp(b, smtp.port, "").await;
    let first = app
        .report_on(
            "Kim Yong-kyun",
            "typo",
            "Coquille.",
            Some(("gone@example.org", true)),
        )
        .await;
    let second = app
        .report_on(
            "Vladimir Poutine",
            "typo",
            "Autre.",
            Some(("Gone@example.org", true)),
        )
        .await;
    app.resolve_case(
        first["case_id"].as_str().unwrap(),
        Resolution::Corrected,
        None,
        None,
    )
    .await;
    let stats = app.run_worker_once().await;
    assert_eq!((stats.sent, stats.dead), (0, 1), "{stats:?}");
    let rows = app.outbox_rows().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, "dead", "a 550 is not retried");
    assert_eq!(rows[0].attempts, 1);
    let error = rows[0].last_error.clone().unwrap();
    assert!(error.contains("550"), "{error}");
    assert!(
        !error.to_lowercase().contains("gone@example.org"),
        "no address in errors: {error}"
    );
    let suppressed: i64 = app
        .app_state
        .read(|conn| {
            Ok(email_suppressions::table
                .filter(email_suppressions::reason.eq("bounce"))
                .count()
                .get_result(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(suppressed, 1);

    // The same address (in any case) is not mailed again.
    app.resolve_case(
        second["case_id"].as_str().unwrap(),
        Resolution::Corrected,
        None,
        None,
    )
    .await;
    assert_eq!(
        app.outbox_rows().await.len(),
        1,
        "nothing queued for a bounced address"
    );
    assert!(smtp.messages().is_empty());
}
