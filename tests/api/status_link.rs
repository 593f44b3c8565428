//! "Email me this link" (issue 16): a reader who holds a status link has a
//! link to the same status page emailed to them, through the outbox; only
//! hashes are stored, the address only until the email is queued.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, DEMO, TestApp};
use crate::mail::{emails, raw_header, token_after};

backend_tests!(
    the_emailed_link_opens_the_same_status_and_nothing_is_kept_in_clear,
    bad_addresses_unknown_links_and_too_many_emails_are_refused,
);

async fn file(app: &TestApp) -> (String, String) {
    let r = app.post_report(DEMO, &app.valid_report()).await;
    assert_eq!(r.status(), 201);
    let receipt: Value = r.json().await.unwrap();
    let url = receipt["status_url"].as_str().unwrap().to_string();
    let token = url.rsplit('/').next().unwrap().to_string();
    (token, receipt["reference"].as_str().unwrap().to_string())
}

async fn ask(app: &TestApp, token: &str, body: &Value) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/reports/status/{token}/email")))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The status link in an email's text part.
fn link_token(raw: &str, base: &str) -> String {
    token_after(raw, &format!("{base}/r/"))
}

async fn the_emailed_link_opens_the_same_status_and_nothing_is_kept_in_clear(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (token, reference) = file(&app).await;
    let (status, _) = ask(&app, &token, &json!({"email": " Lectrice@Example.org "})).await;
    assert_eq!(status, 202);
    app.run_worker_once().await;
    let sent = emails(&app);
    assert_eq!(sent.len(), 1, "one email, to the reader only");
    let raw = &sent[0];
    assert!(
        raw_header(raw, "To")
            .unwrap()
            .contains("lectrice@example.org")
    );
    assert!(raw.contains(&reference), "the email names the report");
    // Transactional: it answers the reader's own request.
    assert!(raw_header(raw, "List-Unsubscribe").is_none());
    let emailed = link_token(raw, &app.address);
    assert_ne!(
        emailed, token,
        "a link of its own: the first one is never stored"
    );

    // Both links open the same report.
    let (s1, first) = app
        .get_json(&format!("/api/v1/reports/status/{token}"))
        .await;
    let (s2, second) = app
        .get_json(&format!("/api/v1/reports/status/{emailed}"))
        .await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(first["reference"], second["reference"]);
    let page = app.get(&format!("/r/{emailed}")).await;
    assert_eq!(page.status(), 200);
    // And its data requests, as the reader's own link does.
    let r = app
        .client
        .post(app.url(&format!("/api/v1/reports/status/{emailed}/data-requests")))
        .json(&json!({"kind": "export"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // The database holds no token and, once queued, no address on the link.
    let (hashes, addresses): (Vec<String>, Vec<Option<String>>) = app
        .app_state
        .read(|conn| -> Result<_, erratum::error::Problem> {
            use diesel::prelude::*;
            use erratum::db::schema::status_links;
            let rows: Vec<(String, Option<String>)> = status_links::table
                .select((status_links::token_hash, status_links::email))
                .load(conn)?;
            Ok(rows.into_iter().unzip())
        })
        .await
        .unwrap();
    assert_eq!(hashes.len(), 1);
    assert_ne!(hashes[0], emailed);
    assert_eq!(addresses, [None]);
}

async fn bad_addresses_unknown_links_and_too_many_emails_are_refused(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (token, _) = file(&app).await;
    let (status, body) = ask(&app, &token, &json!({"email": "not an address"})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "email");
    let (status, body) = ask(&app, "no-such-token", &json!({"email": "a@example.org"})).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], "report_not_found");
    let (status, _) = ask(&app, &token, &json!({"email": "a@example.org", "x": 1})).await;
    assert_eq!(status, 422, "unknown fields are refused");
    for _ in 0..3 {
        assert_eq!(
            ask(&app, &token, &json!({"email": "a@example.org"}))
                .await
                .0,
            202
        );
    }
    let (status, body) = ask(&app, &token, &json!({"email": "a@example.org"})).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "rate_limited");
    // An emailed link asks for the same report's allowance.
    app.run_worker_once().await;
    let sent = emails(&app);
    assert_eq!(sent.len(), 3);
    let emailed = link_token(&sent[0], &app.address);
    assert_eq!(
        ask(&app, &emailed, &json!({"email": "a@example.org"}))
            .await
            .0,
        429
    );
}
