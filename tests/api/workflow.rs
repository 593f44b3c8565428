//! The case workflow: every transition and its audit entry, refusals,
//! racing claims, resolutions, bulk resolve, and the case page.

use erratum::domain::editor::Role;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, DEMO};
use crate::staff::{self, QUOTES, add, audit_of, case_on, login, report};

backend_tests!(
    every_transition_is_applied_and_audited,
    illegal_transitions_are_409_listing_the_allowed_actions,
    concurrent_claims_have_exactly_one_winner,
    resolving_validates_and_frees_the_sentence,
    desks_and_assignees_are_enforced,
    bulk_resolve_handles_each_case_alone,
    case_page_shows_context_reports_notes_and_history,
    audit_log_is_append_only,
);

async fn every_transition_is_applied_and_audited(b: Backend) {
    let app = staff::spawn(b).await;
    let ed = add(&app, Role::Editor, &["international"]).await;
    let other = add(&app, Role::Editor, &[]).await;
    let s = login(&app, &ed).await;
    let case_id = report(&app, QUOTES[0], "factual_error", None).await;

    let steps: Vec<(&str, Option<Value>, &str, Option<&str>)> = vec![
        ("triage", None, "triaged", None),
        (
            "assign",
            Some(json!({"editor_id": other.id})),
            "triaged",
            Some(&other.id),
        ),
        ("unassign", None, "triaged", None),
        ("claim", None, "in_review", Some(&ed.id)),
        (
            "priority",
            Some(json!({"priority": 90})),
            "in_review",
            Some(&ed.id),
        ),
        (
            "note",
            Some(json!({"body": "Appeler le service photo."})),
            "in_review",
            Some(&ed.id),
        ),
        ("unassign", None, "triaged", None),
        (
            "assign",
            Some(json!({"editor_id": ed.id})),
            "triaged",
            Some(&ed.id),
        ),
        ("claim", None, "in_review", Some(&ed.id)),
        (
            "resolve",
            Some(
                json!({"resolution": "corrected", "public_note": "La frappe a eu lieu le 4 octobre."}),
            ),
            "resolved",
            Some(&ed.id),
        ),
        ("reopen", None, "triaged", Some(&ed.id)),
        (
            "resolve",
            Some(json!({"resolution": "no_change"})),
            "resolved",
            Some(&ed.id),
        ),
    ];
    let (_, d) = s.get(&format!("/api/v1/cases/{case_id}")).await;
    let mut version = d["case"]["version"].as_i64().unwrap();
    for (action, body, status, assignee) in &steps {
        let (code, answer) = s.act(&case_id, action, body.clone()).await;
        assert_eq!(code, 200, "{action}: {answer}");
        let case = &answer["case"];
        assert_eq!(case["status"], *status, "{action}");
        assert_eq!(case["assignee"]["id"].as_str(), *assignee, "{action}");
        let v = case["version"].as_i64().unwrap();
        if *action == "note" {
            assert_eq!(v, version, "a note does not change the case");
            assert!(answer["note_id"].is_string());
        } else {
            assert_eq!(v, version + 1, "{action} bumps the version");
        }
        version = v;
    }
    let (code, p) = s
        .act(&case_id, "priority", Some(json!({"priority": null})))
        .await;
    assert_eq!((code, p["case_status"].as_str()), (409, Some("resolved")));

    // One audit entry per action, in order, with the state before and after.
    let audit = audit_of(&app, &case_id).await;
    let actions: Vec<&str> = audit.iter().map(|(a, _, _)| a.as_str()).collect();
    let expected: Vec<&str> = steps.iter().map(|s| s.0).collect();
    assert_eq!(actions, expected);
    for ((action, before, after), (_, _, status, _)) in audit.iter().zip(&steps) {
        let after = after.as_ref().unwrap();
        if action == "note" {
            assert!(before.is_none());
            assert_eq!(after["body"], "Appeler le service photo.");
        } else {
            assert_eq!(after["status"], *status, "{action}");
            assert!(before.as_ref().unwrap()["status"].is_string());
        }
    }
    let (first_resolve, _, after) = &audit[9];
    assert_eq!(first_resolve, "resolve");
    assert_eq!(after.as_ref().unwrap()["resolution"], "corrected");
    assert!(after.as_ref().unwrap()["correction_id"].is_string());
    let (_, before, after) = &audit[4];
    assert_eq!(before.as_ref().unwrap()["priority_override"], Value::Null);
    assert_eq!(after.as_ref().unwrap()["priority_override"], 90);
    // The actor is the editor.
    let (_, detail) = s.get(&format!("/api/v1/cases/{case_id}")).await;
    let history = detail["history"].as_array().unwrap();
    assert_eq!(history.len(), steps.len());
    assert!(history.iter().all(|h| h["actor_id"] == ed.id.as_str()));
    assert_eq!(history[0]["actor_name"], s.editor["name"]);
}

