use chrono::NaiveDateTime;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, DEMO, TestApp};

backend_tests!(
    every_category_is_accepted_and_gathered_in_one_case,
    anchoring_by_id_quote_context_and_span,
    bad_reports_are_refused_and_store_nothing,
    honeypot_is_stored_as_spam_and_looks_normal,
    idempotency_key_replays_first_answer,
    duplicate_comment_from_same_client_is_answered_with_first_reference,
    rate_limits_per_ip_article_and_sentence,
    status_link_shows_only_this_report,
    english_article_gets_english_message,
    a_batch_of_reports_is_filed_as_one_after_another,
    a_batch_over_several_cases_counts_each_case,
);

/// Count rows in reports and cases.
async fn counts(app: &TestApp) -> (i64, i64) {
    app.app_state
        .read(|conn| {
            use diesel::prelude::*;
            use erratum::db::schema::{cases, reports};
            Ok((
                reports::table.count().get_result(conn)?,
                cases::table.count().get_result(conn)?,
            ))
        })
        .await
        .unwrap()
}

async fn every_category_is_accepted_and_gathered_in_one_case(b: Backend) {
    let app = TestApp::spawn(b).await;
    let categories = [
        "factual_error",
        "typo",
        "outdated",
        "misleading",
        "missing_context",
        "translation",
        "broken_link",
        "other",
    ];
    let mut case_ids = Vec::new();
    for (i, category) in categories.iter().enumerate() {
        let r = app
            .post_report(
                DEMO,
                &json!({
                    "quote": {"exact": "six officiers nord-coréens"},
                    "category": category,
                    "comment": format!("Remarque {i} sur la phrase."),
                    "suggested_correction": "cinq officiers",
                    "sources": ["https://example.org/source"],
                    "reporter": {"email": format!("lecteur{i}@example.org"), "notify": true},
                }),
            )
            .await;
        assert_eq!(r.status(), 201, "{category}");
        let receipt: Value = r.json().await.unwrap();
        let reference = receipt["reference"].as_str().unwrap();
        assert!(
            reference.len() == 11 && reference.starts_with("ERR-") && &reference[8..9] == "-",
            "{reference}"
        );
        let status_url = receipt["status_url"].as_str().unwrap();
        assert!(
            status_url.starts_with(&format!("{}/r/", app.address)),
            "{status_url}"
        );
        let token = status_url.rsplit('/').next().unwrap();
        assert!(token.len() >= 22, "a token of at least 128 bits");
        assert_eq!(
            receipt["message"],
            "Merci ! Nous étudierons vos commentaires dans les plus brefs délais."
        );
        case_ids.push(receipt["case_id"].as_str().unwrap().to_string());
    }
    case_ids.dedup();
    assert_eq!(
        case_ids.len(),
        1,
        "reports on one sentence gather into one case"
    );

    let (reports, cases) = counts(&app).await;
    assert_eq!((reports, cases), (8, 1));
    let (count, reporters, categories, stored_hash_only) = app
        .app_state
        .read(|conn| {
            use diesel::prelude::*;
            use erratum::db::schema::{cases, reports};
            let (count, reporters, categories) = cases::table
                .select((
                    cases::report_count,
                    cases::reporter_count,
                    cases::categories,
                ))
                .first::<(i32, i32, String)>(conn)?;
            let tokens: Vec<String> = reports::table
                .select(reports::status_token_hash)
                .load(conn)?;
            Ok((
                count,
                reporters,
                categories,
                tokens.iter().all(|t| t.len() == 64),
            ))
        })
        .await
        .unwrap();
    assert_eq!((count, reporters), (8, 8));
    let categories: Value = serde_json::from_str(&categories).unwrap();
    assert_eq!(categories.as_object().unwrap().len(), 8);
    assert!(stored_hash_only);
}

