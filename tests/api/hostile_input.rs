//! Input that must never reach storage: control characters in any text that
//! enters (JSON bodies, forms, paths, query strings) are refused alike on
//! both backends; invisible-only comments are empty; the login page's
//! `next` is a same-site path or nothing; JSON-LD cannot end a `<script>`.

use erratum::domain::editor::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::editor_ui::{account, browser, csrf_of, get_page, post_form};
use crate::helpers::{Backend, DEMO, TestApp};
use crate::staff;

backend_tests!(
    control_characters_never_reach_storage,
    control_characters_in_paths_and_queries_are_refused,
    html_character_references_to_controls_are_dropped,
    a_comment_of_invisible_characters_is_empty,
    login_next_is_a_same_site_path_or_nothing,
    json_ld_cannot_end_a_script_element,
);

fn assert_control_refused(status: u16, body: &Value, field: &str) {
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["type"], "urn:erratum:problem:validation", "{body}");
    assert_eq!(body["errors"][0]["field"], field, "{body}");
    assert_eq!(body["errors"][0]["code"], "control_character", "{body}");
}

async fn control_characters_never_reach_storage(b: Backend) {
    let app = staff::spawn(b).await;
    // Login: JSON API.
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "ed\u{0}@news.example", "password": "x"}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_control_refused(status, &r.json().await.unwrap(), "email");

    // A report: comment with an ANSI escape, a source with BEL.
    let mut report = app.valid_report();
    report["comment"] = json!("Faux \u{1b}[31mrouge\u{1b}[0m.");
    let r = app.post_report(DEMO, &report).await;
    let status = r.status().as_u16();
    assert_control_refused(status, &r.json().await.unwrap(), "comment");
    let mut report = app.valid_report();
    report["sources"] = json!(["https://ok.example/", "https://x.example/\u{7}"]);
    let r = app.post_report(DEMO, &report).await;
    let status = r.status().as_u16();
    assert_control_refused(status, &r.json().await.unwrap(), "sources[1]");

    // An article: NUL in the body, DEL in the title.
    for (field, value) in [
        ("body_text", "Une phrase.\u{0} Une autre."),
        ("title", "T\u{7f}"),
    ] {
        let mut article = json!({
            "url": "https://news.example/ctl",
            "title": "Titre",
            "language": "fr",
            "body_text": "Une phrase. Une autre.",
        });
        article[field] = json!(value);
        let r = app.put_article("ctl", &article).await;
        let status = r.status().as_u16();
        assert_control_refused(status, &r.json().await.unwrap(), field);
    }
    assert_eq!(app.get("/api/v1/articles/ctl").await.status(), 404);

    // A form of the editors' pages (the login form).
    let c = browser();
    let (_, html) = get_page(&app, &c, "/editor/login").await;
    let r = post_form(
        &app,
        &c,
        "/editor/login",
        &[
            ("csrf_token", &csrf_of(&html)),
            ("email", "ed\u{0}@news.example"),
            ("password", "x"),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 422);

    // A signed-in editor: a note with NUL.
    let ed = staff::add(&app, Role::Editor, &[]).await;
    let s = staff::login(&app, &ed).await;
    let case_id = staff::report(&app, "le 3 octobre", "typo", None).await;
    let (status, body) = s
        .act(&case_id, "note", Some(json!({"body": "Vu\u{0}."})))
        .await;
    assert_control_refused(status, &body, "body");
}

async fn control_characters_in_paths_and_queries_are_refused(b: Backend) {
    let app = staff::spawn(b).await;
    let ed = staff::add(&app, Role::Admin, &[]).await;
    let s = staff::login(&app, &ed).await;
    for (method, path, field) in [
        (Method::GET, "/api/v1/queue?desk=a%00b", "desk"),
        (Method::GET, "/api/v1/queue?article=%07", "article"),
        (Method::PATCH, "/api/v1/editors/ed%00", "path"),
        (Method::DELETE, "/api/v1/tokens/t%00k", "path"),
        (Method::GET, "/api/v1/articles/a%1Bb", "path"),
        (
            Method::GET,
            "/api/v1/articles?url=https://x.example/%00",
            "url",
        ),
        (Method::GET, "/api/v1/reports/status/%7F", "path"),
    ] {
        let (status, body) = s.send(method.clone(), path, Some(&json!({}))).await;
        assert_control_refused(status, &body, field);
    }
    // Without a session too: the boundary comes before authentication.
    let (status, body) = app.get_json("/api/v1/queue?desk=%00").await;
    assert_control_refused(status, &body, "desk");
    // Ordinary escapes pass.
    let (status, _) = s.get("/api/v1/queue?desk=%C3%A9t%C3%A9&q=a+b").await;
    assert_eq!(status, 200);
}