async fn illegal_transitions_are_409_listing_the_allowed_actions(b: Backend) {
    let app = staff::spawn(b).await;
    let ed = add(&app, Role::Editor, &[]).await;
    let s = login(&app, &ed).await;
    let fresh = report(&app, QUOTES[1], "typo", None).await;
    let triaged = report(&app, QUOTES[2], "typo", None).await;
    assert_eq!(s.act(&triaged, "triage", None).await.0, 200);
    let resolved = report(&app, QUOTES[3], "typo", None).await;
    assert_eq!(
        s.act(
            &resolved,
            "resolve",
            Some(json!({"resolution": "rejected"}))
        )
        .await
        .0,
        200
    );
    let reviewing = report(&app, QUOTES[4], "typo", None).await;
    assert_eq!(s.act(&reviewing, "claim", None).await.0, 200);

    let cases: [(&str, &str, Option<Value>, &[&str]); 8] = [
        (
            &fresh,
            "reopen",
            None,
            &["triage", "claim", "assign", "note", "priority", "resolve"],
        ),
        (
            &fresh,
            "unassign",
            None,
            &["triage", "claim", "assign", "note", "priority", "resolve"],
        ),
        (
            &triaged,
            "triage",
            None,
            &["claim", "assign", "note", "priority", "resolve"],
        ),
        (
            &reviewing,
            "claim",
            None,
            &["assign", "note", "priority", "resolve", "unassign"],
        ),
        (
            &reviewing,
            "triage",
            None,
            &["assign", "note", "priority", "resolve", "unassign"],
        ),
        (&resolved, "claim", None, &["reopen", "note"]),
        (
            &resolved,
            "resolve",
            Some(json!({"resolution": "spam"})),
            &["reopen", "note"],
        ),
        (
            &resolved,
            "priority",
            Some(json!({"priority": 1})),
            &["reopen", "note"],
        ),
    ];
    for (id, action, body, allowed) in cases {
        let before = audit_of(&app, id).await.len();
        let (status, p) = s.act(id, action, body).await;
        assert_eq!(status, 409, "{action}: {p}");
        assert_eq!(p["code"], "illegal_transition");
        assert_eq!(p["allowed"], json!(allowed), "{action}");
        assert!(p["case_status"].is_string());
        assert_eq!(
            audit_of(&app, id).await.len(),
            before,
            "a refusal is not audited"
        );
    }
    // The case page lists the same actions.
    let (_, d) = s.get(&format!("/api/v1/cases/{resolved}")).await;
    assert_eq!(d["case"]["allowed_actions"], json!(["reopen", "note"]));
    // Unknown and malformed ids are 404.
    let unknown = uuid::Uuid::now_v7();
    assert_eq!(s.act(&unknown.to_string(), "claim", None).await.0, 404);
    assert_eq!(s.act("not-a-case", "claim", None).await.0, 404);
}

async fn concurrent_claims_have_exactly_one_winner(b: Backend) {
    let app = staff::spawn(b).await;
    staff::article(&app, "race", Some("international"), 30).await;
    let a = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let z = login(&app, &add(&app, Role::Editor, &["international"]).await).await;
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(case_on(&app, "race", i, "typo").await);
    }
    // Every pair races at once, and all pairs run together.
    let races = ids.iter().map(|id| {
        let (a, z) = (&a, &z);
        async move {
            let (ra, rz) = tokio::join!(a.act(id, "claim", None), z.act(id, "claim", None));
            (id.clone(), ra, rz)
        }
    });
    let results = futures::future::join_all(races).await;
    let mut wins = [0, 0];
    for (id, (sa, pa), (sz, pz)) in results {
        let mut codes = [sa, sz];
        codes.sort_unstable();
        assert_eq!(codes, [200, 409], "{id}: {pa} / {pz}");
        let (winner, loser) = if sa == 200 { (&a, &pz) } else { (&z, &pa) };
        wins[usize::from(sa != 200)] += 1;
        assert_eq!(loser["code"], "already_claimed");
        assert_eq!(loser["assignee_id"], winner.editor["id"]);
        let (_, d) = a.get(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(d["case"]["assignee"]["id"], winner.editor["id"]);
        let claims = audit_of(&app, &id)
            .await
            .iter()
            .filter(|(a, _, _)| a == "claim")
            .count();
        assert_eq!(claims, 1, "one claim audited");
    }
    assert_eq!(wins[0] + wins[1], 30);
}

