//! What readers may know about an article's sentences
//! (`GET /api/v1/articles/{external_id}/known`), "me too" on an open case,
//! and what the status link repeats to its holder.

use erratum::domain::editor::Role;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, DEMO, TestApp};
use crate::staff::{self, add, login};

backend_tests!(
    corrections_are_known_and_change_the_etag,
    open_cases_are_known_only_when_enabled,
    commits_of_another_instance_reach_the_cache,
    me_too_joins_the_open_case_with_its_own_link,
    the_status_link_repeats_the_report_and_points_at_the_sentence,
);

const NOTE: &str = "La frappe a eu lieu le 4 octobre, et non le 3.";

async fn known(app: &TestApp, etag: Option<&str>) -> (u16, Option<String>, Value) {
    let mut req = app
        .client
        .get(app.url(&format!("/api/v1/articles/{DEMO}/known")))
        .header("Origin", "https://news.example");
    if let Some(e) = etag {
        req = req.header("If-None-Match", e);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    if status == 200 {
        assert_eq!(r.headers()["access-control-allow-origin"], "*");
        let exposed = r.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        assert!(exposed.contains("etag"), "{exposed}");
    }
    let etag = r
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string());
    (status, etag, r.json().await.unwrap_or(Value::Null))
}

/// The demo sentence containing `quote`.
async fn sentence_id(app: &TestApp, quote: &str) -> String {
    let article = app.demo_article().await;
    article["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["text"].as_str().unwrap().contains(quote))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn file(app: &TestApp, quote: &str, comment: &str) -> Value {
    let r = app
        .post_report(
            DEMO,
            &json!({"quote": {"exact": quote}, "category": "factual_error", "comment": comment,
                "reporter": {"email": "secret-reader@example.org", "notify": true}}),
        )
        .await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

fn no_reader_data(body: &Value, comment: &str) {
    let text = body.to_string();
    assert!(!text.contains(comment), "no comment: {text}");
    assert!(!text.contains("secret-reader"), "no address: {text}");
    assert!(!text.contains("count"), "no counts: {text}");
}

async fn corrections_are_known_and_change_the_etag(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let (status, etag0, body) = known(&app, None).await;
    assert_eq!(status, 200);
    assert_eq!(body["article"], DEMO);
    assert_eq!(body["sentences"], json!([]));
    let etag0 = etag0.expect("an ETag");
    let (status, again, _) = known(&app, Some(&etag0)).await;
    assert_eq!(status, 304, "unchanged: not modified");
    assert_eq!(again.as_deref(), Some(etag0.as_str()));

    let comment = "Le communiqué dit le 4 octobre (lectrice très sûre).";
    let receipt = file(&app, "le 3 octobre", comment).await;
    // Open cases are not shown by default: nothing changed for readers.
    let (_, etag1, body) = known(&app, None).await;
    assert_eq!(body["sentences"], json!([]));
    assert_eq!(etag1.as_deref(), Some(etag0.as_str()));

    let (status, _) = s
        .act(
            receipt["case_id"].as_str().unwrap(),
            "resolve",
            Some(json!({"resolution": "corrected", "public_note": NOTE})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, etag2, body) = known(&app, Some(&etag0)).await;
    assert_eq!(status, 200, "a published correction changes the ETag");
    assert_ne!(etag2.as_deref(), Some(etag0.as_str()));
    let sentences = body["sentences"].as_array().unwrap();
    assert_eq!(sentences.len(), 1, "{body}");
    assert_eq!(
        sentences[0]["sentence_id"],
        sentence_id(&app, "le 3 octobre").await
    );
    assert_eq!(sentences[0]["correction"]["text"], NOTE);
    assert_eq!(sentences[0]["correction"]["kind"], "corrected");
    assert!(sentences[0]["correction"]["published_at"].is_string());
    assert!(sentences[0].get("open_case").is_none());
    no_reader_data(&body, comment);
}

async fn open_cases_are_known_only_when_enabled(b: Backend) {
    let app = staff::spawn_with(b, "[reader]\nmark_open_cases = true\n").await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let (_, etag0, body) = known(&app, None).await;
    assert_eq!(body["sentences"], json!([]));
    let comment = "Ce nom est mal orthographié, je crois.";
    let receipt = file(&app, "Kim Yong-kyun", comment).await;
    let (status, etag1, body) = known(&app, etag0.as_deref()).await;
    assert_eq!(status, 200, "an opened case changes the ETag");
    assert_ne!(etag1, etag0);
    assert_eq!(
        body["sentences"],
        json!([{"sentence_id": sentence_id(&app, "Kim Yong-kyun").await, "open_case": true}])
    );
    no_reader_data(&body, comment);

    // Closed without a correction: the mark goes.
    let (status, _) = s
        .act(
            receipt["case_id"].as_str().unwrap(),
            "resolve",
            Some(json!({"resolution": "no_change", "public_note": "Le nom est juste."})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, etag2, body) = known(&app, etag1.as_deref()).await;
    assert_eq!(status, 200);
    assert_eq!(body["sentences"], json!([]));
    assert_eq!(etag2, etag0, "the same answer has the same ETag");
}

/// Another instance's commit does not wake this one: the event tail finds
/// it (every `reader.known_refresh_secs`).
async fn commits_of_another_instance_reach_the_cache(b: Backend) {
    let app = staff::spawn_with(
        b,
        "[reader]\nmark_open_cases = true\nknown_refresh_secs = 1\n",
    )
    .await;
    let (_, etag0, _) = known(&app, None).await;
    let sentence = sentence_id(&app, "veto de Moscou").await;
    // Written straight through the writer, as another process would: no
    // wake-up of this instance's listeners.
    let s2 = sentence.clone();
    app.app_state
        .write(move |conn| {
            use erratum::db::articles::find_by_external_id;
            use erratum::db::cases::{NewCase, find_or_open, open_key};
            use erratum::domain::event::Event;
            use erratum::domain::workflow::{AnchorState, Status};
            let a = find_by_external_id(conn, DEMO)?.unwrap();
            let t = erratum::db::now();
            let case = NewCase {
                id: erratum::db::new_id(),
                article_id: a.id.clone(),
                sentence_id: s2.clone(),
                open_key: Some(open_key(&a.id, &s2)),
                sentence_text: "x".into(),
                desk: None,
                status: Status::New,
                anchor_state: AnchorState::Current,
                report_count: 1,
                reporter_count: 1,
                categories: "{}".into(),
                first_reported_at: t,
                last_reported_at: t,
                due_at: t,
                version: 1,
                created_at: t,
                updated_at: t,
                resolution: None,
                resolved_at: None,
            };
            let (case_id, _) = find_or_open(conn, &case)?;
            erratum::db::events::record(
                conn,
                &Event::CaseOpened {
                    case_id,
                    article_id: a.id,
                    escalated: false,
                },
                t,
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let mut seen = None;
    for _ in 0..100 {
        let (status, etag, body) = known(&app, etag0.as_deref()).await;
        if status == 200 {
            seen = Some((etag, body));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (etag, body) = seen.expect("the other instance's case reached the cache");
    assert_ne!(etag, etag0);
    assert_eq!(body["sentences"][0]["sentence_id"], sentence);
    assert_eq!(body["sentences"][0]["open_case"], true);
}

async fn me_too_joins_the_open_case_with_its_own_link(b: Backend) {
    let app = staff::spawn_with(b, "[reader]\nmark_open_cases = true\n").await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let sentence = sentence_id(&app, "le 3 octobre").await;
    let me_too = |comment: &str| {
        json!({"sentence_id": sentence, "quote": {"exact": "le 3 octobre"}, "category": "factual_error",
            "comment": comment, "me_too": true})
    };
    // No open case yet: "me too" is refused, it never opens one.
    let r = app.post_report(DEMO, &me_too("")).await;
    assert_eq!(r.status(), 409);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["type"], "urn:erratum:problem:no_open_case");

    let first = file(&app, "le 3 octobre", "La date est fausse.").await;
    let r = app.post_report(DEMO, &me_too("")).await;
    assert_eq!(r.status(), 201);
    let joined: Value = r.json().await.unwrap();
    assert_eq!(joined["case_id"], first["case_id"], "the same case");
    assert_ne!(joined["reference"], first["reference"]);
    assert_ne!(joined["status_url"], first["status_url"], "its own link");
    let token = joined["status_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    let (status, mine) = app
        .get_json(&format!("/api/v1/reports/status/{token}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(mine["reference"], joined["reference"]);
    assert_eq!(
        mine["your_report"]["comment"],
        "Moi aussi : je signale la même erreur."
    );

    // The same "me too" again from the same client is a duplicate.
    let r = app.post_report(DEMO, &me_too("")).await;
    assert_eq!(r.status(), 200);
    let dup: Value = r.json().await.unwrap();
    assert_eq!(dup["duplicate"], true);
    assert_eq!(dup["reference"], joined["reference"]);

    // Counted as a report of the case.
    let (status, case) = s
        .get(&format!(
            "/api/v1/cases/{}",
            first["case_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(case["case"]["report_count"], 2, "{case}");

    // Without me_too, an empty comment is still refused.
    let mut plain = me_too("");
    plain["me_too"] = json!(false);
    let r = app.post_report(DEMO, &plain).await;
    assert_eq!(r.status(), 422);
}

async fn the_status_link_repeats_the_report_and_points_at_the_sentence(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let comment = "La date <b>exacte</b> est le 4 octobre.";
    let receipt = file(&app, "le 3 octobre", comment).await;
    let token = receipt["status_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    let (_, st) = app
        .get_json(&format!("/api/v1/reports/status/{token}"))
        .await;
    assert_eq!(st["your_report"]["comment"], comment);
    assert_eq!(st["your_report"]["quote"], "le 3 octobre");
    assert_eq!(st["your_report"]["category"], "factual_error");
    assert!(
        st["your_report"]["sentence"]
            .as_str()
            .unwrap()
            .contains("le 3 octobre")
    );
    assert!(st["timeline"]["received_at"].is_string());
    assert!(st["timeline"]["decided_at"].is_null());
    assert!(st["sentence_url"].is_null());

    let case_id = receipt["case_id"].as_str().unwrap();
    assert_eq!(s.act(case_id, "claim", None).await.0, 200);
    let (status, _) = s
        .act(
            case_id,
            "resolve",
            Some(json!({"resolution": "corrected", "public_note": NOTE})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, st) = app
        .get_json(&format!("/api/v1/reports/status/{token}"))
        .await;
    assert!(st["timeline"]["in_review_at"].is_string(), "{st}");
    assert!(st["timeline"]["decided_at"].is_string(), "{st}");
    let url = st["sentence_url"].as_str().unwrap();
    assert!(url.contains("#:~:text="), "{url}");

    let page = app.get(&format!("/r/{token}")).await.text().await.unwrap();
    assert!(
        page.contains("La date &lt;b&gt;exacte&lt;&#x2f;b&gt;")
            || page.contains("La date &lt;b&gt;exacte&lt;/b&gt;"),
        "escaped comment: {page}"
    );
    assert!(page.contains("Erreur factuelle"));
    assert!(page.contains("datetime="));
    assert!(page.contains("#:~:text="));
    assert!(page.contains("/static/status.js"));
}
