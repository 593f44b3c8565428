//! Published corrections: the list, the Atom feed (read back by a real feed
//! parser), an article's corrections, its JSON-LD, and what readers see.

use erratum::domain::editor::Role;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, DEMO, TestApp};
use crate::staff::{self, QUOTES, add, login, report_receipt};

backend_tests!(
    a_correction_is_published_everywhere_and_the_reader_sees_it,
    other_outcomes_as_readers_see_them,
    corrections_are_paged_newest_first,
    the_article_page_and_the_public_log_show_corrections,
);

/// The article page prints its corrections and carries them as schema.org
/// JSON-LD; the public log lists them. Reader and editor text stays text.
async fn the_article_page_and_the_public_log_show_corrections(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let page = app.get("/demo").await.text().await.unwrap();
    assert!(
        !page.contains("class=\"corrections\""),
        "no corrections yet"
    );
    let log = app.get("/corrections").await.text().await.unwrap();
    assert!(log.contains("Aucune correction"), "{log}");

    let receipt = report_receipt(&app, "le 3 octobre", "factual_error").await;
    let case_id = receipt["case_id"].as_str().unwrap();
    let (status, _) = s
        .act(
            case_id,
            "resolve",
            Some(json!({"resolution": "corrected", "public_note": NOTE})),
        )
        .await;
    assert_eq!(status, 200);

    let r = app.get("/demo").await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("class=\"corrections\""), "{page}");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
            || page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(
        !page.contains("<script>alert(1)"),
        "the note is escaped in HTML"
    );
    // The JSON-LD block parses, names the schema.org types, and cannot be
    // closed early by the note's "</script>".
    let start = page
        .find("<script type=\"application/ld+json\">")
        .expect("a JSON-LD block")
        + 35;
    let end = start + page[start..].find("</script>").unwrap();
    let ld: Value = serde_json::from_str(&page[start..end]).expect("JSON-LD is JSON");
    assert_eq!(ld["@context"], "https://schema.org");
    assert_eq!(ld["correction"][0]["@type"], "CorrectionComment");
    assert_eq!(ld["correction"][0]["text"], NOTE);

    let r = app.get("/corrections").await;
    assert_eq!(r.status(), 200);
    let log = r.text().await.unwrap();
    assert!(log.contains("La Corée du Nord envoie"), "{log}");
    assert!(log.contains("le 3 octobre"));
    assert!(!log.contains("<script>alert"), "escaped");
    let r = app.get("/corrections?cursor=not-a-cursor").await;
    assert_eq!(r.status(), 404);
}