async fn anchoring_by_id_quote_context_and_span(b: Backend) {
    let app = TestApp::spawn(b).await;
    let body = json!({
        "url": "https://news.example/a", "title": "Titre", "language": "fr",
        "body_text": "Le chat dort. Le chien aboie. Le chat mange.",
    });
    let article: Value = app
        .put_article("anchors", &body)
        .await
        .json()
        .await
        .unwrap();
    let id = |i: usize| article["sentences"][i]["id"].as_str().unwrap().to_string();
    let sentence_of = |app: &TestApp, report_id: String| {
        let state = app.app_state.clone();
        async move {
            state
                .read(move |conn| {
                    use diesel::prelude::*;
                    use erratum::db::schema::reports;
                    Ok(reports::table
                        .find(report_id)
                        .select((reports::sentence_id, reports::span_sentence_ids))
                        .first::<(String, String)>(conn)?)
                })
                .await
                .unwrap()
        }
    };
    let post = |quote: Value, sentence_id: Option<String>, n: u32| {
        let mut body =
            json!({"quote": quote, "category": "typo", "comment": format!("commentaire {n}")});
        if let Some(s) = sentence_id {
            body["sentence_id"] = json!(s);
        }
        body
    };
    // By id.
    let r: Value = app
        .post_report(
            "anchors",
            &post(json!({"exact": "Le chat"}), Some(id(3)), 1),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        sentence_of(&app, r["report_id"].as_str().unwrap().into())
            .await
            .0,
        id(3)
    );
    // By quote alone.
    let r: Value = app
        .post_report("anchors", &post(json!({"exact": "aboie"}), None, 2))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        sentence_of(&app, r["report_id"].as_str().unwrap().into())
            .await
            .0,
        id(2)
    );
    // A repeat without context is ambiguous; prefix or suffix decide.
    let r = app
        .post_report("anchors", &post(json!({"exact": "Le chat"}), None, 3))
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "ambiguous_quote");
    let r: Value = app
        .post_report(
            "anchors",
            &post(
                json!({"exact": "Le chat", "prefix": "chien aboie."}),
                None,
                4,
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        sentence_of(&app, r["report_id"].as_str().unwrap().into())
            .await
            .0,
        id(3)
    );
    let r: Value = app
        .post_report(
            "anchors",
            &post(json!({"exact": "Le chat", "suffix": " dort"}), None, 5),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        sentence_of(&app, r["report_id"].as_str().unwrap().into())
            .await
            .0,
        id(1)
    );
    // A span anchors to its first sentence and records every sentence.
    let r: Value = app
        .post_report(
            "anchors",
            &post(json!({"exact": "dort. Le chien  aboie"}), None, 6),
        )
        .await
        .json()
        .await
        .unwrap();
    let (first, span) = sentence_of(&app, r["report_id"].as_str().unwrap().into()).await;
    assert_eq!(first, id(1));
    assert_eq!(
        serde_json::from_str::<Vec<String>>(&span).unwrap(),
        vec![id(1), id(2)]
    );
}

