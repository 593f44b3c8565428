//! Issue 13, items 2–4: short case numbers (shown everywhere, accepted
//! wherever a case id is, unique across instances), similar cases (the
//! sentence's lineage and near-duplicate reports, linked on arrival) and the
//! memory of corrections (marked, not escalated for freshness, resolved in
//! one action).

use diesel::prelude::*;
use erratum::domain::editor::Role;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, test_settings};
use crate::staff::{self, Session, add, article, audit_of, case_on, login};

backend_tests!(
    numbers_are_shown_and_accepted_wherever_a_case_id_is,
    numbers_stay_unique_with_two_instances_filing_at_once,
    near_duplicate_and_unrelated_report_pairs,
    similar_cases_follow_the_sentence_across_revisions,
    an_already_corrected_sentence_is_marked_and_resolved_in_one_action,
    the_already_corrected_note_speaks_the_articles_language,
    the_migration_numbers_existing_cases_in_creation_order,
);

/// File a report with this comment on sentence `i` of an article made by
/// `staff::article`; answers the receipt.
async fn file(app: &TestApp, external_id: &str, i: usize, comment: &str) -> Value {
    let r = app
        .post_report(
            external_id,
            &json!({"quote": {"exact": format!("k{i}x")}, "category": "factual_error",
                "comment": comment}),
        )
        .await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

async fn case(s: &Session, id: &str) -> Value {
    let (status, body) = s.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn page(s: &Session, app: &TestApp, path: &str) -> (u16, String) {
    let r = s.client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn numbers_are_shown_and_accepted_wherever_a_case_id_is(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    article(&app, "nums", None, 4).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(case_on(&app, "nums", i, "typo").await);
    }

    // Numbered in creation order, shown in the queue.
    let (status, q) = s.get("/api/v1/queue?sort=oldest&article=nums").await;
    assert_eq!(status, 200);
    let items = q["items"].as_array().unwrap();
    let got: Vec<(&str, i64)> = items
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c["number"].as_i64().unwrap()))
        .collect();
    assert_eq!(got.len(), 3);
    for (k, (id, n)) in got.iter().enumerate() {
        assert_eq!(*id, ids[k]);
        if k > 0 {
            assert!(*n > got[k - 1].1, "creation order: {got:?}");
        }
    }
    let num = |k: usize| got[k].1;

    // The API case routes take the number (with or without `#`).
    let d = case(&s, &num(0).to_string()).await;
    assert_eq!(d["case"]["id"], ids[0]);
    assert_eq!(
        case(&s, &format!("%23{}", num(1))).await["case"]["id"],
        ids[1]
    );
    let (status, p) = s.get("/api/v1/cases/999999").await;
    assert_eq!(
        (status, p["type"].as_str()),
        (404, Some("urn:erratum:problem:case_not_found"))
    );
    let (status, _) = s.act(&num(2).to_string(), "triage", None).await;
    assert_eq!(status, 200);

    // Search `#n` finds that case whatever its status; plain digits stay words.
    let (_, q) = s.get(&format!("/api/v1/queue?q=%23{}", num(1))).await;
    let found: Vec<&str> = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(found, vec![ids[1].as_str()]);

    // duplicate_of by number.
    let (status, p) = s
        .act(
            &ids[0],
            "resolve",
            Some(json!({"resolution": "duplicate", "duplicate_of": "#999999"})),
        )
        .await;
    assert_eq!(
        (status, p["errors"][0]["field"].as_str()),
        (422, Some("duplicate_of"))
    );
    let (status, a) = s
        .act(
            &ids[0],
            "resolve",
            Some(json!({"resolution": "duplicate", "duplicate_of": format!("#{}", num(1))})),
        )
        .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["case"]["duplicate_of"], ids[1]);
    assert_eq!(a["case"]["duplicate_of_number"], num(1));
    let (_, q) = s.get(&format!("/api/v1/queue?q=%23{}", num(0))).await;
    assert_eq!(q["items"][0]["status"], "resolved", "found though resolved");

    // Audit entries carry the number.
    let trail = audit_of(&app, &ids[0]).await;
    let (action, _, after) = trail.last().unwrap();
    assert_eq!(action, "resolve");
    assert_eq!(after.as_ref().unwrap()["number"], num(0));

    // Pages: the URL takes the number; the page and the queue show it; the
    // form takes a typed number.
    let (status, html) = page(&s, &app, &format!("/editor/cases/{}", num(2))).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("#{}", num(2))), "{html}");
    let (_, html) = page(&s, &app, "/editor/?article=nums").await;
    assert!(
        html.contains(&format!("data-field=\"number\">#{}<", num(2))),
        "{html}"
    );
    let r = s
        .client
        .post(app.url(&format!("/editor/cases/{}/resolve", num(2))))
        .form(&[
            ("csrf_token", s.csrf.as_str()),
            ("resolution", "duplicate"),
            ("duplicate_of", ""),
            ("duplicate_number", &format!("#{}", num(1))),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let d = case(&s, &ids[2]).await;
    assert_eq!(d["case"]["duplicate_of"], ids[1]);
    let (status, _) = page(&s, &app, "/editor/cases/0").await;
    assert_eq!(status, 404);
}

/// Two instances on one database file reports at once on different
/// sentences: every case gets its own number.
async fn numbers_stay_unique_with_two_instances_filing_at_once(b: Backend) {
    let app = staff::spawn(b).await;
    let other = erratum::startup::Application::build(test_settings(&app.database_url, ""))
        .await
        .expect("a second instance starts");
    let other_url = format!("http://127.0.0.1:{}", other.port());
    let handle = other.server_handle();
    tokio::spawn(other.run_until_stopped());
    article(&app, "twin", None, 8).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let base = if i % 2 == 0 {
            app.address.clone()
        } else {
            other_url.clone()
        };
        let client = app.client.clone();
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(format!("{base}/api/v1/articles/twin/reports"))
                .json(
                    &json!({"quote": {"exact": format!("k{i}x")}, "category": "typo",
                    "comment": format!("Remarque jumelle {i}.")}),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    handle.stop(false).await;
    let numbers: Vec<i32> = app
        .app_state
        .read(|conn| {
            use erratum::db::schema::{articles, cases};
            Ok(cases::table
                .inner_join(articles::table)
                .filter(articles::external_id.eq("twin"))
                .select(cases::number)
                .load(conn)?)
        })
        .await
        .unwrap();
    let mut distinct = numbers.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(numbers.len(), 8);
    assert_eq!(distinct.len(), 8, "{numbers:?}");
    assert!(distinct.iter().all(|n| *n > 0));
}

/// Pairs a desk would call one complaint, and pairs it would not: the
/// second report, on another sentence, is linked to the first's case on
/// arrival only for the first kind.
const PAIRS: &[(&str, &str, bool)] = &[
    (
        "The armistice was signed in 1953, not 1952.",
        "Armistice signed in 1953 not in 1952!",
        true,
    ),
    (
        "Le ministre s'appelle Jean Dupont, pas Jean Dupond.",
        "Erreur de nom : le ministre s'appelle Jean Dupont et non Dupond.",
        true,
    ),
    (
        "The population figure is wrong: it is 51 million.",
        "Wrong population figure, it's 51 million people",
        true,
    ),
    (
        "The armistice was signed in 1953, not 1952.",
        "The photo caption names the wrong city.",
        false,
    ),
    (
        "Le ministre s'appelle Jean Dupont, pas Jean Dupond.",
        "Le lien vers le rapport ne fonctionne plus.",
        false,
    ),
    (
        "Typo: 'goverment' should be 'government'.",
        "The population figure is wrong: it is 51 million.",
        false,
    ),
];

async fn near_duplicate_and_unrelated_report_pairs(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    for (k, (first, second, near)) in PAIRS.iter().enumerate() {
        let ext = format!("pair-{k}");
        article(&app, &ext, None, 3).await;
        let a = file(&app, &ext, 0, first).await;
        let bb = file(&app, &ext, 1, second).await;
        let d = case(&s, bb["case_id"].as_str().unwrap()).await;
        let linked = &d["case"]["possible_duplicate_of"];
        let near_listed = d["similar"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == a["case_id"] && c["reason"] == "near_duplicate");
        if *near {
            assert_eq!(linked["id"], a["case_id"], "{first:?} / {second:?}");
            assert!(linked["number"].as_i64().unwrap() > 0);
            assert!(near_listed, "{first:?} / {second:?}: {}", d["similar"]);
        } else {
            assert!(linked.is_null(), "{first:?} / {second:?}: {linked}");
            assert!(!near_listed, "{first:?} / {second:?}");
        }
    }
    // The link shows in the queue row too.
    let (_, q) = s.get("/api/v1/queue?article=pair-0").await;
    let linked: Vec<&Value> = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["possible_duplicate_of"].is_null())
        .collect();
    assert_eq!(linked.len(), 1);
}

async fn similar_cases_follow_the_sentence_across_revisions(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    article(&app, "lin", None, 3).await;
    let first = file(
        &app,
        "lin",
        0,
        "Le chiffre est faux, il s'agit de 12 dossiers.",
    )
    .await;
    let first_id = first["case_id"].as_str().unwrap();
    let (status, _) = s
        .act(first_id, "resolve", Some(json!({"resolution": "rejected"})))
        .await;
    assert_eq!(status, 200);
    // Sentence 0 is edited: its new text continues the same lineage.
    let body: Vec<String> = (0..3)
        .map(|i| {
            if i == 0 {
                "Le dossier k0x avance très lentement.".to_string()
            } else {
                format!("Le dossier k{i}x avance lentement.")
            }
        })
        .collect();
    let r = app
        .put_article(
            "lin",
            &json!({"url": "https://news.example/lin", "title": "Article lin", "language": "fr",
                "body_text": body.join("\n\n")}),
        )
        .await;
    assert!(r.status().is_success());
    let again = file(
        &app,
        "lin",
        0,
        "Toujours une erreur de date sur ce passage.",
    )
    .await;
    let unrelated = file(&app, "lin", 2, "Une autre remarque sans aucun rapport ici.").await;
    assert_ne!(again["case_id"], first_id, "a new case on the new sentence");
    let d = case(&s, again["case_id"].as_str().unwrap()).await;
    let similar = d["similar"].as_array().unwrap();
    assert_eq!(similar.len(), 1, "{similar:?}");
    assert_eq!(similar[0]["id"], first_id);
    assert_eq!(similar[0]["reason"], "same_sentence");
    assert_eq!(similar[0]["resolution"], "rejected");
    assert!(similar[0]["number"].as_i64().unwrap() > 0);
    assert!(similar.iter().all(|c| c["id"] != unrelated["case_id"]));

    // The case page lists it with "duplicate of this" and the picker.
    let num = similar[0]["number"].as_i64().unwrap();
    let (_, html) = page(
        &s,
        &app,
        &format!("/editor/cases/{}", again["case_id"].as_str().unwrap()),
    )
    .await;
    assert!(html.contains(&format!("data-similar=\"{num}\"")), "{html}");
    assert!(html.contains("id=\"duplicate-picker\""));
    assert!(html.contains(&format!("name=\"duplicate_of\" value=\"{num}\" checked")));
}

const NOTE: &str = "Le dossier compte 12 pièces, et non 10 <b>.";

async fn an_already_corrected_sentence_is_marked_and_resolved_in_one_action(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    article(&app, "mem", None, 3).await;
    let first = file(&app, "mem", 0, "Il y a 12 pièces au dossier, pas 10.").await;
    let first_id = first["case_id"].as_str().unwrap();
    let (status, a) = s
        .act(
            first_id,
            "resolve",
            Some(json!({"resolution": "corrected", "public_note": NOTE})),
        )
        .await;
    assert_eq!(status, 200, "{a}");
    let correction_id = a["correction"]["id"].as_str().unwrap().to_string();
    let first_number = a["case"]["number"].as_i64().unwrap();

    // A new report on the corrected sentence, and a fresh one elsewhere.
    let again = file(&app, "mem", 0, "Erreur : le dossier compte 12 pièces.").await;
    let again_id = again["case_id"].as_str().unwrap().to_string();
    let fresh = file(&app, "mem", 1, "Autre erreur factuelle sur ce passage-ci.").await;
    let fresh_id = fresh["case_id"].as_str().unwrap().to_string();
    let d = case(&s, &again_id).await;
    let k = &d["case"]["already_corrected"];
    assert_eq!(k["correction_id"], correction_id.as_str());
    assert_eq!(k["text"], NOTE);
    assert_eq!(k["case"]["number"], first_number);
    assert!(k["date"].as_str().unwrap().ends_with('Z'));
    assert!(case(&s, &fresh_id).await["case"]["already_corrected"].is_null());

    // In the queue too; and no freshness: below an alike fresh case.
    let (_, q) = s.get("/api/v1/queue?article=mem").await;
    let item = |id: &str| {
        q["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(item(&again_id)["already_corrected"]["text"], NOTE);
    assert!(
        item(&again_id)["priority"].as_f64().unwrap() + 10.0
            < item(&fresh_id)["priority"].as_f64().unwrap(),
        "{} vs {}",
        item(&again_id)["priority"],
        item(&fresh_id)["priority"]
    );
    // Not escalated as a fresh factual error (the other one is).
    let escalated: Vec<(String, bool)> = {
        let ids = vec![again_id.clone(), fresh_id.clone()];
        app.app_state
            .read(move |conn| {
                use erratum::db::schema::cases;
                Ok(cases::table
                    .filter(cases::id.eq_any(ids))
                    .select((cases::id, cases::escalated_at.is_not_null()))
                    .load(conn)?)
            })
            .await
            .unwrap()
    };
    for (id, e) in escalated {
        assert_eq!(e, id == fresh_id, "{id}");
    }

    // The editors' new-case email says so.
    let rows = app.outbox_rows().await;
    let email = rows
        .iter()
        .find(|r| r.kind == "new_case" && r.case_id.as_deref() == Some(&again_id))
        .expect("a new-case email");
    let payload: Value = serde_json::from_str(&email.payload).unwrap();
    assert_eq!(
        payload["content"]["case"]["already_corrected"]["text"],
        NOTE
    );
    assert!(payload["content"]["case"]["number"].as_i64().unwrap() > 0);

    // The pages show it, with the one action.
    let (_, html) = page(&s, &app, &format!("/editor/cases/{again_id}")).await;
    assert!(html.contains("data-field=\"already-corrected\""), "{html}");
    assert!(html.contains(&format!("/editor/cases/{again_id}/already-corrected")));
    assert!(html.contains("12 pièces, et non 10 &lt;b&gt;."), "escaped");
    let (_, html) = page(&s, &app, "/editor/?article=mem").await;
    assert!(html.contains("data-field=\"already-corrected\""));

    // A case whose sentence has no correction cannot use it.
    let (status, p) = s.act(&fresh_id, "already-corrected", None).await;
    assert_eq!(
        (status, p["type"].as_str()),
        (409, Some("urn:erratum:problem:not_already_corrected"))
    );
    // One action: no_change with a note pointing to the correction.
    let (status, a) = s.act(&again_id, "already-corrected", None).await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["case"]["resolution"], "no_change");
    let note = a["case"]["public_note"].as_str().unwrap();
    assert!(
        note.contains(NOTE) && note.contains("https://news.example/mem"),
        "{note}"
    );
    assert!(a["correction"].is_null(), "no new correction");

    // An edited sentence keeps the memory: a report on its new text is
    // already corrected too.
    let body: Vec<String> = (0..3)
        .map(|i| {
            if i == 0 {
                "Le dossier k0x compte 12 pièces.".to_string()
            } else {
                format!("Le dossier k{i}x avance lentement.")
            }
        })
        .collect();
    let r = app
        .put_article(
            "mem",
            &json!({"url": "https://news.example/mem", "title": "Article mem", "language": "fr",
                "body_text": body.join("\n\n")}),
        )
        .await;
    assert!(r.status().is_success());
    let later = file(&app, "mem", 0, "Le nombre de pièces semble encore faux.").await;
    let d = case(&s, later["case_id"].as_str().unwrap()).await;
    assert_eq!(
        d["case"]["already_corrected"]["correction_id"],
        correction_id.as_str()
    );
    // From the page, the same action.
    let r = s
        .client
        .post(app.url(&format!(
            "/editor/cases/{}/already-corrected",
            d["case"]["number"]
        )))
        .form(&[("csrf_token", s.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let d = case(&s, later["case_id"].as_str().unwrap()).await;
    assert_eq!(d["case"]["resolution"], "no_change");
}

/// Existing cases get their numbers from the migration, in creation order,
/// and the next case follows them.
async fn the_migration_numbers_existing_cases_in_creation_order(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    article(&app, "old", None, 4).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(case_on(&app, "old", i, "typo").await);
    }
    let (url, sqlite, moved) = (app.database_url.clone(), b == Backend::Sqlite, ids.clone());
    tokio::task::spawn_blocking(move || {
        let (pool, _) = erratum::db::connect(&url, 1, std::time::Duration::from_secs(10)).unwrap();
        let mut conn = pool.get().unwrap();
        // Back to the schema before the migration…
        let down = if sqlite {
            include_str!("../../migrations/sqlite/2026-12-04-000100_case_memory/down.sql")
        } else {
            include_str!("../../migrations/postgres/2026-12-04-000100_case_memory/down.sql")
        };
        for stmt in down.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            diesel::sql_query(stmt).execute(&mut *conn).unwrap();
        }
        diesel::sql_query(
            "DELETE FROM __diesel_schema_migrations WHERE version = '20261204000100'",
        )
        .execute(&mut *conn)
        .unwrap();
        // …with a creation order opposite to the order of filing.
        for (k, id) in moved.iter().enumerate() {
            use erratum::db::schema::cases;
            let t = erratum::db::now() - chrono::Duration::hours(10 * k as i64 + 10);
            diesel::update(cases::table.find(id))
                .set(cases::created_at.eq(t))
                .execute(&mut *conn)
                .unwrap();
        }
        erratum::db::migrate(&mut conn).unwrap();
    })
    .await
    .unwrap();
    let mut numbers = Vec::new();
    for id in &ids {
        numbers.push(case(&s, id).await["case"]["number"].as_i64().unwrap());
    }
    assert!(
        numbers[2] < numbers[1] && numbers[1] < numbers[0],
        "{numbers:?}"
    );
    let next = case_on(&app, "old", 3, "typo").await;
    let n = case(&s, &next).await["case"]["number"].as_i64().unwrap();
    assert!(n > numbers[0], "{n} after {numbers:?}");
}

/// The note comes from the article's catalog (`[memory]`): a Spanish
/// article's readers read it in Spanish.
async fn the_already_corrected_note_speaks_the_articles_language(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let r = app
        .put_article(
            "esp",
            &json!({"url": "https://news.example/esp", "title": "Artículo", "language": "es",
                "body_text": "El expediente k0x avanza.\n\nEl expediente k1x avanza."}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let first = file(&app, "esp", 0, "Son doce piezas, no diez.").await;
    let (status, a) = s
        .act(
            first["case_id"].as_str().unwrap(),
            "resolve",
            Some(json!({"resolution": "corrected", "public_note": "Son {quote} doce."})),
        )
        .await;
    assert_eq!(status, 200, "{a}");
    let again = file(&app, "esp", 0, "Otra vez: son doce piezas.").await;
    let (status, a) = s
        .act(
            again["case_id"].as_str().unwrap(),
            "already-corrected",
            None,
        )
        .await;
    assert_eq!(status, 200, "{a}");
    let note = a["case"]["public_note"].as_str().unwrap();
    assert!(
        note.starts_with("Gracias: este error ya se había corregido el "),
        "{note}"
    );
    // The correction is quoted as written, placeholders and all.
    assert!(note.contains("«Son {quote} doce.»"), "{note}");
    assert!(note.ends_with("https://news.example/esp"), "{note}");
}