async fn status_of(app: &TestApp, receipt: &Value) -> Value {
    let token = receipt["status_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    let (status, body) = app
        .get_json(&format!("/api/v1/reports/status/{token}"))
        .await;
    assert_eq!(status, 200);
    body
}

const NOTE: &str = "La frappe a eu lieu le 4 octobre, et non le 3 <script>alert(1)</script> & co.";

async fn a_correction_is_published_everywhere_and_the_reader_sees_it(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Editor, &["international"]).await).await;
    let receipt = report_receipt(&app, "le 3 octobre", "factual_error").await;
    let case_id = receipt["case_id"].as_str().unwrap();
    let st = status_of(&app, &receipt).await;
    assert_eq!(
        (st["status"].as_str(), &st["correction"]),
        (Some("received"), &Value::Null)
    );
    assert_eq!(s.act(case_id, "claim", None).await.0, 200);
    assert_eq!(status_of(&app, &receipt).await["status"], "in_review");

    let (status, answer) = s
        .act(
            case_id,
            "resolve",
            Some(json!({"resolution": "corrected", "public_note": NOTE})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let sentence = answer["case"]["sentence_text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(sentence.contains("le 3 octobre"));

    // The list.
    let (status, list) = app.get_json("/api/v1/corrections").await;
    assert_eq!(status, 200);
    let item = &list["items"][0];
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(item["text"], NOTE);
    assert_eq!(item["kind"], "corrected");
    assert_eq!(item["sentence_before"], sentence.as_str());
    assert_eq!(item["article"]["external_id"], DEMO);
    assert!(item["published_at"].is_string());
    assert!(list["next_cursor"].is_null());

    // The Atom feed, read back with a real parser.
    let r = app.get("/corrections.atom").await;
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/atom+xml"), "{ct}");
    let xml = r.text().await.unwrap();
    assert!(
        !xml.contains("<script>"),
        "reader and editor text is escaped"
    );
    let feed = feed_rs::parser::parse(xml.as_bytes()).expect("valid Atom");
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
    assert_eq!(feed.id, format!("{}/corrections.atom", app.address));
    assert!(feed.updated.is_some());
    assert_eq!(feed.entries.len(), 1);
    let entry = &feed.entries[0];
    let article = app.demo_article().await;
    assert_eq!(
        entry.id,
        format!("urn:uuid:{}", item["id"].as_str().unwrap())
    );
    let title = &entry.title.as_ref().unwrap().content;
    assert_eq!(
        title,
        &format!("Correction : {}", article["title"].as_str().unwrap())
    );
    let body = entry.content.as_ref().unwrap().body.as_ref().unwrap();
    assert!(body.contains(NOTE), "{body}");
    assert!(body.contains(&sentence));
    // The entry links to the corrected sentence with a text fragment.
    assert_eq!(
        entry.links[0].href,
        erratum::domain::fragment::link(article["url"].as_str().unwrap(), &sentence, None, None)
    );
    assert!(entry.links[0].href.contains("#:~:text="));
    assert!(entry.published.is_some() && entry.updated.is_some());

    // The article's corrections, and its JSON-LD.
    let (status, mine) = app
        .get_json(&format!("/api/v1/articles/{DEMO}/corrections"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(mine["article"]["external_id"], DEMO);
    assert_eq!(mine["items"][0]["id"], item["id"]);
    let r = app
        .get(&format!("/api/v1/articles/{DEMO}/corrections.jsonld"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/ld+json");
    let ld: Value = serde_json::from_str(&r.text().await.unwrap()).expect("JSON");
    assert_eq!(ld["@context"], "https://schema.org");
    assert_eq!(ld["@type"], "NewsArticle");
    assert_eq!(ld["url"], article["url"]);
    assert_eq!(ld["@id"], article["url"]);
    assert_eq!(ld["headline"], article["title"]);
    let c = &ld["correction"][0];
    assert_eq!(c["@type"], "CorrectionComment");
    assert_eq!(c["text"], NOTE);
    let published = c["datePublished"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(published).is_ok(),
        "{published}"
    );

    // The reader's status link shows the outcome and the correction.
    let st = status_of(&app, &receipt).await;
    assert_eq!(st["status"], "resolved");
    assert_eq!(st["resolution"], "corrected");
    assert_eq!(st["public_note"], NOTE);
    assert_eq!(st["correction"]["text"], NOTE);
    assert_eq!(st["correction"]["kind"], "corrected");
    assert!(st["correction"]["published_at"].is_string());
    // So does the status page the link opens, with the text escaped.
    let html = app
        .get(&format!(
            "/r/{}",
            receipt["status_url"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Correction publiée"), "{html}");
    assert!(html.contains("&lt;script&gt;") && !html.contains("<script>alert"));

    // Unknown articles are 404 in both forms.
    assert_eq!(
        app.get("/api/v1/articles/nope/corrections").await.status(),
        404
    );
    assert_eq!(
        app.get("/api/v1/articles/nope/corrections.jsonld")
            .await
            .status(),
        404
    );
}

async fn other_outcomes_as_readers_see_them(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let spam = report_receipt(&app, QUOTES[1], "other").await;
    let kept = report_receipt(&app, QUOTES[2], "factual_error").await;
    let fixed = report_receipt(&app, QUOTES[3], "factual_error").await;
    let dup = report_receipt(&app, QUOTES[4], "factual_error").await;
    let id = |r: &Value| r["case_id"].as_str().unwrap().to_string();

    s.act(&id(&spam), "resolve", Some(json!({"resolution": "spam"})))
        .await;
    s.act(
        &id(&kept),
        "resolve",
        Some(
            json!({"resolution": "no_change", "public_note": "Le chiffre est confirmé par l'AFP."}),
        ),
    )
    .await;
    s.act(
        &id(&fixed),
        "resolve",
        Some(json!({"resolution": "updated", "public_note": "Article mis à jour le 9 octobre."})),
    )
    .await;
    s.act(
        &id(&dup),
        "resolve",
        Some(json!({"resolution": "duplicate", "duplicate_of": id(&fixed)})),
    )
    .await;

    let st = status_of(&app, &spam).await;
    assert_eq!(
        (st["status"].as_str(), st["resolution"].as_str()),
        (Some("resolved"), Some("rejected"))
    );
    assert!(st["public_note"].is_null() && st["correction"].is_null());
    assert!(!st.to_string().contains("spam"), "never told: {st}");

    let st = status_of(&app, &kept).await;
    assert_eq!(st["resolution"], "no_change");
    assert_eq!(st["public_note"], "Le chiffre est confirmé par l'AFP.");
    assert!(st["correction"].is_null());

    let st = status_of(&app, &dup).await;
    assert_eq!(st["resolution"], "duplicate");
    assert_eq!(
        st["correction"]["text"], "Article mis à jour le 9 octobre.",
        "the duplicated case's correction"
    );
    assert_eq!(st["correction"]["kind"], "updated");

    // Only the update was published.
    let (_, list) = app.get_json("/api/v1/corrections").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["kind"], "updated");
}

async fn corrections_are_paged_newest_first(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    // An article with no corrections has an empty list, as JSON-LD too.
    let (_, ld) = app
        .get_json(&format!("/api/v1/articles/{DEMO}/corrections.jsonld"))
        .await;
    assert_eq!(ld["correction"], json!([]));

    let mut published = Vec::new();
    for (i, quote) in QUOTES.iter().take(5).enumerate() {
        let receipt = report_receipt(&app, quote, "typo").await;
        let (status, answer) = s
            .act(
                receipt["case_id"].as_str().unwrap(),
                "resolve",
                Some(json!({"resolution": "corrected", "public_note": format!("Coquille {i} corrigée.")})),
            )
            .await;
        assert_eq!(status, 200);
        published.push(answer["correction"]["id"].as_str().unwrap().to_string());
    }
    published.reverse();
    let mut seen = Vec::new();
    let mut path = "/api/v1/corrections?limit=2".to_string();
    loop {
        let (status, page) = app.get_json(&path).await;
        assert_eq!(status, 200);
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/corrections?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, published, "newest first, each once");
    let feed = feed_rs::parser::parse(
        app.get("/corrections.atom")
            .await
            .text()
            .await
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
    let ids: Vec<String> = feed
        .entries
        .iter()
        .map(|e| e.id.trim_start_matches("urn:uuid:").to_string())
        .collect();
    assert_eq!(ids, published);
    for bad in ["limit=0", "limit=101", "cursor=xyz"] {
        let (status, p) = app.get_json(&format!("/api/v1/corrections?{bad}")).await;
        assert_eq!(status, 422, "{bad}: {p}");
    }
}