async fn resolving_validates_and_frees_the_sentence(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let case_id = report(&app, QUOTES[0], "factual_error", None).await;
    let other = report(&app, QUOTES[1], "factual_error", None).await;
    let refusals = [
        (json!({"resolution": "corrected"}), "public_note"),
        (
            json!({"resolution": "updated", "public_note": "  "}),
            "public_note",
        ),
        (json!({"resolution": "duplicate"}), "duplicate_of"),
        (
            json!({"resolution": "duplicate", "duplicate_of": case_id}),
            "duplicate_of",
        ),
        (
            json!({"resolution": "duplicate", "duplicate_of": uuid::Uuid::now_v7()}),
            "duplicate_of",
        ),
        (
            json!({"resolution": "rejected", "duplicate_of": other}),
            "duplicate_of",
        ),
        (
            json!({"resolution": "spam", "public_note": "Du spam."}),
            "public_note",
        ),
        (json!({"resolution": "fixed"}), "resolution"),
    ];
    for (body, field) in refusals {
        let (status, p) = s.act(&case_id, "resolve", Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{body}");
    }
    let (status, answer) = s
        .act(
            &case_id,
            "resolve",
            Some(json!({"resolution": "clarified", "public_note": "La date est celle du communiqué ukrainien."})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer["case"]["resolution"], "clarified");
    assert_eq!(answer["correction"]["kind"], "clarified");
    assert_eq!(
        answer["correction"]["sentence_before"],
        answer["case"]["sentence_text"]
    );

    // The sentence is free: a new report opens a new case...
    let newer = report(&app, QUOTES[0], "typo", None).await;
    assert_ne!(newer, case_id);
    // ...so the old one cannot be reopened while the new one is open.
    let (status, p) = s.act(&case_id, "reopen", None).await;
    assert_eq!(status, 409);
    assert_eq!(p["code"], "sentence_has_open_case");
    assert_eq!(p["open_case_id"], newer.as_str());
    // Resolving the new one as its duplicate frees the sentence again.
    let (status, answer) = s
        .act(
            &newer,
            "resolve",
            Some(json!({"resolution": "duplicate", "duplicate_of": case_id})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer["case"]["duplicate_of"], case_id.as_str());
    let (status, answer) = s.act(&case_id, "reopen", None).await;
    assert_eq!(status, 200);
    let case = &answer["case"];
    assert_eq!(
        (case["status"].as_str(), case["resolution"].as_str()),
        (Some("triaged"), None)
    );
    // A reopened case gathers the sentence's reports again; its published
    // correction stays published.
    assert_eq!(report(&app, QUOTES[0], "typo", None).await, case_id);
    let (_, list) = app.get_json("/api/v1/corrections").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // Cannot duplicate a case that duplicates this one.
    let (status, _) = s
        .act(
            &case_id,
            "resolve",
            Some(json!({"resolution": "duplicate", "duplicate_of": newer})),
        )
        .await;
    assert_eq!(status, 422);
}

async fn desks_and_assignees_are_enforced(b: Backend) {
    let app = staff::spawn(b).await;
    let sport = add(&app, Role::Editor, &["sport"]).await;
    let intl = add(&app, Role::Editor, &["international", "sport"]).await;
    let viewer = add(&app, Role::Viewer, &[]).await;
    let admin = add(&app, Role::Admin, &[]).await;
    let s_sport = login(&app, &sport).await;
    let s_intl = login(&app, &intl).await;
    let s_admin = login(&app, &admin).await;
    // The demo article is on the international desk.
    let case_id = report(&app, QUOTES[0], "typo", None).await;
    let (status, p) = s_sport.act(&case_id, "claim", None).await;
    assert_eq!((status, p["code"].as_str()), (403, Some("forbidden")));
    let (_, d) = s_sport.get(&format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(
        d["case"]["allowed_actions"],
        json!([]),
        "readable, not actionable"
    );

    for (who, why) in [(&viewer.id, "viewer"), (&sport.id, "desk")] {
        let (status, p) = s_intl
            .act(&case_id, "assign", Some(json!({"editor_id": who})))
            .await;
        assert_eq!(status, 422, "{why}");
        assert_eq!(p["code"], "invalid_assignee");
    }
    let (status, _) = s_intl
        .act(
            &case_id,
            "assign",
            Some(json!({"editor_id": uuid::Uuid::now_v7()})),
        )
        .await;
    assert_eq!(status, 422);
    // An admin may be assigned anything; then nobody else can claim.
    let (status, _) = s_intl
        .act(&case_id, "assign", Some(json!({"editor_id": admin.id})))
        .await;
    assert_eq!(status, 200);
    let (status, p) = s_intl.act(&case_id, "claim", None).await;
    assert_eq!((status, p["code"].as_str()), (409, Some("already_claimed")));
    let (_, d) = s_intl.get(&format!("/api/v1/cases/{case_id}")).await;
    assert!(
        !d["case"]["allowed_actions"]
            .as_array()
            .unwrap()
            .contains(&json!("claim"))
    );
    // The assignee claims it (starts the review).
    let (status, answer) = s_admin.act(&case_id, "claim", None).await;
    assert_eq!(
        (status, answer["case"]["status"].as_str()),
        (200, Some("in_review"))
    );
    // Validation of bodies.
    let (status, _) = s_intl
        .act(&case_id, "priority", Some(json!({"priority": 101})))
        .await;
    assert_eq!(status, 422);
    let (status, _) = s_intl
        .act(&case_id, "note", Some(json!({"body": ""})))
        .await;
    assert_eq!(status, 422);
    let (status, _) = s_intl
        .act(&case_id, "note", Some(json!({"text": "x"})))
        .await;
    assert_eq!(status, 422);
}

async fn bulk_resolve_handles_each_case_alone(b: Backend) {
    let app = staff::spawn(b).await;
    staff::article(&app, "spammed", Some("international"), 6).await;
    staff::article(&app, "sports", Some("sport"), 2).await;
    let ed = add(&app, Role::Editor, &["international"]).await;
    let s = login(&app, &ed).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(case_on(&app, "spammed", i, "other").await);
    }
    assert_eq!(
        s.act(&ids[4], "resolve", Some(json!({"resolution": "rejected"})))
            .await
            .0,
        200
    );
    let elsewhere = case_on(&app, "sports", 0, "other").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let mut asked = ids.clone();
    asked.extend([elsewhere.clone(), unknown.clone(), ids[0].clone()]);
    let (status, answer) = s
        .post(
            "/api/v1/cases/resolve",
            Some(&json!({"case_ids": asked, "resolution": "spam"})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["resolved"], 4);
    let outcomes: Vec<&str> = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "resolved",
            "resolved",
            "resolved",
            "resolved",
            "illegal_transition",
            "forbidden",
            "case_not_found"
        ],
        "duplicates in the list are resolved once"
    );
    for id in &ids[..4] {
        let audit = audit_of(&app, id).await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].2.as_ref().unwrap()["resolution"], "spam");
    }
    // Spam is out of the queue unless asked for.
    let (_, q) = s.get("/api/v1/queue?status=all&article=spammed").await;
    assert_eq!(
        q["items"].as_array().unwrap().len(),
        1,
        "only the rejected one"
    );
    let (_, q) = s
        .get("/api/v1/queue?status=resolved&resolution=spam&article=spammed")
        .await;
    assert_eq!(q["items"].as_array().unwrap().len(), 4);

    for (body, field) in [
        (
            json!({"case_ids": [ids[0]], "resolution": "corrected", "public_note": "x"}),
            "resolution",
        ),
        (json!({"case_ids": [], "resolution": "spam"}), "case_ids"),
        (
            json!({"case_ids": ["nope"], "resolution": "spam"}),
            "case_ids[0]",
        ),
    ] {
        let (status, p) = s.post("/api/v1/cases/resolve", Some(&body)).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(p["errors"][0]["field"], field);
    }
}

