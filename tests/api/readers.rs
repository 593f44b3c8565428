//! Reader history and trust without accounts: reports grouped by a keyed
//! hash of the address or by the day's client hash, trusted readers' cases
//! rising by the documented bonus, blocked readers' reports going straight
//! to spam without a word to anyone, audit entries and events, and erasure
//! (data-subject request and retention) cutting the link.

use chrono::Duration;
use diesel::prelude::*;
use erratum::db::schema::{audit_log, events, outbox, reports};
use erratum::domain::editor::Role;
use erratum::domain::priority::TRUSTED_BONUS;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::staff::{self, QUOTES, Session};

backend_tests!(
    reports_group_by_keyed_address_and_by_client_hash,
    trusting_a_reader_raises_their_cases_by_the_bonus,
    a_blocked_readers_reports_go_to_spam_and_notify_nobody,
    erasure_and_retention_cut_the_link,
    the_case_page_shows_the_history_and_its_buttons,
);

const ANA: &str = "Ana.Lectrice@Example.org";

async fn case(s: &Session, id: &str) -> Value {
    let (status, body) = s.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The first report of a case, and its reader summary.
async fn first_report(s: &Session, case_id: &str) -> (String, Value) {
    let c = case(s, case_id).await;
    let r = &c["reports"][0];
    (r["id"].as_str().unwrap().to_string(), r["reader"].clone())
}

async fn keys_of(app: &TestApp, case_id: &str) -> Vec<String> {
    let id = case_id.to_string();
    app.app_state
        .read(move |conn| {
            Ok(reports::table
                .filter(reports::case_id.eq(&id))
                .select(reports::reporter_key)
                .load(conn)?)
        })
        .await
        .unwrap()
}

async fn priority_tenths(app: &TestApp, case_id: &str) -> i32 {
    let id = case_id.to_string();
    app.app_state
        .read(move |conn| {
            Ok(erratum::db::cases::find(conn, &id)?
                .unwrap()
                .priority_tenths)
        })
        .await
        .unwrap()
}

async fn count_where(app: &TestApp, kind: &'static str) -> i64 {
    app.app_state
        .read(move |conn| {
            Ok(events::table
                .filter(events::kind.eq(kind))
                .count()
                .get_result(conn)?)
        })
        .await
        .unwrap()
}

async fn reader_audit(app: &TestApp) -> Vec<(String, String, Option<String>)> {
    app.app_state
        .read(|conn| {
            Ok(audit_log::table
                .filter(audit_log::subject_type.eq("reader"))
                .order((audit_log::created_at.asc(), audit_log::id.asc()))
                .select((
                    audit_log::action,
                    audit_log::subject_id,
                    audit_log::after_state,
                ))
                .load(conn)?)
        })
        .await
        .unwrap()
}

async fn set(s: &Session, report_id: &str, standing: &str) -> (u16, Value) {
    s.post(
        &format!("/api/v1/reports/{report_id}/reader"),
        Some(&json!({ "standing": standing })),
    )
    .await
}

async fn reports_group_by_keyed_address_and_by_client_hash(b: Backend) {
    let app = staff::spawn(b).await;
    let editor = staff::login(&app, &staff::add(&app, Role::Editor, &[]).await).await;
    let viewer = staff::login(&app, &staff::add(&app, Role::Viewer, &[]).await).await;

    // Ana twice (the address in two spellings), someone else once, and two
    // reports without an address from this one client (same day).
    let ana1 = staff::report(&app, QUOTES[0], "factual_error", Some(ANA)).await;
    let ana2 = staff::report(&app, QUOTES[1], "typo", Some("ana.lectrice@example.org")).await;
    let other = staff::report(&app, QUOTES[2], "typo", Some("autre@example.org")).await;
    let anon1 = staff::report(&app, QUOTES[3], "typo", None).await;
    let anon2 = staff::report(&app, QUOTES[4], "typo", None).await;
    assert_eq!(
        editor
            .act(
                &ana2,
                "resolve",
                Some(json!({"resolution": "corrected",
                "public_note": "Nous avons corrigé cette phrase."}))
            )
            .await
            .0,
        200
    );

    let (_, reader) = first_report(&editor, &ana1).await;
    assert_eq!(reader["reports"], 2, "{reader}");
    assert_eq!(reader["upheld"], 1);
    assert_eq!(reader["by"], "email");
    assert!(reader["standing"].is_null());
    assert!(reader.get("key").is_none(), "the key is never shown");
    let (_, reader) = first_report(&editor, &other).await;
    assert_eq!(
        (reader["reports"].as_i64(), reader["upheld"].as_i64()),
        (Some(1), Some(0))
    );
    for c in [&anon1, &anon2] {
        let (_, reader) = first_report(&editor, c).await;
        assert_eq!(reader["reports"], 2, "{reader}");
        assert_eq!(reader["by"], "client");
    }

    // The stored key is a keyed hash: neither the address nor its plain hash.
    let key = keys_of(&app, &ana1).await.pop().unwrap();
    let plain = erratum::domain::text::sha256_hex("ana.lectrice@example.org");
    assert!(key.starts_with("mail:"), "{key}");
    assert!(!key.contains(&plain) && !key.contains("example"), "{key}");
    assert_eq!(keys_of(&app, &ana2).await, vec![key.clone()]);

    // A report keyed before keyed hashes (`email:<sha256>`) is moved over
    // (at startup) and joins its reader again.
    let (legacy, id) = (format!("email:{plain}"), ana2.clone());
    let moved = app
        .app_state
        .write(move |conn| {
            diesel::update(reports::table.filter(reports::case_id.eq(&id)))
                .set(reports::reporter_key.eq(&legacy))
                .execute(conn)?;
            erratum::app::readers::rekey_legacy(conn)
        })
        .await
        .unwrap();
    assert_eq!(moved, 1);
    assert_eq!(keys_of(&app, &ana2).await, vec![key.clone()]);

    // Viewers see the history, never the address.
    let seen = case(&viewer, &ana1).await;
    assert_eq!(seen["reports"][0]["reader"]["reports"], 2);
    let text = seen.to_string().to_lowercase();
    assert!(!text.contains("ana.lectrice") && !text.contains(&plain));
}

async fn trusting_a_reader_raises_their_cases_by_the_bonus(b: Backend) {
    let app = staff::spawn(b).await;
    let editor_account = staff::add(&app, Role::Editor, &[]).await;
    let editor = staff::login(&app, &editor_account).await;
    let viewer = staff::login(&app, &staff::add(&app, Role::Viewer, &[]).await).await;
    let other_desk = staff::login(&app, &staff::add(&app, Role::Editor, &["sport"]).await).await;

    let first = staff::report(&app, QUOTES[0], "typo", Some(ANA)).await;
    let (report_id, _) = first_report(&editor, &first).await;
    let before = priority_tenths(&app, &first).await;

    assert_eq!(set(&viewer, &report_id, "trusted").await.0, 403);
    assert_eq!(set(&other_desk, &report_id, "trusted").await.0, 403);
    let (s, bad) = set(&editor, &report_id, "famous").await;
    assert_eq!((s, bad["code"].as_str()), (422, Some("validation")));
    let unknown = "0196a000-0000-7000-8000-000000000000";
    assert_eq!(set(&editor, unknown, "trusted").await.0, 404);

    let (s, answer) = set(&editor, &report_id, "trusted").await;
    assert_eq!(s, 200, "{answer}");
    assert_eq!(answer["reader"]["standing"], "trusted");
    let bonus = (TRUSTED_BONUS * 10.0) as i32;
    assert_eq!(priority_tenths(&app, &first).await, before + bonus);
    let shown = case(&editor, &first).await;
    assert_eq!(shown["reports"][0]["reader"]["standing"], "trusted");

    // A trusted reader's new case starts with the bonus.
    let second = staff::report(&app, QUOTES[1], "typo", Some(ANA)).await;
    let control = staff::report(&app, QUOTES[2], "typo", Some("autre@example.org")).await;
    assert_eq!(
        priority_tenths(&app, &second).await,
        priority_tenths(&app, &control).await + bonus
    );

    // Audited and recorded by the standing's id, never the reader's key.
    let audit = reader_audit(&app).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].0, "reader.standing");
    assert!(audit[0].2.as_deref().unwrap().contains("trusted"));
    let key = keys_of(&app, &first).await.pop().unwrap();
    assert!(!audit[0].1.contains(&key[5..]));
    assert_eq!(count_where(&app, "reader_standing_changed").await, 1);

    // Back to ordinary: the bonus goes.
    let (s, answer) = set(&editor, &report_id, "none").await;
    assert_eq!(s, 200);
    assert!(answer["reader"]["standing"].is_null());
    assert_eq!(priority_tenths(&app, &first).await, before);
    assert_eq!(reader_audit(&app).await.len(), 2);
    assert_eq!(count_where(&app, "reader_standing_changed").await, 2);
    // Setting the same standing again changes nothing and audits nothing.
    assert_eq!(set(&editor, &report_id, "none").await.0, 200);
    assert_eq!(reader_audit(&app).await.len(), 2);
}

