use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, DEMO, TestApp};

backend_tests!(
    demo_article_is_segmented,
    reimport_is_noop_and_edit_changes_one_id,
    html_body_and_lookup_by_url,
    ingest_requires_token_and_valid_fields,
    cases_follow_their_sentence_across_revisions,
);

fn texts(article: &Value) -> Vec<String> {
    article["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap().to_string())
        .collect()
}

fn ids(article: &Value) -> Vec<String> {
    article["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

async fn demo_article_is_segmented(b: Backend) {
    let app = TestApp::spawn(b).await;
    let a = app.demo_article().await;
    assert_eq!(a["language"], "fr");
    assert_eq!(a["revision"], 1);
    let t = texts(&a);
    assert_eq!(t.len(), 12, "{t:#?}");
    assert_eq!(
        t[0],
        "La Corée du Nord envoie prétendument des troupes pour soutenir la Russie dans le conflit ukrainien"
    );
    assert_eq!(a["title"], t[0]);
    assert!(
        t[1].starts_with("Le 8 octobre 2024, le ministre de la Défense sud-coréen, Kim Yong-kyun,")
    );
    assert!(t[1].ends_with("certains avaient déjà été tués au combat."));
    assert_eq!(
        t[2],
        "Cette révélation fait suite à des médias ukrainiens rapportant la mort de six officiers nord-coréens dans une frappe de missile près de Donetsk le 3 octobre."
    );
    assert!(t[11].ends_with(
        "une 'relation spéciale formée temporairement dans le processus de réunification.'"
    ));
    assert!(
        t.iter()
            .all(|s| !s.contains("Avez-vous trouvé") && !s.contains("Nous étudierons"))
    );
    let paragraphs: Vec<i64> = a["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["paragraph"].as_i64().unwrap())
        .collect();
    assert_eq!(paragraphs, vec![0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 5]);
    let index: Vec<i64> = a["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["index"].as_i64().unwrap())
        .collect();
    assert_eq!(index, vec![0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2]);
}

fn article_body(paragraphs: &[&str]) -> Value {
    json!({
        "url": "https://news.example/monde/article-1",
        "title": "Un titre",
        "language": "fr",
        "desk": "monde",
        "body_text": paragraphs.join("\n\n"),
    })
}

async fn reimport_is_noop_and_edit_changes_one_id(b: Backend) {
    let app = TestApp::spawn(b).await;
    let v1 = article_body(&[
        "Première phrase. Deuxième phrase.",
        "Troisième phrase. Quatrième phrase.",
    ]);
    let r = app.put_article("a-1", &v1).await;
    assert_eq!(r.status(), 201);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["revision"], 1);

    let r = app.put_article("a-1", &v1).await;
    assert_eq!(r.status(), 200);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["revision"], 1, "an unchanged body makes no revision");
    assert_eq!(ids(&again), ids(&first));

    // Edit the first body sentence: every other sentence keeps its id, even
    // though the edited one stands before them.
    let v2 = article_body(&[
        "Première phrase, corrigée. Deuxième phrase.",
        "Troisième phrase. Quatrième phrase.",
    ]);
    let second: Value = app.put_article("a-1", &v2).await.json().await.unwrap();
    assert_eq!(second["revision"], 2);
    let (before, after) = (ids(&first), ids(&second));
    assert_eq!(before.len(), after.len());
    let changed: Vec<usize> = (0..before.len())
        .filter(|&i| before[i] != after[i])
        .collect();
    assert_eq!(changed, vec![1], "only the edited sentence gets a new id");

    // Inserting a sentence before others does not disturb their ids either.
    let v3 = article_body(&[
        "Nouvelle ouverture. Première phrase, corrigée. Deuxième phrase.",
        "Troisième phrase. Quatrième phrase.",
    ]);
    let third: Value = app.put_article("a-1", &v3).await.json().await.unwrap();
    assert_eq!(third["revision"], 3);
    let third_ids = ids(&third);
    assert_eq!(&third_ids[2..], &after[1..]);
    assert_eq!(third_ids[0], after[0], "the title is unchanged");
}

async fn html_body_and_lookup_by_url(b: Backend) {
    let app = TestApp::spawn(b).await;
    let body = json!({
        "url": "https://news.example/world/story?utm_source=x",
        "title": "A headline",
        "language": "en",
        "body_html": "<article><p>Mr. Smith went to Washington. He arrived at 9 a.m. on Monday.</p>\
            <script>var x = 'not text';</script><style>p{}</style>\
            <figure><img src=a.png><figcaption>A caption.</figcaption></figure>\
            <p>Prices rose 3.5% to $1,234.56 in the <em>U.S.</em> market.</p></article>",
    });
    let r = app.put_article("en-1", &body).await;
    assert_eq!(r.status(), 201);
    let a: Value = r.json().await.unwrap();
    assert_eq!(
        texts(&a),
        vec![
            "A headline",
            "Mr. Smith went to Washington.",
            "He arrived at 9 a.m. on Monday.",
            "Prices rose 3.5% to $1,234.56 in the U.S. market.",
        ]
    );
    let q = |u: &str| format!("/api/v1/articles?url={}", url_escape(u));
    let (s, found) = app
        .get_json(&q("https://news.example/world/story?utm_source=x"))
        .await;
    assert_eq!((s, found["external_id"].as_str()), (200, Some("en-1")));
    let (s, found) = app
        .get_json(&q("https://news.example/world/story#comments"))
        .await;
    assert_eq!(
        (s, found["external_id"].as_str()),
        (200, Some("en-1")),
        "fragment and query are ignored"
    );
    let (s, p) = app.get_json(&q("https://news.example/elsewhere")).await;
    assert_eq!((s, p["code"].as_str()), (404, Some("article_not_found")));
    let (s, p) = app.get_json("/api/v1/articles").await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("url")));
    let (s, p) = app.get_json(&format!("/api/v1/articles/{DEMO}x")).await;
    assert_eq!((s, p["code"].as_str()), (404, Some("article_not_found")));
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn ingest_requires_token_and_valid_fields(b: Backend) {
    let app = TestApp::spawn(b).await;
    let body = article_body(&["Une phrase."]);
    let r = app
        .client
        .put(app.url("/api/v1/articles/x1"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = app
        .client
        .put(app.url("/api/v1/articles/x1"))
        .bearer_auth("wrong")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    let cases: Vec<(&str, Value, &str)> = vec![
        ("bad id!", body.clone(), "external_id"),
        (
            "x1",
            json!({"url": "ftp://x.example/a", "title": "T", "language": "fr", "body_text": "A."}),
            "url",
        ),
        (
            "x1",
            json!({"url": "https://x.example/a", "title": "  ", "language": "fr", "body_text": "A."}),
            "title",
        ),
        // Any language tag is accepted (reader languages); a word is not a tag.
        (
            "x1",
            json!({"url": "https://x.example/a", "title": "T", "language": "deutsch", "body_text": "A."}),
            "language",
        ),
        (
            "x1",
            json!({"url": "https://x.example/a", "title": "T", "language": "fr"}),
            "body_text",
        ),
        (
            "x1",
            json!({"url": "https://x.example/a", "title": "T", "language": "fr", "body_text": "A.", "body_html": "<p>A.</p>"}),
            "body_text",
        ),
        (
            "x1",
            json!({"url": "https://x.example/a", "title": "T", "language": "fr", "body_text": "   "}),
            "body_text",
        ),
        (
            "x1",
            json!({"url": "https://x.example/a", "title": "T", "language": "fr", "body_text": "A.", "extra": 1}),
            "extra",
        ),
    ];
    for (id, body, field) in cases {
        let r = app.put_article(id, &body).await;
        assert_eq!(r.status(), 422, "{id} {body}");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["type"], "urn:erratum:problem:validation", "{body}");
        assert!(
            p["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{body}: expected field {field}, got {p}"
        );
    }
    let (s, _) = app.get_json("/api/v1/articles/x1").await;
    assert_eq!(s, 404, "nothing was stored");
}

async fn cases_follow_their_sentence_across_revisions(b: Backend) {
    let app = TestApp::spawn(b).await;
    let v1 = article_body(&["Le chat dort. Le chien aboie. La vache rumine."]);
    app.put_article("c-1", &v1).await;
    for quote in ["chat dort", "chien aboie", "vache rumine"] {
        let r = app
            .post_report("c-1", &json!({"quote": {"exact": quote}, "category": "typo", "comment": format!("Faute: {quote}")}))
            .await;
        assert_eq!(r.status(), 201);
    }
    // Edit the dog sentence, drop the cow one, keep the cat one.
    app.put_article("c-1", &article_body(&["Le chat dort. Le chien jappe."]))
        .await;
    let states = app
        .app_state
        .read(|conn| {
            use diesel::prelude::*;
            use erratum::db::schema::cases;
            Ok(cases::table
                .order(cases::created_at.asc())
                .select((
                    cases::sentence_text,
                    cases::anchor_state,
                    cases::successor_sentence_id.is_not_null(),
                ))
                .load::<(String, String, bool)>(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(
        states,
        vec![
            ("Le chat dort.".to_string(), "current".to_string(), false),
            (
                "Le chien aboie.".to_string(),
                "possibly_fixed".to_string(),
                true
            ),
            (
                "La vache rumine.".to_string(),
                "orphaned".to_string(),
                false
            ),
        ]
    );
}
