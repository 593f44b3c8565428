//! Reader languages beyond French and English: an article in Spanish (a
//! built-in catalog) gets the widget's words and its readers' status page in
//! Spanish; a language added by one file in `ui.reader_locales_dir` is
//! served, its missing words in English.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};

backend_tests!(
    a_spanish_article_gets_spanish_widget_and_status_page,
    one_file_adds_a_language,
);

const ES: &str = "es-puente-1";

async fn spanish_article(app: &TestApp) {
    let r = app
        .put_article(
            ES,
            &json!({
                "url": "https://news.example/es/puente",
                "title": "El puente de la ciudad",
                "language": "es",
                "body_text": "El puente costó cinco millones. Se inauguró en 1999.\n\nEl tráfico se duplicó desde entonces.",
            }),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
}

async fn strings(app: &TestApp, tag: &str) -> Value {
    let r = app.get(&format!("/widget/strings/{tag}.json")).await;
    assert_eq!(r.status(), 200, "{tag}");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    r.json().await.unwrap()
}

async fn a_spanish_article_gets_spanish_widget_and_status_page(b: Backend) {
    let app = TestApp::spawn(b).await;
    spanish_article(&app).await;
    // Ingest keeps the tag: the widget reads it from the article.
    let (_, article) = app.get_json(&format!("/api/v1/articles/{ES}")).await;
    assert_eq!(article["language"], "es", "{article}");
    assert_eq!(
        article["sentences"].as_array().unwrap().len(),
        4,
        "{article}"
    );

    let w = strings(&app, "es").await;
    assert_eq!(w["lang"], "es");
    assert_eq!(w["strings"]["report"], "Informar de un error");
    assert_eq!(w["category"]["typo"], "Errata u ortografía");
    // A regional tag reads its language; one without a catalog, French as
    // before; French and English are unchanged.
    assert_eq!(strings(&app, "es-MX").await["lang"], "es");
    assert_eq!(strings(&app, "de").await["lang"], "fr");
    assert_eq!(
        strings(&app, "fr").await["strings"]["report"],
        "Signaler une erreur"
    );
    assert_eq!(
        strings(&app, "en").await["strings"]["report"],
        "Report an error"
    );
    // Not a tag at all is not a path traversal either.
    assert_eq!(app.get("/widget/strings/..%2Fen.json").await.status(), 200);

    // The article's page hands its tag to the widget.
    let html = app
        .get(&format!("/articles/{ES}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!(r#"data-article="{ES}" data-lang="es""#)));

    // A report on it: the reader's status page is in Spanish.
    let r = app
        .post_report(
            ES,
            &json!({
                "quote": {"exact": "costó cinco millones"},
                "category": "factual_error",
                "comment": "Costó seis millones.",
            }),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let receipt: Value = r.json().await.unwrap();
    let url = receipt["status_url"].as_str().unwrap();
    let html = app
        .get(&url[url.find("/r/").unwrap()..])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"<html lang="es">"#), "{html}");
    for words in [
        "Seguimiento de su aviso",
        "Aviso recibido",
        "Error factual",
        "Lo que usted señaló",
        "Recibido",
    ] {
        assert!(html.contains(words), "missing {words}: {html}");
    }
    assert!(!html.contains("Signalement") && !html.contains("Your error report"));
}

async fn one_file_adds_a_language(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("de.toml"),
        "[meta]\nname = \"Deutsch\"\n[widget]\nreport = \"Fehler melden\"\n[status]\nheading = \"Ihre Fehlermeldung\"\n",
    )
    .unwrap();
    let app = TestApp::spawn_with(
        b,
        &format!(
            "[ui]\nreader_locales_dir = {:?}\n",
            dir.path().display().to_string()
        ),
    )
    .await;
    let w = strings(&app, "de-AT").await;
    assert_eq!(w["lang"], "de");
    assert_eq!(w["strings"]["report"], "Fehler melden");
    // What the file lacks reads in English.
    assert_eq!(w["strings"]["close"], "Close");
    assert_eq!(w["category"]["typo"], "Typo or spelling");
    // The built-in languages are still there.
    assert_eq!(strings(&app, "es").await["lang"], "es");
}
