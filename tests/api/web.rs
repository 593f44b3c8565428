//! The browser side: widget files, the demo and article pages, the reader's
//! status page. (The widget's behaviour in a real browser is tested by
//! `tests/browser`, run by `scripts/browser-tests`.)

use diesel::prelude::*;
use erratum::db::schema::cases;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, DEMO, TestApp};

backend_tests!(
    demo_page_shows_every_sentence_under_a_strict_csp,
    article_page_speaks_the_articles_language_and_escapes_its_text,
    status_page_shows_the_resolution_and_the_public_note,
    unknown_pages_are_html_404s,
    widget_files_are_small_typed_and_revalidated,
    root_leads_to_the_demo_or_explains_the_service,
);

/// HTML escaping as the templates do it (minijinja escapes `'` and `/` too).
fn escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn assert_strict_page_headers(r: &reqwest::Response) {
    assert!(header(r, "content-type").starts_with("text/html"), "{r:?}");
    let csp = header(r, "content-security-policy");
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "CSP lacks {directive}: {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(header(r, "x-content-type-options"), "nosniff");
}

fn sentence_texts(article: &Value) -> Vec<String> {
    article["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["paragraph"].as_i64() > Some(0))
        .map(|s| s["text"].as_str().unwrap().to_string())
        .collect()
}

async fn demo_page_shows_every_sentence_under_a_strict_csp(b: Backend) {
    let app = TestApp::spawn(b).await;
    let article = app.demo_article().await;
    let r = app.get("/demo").await;
    assert_eq!(r.status(), 200);
    assert_strict_page_headers(&r);
    let html = r.text().await.unwrap();

    let sentences = sentence_texts(&article);
    assert!(sentences.len() >= 10, "{article}");
    for text in &sentences {
        assert!(html.contains(&escaped(text)), "missing from /demo: {text}");
    }
    assert!(html.contains(&format!(
        "<h1>{}</h1>",
        escaped(article["title"].as_str().unwrap())
    )));
    assert!(html.contains(r#"<html lang="fr">"#));
    assert!(html.contains(&format!(
        r#"<script src="/widget.js" data-article="{DEMO}" data-lang="fr" async></script>"#
    )));
    // The footer line the widget turns into its entry point.
    assert!(html.contains("Avez-vous trouvé une erreur ou une inexactitude ?"));
    // No inline script or style for the CSP to refuse.
    assert!(!html.contains("<script>") && !html.contains("<style") && !html.contains("style="));
    assert!(!html.contains("hostile.css"));

    let hostile = app.get("/demo?hostile=1").await.text().await.unwrap();
    assert!(hostile.contains(r#"href="/static/hostile.css""#));
}

async fn article_page_speaks_the_articles_language_and_escapes_its_text(b: Backend) {
    let app = TestApp::spawn(b).await;
    let r = app
        .put_article(
            "en-bridge-7",
            &json!({
                "url": "https://news.example/bridge",
                "title": "The <Bridge> & the \"Tunnel\"",
                "language": "en",
                "desk": "local",
                "body_text": "Mr. Smith said the bridge cost <b>$5m</b> & more. It opened in 1999.\n\nTraffic doubled since. Nobody's counting.",
            }),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let (_, article) = app.get_json("/api/v1/articles/en-bridge-7").await;

    let r = app.get("/articles/en-bridge-7").await;
    assert_eq!(r.status(), 200);
    assert_strict_page_headers(&r);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains(r#"data-article="en-bridge-7" data-lang="en""#));
    assert!(html.contains("Did you find an error or an inaccuracy?"));
    assert!(!html.contains("Avez-vous"));
    assert!(html.contains("The &lt;Bridge&gt; &amp; the &quot;Tunnel&quot;"));
    let sentences = sentence_texts(&article);
    assert_eq!(sentences.len(), 4, "{article}");
    for text in &sentences {
        assert!(html.contains(&escaped(text)), "missing: {text}");
    }
    // Two paragraphs, each one <p> of its sentences.
    assert!(html.contains(&format!(
        "<p>{} {}</p>",
        escaped(&sentences[2]),
        escaped(&sentences[3])
    )));
    assert!(!html.contains("<b>"), "reader-visible text is escaped");

    let r = app.get("/articles/no-such-article").await;
    assert_eq!(r.status(), 404);
    assert!(header(&r, "content-type").starts_with("text/html"));
    let r = app.get("/articles/bad%20id").await;
    assert_eq!(r.status(), 404);
}

async fn status_page_shows_the_resolution_and_the_public_note(b: Backend) {
    let app = TestApp::spawn(b).await;
    let r = app.post_report(DEMO, &app.valid_report()).await;
    assert_eq!(r.status(), 201);
    let receipt: Value = r.json().await.unwrap();
    let status_url = receipt["status_url"].as_str().unwrap();
    let path = &status_url[status_url.find("/r/").expect("a /r/ link")..];
    let reference = receipt["reference"].as_str().unwrap();

    let r = app.get(path).await;
    assert_eq!(r.status(), 200);
    assert_strict_page_headers(&r);
    // The token in the URL is the reader's credential.
    assert_eq!(header(&r, "referrer-policy"), "no-referrer");
    assert_eq!(header(&r, "cache-control"), "no-store");
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"<html lang="fr">"#));
    assert!(html.contains(&format!(r#"<dd class="reference">{reference}</dd>"#)));
    assert!(html.contains(r#"data-status="received""#));
    assert!(html.contains("Signalement reçu"));
    assert!(!html.contains(r#"class="resolution""#));

    // The editors' API is another branch's work: resolve the case directly.
    let note = r#"La frappe a eu lieu le 4 octobre <b>"vérifié"</b> & corrigé."#;
    let case_id = receipt["case_id"].as_str().unwrap().to_string();
    app.app_state
        .write(move |conn| {
            let n = diesel::update(cases::table.find(&case_id))
                .set((
                    cases::status.eq("resolved"),
                    cases::resolution.eq(Some("corrected")),
                    cases::public_note.eq(Some(note)),
                    cases::resolved_at.eq(Some(erratum::db::now())),
                    cases::open_key.eq(None::<String>),
                ))
                .execute(conn)?;
            assert_eq!(n, 1);
            Ok(())
        })
        .await
        .unwrap();

    let html = app.get(path).await.text().await.unwrap();
    assert!(html.contains(r#"data-status="resolved" data-resolution="corrected""#));
    assert!(html.contains("Signalement traité"));
    assert!(html.contains("L’article a été corrigé. Merci pour votre vigilance."));
    assert!(html.contains("Note de la rédaction"));
    assert!(html.contains(&escaped(note)), "{html}");
    assert!(!html.contains("<b>"));
    assert!(html.contains(r#"<li class="done" aria-current="step">Traité</li>"#));

    // A case closed as spam is shown to its reader as not upheld.
    let case_id = receipt["case_id"].as_str().unwrap().to_string();
    app.app_state
        .write(move |conn| {
            diesel::update(cases::table.find(&case_id))
                .set(cases::resolution.eq(Some("spam")))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let html = app.get(path).await.text().await.unwrap();
    assert!(html.contains(r#"data-resolution="rejected""#), "{html}");
    assert!(html.contains("le signalement n’a pas été retenu"));
    assert!(!html.contains("spam") && !html.contains("indésirable"));
}

async fn unknown_pages_are_html_404s(b: Backend) {
    let app = TestApp::spawn(b).await;
    for path in [
        "/r/this-token-does-not-exist",
        &format!("/r/{}", "x".repeat(300)),
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), 404, "{path}");
        assert_strict_page_headers(&r);
        assert_eq!(header(&r, "referrer-policy"), "no-referrer");
        let html = r.text().await.unwrap();
        assert!(html.contains("Page introuvable") && html.contains("Page not found"));
    }
    // The API keeps answering problem+json for the same lookup.
    let r = app
        .get("/api/v1/reports/status/this-token-does-not-exist")
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(header(&r, "content-type"), "application/problem+json");
    // Pages are read-only.
    let r = app.client.post(app.url("/demo")).send().await.unwrap();
    assert_eq!(r.status(), 405);
}

async fn widget_files_are_small_typed_and_revalidated(b: Backend) {
    let app = TestApp::spawn(b).await;
    let mut gzipped = 0;
    for (path, ty) in [
        ("/widget.js", "text/javascript"),
        ("/widget.css", "text/css"),
        ("/static/demo.css", "text/css"),
        ("/static/status.css", "text/css"),
        ("/static/hostile.css", "text/css"),
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert!(header(&r, "content-type").starts_with(ty), "{path}: {r:?}");
        assert_eq!(header(&r, "x-content-type-options"), "nosniff");
        assert!(header(&r, "cache-control").contains("max-age="), "{path}");
        let etag = header(&r, "etag").to_string();
        assert!(etag.starts_with("W/\""), "{path}: {etag}");
        let body = r.bytes().await.unwrap();
        assert!(!body.is_empty());

        let again = app
            .client
            .get(app.url(path))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
        assert!(again.bytes().await.unwrap().is_empty());

        if path.starts_with("/widget.") {
            let r = app
                .client
                .get(app.url(path))
                .header("accept-encoding", "gzip")
                .send()
                .await
                .unwrap();
            assert_eq!(header(&r, "content-encoding"), "gzip", "{path}");
            let wire = r.bytes().await.unwrap().len();
            assert!(wire < body.len(), "{path}: {wire} >= {}", body.len());
            gzipped += wire;
        }
    }
    // The widget's words come from the server, one file per language: the
    // largest counts against the budget too.
    let mut words = 0;
    for tag in ["fr", "en", "es"] {
        let r = app
            .client
            .get(app.url(&format!("/widget/strings/{tag}.json")))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(header(&r, "content-encoding"), "gzip", "{tag}");
        words = words.max(r.bytes().await.unwrap().len());
    }
    gzipped += words;
    // The issue's budget: script, stylesheet and words under 20 KB gzipped.
    assert!(
        gzipped < 20 * 1024,
        "widget.js + widget.css + strings: {gzipped} bytes gzipped"
    );
    assert_eq!(app.get("/static/nope.css").await.status(), 404);
}

async fn root_leads_to_the_demo_or_explains_the_service(b: Backend) {
    let app = TestApp::spawn(b).await;
    let r = app.get("/").await;
    assert_eq!(r.status(), 303);
    assert_eq!(header(&r, "location"), "/demo");
    let (_, spec) = app.get_json("/api/openapi.json").await;
    for path in ["/demo", "/articles/{external_id}", "/r/{token}"] {
        let op = &spec["paths"][path]["get"];
        assert!(
            op["responses"]["404"].is_object(),
            "{path} in OpenAPI: {op}"
        );
    }

    let app = TestApp::spawn_with(b, "[demo]\nenabled = false").await;
    let r = app.get("/").await;
    assert_eq!(r.status(), 200);
    assert_strict_page_headers(&r);
    assert!(r.text().await.unwrap().contains("Reader error reports"));
    let r = app.get("/demo").await;
    assert_eq!(r.status(), 404);
    assert!(header(&r, "content-type").starts_with("text/html"));
}
