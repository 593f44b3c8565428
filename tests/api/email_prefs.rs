//! Editors' choices (immediate, hourly, daily, off), digests, overdue
//! notices, one-click unsubscribe, and a broken mail configuration at start.

use chrono::Duration;
use diesel::prelude::*;
use erratum::db::schema::{cases, digest_items};
use erratum::domain::workflow::Resolution;
use erratum::notify::prefs::{self, Delivery, NotificationPrefsUpdate};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::mail::{parts, raw_header, spawn_smtp, unsubscribe_url};
use crate::smtp::SmtpServer;

backend_tests!(
    preferences_have_defaults_and_can_be_changed,
    a_digest_groups_several_cases_into_one_email,
    one_click_unsubscribe_stops_that_kind_of_email,
    a_reader_unsubscribes_from_every_email,
    an_overdue_case_is_notified_once_to_its_assignee,
);

async fn set(
    app: &TestApp,
    editor: &str,
    update: NotificationPrefsUpdate,
) -> prefs::NotificationPrefs {
    let editor = editor.to_string();
    app.write(move |conn| prefs::set(conn, &editor, &update))
        .await
}

async fn get(app: &TestApp, editor: &str) -> prefs::NotificationPrefs {
    let editor = editor.to_string();
    app.app_state
        .read(move |conn| prefs::get(conn, &editor))
        .await
        .unwrap()
}