async fn case_page_shows_context_reports_notes_and_history(b: Backend) {
    let app = staff::spawn(b).await;
    let ed = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let viewer = login(&app, &add(&app, Role::Viewer, &[]).await).await;
    let case_id = report(
        &app,
        "le 3 octobre",
        "factual_error",
        Some("lectrice@example.org"),
    )
    .await;
    assert_eq!(
        report(&app, "six officiers", "misleading", None).await,
        case_id
    );
    let (status, _) = ed
        .act(
            &case_id,
            "note",
            Some(json!({"body": "Le communiqué dit <b>4</b> octobre."})),
        )
        .await;
    assert_eq!(status, 200);

    let (status, d) = ed.get(&format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(status, 200);
    let article = app.demo_article().await;
    let sentences = article["sentences"].as_array().unwrap();
    let i = sentences
        .iter()
        .position(|s| s["text"].as_str().unwrap().contains("le 3 octobre"))
        .unwrap();
    let ctx = &d["context"];
    assert_eq!(ctx["found"], "current");
    assert_eq!(ctx["sentence"]["id"], sentences[i]["id"]);
    assert_eq!(ctx["previous"]["id"], sentences[i - 1]["id"]);
    assert_eq!(ctx["next"]["id"], sentences[i + 1]["id"]);
    assert_eq!(d["case"]["article"]["external_id"], DEMO);
    assert_eq!(d["case"]["report_count"], 2);
    let reports = d["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["reporter_email"], "lectrice@example.org");
    assert_eq!(reports[0]["notify"], true);
    assert_eq!(reports[0]["category"], "factual_error");
    assert!(reports[0]["comment"].is_string() && reports[0]["reference"].is_string());
    assert_eq!(d["notes"][0]["body"], "Le communiqué dit <b>4</b> octobre.");
    assert_eq!(d["notes"][0]["author"]["id"], ed.editor["id"]);
    assert_eq!(d["history"].as_array().unwrap().len(), 1);
    let categories: Vec<&str> = d["case"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category"].as_str().unwrap())
        .collect();
    assert_eq!(categories, ["factual_error", "misleading"]);

    // Viewers read everything but the readers' addresses.
    let (status, v) = viewer.get(&format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(status, 200);
    assert!(!v.to_string().contains("lectrice@example.org"));
    assert!(v["reports"][0].get("reporter_email").is_none());
    assert_eq!(v["case"]["allowed_actions"], json!([]));

    // After an edit of the sentence, the context follows the new text.
    let mut body: Vec<String> = Vec::new();
    let mut current = 0;
    for s in sentences {
        let p = s["paragraph"].as_i64().unwrap();
        if p == 0 {
            continue;
        }
        let text = s["text"]
            .as_str()
            .unwrap()
            .replace("le 3 octobre", "le 4 octobre");
        if p != current {
            body.push(String::new());
            current = p;
        }
        let last = body.last_mut().unwrap();
        if !last.is_empty() {
            last.push(' ');
        }
        last.push_str(&text);
    }
    let r = app
        .put_article(
            DEMO,
            &json!({"url": article["url"], "title": article["title"], "language": "fr",
                "desk": "international", "body_text": body.join("\n\n")}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let (_, d) = ed.get(&format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(d["case"]["anchor_state"], "possibly_fixed");
    assert_eq!(d["context"]["found"], "successor");
    assert!(
        d["context"]["sentence"]["text"]
            .as_str()
            .unwrap()
            .contains("le 4 octobre")
    );
    assert_eq!(d["context"]["revision"], 2);
}

async fn audit_log_is_append_only(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let case_id = report(&app, QUOTES[0], "typo", None).await;
    assert_eq!(s.act(&case_id, "triage", None).await.0, 200);
    for statement in [
        "UPDATE audit_log SET action = 'forged'",
        "DELETE FROM audit_log",
    ] {
        let refused = app
            .app_state
            .write(move |conn| {
                use diesel::{Connection, RunQueryDsl};
                // In a savepoint: on PostgreSQL an error spoils the transaction.
                Ok(conn
                    .transaction(|c| diesel::sql_query(statement).execute(c))
                    .is_err())
            })
            .await
            .unwrap();
        assert!(refused, "{statement}");
    }
    assert_eq!(audit_of(&app, &case_id).await[0].0, "triage");
}
