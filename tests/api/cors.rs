//! The public endpoints answer CORS for the widget on newsroom domains; the
//! ingest endpoint does not.

use crate::backend_tests;
use crate::helpers::{Backend, DEMO, TestApp};

backend_tests!(public_endpoints_allow_configured_origins);

async fn public_endpoints_allow_configured_origins(b: Backend) {
    let preflight = |app: &TestApp, path: String, method: &'static str, origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url(&path))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", method)
            .header(
                "Access-Control-Request-Headers",
                "content-type,idempotency-key",
            )
            .send()
    };
    let app = TestApp::spawn(b).await;
    let r = preflight(
        &app,
        format!("/api/v1/articles/{DEMO}/reports"),
        "POST",
        "https://news.example",
    )
    .await
    .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let allowed = r.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed.contains("idempotency-key") && allowed.contains("content-type"),
        "{allowed}"
    );

    let r = app
        .client
        .get(app.url(&format!("/api/v1/articles/{DEMO}")))
        .header("Origin", "https://news.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");

    // Ingestion is not for browsers: no preflight passes for PUT.
    let r = preflight(
        &app,
        format!("/api/v1/articles/{DEMO}"),
        "PUT",
        "https://news.example",
    )
    .await
    .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none() || !r.status().is_success());

    // With a list of origins, only those are allowed.
    let app = TestApp::spawn_with(b, "[cors]\npublic_origins = [\"https://news.example\"]").await;
    let r = preflight(
        &app,
        format!("/api/v1/articles/{DEMO}/reports"),
        "POST",
        "https://news.example",
    )
    .await
    .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://news.example"
    );
    let r = preflight(
        &app,
        format!("/api/v1/articles/{DEMO}/reports"),
        "POST",
        "https://evil.example",
    )
    .await
    .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}