async fn outbox_rows(app: &TestApp) -> i64 {
    app.app_state
        .read(|conn| Ok(outbox::table.count().get_result(conn)?))
        .await
        .unwrap()
}

async fn a_blocked_readers_reports_go_to_spam_and_notify_nobody(b: Backend) {
    let app = staff::spawn_with(b, "[email]\nreader_receipt = true\n").await;
    let editor = staff::login(&app, &staff::add(&app, Role::Editor, &[]).await).await;
    let admin = staff::login(&app, &staff::add(&app, Role::Admin, &[]).await).await;

    let first = staff::report(&app, QUOTES[0], "typo", Some(ANA)).await;
    let (report_id, _) = first_report(&editor, &first).await;
    // An ordinary report gets its receipt: the outbox is written.
    app.app_state.mailer.consume_events().await.unwrap();
    let ordinary = outbox_rows(&app).await;
    assert!(ordinary > 0, "the reader's receipt is queued");

    // Blocking is for admins.
    let (s, refused) = set(&editor, &report_id, "blocked").await;
    assert_eq!(s, 403, "{refused}");
    let (s, answer) = set(&admin, &report_id, "blocked").await;
    assert_eq!(s, 200, "{answer}");
    assert_eq!(answer["reader"]["standing"], "blocked");
    assert_eq!(reader_audit(&app).await.len(), 1);
    // …and so is unblocking, or trusting a blocked reader.
    assert_eq!(set(&editor, &report_id, "none").await.0, 403);
    assert_eq!(set(&editor, &report_id, "trusted").await.0, 403);

    // Accepted as usual…
    let filed_before = count_where(&app, "report_filed").await;
    let r = app
        .post_report(
            crate::helpers::DEMO,
            &json!({"quote": {"exact": QUOTES[1]}, "category": "factual_error",
                "comment": "Encore une erreur, je vous assure.",
                "reporter": {"email": "ANA.lectrice@example.org", "notify": true}}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let receipt: Value = r.json().await.unwrap();
    assert!(receipt["status_url"].is_string());
    // …but straight into spam, with no event, no case in the queue, no email.
    let spam = receipt["case_id"].as_str().unwrap();
    let c = case(&admin, spam).await;
    assert_eq!(c["case"]["resolution"], "spam");
    assert_eq!(c["reports"][0]["blocked"], true);
    assert_eq!(c["reports"][0]["honeypot"], false);
    assert_eq!(count_where(&app, "report_filed").await, filed_before);
    app.app_state.mailer.consume_events().await.unwrap();
    assert_eq!(outbox_rows(&app).await, ordinary, "no outbox row");
    let (_, queue) = editor.get("/api/v1/queue?status=all").await;
    assert!(
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["id"] != spam),
        "{queue}"
    );
    // The reader's link still reads as received.
    let status_url = receipt["status_url"].as_str().unwrap();
    let token = status_url.rsplit('/').next().unwrap();
    let (_, status) = app
        .get_json(&format!("/api/v1/reports/status/{token}"))
        .await;
    assert_eq!(status["status"], "received");

    // Unblocked by an admin, the next report is ordinary again.
    assert_eq!(set(&admin, &report_id, "none").await.0, 200);
    let again = staff::report(&app, QUOTES[2], "typo", Some(ANA)).await;
    assert!(case(&admin, &again).await["case"]["resolution"].is_null());
}

async fn erasure_and_retention_cut_the_link(b: Backend) {
    let app = staff::spawn_with(b, "[retention]\nreporter_email_days = 30\n").await;
    let admin = staff::login(&app, &staff::add(&app, Role::Admin, &[]).await).await;

    // Ana: two cases, trusted. Then her address is erased.
    let a1 = staff::report(&app, QUOTES[0], "typo", Some(ANA)).await;
    let a2 = staff::report(&app, QUOTES[1], "typo", Some(ANA)).await;
    let (report_id, _) = first_report(&admin, &a1).await;
    assert_eq!(set(&admin, &report_id, "trusted").await.0, 200);
    let (s, _) = admin
        .post("/api/v1/admin/subjects/erase", Some(&json!({"email": ANA})))
        .await;
    assert_eq!(s, 200);
    for c in [&a1, &a2] {
        let shown = case(&admin, c).await;
        assert!(shown["reports"][0]["reader"].is_null(), "{shown}");
    }
    let (k1, k2) = (keys_of(&app, &a1).await, keys_of(&app, &a2).await);
    assert_ne!(k1, k2, "nothing ties the two reports together");
    let standings: i64 = app
        .app_state
        .read(|conn| {
            Ok(erratum::db::readers::reader_standings::table
                .count()
                .get_result(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(standings, 0, "the standing went with the link");
    assert_eq!(set(&admin, &report_id, "trusted").await.0, 409);

    // Bea: two cases, one resolved long ago by the time retention runs.
    let b1 = staff::report(&app, QUOTES[2], "typo", Some("bea@example.org")).await;
    let b2 = staff::report(&app, QUOTES[3], "typo", Some("bea@example.org")).await;
    assert_eq!(
        admin
            .act(&b1, "resolve", Some(json!({"resolution": "no_change"})))
            .await
            .0,
        200
    );
    assert_eq!(first_report(&admin, &b2).await.1["reports"], 2);
    app.app_state
        .mailer
        .scan(erratum::db::now() + Duration::days(31))
        .await
        .unwrap();
    assert!(
        first_report(&admin, &b1).await.1.is_null(),
        "swept: unlinked"
    );
    let (_, reader) = first_report(&admin, &b2).await;
    assert_eq!(
        reader["reports"], 1,
        "the open case keeps its link: {reader}"
    );
    // The case still counts one reader.
    assert_eq!(case(&admin, &b1).await["case"]["reporter_count"], 1);
}

async fn the_case_page_shows_the_history_and_its_buttons(b: Backend) {
    use crate::editor_ui::{account, get_page, post_form, sign_in};
    let app = crate::editor_ui::spawn(b).await;
    let editor = account(&app, Role::Editor, "Éd").await;
    let admin = account(&app, Role::Admin, "Ad").await;
    let viewer = account(&app, Role::Viewer, "Vi").await;
    let c1 = staff::report(&app, QUOTES[0], "typo", Some(ANA)).await;
    staff::report(&app, QUOTES[1], "typo", Some(ANA)).await;
    let path = format!("/editor/cases/{c1}");

    let (c, csrf) = sign_in(&app, &editor).await;
    let (status, html) = get_page(&app, &c, &path).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Ce lecteur a fait 2 signalement(s), dont 0 retenu(s)."),
        "{html}"
    );
    assert!(html.contains("Faire confiance à ce lecteur"));
    assert!(
        !html.contains("Bloquer ce lecteur"),
        "blocking is for admins"
    );
    assert!(
        !html.to_lowercase().contains("mail:"),
        "the key is never shown"
    );
    let report_id = {
        let marker = "action=\"/editor/reports/";
        let start = html.find(marker).unwrap() + marker.len();
        html[start..start + 36].to_string()
    };
    let r = post_form(
        &app,
        &c,
        &format!("/editor/reports/{report_id}/reader"),
        &[
            ("csrf_token", &csrf),
            ("standing", "trusted"),
            ("return_to", &path),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let back = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        back.starts_with(&path) && back.contains("done=reader_trusted"),
        "{back}"
    );
    let (_, html) = get_page(&app, &c, &back).await;
    assert!(html.contains("lecteur de confiance"));
    assert!(html.contains("Ne plus lui faire confiance"));
    // Without the CSRF token, nothing changes.
    let r = post_form(
        &app,
        &c,
        &format!("/editor/reports/{report_id}/reader"),
        &[("standing", "none"), ("return_to", &path)],
    )
    .await;
    assert_eq!(r.status(), 403);

    let (c, _) = sign_in(&app, &admin).await;
    let (_, html) = get_page(&app, &c, &path).await;
    assert!(html.contains("Bloquer ce lecteur"));

    let (c, _) = sign_in(&app, &viewer).await;
    let (_, html) = get_page(&app, &c, &path).await;
    assert!(html.contains("Ce lecteur a fait 2 signalement(s)"));
    assert!(!html.contains("/editor/reports/"), "viewers get no buttons");
}