async fn bad_reports_are_refused_and_store_nothing(b: Backend) {
    let app = TestApp::spawn(b).await;
    let demo = app.demo_article().await;
    let other = app
        .put_article("other", &json!({"url": "https://x.example/o", "title": "Autre", "language": "fr", "body_text": "Une phrase."}))
        .await
        .json::<Value>()
        .await
        .unwrap();
    let foreign_id = other["sentences"][1]["id"].as_str().unwrap();
    let demo_id = demo["sentences"][2]["id"].as_str().unwrap();
    let base = app.valid_report();
    let with = |patch: Value| {
        let mut b = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                b.as_object_mut().unwrap().remove(k);
            } else {
                b[k] = v.clone();
            }
        }
        b
    };
    let long = |n: usize| "é".repeat(n);
    let cases: Vec<(&str, Value, u16, &str, &str)> = vec![
        (
            "missing comment",
            with(json!({"comment": null})),
            422,
            "validation",
            "comment",
        ),
        (
            "missing quote",
            with(json!({"quote": null})),
            422,
            "validation",
            "quote",
        ),
        (
            "missing category",
            with(json!({"category": null})),
            422,
            "validation",
            "category",
        ),
        (
            "unknown category",
            with(json!({"category": "rumour"})),
            422,
            "validation",
            "category",
        ),
        (
            "comment wrong type",
            with(json!({"comment": 12})),
            422,
            "validation",
            "comment",
        ),
        (
            "sources wrong type",
            with(json!({"sources": "https://a.example"})),
            422,
            "validation",
            "sources",
        ),
        (
            "notify wrong type",
            with(json!({"reporter": {"email": "a@b.example", "notify": "yes"}})),
            422,
            "validation",
            "reporter.notify",
        ),
        (
            "blank comment",
            with(json!({"comment": "   "})),
            422,
            "validation",
            "comment",
        ),
        (
            "comment too long",
            with(json!({"comment": long(2001)})),
            422,
            "validation",
            "comment",
        ),
        (
            "suggestion too long",
            with(json!({"suggested_correction": long(1001)})),
            422,
            "validation",
            "suggested_correction",
        ),
        (
            "too many sources",
            with(
                json!({"sources": ["https://a.example/1","https://a.example/2","https://a.example/3","https://a.example/4","https://a.example/5","https://a.example/6"]}),
            ),
            422,
            "validation",
            "sources",
        ),
        (
            "javascript source",
            with(json!({"sources": ["javascript:alert(1)"]})),
            422,
            "validation",
            "sources[0]",
        ),
        (
            "ftp source",
            with(json!({"sources": ["https://ok.example", "ftp://files.example/x"]})),
            422,
            "validation",
            "sources[1]",
        ),
        (
            "source too long",
            with(json!({"sources": [format!("https://a.example/{}", "a".repeat(2050))]})),
            422,
            "validation",
            "sources[0]",
        ),
        (
            "bad email",
            with(json!({"reporter": {"email": "not-an-email", "notify": true}})),
            422,
            "validation",
            "reporter.email",
        ),
        (
            "header injection email",
            with(json!({"reporter": {"email": "a@b.example\r\nBcc: c@d.example", "notify": true}})),
            422,
            "validation",
            "reporter.email",
        ),
        (
            "control character",
            with(json!({"comment": "bad \u{0007} bell"})),
            422,
            "validation",
            "comment",
        ),
        (
            "bidi override",
            with(json!({"comment": "bad \u{202E} text"})),
            422,
            "validation",
            "comment",
        ),
        (
            "malformed sentence id",
            with(json!({"sentence_id": "not-a-uuid"})),
            422,
            "validation",
            "sentence_id",
        ),
        (
            "unknown sentence id",
            with(json!({"sentence_id": "01a00000-0000-7000-8000-000000000000"})),
            422,
            "unknown_sentence",
            "sentence_id",
        ),
        (
            "foreign sentence id",
            with(json!({"sentence_id": foreign_id})),
            422,
            "unknown_sentence",
            "sentence_id",
        ),
        (
            "quote not in sentence",
            with(json!({"sentence_id": demo_id, "quote": {"exact": "Pyongyang"}})),
            422,
            "quote_not_in_sentence",
            "quote.exact",
        ),
        (
            "quote not in article",
            with(json!({"quote": {"exact": "licorne"}})),
            422,
            "quote_not_found",
            "quote.exact",
        ),
        (
            "empty quote",
            with(json!({"quote": {"exact": " "}})),
            422,
            "validation",
            "quote.exact",
        ),
        (
            "unknown field",
            with(json!({"rating": 5})),
            422,
            "validation",
            "rating",
        ),
    ];
    for (name, body, status, code, field) in cases {
        let r = app.post_report(DEMO, &body).await;
        assert_eq!(r.status().as_u16(), status, "{name}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{name}"
        );
        let p: Value = r.json().await.unwrap();
        assert_eq!(
            p["type"],
            format!("urn:erratum:problem:{code}"),
            "{name}: {p}"
        );
        assert!(
            p["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{name}: expected field {field}: {p}"
        );
    }
    let r = app.post_report("no-such-article", &base).await;
    assert_eq!(r.status(), 404);
    assert_eq!(counts(&app).await, (0, 0), "no bad input stored anything");
}

