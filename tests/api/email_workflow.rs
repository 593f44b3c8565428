//! The email outbox wired to the editors' workflow: an assignment and a
//! resolution made through the real API queue their emails in the same
//! transaction, and the notification and outbox endpoints answer behind the
//! real login.

use erratum::domain::editor::Role;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::mail::spawn_smtp;
use crate::smtp::SmtpServer;
use crate::staff::{add, login};

backend_tests!(
    assignment_and_resolution_through_the_api_send_their_emails,
    notification_and_outbox_endpoints_behind_the_login,
);

const LOGINS: &str =
    "[auth]\nlogin_per_ip_per_minute = 10000\nlogin_per_account_per_hour = 10000\n";

async fn assignment_and_resolution_through_the_api_send_their_emails(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_smtp(b, smtp.port, LOGINS).await;
    let admin = add(&app, Role::Admin, &[]).await;
    let editor = add(&app, Role::Editor, &["international"]).await;
    let s = login(&app, &admin).await;
    // A reader who wants to hear the outcome.
    let receipt = app
        .post_report(
            "demo-coree-du-nord",
            &json!({"quote": {"exact": "le 3 octobre"}, "category": "factual_error",
                    "comment": "La frappe date du 4 octobre.",
                    "reporter": {"email": "lectrice@example.org", "notify": true}}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let case_id = receipt["case_id"].as_str().unwrap();
    app.run_worker_once().await;
    smtp.clear();

    let (status, _) = s
        .act(case_id, "assign", Some(json!({"editor_id": editor.id})))
        .await;
    assert_eq!(status, 200);
    app.run_worker_once().await;
    let got = smtp.messages();
    let assigned: Vec<_> = got
        .iter()
        .filter(|m| m.to == [editor.email.clone()])
        .collect();
    assert_eq!(
        assigned.len(),
        1,
        "the assignee is told once: {:?}",
        got.iter().map(|m| &m.to).collect::<Vec<_>>()
    );
    smtp.clear();

    let note = "Une version précédente de cet article datait la frappe du 3 octobre ; elle a eu lieu le 4.";
    let (status, answer) = s
        .act(
            case_id,
            "resolve",
            Some(json!({"resolution": "corrected", "public_note": note})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    app.run_worker_once().await;
    let got = smtp.messages();
    let reader: Vec<_> = got
        .iter()
        .filter(|m| m.to == ["lectrice@example.org"])
        .collect();
    assert_eq!(reader.len(), 1, "the reader hears the outcome once");
    let text = reader[0].raw();
    let parsed = reader[0].parse();
    let body = parsed.body_text(0).unwrap_or_default().to_string();
    assert!(
        body.contains("elle a eu lieu le 4"),
        "the correction is in the email: {text}"
    );
    assert!(
        !got.iter()
            .any(|m| m.to == ["lectrice@example.org"] && m.to.len() > 1),
        "one recipient per email"
    );
}

async fn notification_and_outbox_endpoints_behind_the_login(b: Backend) {
    let app = TestApp::spawn_with(b, LOGINS).await;
    let admin = login(&app, &add(&app, Role::Admin, &[]).await).await;
    let editor = login(&app, &add(&app, Role::Editor, &[]).await).await;

    let (status, _) = app.get_json("/api/v1/me/notifications").await;
    assert_eq!(status, 401, "anonymous");
    let (status, prefs) = editor.get("/api/v1/me/notifications").await;
    assert_eq!(status, 200);
    assert_eq!(prefs["new_case"], "immediate");
    let (status, prefs) = editor
        .send(
            reqwest::Method::PUT,
            "/api/v1/me/notifications",
            Some(&json!({"new_case": "daily"})),
        )
        .await;
    assert_eq!((status, prefs["new_case"].as_str()), (200, Some("daily")));
    // Without the CSRF header, a cookie session cannot change anything.
    let r = editor
        .client
        .put(app.url("/api/v1/me/notifications"))
        .json(&json!({"new_case": "off"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (_, prefs) = editor.get("/api/v1/me/notifications").await;
    assert_eq!(prefs["new_case"], "daily");

    let (status, _) = editor.get("/api/v1/admin/outbox").await;
    assert_eq!(status, 403, "editors do not see the outbox");
    let (status, list) = admin.get("/api/v1/admin/outbox?status=dead").await;
    assert_eq!(status, 200, "{list}");
    let (status, _) = admin.post("/api/v1/admin/outbox/retry-dead", None).await;
    assert_eq!(status, 200);
}