async fn preferences_have_defaults_and_can_be_changed(b: Backend) {
    let app = TestApp::spawn(b).await;
    let ed = app
        .insert_editor("ed@news.example", &["politique"], "fr")
        .await;
    let p = get(&app, &ed).await;
    assert_eq!(
        (p.new_case, p.escalation, p.assigned, p.overdue),
        (
            Delivery::Immediate,
            Delivery::Immediate,
            Delivery::Immediate,
            Delivery::Hourly
        )
    );
    assert_eq!(p.desks, ["politique"]);
    let p = set(
        &app,
        &ed,
        NotificationPrefsUpdate {
            new_case: Some(Delivery::Daily),
            overdue: Some(Delivery::Off),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        (p.new_case, p.escalation, p.assigned, p.overdue),
        (
            Delivery::Daily,
            Delivery::Immediate,
            Delivery::Immediate,
            Delivery::Off
        )
    );
    // Stored: read back the same, and changed again in place.
    assert_eq!(get(&app, &ed).await, p);
    let p = set(
        &app,
        &ed,
        NotificationPrefsUpdate {
            new_case: Some(Delivery::Immediate),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(p.new_case, Delivery::Immediate);
    assert_eq!(p.overdue, Delivery::Off);

    // The JSON a client sends is checked at the boundary.
    let parsed: Result<NotificationPrefsUpdate, _> =
        serde_json::from_str(r#"{"new_case": "weekly"}"#);
    assert!(parsed.is_err());
    let parsed: Result<NotificationPrefsUpdate, _> = serde_json::from_str(r#"{"typo": "off"}"#);
    assert!(parsed.is_err(), "unknown kinds are refused");

    let err = app
        .app_state
        .read(|conn| prefs::get(conn, "no-such-editor"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status.as_u16(), err.code.as_str()),
        (404, "editor_not_found")
    );
}

async fn a_digest_groups_several_cases_into_one_email(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_smtp(b, smtp.port, "").await;
    let ed = app.insert_editor("ed@news.example", &[], "fr").await;
    let now_ed = app.insert_editor("now@news.example", &[], "fr").await;
    set(
        &app,
        &ed,
        NotificationPrefsUpdate {
            new_case: Some(Delivery::Hourly),
            ..Default::default()
        },
    )
    .await;
    let quotes = ["Kim Yong-kyun", "Vladimir Poutine", "Lim Eul-chul"];
    for (i, q) in quotes.iter().enumerate() {
        app.report_on(q, "typo", &format!("<b>Remarque</b> {i}."), None)
            .await;
    }
    app.run_worker_once().await;
    // The other editor got three emails at once; this one none yet.
    assert_eq!(smtp.messages().len(), 3);
    assert!(smtp.messages().iter().all(|m| m.to == ["now@news.example"]));
    let _ = now_ed;

    // Nothing is due before the top of the hour…
    assert_eq!(app.scan_at(erratum::db::now()).await.1, 0);
    // …then one digest lists the three cases.
    let later = erratum::db::now() + Duration::hours(2);
    assert_eq!(app.scan_at(later).await.1, 1);
    assert_eq!(app.scan_at(later).await.1, 0, "items go in one digest only");
    app.run_worker_once().await;
    let digests: Vec<_> = smtp
        .messages()
        .into_iter()
        .filter(|m| m.to == ["ed@news.example"])
        .collect();
    assert_eq!(digests.len(), 1);
    let m = digests[0].parse();
    assert_eq!(m.subject(), Some("Résumé de l'heure : 3 dossiers"));
    let (text, html) = parts(&m);
    for q in quotes {
        assert!(text.contains(q), "{q} in {text}");
        assert!(html.contains(q), "{q} in the HTML part");
    }
    assert_eq!(html.matches("/editor/cases/").count(), 3, "a link per case");
    assert!(
        raw_header(&digests[0].raw(), "In-Reply-To").is_none(),
        "a digest is no reply"
    );
    let pending: i64 = app
        .app_state
        .read(|conn| {
            Ok(digest_items::table
                .filter(digest_items::outbox_id.is_null())
                .count()
                .get_result(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(pending, 0);
    // Sent emails are forgotten after email.retention_days (90).
    let sent = || async {
        let rows = app.outbox_rows().await;
        rows.into_iter().filter(|r| r.status == "sent").count()
    };
    assert_eq!(sent().await, 4);
    app.scan_at(erratum::db::now() + Duration::days(89)).await;
    assert_eq!(sent().await, 4);
    app.scan_at(erratum::db::now() + Duration::days(91)).await;
    assert_eq!(sent().await, 0);

    // Its one-click link turns the hourly digest off.
    let url = unsubscribe_url(&digests[0].raw());
    let r = app
        .client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(get(&app, &ed).await.new_case, Delivery::Off);
}

async fn one_click_unsubscribe_stops_that_kind_of_email(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_smtp(b, smtp.port, "[email.escalation]\nreport_threshold = 2\n").await;
    let ed = app.insert_editor("ed@news.example", &[], "en").await;
    app.report_on("Kim Yong-kyun", "typo", "Coquille.", None)
        .await;
    app.run_worker_once().await;
    let first = smtp.messages().remove(0);
    let url = unsubscribe_url(&first.raw());

    // Opening the link shows a page and changes nothing (scanners open links).
    let r = app.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = r.text().await.unwrap();
    assert!(
        page.contains("<form method=\"post\"") && page.contains("emails about new reports"),
        "{page}"
    );
    assert_eq!(get(&app, &ed).await.new_case, Delivery::Immediate);

    // A forged or damaged token is refused.
    let (body, sig) = url.rsplit('/').next().unwrap().split_once('.').unwrap();
    let forged = format!("{}/unsubscribe/{}.{}x", app.address, body, &sig[1..]);
    let r = app.client.post(&forged).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let problem: serde_json::Value = r.json().await.unwrap();
    assert_eq!(problem["code"], "unsubscribe_link_invalid");

    // RFC 8058: the mail client POSTs List-Unsubscribe=One-Click.
    for _ in 0..2 {
        let r = app
            .client
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "idempotent");
    }
    let p = get(&app, &ed).await;
    assert_eq!(
        (p.new_case, p.escalation),
        (Delivery::Off, Delivery::Immediate)
    );
    let (_, spec) = app.get_json("/api/openapi.json").await;
    for method in ["get", "post"] {
        let op = &spec["paths"]["/unsubscribe/{token}"][method];
        assert!(
            op["responses"]["404"].is_object(),
            "{method} documented: {op}"
        );
    }

    // New cases no longer reach this editor; an escalation still does.
    app.report_on("Vladimir Poutine", "typo", "Autre coquille.", None)
        .await;
    app.run_worker_once().await;
    assert_eq!(
        smtp.messages().len(),
        1,
        "no new-case email after unsubscribing"
    );
    app.report_on("Kim Yong-kyun", "typo", "Encore.", None)
        .await;
    app.run_worker_once().await;
    let got = smtp.messages();
    assert_eq!(got.len(), 2);
    assert!(
        got[1]
            .parse()
            .subject()
            .unwrap()
            .starts_with("Needs attention now")
    );
}

async fn a_reader_unsubscribes_from_every_email(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_smtp(b, smtp.port, "").await;
    let one = app
        .report_on(
            "Kim Yong-kyun",
            "typo",
            "Coquille.",
            Some(("r@example.org", true)),
        )
        .await;
    let two = app
        .report_on(
            "Vladimir Poutine",
            "typo",
            "Autre.",
            Some(("r@example.org", true)),
        )
        .await;
    app.resolve_case(
        one["case_id"].as_str().unwrap(),
        Resolution::NoChange,
        None,
        None,
    )
    .await;
    app.run_worker_once().await;
    let got = smtp.messages();
    assert_eq!(got.len(), 1);
    let m = got[0].parse();
    let text = parts(&m).0;
    assert!(
        text.contains("la rédaction a estimé que cette phrase est exacte"),
        "{text}"
    );
    let url = unsubscribe_url(&got[0].raw());
    let page = app
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("les e-mails sur vos signalements"), "{page}");
    let r = app
        .client
        .post(&url)
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.resolve_case(
        two["case_id"].as_str().unwrap(),
        Resolution::Corrected,
        None,
        None,
    )
    .await;
    assert_eq!(
        app.outbox_rows().await.len(),
        1,
        "nothing more for this address"
    );
    app.run_worker_once().await;
    assert_eq!(smtp.messages().len(), 1);
}

async fn an_overdue_case_is_notified_once_to_its_assignee(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_smtp(b, smtp.port, "").await;
    let owner = app
        .insert_editor("owner@news.example", &["sport"], "fr")
        .await;
    let other = app.insert_editor("other@news.example", &[], "fr").await;
    for ed in [&owner, &other] {
        set(
            &app,
            ed,
            NotificationPrefsUpdate {
                new_case: Some(Delivery::Off),
                overdue: Some(Delivery::Immediate),
                ..Default::default()
            },
        )
        .await;
    }
    let receipt = app
        .report_on("Kim Yong-kyun", "misleading", "Trompeur.", None)
        .await;
    let case_id = receipt["case_id"].as_str().unwrap().to_string();
    let (c, o) = (case_id.clone(), owner.clone());
    let due_at = app
        .write(move |conn| {
            diesel::update(cases::table.find(&c))
                .set(cases::assignee_id.eq(&o))
                .execute(conn)?;
            Ok(cases::table
                .find(&c)
                .select(cases::due_at)
                .first::<chrono::NaiveDateTime>(conn)?)
        })
        .await;
    assert_eq!(
        app.scan_at(due_at - Duration::minutes(1)).await.0,
        0,
        "not yet due"
    );
    assert_eq!(app.scan_at(due_at + Duration::minutes(1)).await.0, 1);
    assert_eq!(app.scan_at(due_at + Duration::hours(2)).await.0, 0, "once");
    app.run_worker_once().await;
    let got = smtp.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].to,
        ["owner@news.example"],
        "the assignee, not the desk"
    );
    let m = got[0].parse();
    assert!(
        m.subject().unwrap().starts_with("En retard : "),
        "{:?}",
        m.subject()
    );
    assert!(parts(&m).0.contains("Ce dossier attendait une décision le"));
}