async fn honeypot_is_stored_as_spam_and_looks_normal(b: Backend) {
    let app = TestApp::spawn(b).await;
    let mut body = app.valid_report();
    body["website"] = json!("http://spam.example");
    let r = app.post_report(DEMO, &body).await;
    assert_eq!(r.status(), 201);
    let receipt: Value = r.json().await.unwrap();
    assert!(receipt["reference"].as_str().unwrap().starts_with("ERR-"));
    let token = receipt["status_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let (s, status) = app
        .get_json(&format!("/api/v1/reports/status/{token}"))
        .await;
    assert_eq!((s, status["status"].as_str()), (200, Some("received")));

    // A real report on the same sentence opens its own, clean case.
    let real: Value = app
        .post_report(DEMO, &app.valid_report())
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(real["case_id"], receipt["case_id"]);
    let rows = app
        .app_state
        .read(|conn| {
            use diesel::prelude::*;
            use erratum::db::schema::{cases, reports};
            Ok(reports::table
                .inner_join(cases::table)
                .order(reports::created_at.asc())
                .select((
                    reports::is_spam,
                    cases::status,
                    cases::resolution,
                    cases::open_key.is_null(),
                    cases::report_count,
                ))
                .load::<(bool, String, Option<String>, bool, i32)>(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![
            (
                true,
                "resolved".to_string(),
                Some("spam".to_string()),
                true,
                1
            ),
            (false, "new".to_string(), None, false, 1),
        ]
    );
}

async fn idempotency_key_replays_first_answer(b: Backend) {
    let app = TestApp::spawn(b).await;
    let body = app.valid_report();
    let send = |key: &'static str, body: Value| {
        let req = app
            .client
            .post(app.url(&format!("/api/v1/articles/{DEMO}/reports")))
            .header("Idempotency-Key", key)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let first = send("key-1", body.clone()).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send("key-1", body.clone()).await;
    assert_eq!(again.status(), 201);
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        first, again,
        "the same key and body get the first answer, status link included"
    );
    assert_eq!(counts(&app).await.0, 1);

    let mut other = body.clone();
    other["comment"] = json!("Un autre texte.");
    let r = send("key-1", other).await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "idempotency_key_reused"
    );
    assert_eq!(counts(&app).await.0, 1);

    // The replayed link works.
    let token = again["status_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let (s, _) = app
        .get_json(&format!("/api/v1/reports/status/{token}"))
        .await;
    assert_eq!(s, 200);
}

async fn duplicate_comment_from_same_client_is_answered_with_first_reference(b: Backend) {
    let app = TestApp::spawn(b).await;
    let body = app.valid_report();
    let first = app.post_report(DEMO, &body).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let mut same = body.clone();
    same["category"] = json!("typo"); // same text, other details: still a duplicate
    let dup = app.post_report(DEMO, &same).await;
    assert_eq!(dup.status(), 200);
    let dup: Value = dup.json().await.unwrap();
    assert_eq!(dup["reference"], first["reference"]);
    assert_eq!(dup["duplicate"], true);
    assert_eq!(counts(&app).await.0, 1);
    // Another comment from the same client is a new report.
    assert_eq!(
        app.post_report(DEMO, &app.valid_report()).await.status(),
        201
    );
    assert_eq!(counts(&app).await.0, 2);
}

async fn rate_limits_per_ip_article_and_sentence(b: Backend) {
    let per_ip = TestApp::spawn_with(b, "[intake.rate_limit]\nper_ip_per_minute = 3").await;
    for _ in 0..3 {
        assert_eq!(
            per_ip
                .post_report(DEMO, &per_ip.valid_report())
                .await
                .status(),
            201
        );
    }
    let r = per_ip.post_report(DEMO, &per_ip.valid_report()).await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["type"], "urn:erratum:problem:rate_limited");
    assert_eq!(counts(&per_ip).await.0, 3);

    let per_day = TestApp::spawn_with(b, "[intake.rate_limit]\nper_ip_per_day = 2").await;
    for _ in 0..2 {
        assert_eq!(
            per_day
                .post_report(DEMO, &per_day.valid_report())
                .await
                .status(),
            201
        );
    }
    let r = per_day.post_report(DEMO, &per_day.valid_report()).await;
    assert_eq!(r.status(), 429);
    assert!(
        r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 60
    );

    let per_sentence =
        TestApp::spawn_with(b, "[intake.rate_limit]\nper_sentence_per_hour = 2").await;
    for _ in 0..2 {
        assert_eq!(
            per_sentence
                .post_report(DEMO, &per_sentence.valid_report())
                .await
                .status(),
            201
        );
    }
    assert_eq!(
        per_sentence
            .post_report(DEMO, &per_sentence.valid_report())
            .await
            .status(),
        429
    );
    let mut elsewhere = per_sentence.valid_report();
    elsewhere["quote"] = json!({"exact": "Pyongyang"});
    elsewhere["quote"]["prefix"] = json!("Poutine à");
    assert_eq!(
        per_sentence.post_report(DEMO, &elsewhere).await.status(),
        201,
        "another sentence is not limited"
    );

    let per_article =
        TestApp::spawn_with(b, "[intake.rate_limit]\nper_article_per_minute = 2").await;
    for q in ["le 3 octobre", "Kyungnam"] {
        let mut body = per_article.valid_report();
        body["quote"] = json!({"exact": q});
        assert_eq!(per_article.post_report(DEMO, &body).await.status(), 201);
    }
    let mut body = per_article.valid_report();
    body["quote"] = json!({"exact": "Moscou et Pyongyang"});
    assert_eq!(per_article.post_report(DEMO, &body).await.status(), 429);

    // Behind a trusted proxy, X-Forwarded-For names the client; elsewhere it is ignored.
    let proxied = TestApp::spawn_with(b, "[server]\ntrusted_proxies = [\"127.0.0.1/32\"]\n[intake.rate_limit]\nper_ip_per_minute = 1").await;
    for client in ["203.0.113.1", "203.0.113.2"] {
        let r = proxied
            .client
            .post(proxied.url(&format!("/api/v1/articles/{DEMO}/reports")))
            .header("x-forwarded-for", format!("198.51.100.9, {client}"))
            .json(&proxied.valid_report())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{client} has its own limit");
    }
    let untrusted = TestApp::spawn_with(b, "[intake.rate_limit]\nper_ip_per_minute = 1").await;
    for (i, client) in ["203.0.113.1", "203.0.113.2"].iter().enumerate() {
        let r = untrusted
            .client
            .post(untrusted.url(&format!("/api/v1/articles/{DEMO}/reports")))
            .header("x-forwarded-for", *client)
            .json(&untrusted.valid_report())
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            if i == 0 { 201 } else { 429 },
            "a spoofed header does not escape the limit"
        );
    }
}

async fn status_link_shows_only_this_report(b: Backend) {
    let app = TestApp::spawn(b).await;
    let mut body = app.valid_report();
    body["reporter"] = json!({"email": "secret-reader@example.org", "notify": true});
    let receipt: Value = app.post_report(DEMO, &body).await.json().await.unwrap();
    let _other: Value = app
        .post_report(DEMO, &app.valid_report())
        .await
        .json()
        .await
        .unwrap();
    let token = receipt["status_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let r = app.get(&format!("/api/v1/reports/status/{token}")).await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let status: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(status["reference"], receipt["reference"]);
    assert_eq!(status["status"], "received");
    assert!(status["resolution"].is_null() && status["correction"].is_null());
    assert!(status["updated_at"].is_string());
    // The holder of the link sees what they wrote (issue 16), nothing of the
    // other reader's report, no address and no counts.
    assert_eq!(status["your_report"]["comment"], body["comment"]);
    let other = _other["reference"].as_str().unwrap_or("none").to_string();
    for secret in [
        "secret-reader",
        "(remarque 1)",
        "report_count",
        "email",
        other.as_str(),
    ] {
        assert!(!text.contains(secret), "status leaks {secret}: {text}");
    }
    let (s, _) = app
        .get_json(&format!(
            "/api/v1/reports/status/{}x",
            &token[..token.len() - 1]
        ))
        .await;
    assert_eq!(s, 404);
}

async fn english_article_gets_english_message(b: Backend) {
    let app = TestApp::spawn(b).await;
    app.put_article("en", &json!({"url": "https://n.example/en", "title": "T", "language": "en", "body_text": "The cat sleeps."}))
        .await;
    let r: Value = app
        .post_report(
            "en",
            &json!({"quote": {"exact": "cat"}, "category": "typo", "comment": "Dog."}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        r["message"],
        "Thank you! We will review your comments as soon as possible."
    );
}

/// Reports arriving together are filed by the writer in one batch (a few
/// statements for all of them): limits, duplicates, distinct readers and
/// escalation come out as if they had been filed one after the other, here
/// across two instances sharing the day's allowance.
async fn a_batch_of_reports_is_filed_as_one_after_another(b: Backend) {
    let extra = "[intake.rate_limit]\nper_ip_per_day = 12\n";
    // A window can end while the test runs (at midnight UTC): run again then.
    for _ in 0..2 {
        let day = chrono::Utc::now().date_naive();
        let a = TestApp::spawn_with(b, extra).await;
        let other = a.spawn_beside(extra).await;
        // The case is open before the batch arrives.
        assert_eq!(a.post_report(DEMO, &a.valid_report()).await.status(), 201);
        let bodies: Vec<Value> = (0..20)
            .map(|i| {
                let mut body = a.valid_report();
                if i % 4 == 0 {
                    body["comment"] = json!("Les mêmes mots, envoyés plusieurs fois.");
                }
                body
            })
            .collect();
        let answers = futures::future::join_all(bodies.iter().enumerate().map(|(i, body)| {
            let app = if i % 2 == 0 { &a } else { &other };
            async move {
                let r = app.post_report(DEMO, body).await;
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap_or(Value::Null))
            }
        }))
        .await;
        if chrono::Utc::now().date_naive() != day {
            continue;
        }
        let ok: Vec<&(u16, Value)> = answers.iter().filter(|(s, _)| *s != 429).collect();
        assert_eq!(ok.len(), 11, "{answers:?}");
        assert!(
            ok.iter().all(|(s, _)| *s == 201 || *s == 200),
            "{answers:?}"
        );
        // Every duplicate names a report stored with the same words.
        let created: Vec<&Value> = ok
            .iter()
            .filter(|(s, _)| *s == 201)
            .map(|(_, v)| v)
            .collect();
        for (_, dup) in ok.iter().filter(|(s, _)| *s == 200) {
            assert_eq!(dup["duplicate"], true);
            assert!(
                created.iter().any(|c| c["reference"] == dup["reference"]),
                "{dup}"
            );
        }
        let stored = 1 + created.len() as i64;
        assert_eq!(counts(&a).await, (stored, 1));
        #[allow(clippy::type_complexity)]
        let (report_count, reporter_count, filed, escalated, hits): (
            i32,
            i32,
            i64,
            i64,
            i64,
        ) = a
            .app_state
            .read(|conn| {
                use diesel::prelude::*;
                use erratum::db::schema::{cases, events, rate_windows};
                let (rc, rr) = cases::table
                    .select((cases::report_count, cases::reporter_count))
                    .first::<(i32, i32)>(conn)?;
                let kind = |k: &'static str| events::table.filter(events::kind.eq(k)).count();
                Ok((
                    rc,
                    rr,
                    kind("report_filed").get_result(conn)?,
                    kind("case_escalated").get_result(conn)?,
                    rate_windows::table
                        .filter(rate_windows::bucket.like("%:report-ip-day"))
                        .select(diesel::dsl::sum(rate_windows::hits))
                        .first::<Option<i64>>(conn)?
                        .unwrap_or(0),
                ))
            })
            .await
            .unwrap();
        assert_eq!(report_count as i64, stored);
        assert_eq!(reporter_count, 1, "one client, one reader");
        assert_eq!(filed, stored);
        assert!(escalated <= 1, "a case is escalated once");
        // Refused reports are not counted; duplicates are.
        assert_eq!(hits, 12);
        return;
    }
    panic!("two windows ended during the test");
}

/// Reports arriving together on several sentences: the writer stores every
/// touched case in one statement (`db::cases::store_counts`); each case's
/// counts come out as its own reports say.
async fn a_batch_over_several_cases_counts_each_case(b: Backend) {
    let extra = "[intake.rate_limit]\nper_ip_per_day = 1000\nper_article_per_minute = 1000\n\
                 per_sentence_per_hour = 1000\n";
    let app = TestApp::spawn_with(b, extra).await;
    let quotes = [
        "le 3 octobre",
        "Corée du Nord envoie",
        "les sanctions de l'ONU",
        "Lim Eul-chul",
    ];
    let categories = ["typo", "factual_error", "outdated"];
    // Each case open before the batches arrive.
    for q in quotes {
        let body =
            json!({"quote": {"exact": q}, "category": "typo", "comment": format!("Ouvre {q}.")});
        assert_eq!(app.post_report(DEMO, &body).await.status(), 201);
    }
    let bodies: Vec<Value> = (0..40)
        .map(|i| {
            json!({
                "quote": {"exact": quotes[(i * 7 + i / 5) % quotes.len()]},
                "category": categories[i % categories.len()],
                "comment": format!("Remarque {i} sur la phrase."),
            })
        })
        .collect();
    let answers =
        futures::future::join_all(bodies.iter().map(|body| app.post_report(DEMO, body))).await;
    for r in answers {
        assert_eq!(r.status(), 201);
    }
    #[allow(clippy::type_complexity)]
    let (cases, reports): (
        Vec<(String, i32, String, NaiveDateTime)>,
        Vec<(String, String, NaiveDateTime)>,
    ) = app
        .app_state
        .read(|conn| {
            use diesel::prelude::*;
            use erratum::db::schema::{cases, reports};
            Ok((
                cases::table
                    .select((
                        cases::id,
                        cases::report_count,
                        cases::categories,
                        cases::last_reported_at,
                    ))
                    .load(conn)?,
                reports::table
                    .select((reports::case_id, reports::category, reports::created_at))
                    .load(conn)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(cases.len(), quotes.len());
    assert_eq!(reports.len(), 44);
    for (id, report_count, stored, last) in cases {
        let mine: Vec<_> = reports.iter().filter(|(c, _, _)| *c == id).collect();
        assert_eq!(report_count as usize, mine.len(), "case {id}");
        let mut by_category: std::collections::BTreeMap<String, i64> = Default::default();
        for (_, category, _) in &mine {
            *by_category.entry(category.clone()).or_default() += 1;
        }
        let stored: std::collections::BTreeMap<String, i64> =
            serde_json::from_str(&stored).unwrap();
        assert_eq!(stored, by_category, "case {id}");
        assert_eq!(
            Some(last),
            mine.iter().map(|(_, _, t)| *t).max(),
            "case {id}"
        );
    }
}
