//! Reader languages beyond French and English: an article in Spanish (a
//! built-in catalog) gets the widget's words, its readers' status page, the
//! answer to a report, readers' emails and the unsubscribe page in Spanish,
//! and the public corrections log and transparency page speak Spanish with
//! `?lang=es`; a language added by one file in `ui.reader_locales_dir` is
//! served, emails and pages included, its missing words in English.

use erratum::domain::editor::Role;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::mail::{FROM, parts, unsubscribe_url};
use crate::smtp::{Received, SmtpServer};
use crate::staff::{self, add, login};

backend_tests!(
    a_spanish_article_gets_spanish_widget_and_status_page,
    spanish_readers_get_spanish_emails_answer_and_pages,
    one_file_adds_a_language,
);

const ES: &str = "es-puente-1";

async fn spanish_article(app: &TestApp) {
    article(app, ES, "es").await;
}

async fn article(app: &TestApp, id: &str, language: &str) {
    let r = app
        .put_article(
            id,
            &json!({
                "url": format!("https://news.example/{id}"),
                "title": "El puente de la ciudad",
                "language": language,
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

/// Settings for an app that mails through the test SMTP server, with
/// receipts on (they are off by default).
fn smtp_settings(port: u16, extra: &str) -> String {
    format!(
        "[email]\ntransport = \"smtp\"\nfrom = \"{FROM}\"\nreader_receipt = true\n\
         [email.smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n\
         timeout_secs = 5\npool_size = 2\n{extra}"
    )
}

/// File a report with the reader's address and consent; answers the receipt.
async fn report_with_email(app: &TestApp, id: &str, email: &str) -> Value {
    let r = app
        .post_report(
            id,
            &json!({
                "quote": {"exact": "costó cinco millones"},
                "category": "factual_error",
                "comment": "Costó seis millones.",
                "reporter": {"email": email, "notify": true},
            }),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    r.json().await.unwrap()
}

/// The emails to `to` sent so far, oldest first.
async fn mailed(app: &TestApp, smtp: &SmtpServer, to: &str) -> Vec<Received> {
    app.run_worker_once().await;
    smtp.messages()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t == to))
        .collect()
}

/// An email's subject, text and HTML parts.
fn read(m: &Received) -> (String, String, String) {
    let parsed = m.parse();
    let (text, html) = parts(&parsed);
    (parsed.subject().unwrap_or_default().to_string(), text, html)
}

async fn page(app: &TestApp, path: &str) -> String {
    let r = app.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

async fn spanish_readers_get_spanish_emails_answer_and_pages(b: Backend) {
    const READER: &str = "lectora@example.org";
    let smtp = SmtpServer::start();
    let app = staff::spawn_with(
        b,
        &smtp_settings(smtp.port, "[transparency]\nenabled = true\n"),
    )
    .await;
    spanish_article(&app).await;

    // The intake's answer thanks the reader in Spanish.
    let receipt = report_with_email(&app, ES, READER).await;
    assert_eq!(
        receipt["message"],
        "¡Gracias! Revisaremos sus comentarios lo antes posible."
    );
    let reference = receipt["reference"].as_str().unwrap().to_string();

    // The acknowledgement.
    let got = mailed(&app, &smtp, READER).await;
    assert_eq!(got.len(), 1);
    let (subject, text, html) = read(&got[0]);
    assert_eq!(subject, format!("Hemos recibido su aviso {reference}"));
    for words in [
        "Hola:",
        &format!("Hemos recibido su aviso {reference} sobre el artículo «El puente de la ciudad»:"),
        "«El puente costó cinco millones.»",
        "No recibir más estos correos: http",
    ] {
        assert!(text.contains(words), "missing {words}: {text}");
    }
    assert!(html.contains(r#"<html lang="es">"#), "{html}");
    assert!(
        html.contains(&format!(
            "Hemos recibido su aviso <strong>{reference}</strong> sobre el artículo <a href="
        )),
        "{html}"
    );
    assert!(!text.contains("Merci") && !text.contains("Thank you"));

    // "Email me this link".
    let url = receipt["status_url"].as_str().unwrap();
    let token = &url[url.find("/r/").unwrap() + 3..];
    let r = app
        .client
        .post(app.url(&format!("/api/v1/reports/status/{token}/email")))
        .json(&json!({"email": READER}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let got = mailed(&app, &smtp, READER).await;
    assert_eq!(got.len(), 2);
    let (subject, text, html) = read(&got[1]);
    assert_eq!(
        subject,
        format!("El enlace de seguimiento de su aviso {reference}")
    );
    assert!(
        text.contains("Si no lo ha pedido, ignore este correo."),
        "{text}"
    );
    assert!(
        text.contains("Enviado por Erratum a petición suya."),
        "{text}"
    );
    assert!(html.contains(">Seguir mi aviso</a>"), "{html}");

    // The outcome, with the newsroom's note escaped in HTML.
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let (status, _) = s
        .act(
            receipt["case_id"].as_str().unwrap(),
            "resolve",
            Some(json!({"resolution": "corrected", "public_note": "Costó seis millones <b>."})),
        )
        .await;
    assert_eq!(status, 200);
    let got = mailed(&app, &smtp, READER).await;
    assert_eq!(got.len(), 3);
    let (subject, text, html) = read(&got[2]);
    assert_eq!(
        subject,
        format!("Artículo corregido tras su aviso {reference}")
    );
    assert!(
        text.contains("Tenía razón: el artículo se ha corregido. ¡Gracias!"),
        "{text}"
    );
    assert!(text.contains("La corrección publicada:"), "{text}");
    assert!(html.contains("Costó seis millones &lt;b&gt;."), "{html}");
    assert!(!html.contains("millones <b>"), "{html}");

    // Its unsubscribe page asks, then confirms, in Spanish.
    let link = unsubscribe_url(&got[2].raw());
    let asked = app
        .client
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(asked.contains(r#"<html lang="es">"#), "{asked}");
    assert!(
        asked.contains("¿Dejar de recibir los correos sobre sus avisos?"),
        "{asked}"
    );
    assert!(asked.contains("Darme de baja"), "{asked}");
    let r = app
        .client
        .post(&link)
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let done = r.text().await.unwrap();
    assert!(done.contains("Baja confirmada"), "{done}");
    assert!(
        done.contains("Hecho: ya no recibirá los correos sobre sus avisos."),
        "{done}"
    );

    // The public log and the transparency page, with ?lang=es.
    let month = [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ][chrono::Datelike::month0(&chrono::Utc::now()) as usize];
    let log = page(&app, "/corrections?lang=es").await;
    assert!(log.contains(r#"<html lang="es">"#), "{log}");
    for words in [
        "Correcciones publicadas",
        "Corrección · <time",
        &format!(" de {month} de "),
        "Versión anterior:",
        "Costó seis millones &lt;b&gt;.",
        r#"<a href="/corrections" lang="fr">Français</a>"#,
    ] {
        assert!(log.contains(words), "missing {words}: {log}");
    }
    let figures = page(&app, "/transparency?lang=es").await;
    for words in [
        "Transparencia: nuestras correcciones",
        "Correcciones publicadas",
        "Por sección",
        "Por categoría del error señalado",
        &format!("{month} de "),
        "Error factual",
        r#"href="/corrections?lang=es""#,
    ] {
        assert!(figures.contains(words), "missing {words}: {figures}");
    }
    // French stays the default; English as before.
    assert!(
        page(&app, "/corrections")
            .await
            .contains("Corrections publiées")
    );
    assert!(
        page(&app, "/transparency?lang=en")
            .await
            .contains("Transparency: our corrections")
    );
}

async fn one_file_adds_a_language(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("de.toml"),
        "[meta]\nname = \"Deutsch\"\n[widget]\nreport = \"Fehler melden\"\n[status]\nheading = \"Ihre Fehlermeldung\"\n\
         [email.receipt]\nsubject = \"Wir haben Ihre Meldung {reference} erhalten\"\n\
         [unsubscribe]\nbutton = \"Abmelden\"\n[corrections]\ntitle = \"Veröffentlichte Korrekturen\"\n",
    )
    .unwrap();
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_with(
        b,
        &smtp_settings(
            smtp.port,
            &format!(
                "[ui]\nreader_locales_dir = {:?}\n",
                dir.path().display().to_string()
            ),
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

    // An article in German: its reader's email and unsubscribe page speak
    // the file's words, English where it has none.
    article(&app, "de-bruecke-1", "de").await;
    let receipt = report_with_email(&app, "de-bruecke-1", "leserin@example.org").await;
    assert_eq!(
        receipt["message"],
        "Thank you! We will review your comments as soon as possible."
    );
    let got = mailed(&app, &smtp, "leserin@example.org").await;
    assert_eq!(got.len(), 1);
    let (subject, text, html) = read(&got[0]);
    assert_eq!(
        subject,
        format!(
            "Wir haben Ihre Meldung {} erhalten",
            receipt["reference"].as_str().unwrap()
        )
    );
    assert!(text.contains("Hello,"), "{text}");
    assert!(html.contains(r#"<html lang="de">"#), "{html}");
    let asked = app
        .client
        .get(unsubscribe_url(&got[0].raw()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(asked.contains(r#"<html lang="de">"#), "{asked}");
    assert!(asked.contains(">Abmelden</button>"), "{asked}");
    // The public log in German, and its language is offered.
    let log = page(&app, "/corrections?lang=de").await;
    assert!(
        log.contains("<h1>Veröffentlichte Korrekturen</h1>"),
        "{log}"
    );
    assert!(
        page(&app, "/corrections?lang=en")
            .await
            .contains(r#"<a href="/corrections?lang=de" lang="de">Deutsch</a>"#)
    );
}
