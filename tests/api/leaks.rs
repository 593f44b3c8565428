//! Small leaks (issue 12, item 8): `/metrics` is not public, and status-link
//! lookups are rate-limited per client address.

use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{Backend, DEMO, TestApp};

backend_tests!(status_lookups_are_limited_per_address);

async fn metrics_status(app: &TestApp, auth: Option<&str>, forwarded: Option<&str>) -> u16 {
    let mut r = app.client.get(app.url("/metrics"));
    if let Some(token) = auth {
        r = r.bearer_auth(token);
    }
    if let Some(ip) = forwarded {
        r = r.header("X-Forwarded-For", ip);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
    let body = r.text().await.unwrap();
    if status == 200 {
        assert!(body.contains("erratum_"), "{body}");
    } else {
        assert_eq!(content_type, "application/problem+json", "{body}");
        assert!(!body.contains("erratum_http"), "{body}");
    }
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_token() {
    let app = TestApp::spawn_with(Backend::Sqlite, "[metrics]\ntoken = \"scrape-me\"\n").await;
    // Counters appear once a request was counted (refused ones are not).
    assert_eq!(app.get("/health/live").await.status(), 200);
    assert_eq!(metrics_status(&app, None, None).await, 401);
    assert_eq!(metrics_status(&app, Some("scrape-you"), None).await, 401);
    assert_eq!(metrics_status(&app, Some("scrape-me"), None).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_without_a_token_are_for_this_machine_only() {
    // The test client is on 127.0.0.1; as a trusted proxy it can speak for
    // a client elsewhere, which is refused.
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        "[server]\ntrusted_proxies = [\"127.0.0.1/32\"]\n",
    )
    .await;
    assert_eq!(app.get("/health/live").await.status(), 200);
    assert_eq!(metrics_status(&app, None, None).await, 200);
    assert_eq!(metrics_status(&app, None, Some("203.0.113.7")).await, 403);
    assert_eq!(
        metrics_status(&app, Some("anything"), Some("203.0.113.7")).await,
        403
    );
}

async fn status_lookups_are_limited_per_address(b: Backend) {
    let app = TestApp::spawn_with(
        b,
        "[server]\ntrusted_proxies = [\"127.0.0.1/32\"]\n\
         [intake.rate_limit]\nstatus_per_ip_per_minute = 3\n",
    )
    .await;
    let r = app.post_report(DEMO, &app.valid_report()).await;
    assert_eq!(r.status(), 201);
    let filed: Value = r.json().await.unwrap();
    let token = filed["status_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let lookup = |path: String, from: &'static str| {
        let req = app
            .client
            .get(app.url(&path))
            .header("X-Forwarded-For", from);
        async move { req.send().await.unwrap() }
    };
    let json = format!("/api/v1/reports/status/{token}");
    // Known and unknown tokens, JSON and page, all count against one limit.
    assert_eq!(lookup(json.clone(), "198.51.100.1").await.status(), 200);
    let unknown = "/api/v1/reports/status/not-a-token".to_string();
    assert_eq!(lookup(unknown, "198.51.100.1").await.status(), 404);
    assert_eq!(
        lookup(format!("/r/{token}"), "198.51.100.1").await.status(),
        200
    );
    for path in [
        json.clone(),
        format!("/r/{token}"),
        format!("/r/{token}/data-requests"),
    ] {
        let r = lookup(path.clone(), "198.51.100.1").await;
        assert_eq!(r.status(), 429, "{path}");
        assert!(r.headers().contains_key("retry-after"), "{path}");
    }
    // Another address is counted on its own.
    assert_eq!(lookup(json, "198.51.100.2").await.status(), 200);
}

/// Requests to Swagger UI's `/docs/{_:.*}` route, with any method, logged
/// one warning each from the metrics middleware (issue 12, item 8).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_requests_log_no_warning_each() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_erratum"))
        .arg("serve")
        .current_dir(dir.path())
        .env("ERRATUM__SERVER__PORT", "0")
        .env("ERRATUM__LOG__FORMAT", "json")
        .env("ERRATUM__LOG__LEVEL", "info")
        .env("ERRATUM__EMAIL__WORKER__ENABLED", "false")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("the server starts").unwrap();
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && let Some(url) = v["url"].as_str()
        {
            break url.to_string();
        }
    };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let seen = seen.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                seen.lock().unwrap().push(line);
            }
        })
    };
    let client = reqwest::Client::new();
    let foo = reqwest::Method::from_bytes(b"FOO").unwrap();
    for (method, path) in [
        (foo.clone(), "/docs/"),
        (reqwest::Method::GET, "/docs/"),
        (foo.clone(), "/api/v1/queue"),
        (foo, "/nope"),
    ] {
        let status = client
            .request(method.clone(), format!("{base}{path}"))
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.as_u16() < 500, "{method} {path}: {status}");
    }
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    let seen = seen.lock().unwrap();
    let requests = seen.iter().filter(|l| l.contains("\"request\"")).count();
    assert!(requests >= 4, "the requests were logged: {seen:?}");
    let warnings: Vec<_> = seen
        .iter()
        .filter(|l| l.contains("\"WARN\"") && !l.contains("erratum::demo"))
        .collect();
    assert!(warnings.is_empty(), "{warnings:?}");
}
