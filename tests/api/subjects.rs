//! Data-subject requests: export and erasure of a reader's address (admin API
//! and command line), the reader's request from the status page, the admins'
//! list and page, the audit trail.

use diesel::prelude::*;
use erratum::db::outbox;
use erratum::db::schema::{audit_log, reports};
use erratum::domain::editor::Role;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::staff::{self, Session};

backend_tests!(
    export_and_erase_everything_held_about_an_address,
    erasure_can_remove_the_reports_text,
    readers_request_from_their_status_page_and_admins_see_it,
    only_admins_and_valid_addresses,
);

const READER: &str = "Lectrice.Une@Example.org";

/// Two reports from READER (one asking for the outcome), one from someone
/// else; a receipt queued to READER; READER unsubscribed once.
async fn setup(b: Backend) -> (TestApp, Session, Vec<Value>) {
    let app = staff::spawn_with(b, "[email]\nreader_receipt = true\n").await;
    let admin = staff::add(&app, Role::Admin, &[]).await;
    let session = staff::login(&app, &admin).await;
    let mut receipts = vec![];
    receipts.push(
        app.report_on(
            "le 3 octobre",
            "factual_error",
            "La frappe a eu lieu le 4 octobre.",
            Some((READER, true)),
        )
        .await,
    );
    receipts.push(
        app.report_on(
            "Donetsk",
            "typo",
            "Une coquille, me semble-t-il.",
            Some(("lectrice.une@example.org", false)),
        )
        .await,
    );
    receipts.push(
        app.report_on(
            "Donetsk",
            "typo",
            "Autre lecteur, autre remarque.",
            Some(("autre@example.org", true)),
        )
        .await,
    );
    // The receipts are written by the email consumer from the reports' events.
    app.app_state.mailer.consume_events().await.unwrap();
    let key = outbox::address_key(READER);
    app.write(move |conn| {
        outbox::suppress(conn, &key, outbox::UNSUBSCRIBED, None, erratum::db::now())?;
        Ok(())
    })
    .await;
    (app, session, receipts)
}

fn query(email: &str) -> String {
    format!(
        "/api/v1/admin/subjects?email={}",
        url::form_urlencoded::byte_serialize(email.as_bytes()).collect::<String>()
    )
}

