use crate::backend_tests;
use crate::helpers::{Backend, TestApp};

backend_tests!(health_metrics_request_id_and_openapi);

async fn health_metrics_request_id_and_openapi(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (s, body) = app.get_json("/health/live").await;
    assert_eq!((s, body["status"].as_str()), (200, Some("ok")));
    let (s, body) = app.get_json("/health/ready").await;
    assert_eq!(s, 200);
    assert_eq!(
        body["database"],
        if b == Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        }
    );

    // A well-formed incoming request id is echoed; otherwise one is made.
    let r = app
        .client
        .get(app.url("/health/live"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    let r = app
        .client
        .get(app.url("/health/live"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");

    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("erratum_http_requests_total"), "{metrics}");
    assert!(metrics.contains(r#"endpoint="/health/live""#), "{metrics}");

    let (s, spec) = app.get_json("/api/openapi.json").await;
    assert_eq!(s, 200);
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    for (path, method) in [
        ("/api/v1/articles/{external_id}", "put"),
        ("/api/v1/articles/{external_id}", "get"),
        ("/api/v1/articles", "get"),
        ("/api/v1/articles/{external_id}/reports", "post"),
        ("/api/v1/reports/status/{token}", "get"),
        ("/health/ready", "get"),
    ] {
        let op = &spec["paths"][path][method];
        assert!(op.is_object(), "{method} {path} missing from OpenAPI");
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses
                .keys()
                .any(|k| k.starts_with('4') || k.starts_with('5')),
            "{method} {path} documents no error response"
        );
    }
    let r = app.get("/docs/").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("swagger"));
}