async fn html_character_references_to_controls_are_dropped(b: Backend) {
    let app = TestApp::spawn(b).await;
    let r = app
        .put_article(
            "refs",
            &json!({
                "url": "https://news.example/refs",
                "title": "Titre",
                "language": "fr",
                "body_html": "<p>Une&#7; phrase&#27;[31m rouge&#0;.</p><p>Deux&#x7f;&#x85; fins.</p>",
            }),
        )
        .await;
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
    let (_, article) = app.get_json("/api/v1/articles/refs").await;
    let text = article.to_string();
    let sentences: Vec<String> = article["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap().to_string())
        .collect();
    assert!(!sentences.is_empty(), "{text}");
    for s in &sentences {
        assert!(!s.chars().any(char::is_control), "{s:?}");
    }
    assert!(
        sentences.iter().any(|s| s.contains("phrase[31m rouge")),
        "{sentences:?}"
    );
}

async fn a_comment_of_invisible_characters_is_empty(b: Backend) {
    let app = TestApp::spawn(b).await;
    let mut report = app.valid_report();
    report["comment"] = json!("\u{200B}\u{200B} \u{FEFF}\u{2060}\u{200D}");
    let r = app.post_report(DEMO, &report).await;
    assert_eq!(r.status().as_u16(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "comment", "{body}");
    assert_eq!(body["errors"][0]["code"], "required", "{body}");
}

async fn login_next_is_a_same_site_path_or_nothing(b: Backend) {
    let app = crate::editor_ui::spawn(b).await;
    let who = account(&app, Role::Editor, "Ed").await;
    for (next, expected) in [
        ("/editor/cases/x\r\nSet-Cookie: evil=1", "/editor/"),
        ("/editor/\n", "/editor/"),
        ("https://evil.example/", "/editor/"),
        ("/editor/corrections?x=1", "/editor/corrections?x=1"),
    ] {
        let c = browser();
        let (_, html) = get_page(&app, &c, "/editor/login").await;
        let r = post_form(
            &app,
            &c,
            "/editor/login",
            &[
                ("csrf_token", &csrf_of(&html)),
                ("email", &who.email),
                ("password", &who.password),
                ("next", next),
            ],
        )
        .await;
        assert_eq!(r.status().as_u16(), 303, "{next:?}");
        assert_eq!(r.headers()["location"], expected, "{next:?}");
        assert!(r.headers().get("set-cookie").is_some());
        assert!(
            !r.headers()
                .get_all("set-cookie")
                .iter()
                .any(|v| v.to_str().unwrap_or("").contains("evil")),
        );
    }
    // DEL is refused at the form boundary, before any sign-in.
    let c = browser();
    let (_, html) = get_page(&app, &c, "/editor/login").await;
    let r = post_form(
        &app,
        &c,
        "/editor/login",
        &[
            ("csrf_token", &csrf_of(&html)),
            ("email", &who.email),
            ("password", &who.password),
            ("next", "/editor/\u{7f}"),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 422);
    // And in the login page's query string.
    let r = c
        .get(app.url("/editor/login?next=%2Feditor%2F%0D%0A"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
}

async fn json_ld_cannot_end_a_script_element(b: Backend) {
    const NOTE: &str = "Corrigé </script><script>alert(1)</script> & <!-- fin";
    let app = staff::spawn(b).await;
    let ed = staff::add(&app, Role::Editor, &[]).await;
    let s = staff::login(&app, &ed).await;
    let case_id = staff::report(&app, "le 3 octobre", "factual_error", None).await;
    assert_eq!(s.act(&case_id, "claim", None).await.0, 200);
    let (status, answer) = s
        .act(
            &case_id,
            "resolve",
            Some(json!({"resolution": "corrected", "public_note": NOTE})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");

    let text = app
        .get(&format!("/api/v1/articles/{DEMO}/corrections.jsonld"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !text.contains('<') && !text.contains('>') && !text.contains('&'),
        "{text}"
    );
    assert!(text.contains("\\u003c/script\\u003e"), "{text}");
    let ld: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(ld["correction"][0]["text"], NOTE);

    // The demo page embeds the same JSON-LD, escaped the same way.
    let html = app.get("/demo").await.text().await.unwrap();
    let start = html.find("application/ld+json\">").unwrap();
    let block = &html[start..start + html[start..].find("</script>").unwrap()];
    assert!(block.contains("\\u003c/script\\u003e"), "{block}");
}