async fn export_and_erase_everything_held_about_an_address(b: Backend) {
    let (app, admin, receipts) = setup(b).await;

    // The address is matched whatever its case, with everything held.
    let (s, found) = admin.get(&query("  lectrice.une@EXAMPLE.org ")).await;
    assert_eq!(s, 200, "{found}");
    let refs: Vec<&str> = found["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reference"].as_str().unwrap())
        .collect();
    assert_eq!(
        refs,
        [
            receipts[0]["reference"].as_str().unwrap(),
            receipts[1]["reference"].as_str().unwrap()
        ]
    );
    assert_eq!(
        found["reports"][0]["comment"],
        "La frappe a eu lieu le 4 octobre."
    );
    assert_eq!(found["reports"][0]["email_stored"], true);
    assert_eq!(
        found["reports"][0]["article_external_id"],
        crate::helpers::DEMO
    );
    let emails = found["emails"].as_array().unwrap();
    assert!(
        emails.iter().any(|e| e["kind"] == "reader_receipt"),
        "the receipt to the reader is held: {found}"
    );
    assert_eq!(found["suppressions"][0]["reason"], "unsubscribed");

    // Erase: the reports stay, text included, unlinked from the address.
    let (s, erased) = admin
        .post(
            "/api/v1/admin/subjects/erase",
            Some(&json!({"email": READER})),
        )
        .await;
    assert_eq!(s, 200, "{erased}");
    assert_eq!(erased["reports"], 2);
    assert_eq!(erased["text_removed"], false);
    assert_eq!(erased["emails"].as_u64().unwrap(), emails.len() as u64);
    assert_eq!(erased["suppressions"], 1);

    let (_, after) = admin.get(&query(READER)).await;
    assert_eq!(after["reports"], json!([]), "{after}");
    assert_eq!(after["emails"], json!([]));
    assert_eq!(after["suppressions"], json!([]));
    let rows: Vec<(String, Option<String>, String)> = app
        .app_state
        .read(|conn| {
            Ok(reports::table
                .order(reports::created_at.asc())
                .select((
                    reports::comment,
                    reports::reporter_email,
                    reports::reporter_key,
                ))
                .load(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].0, "La frappe a eu lieu le 4 octobre.");
    assert_eq!(rows[0].1, None);
    assert!(rows[0].2.starts_with("erased:"));
    // One key per erasure: the case's distinct readers still count right.
    assert_eq!(rows[0].2, rows[1].2);
    assert_eq!(
        rows[2].1.as_deref(),
        Some("autre@example.org"),
        "others are untouched"
    );
    let others = app
        .outbox_rows()
        .await
        .into_iter()
        .filter(|r| r.recipient == "autre@example.org")
        .count();
    assert!(others >= 1, "the other reader's receipt stays");

    // Both actions are audited, without the address or its hash.
    let audit: Vec<(String, String, String)> = app
        .app_state
        .read(|conn| {
            Ok(audit_log::table
                .filter(audit_log::subject_type.eq("data_subject"))
                .order(audit_log::id.asc())
                .select((
                    audit_log::action,
                    audit_log::subject_id,
                    audit_log::after_state.assume_not_null(),
                ))
                .load(conn)?)
        })
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(
        actions,
        ["subject.export", "subject.erase", "subject.export"]
    );
    let key = outbox::address_key(READER);
    for (_, id, after) in &audit {
        assert!(!after.to_lowercase().contains("lectrice") && !after.contains(&key));
        assert!(!id.contains(&key));
    }
}

async fn erasure_can_remove_the_reports_text(b: Backend) {
    let (app, admin, _) = setup(b).await;
    let (s, erased) = admin
        .post(
            "/api/v1/admin/subjects/erase",
            Some(&json!({"email": READER, "remove_text": true})),
        )
        .await;
    assert_eq!(s, 200, "{erased}");
    assert_eq!(erased["text_removed"], true);
    let rows: Vec<(String, Option<String>, String)> = app
        .app_state
        .read(|conn| {
            Ok(reports::table
                .order(reports::created_at.asc())
                .select((
                    reports::comment,
                    reports::suggested_correction,
                    reports::sources,
                ))
                .load(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(rows[0], (String::new(), None, "[]".to_string()));
    assert_eq!(rows[1].0, "");
    assert_eq!(rows[2].0, "Autre lecteur, autre remarque.");
    // An erased report is still on its case, which still opens.
    let (s, queue) = admin.get("/api/v1/queue").await;
    assert_eq!(s, 200, "{queue}");
}

fn token_of(receipt: &Value) -> String {
    let url = receipt["status_url"].as_str().unwrap();
    url.rsplit('/').next().unwrap().to_string()
}

async fn readers_request_from_their_status_page_and_admins_see_it(b: Backend) {
    let (app, admin, receipts) = setup(b).await;
    let token = token_of(&receipts[0]);

    // The status page offers the form.
    let page = app.get(&format!("/r/{token}")).await.text().await.unwrap();
    assert!(
        page.contains(&format!("action=\"/r/{token}/data-requests\"")),
        "{page}"
    );

    // The JSON twin: 201, then 200 with the same request while it is open.
    let path = format!("/api/v1/reports/status/{token}/data-requests");
    let r = app
        .client
        .post(app.url(&path))
        .json(&json!({"kind": "erase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["report_reference"], receipts[0]["reference"]);
    assert!(
        first.get("email").is_none(),
        "the reader's own answer names no address"
    );
    let r = app
        .client
        .post(app.url(&path))
        .json(&json!({"kind": "erase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["id"], first["id"]);
    let r = app
        .client
        .post(app.url(&path))
        .json(&json!({"kind": "everything"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = app
        .client
        .post(app.url("/api/v1/reports/status/not-a-token/data-requests"))
        .json(&json!({"kind": "export"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The page's form: 303 to the list of the reader's requests.
    let r = app
        .client
        .post(app.url(&format!("/r/{token}/data-requests")))
        .form(&[("kind", "export")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(location, format!("/r/{token}/data-requests"));
    let list = app.get(&location).await;
    assert_eq!(list.status(), 200);
    assert_eq!(list.headers()["cache-control"], "no-store");
    let list = list.text().await.unwrap();
    assert!(
        list.contains("data-kind=\"export\"") && list.contains("data-kind=\"erase\""),
        "{list}"
    );

    // Admins see both, with the address to answer at.
    let (s, open) = admin.get("/api/v1/admin/subject-requests").await;
    assert_eq!(s, 200, "{open}");
    let open = open.as_array().unwrap().clone();
    assert_eq!(open.len(), 2);
    assert!(open.iter().all(|r| r["email"] == READER));
    let html = admin
        .client
        .get(app.url("/editor/admin/subject-requests"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(READER) && html.contains(first["id"].as_str().unwrap()),
        "{html}"
    );

    // Erasing through the page handles them.
    let r = admin
        .client
        .post(app.url("/editor/admin/subject-requests/erase"))
        .form(&[("csrf_token", admin.csrf.as_str()), ("email", READER)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("subject_erased")
    );
    let (_, open) = admin.get("/api/v1/admin/subject-requests").await;
    assert_eq!(open, json!([]));
    let (_, all) = admin.get("/api/v1/admin/subject-requests?status=all").await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 2);
    assert!(
        all.iter()
            .all(|r| r["handled_at"].is_string() && r["email"].is_null())
    );
    let list = app
        .get(&format!("/r/{token}/data-requests"))
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("data-handled=\"true\""), "{list}");
}

async fn only_admins_and_valid_addresses(b: Backend) {
    let (app, admin, _) = setup(b).await;
    let editor = staff::add(&app, Role::Editor, &[]).await;
    let editor = staff::login(&app, &editor).await;
    let (s, _) = editor.get(&query(READER)).await;
    assert_eq!(s, 403);
    let (s, _) = editor
        .post(
            "/api/v1/admin/subjects/erase",
            Some(&json!({"email": READER})),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = editor.get("/api/v1/admin/subject-requests").await;
    assert_eq!(s, 403);
    let (s, _) = app.get_json(&query(READER)).await;
    assert_eq!(s, 401);
    for bad in [
        "",
        "no-at-sign",
        &format!("{}@example.org", "x".repeat(300)),
    ] {
        let (s, body) = admin.get(&query(bad)).await;
        assert_eq!(s, 422, "{bad}: {body}");
        assert_eq!(body["errors"][0]["field"], "email");
    }
    let (s, body) = admin.get("/api/v1/admin/subjects").await;
    assert_eq!(s, 422, "{body}");
    let (s, _) = admin
        .post(
            "/api/v1/admin/subjects/erase",
            Some(&json!({"email": "x@y.z", "extra": 1})),
        )
        .await;
    assert_eq!(s, 422);
    let (s, _) = admin
        .get("/api/v1/admin/subject-requests?status=maybe")
        .await;
    assert_eq!(s, 422);
    // Without a CSRF token, a cookie cannot erase.
    let r = admin
        .client
        .post(app.url("/api/v1/admin/subjects/erase"))
        .json(&json!({"email": READER}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // An address nobody used: an empty export, an erasure of nothing.
    let (s, none) = admin.get(&query("nobody@example.org")).await;
    assert_eq!(s, 200);
    assert_eq!(none["reports"], json!([]));
}
