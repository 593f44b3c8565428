//! Slow work never starves fast work (issue 19): the editors' heavy reads
//! have a time budget and capacity of their own, and a client over its
//! report limit is refused before its body is read.

use std::time::Duration;

use erratum::db::DbConn;
use erratum::domain::editor::Role;
use erratum::error::{ErrorCode, Problem};
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{Backend, DEMO, TestApp};
use crate::staff::{self, add, login};

backend_tests!(
    a_report_over_the_limit_is_refused_before_its_body_is_read,
    a_read_over_its_budget_is_cancelled_while_reports_go_through,
    a_read_whose_client_went_away_is_cancelled,
    reports_and_readiness_are_answered_while_editors_reads_are_all_taken,
);

/// A query that never ends by itself.
fn endless(conn: &mut DbConn) -> Result<(), Problem> {
    use diesel::RunQueryDsl;
    let q = match conn {
        DbConn::Sqlite(_) => {
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
             SELECT count(*) FROM c"
        }
        DbConn::Pg(_) => "SELECT pg_sleep(86400)",
    };
    diesel::sql_query(q).execute(conn)?;
    Ok(())
}

/// Wait until every heavy-read permit is back: the read's blocking work
/// ended (an endless query that was not cancelled would keep its permit).
async fn all_permits_back(app: &TestApp) {
    let reads = &app.app_state.reads;
    let size = reads.pool.max_size() as usize;
    for _ in 0..600 {
        if reads.permits.available_permits() == size {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the stopped read still runs in the database");
}

async fn refusal(r: reqwest::Response) -> (u16, Option<String>, Value) {
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry, r.json().await.unwrap_or(Value::Null))
}

async fn a_report_over_the_limit_is_refused_before_its_body_is_read(b: Backend) {
    let app = TestApp::spawn_with(b, "[intake.rate_limit]\nper_ip_per_minute = 1\n").await;
    let first = app.post_report(DEMO, &app.valid_report()).await;
    assert_eq!(first.status(), 201);
    // The use case refuses the second, as always.
    let (status, retry, body) = refusal(app.post_report(DEMO, &app.valid_report()).await).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "rate_limited");
    assert!(retry.is_some());
    // From now on this address is refused before its body is read: what
    // would be 400, 413, 415 or 404 is 429 (neither parsed nor looked up).
    let url = app.url(&format!("/api/v1/articles/{DEMO}/reports"));
    let json = "application/json";
    let attempts = [
        (url.clone(), json, "{not json".to_string()),
        (
            url.clone(),
            json,
            format!("{{\"comment\": \"{}\"}}", "x".repeat(64 * 1024)),
        ),
        (url.clone(), "text/plain", "hello".to_string()),
        (
            app.url("/api/v1/articles/no-such-article/reports"),
            json,
            app.valid_report().to_string(),
        ),
    ];
    for (url, content_type, body) in attempts {
        let r = app
            .client
            .post(&url)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let (status, retry, problem) = refusal(r).await;
        assert_eq!(status, 429, "{url} {content_type}: {problem}");
        assert_eq!(problem["code"], "rate_limited");
        assert_eq!(problem["type"], "urn:erratum:problem:rate_limited");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .starts_with("Too many reports from this address"),
            "{problem}"
        );
        let secs: u64 = retry.expect("Retry-After").parse().unwrap();
        assert!((1..=60).contains(&secs), "{secs}");
    }
    // A refusal keeps its connection open: a flood is not answered with a
    // new TCP connection per report.
    refusals_share_one_connection(&app).await;
}

/// Two reports over the limit on one keep-alive connection: both answered
/// 429, the second on the same socket as the first.
async fn refusals_share_one_connection(app: &TestApp) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let body = app.valid_report().to_string();
    let request = format!(
        "POST /api/v1/articles/{DEMO}/reports HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    for round in 0..2 {
        socket.write_all(request.as_bytes()).await.unwrap();
        let mut got = Vec::new();
        let answer = loop {
            let mut buf = [0u8; 4096];
            let n = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buf))
                .await
                .expect("an answer")
                .unwrap();
            assert!(n > 0, "round {round}: the server closed the connection");
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).to_string();
            let Some(end) = text.find("\r\n\r\n") else {
                continue;
            };
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .expect("a Content-Length");
            if got.len() >= end + 4 + length {
                break text;
            }
        };
        assert!(
            answer.starts_with("HTTP/1.1 429"),
            "round {round}: {answer}"
        );
        assert!(
            !answer.to_ascii_lowercase().contains("connection: close"),
            "round {round}: {answer}"
        );
    }
}

async fn a_read_over_its_budget_is_cancelled_while_reports_go_through(b: Backend) {
    let app = TestApp::spawn_with(b, "[database]\nread_budget_ms = 300\n").await;
    let state = app.app_state.clone();
    let slow = tokio::spawn(async move { state.heavy_read(endless).await });
    // A report filed at the same time is stored.
    let r = app.post_report(DEMO, &app.valid_report()).await;
    assert_eq!(r.status(), 201);
    let err = slow.await.unwrap().expect_err("an endless read is stopped");
    assert_eq!(err.code, ErrorCode::ReadOverBudget);
    assert_eq!(err.status.as_u16(), 503);
    assert!(err.retry_after.is_some());
    all_permits_back(&app).await;
}

async fn a_read_whose_client_went_away_is_cancelled(b: Backend) {
    // A budget the test never reaches: only the drop can stop the read.
    let app = TestApp::spawn_with(b, "[database]\nread_budget_ms = 3600000\n").await;
    let (started, running) = tokio::sync::oneshot::channel();
    let state = app.app_state.clone();
    let mut read = Box::pin(state.heavy_read(move |conn| {
        let _ = started.send(());
        endless(conn)
    }));
    tokio::select! {
        _ = &mut read => panic!("an endless read ended"),
        _ = running => {}
    }
    // As actix does with the handler of a client that disconnected.
    drop(read);
    all_permits_back(&app).await;
}

async fn reports_and_readiness_are_answered_while_editors_reads_are_all_taken(b: Backend) {
    let app = staff::spawn_with(b, "[database]\nread_pool_size = 2\nread_budget_ms = 300\n").await;
    let s = login(&app, &add(&app, Role::Viewer, &[]).await).await;
    // Every turn and every connection of the editors' reads is held.
    let reads = &app.app_state.reads;
    let turns = reads.permits.clone().acquire_many_owned(2).await.unwrap();
    let pool = reads.pool.clone();
    let held = tokio::task::spawn_blocking(move || [pool.get().unwrap(), pool.get().unwrap()])
        .await
        .unwrap();
    for path in [
        "/api/v1/queue",
        "/api/v1/stats",
        "/editor/",
        "/editor/dashboard",
    ] {
        let r = s.client.get(app.url(path)).send().await.unwrap();
        let (status, retry, problem) = refusal(r).await;
        assert_eq!(status, 503, "{path}: {problem}");
        if path.starts_with("/api") {
            assert_eq!(problem["code"], "read_over_budget", "{path}");
            assert!(retry.is_some(), "{path}");
        }
    }
    // Readers and the load balancer are not affected.
    for _ in 0..5 {
        let r = app.post_report(DEMO, &app.valid_report()).await;
        assert_eq!(r.status(), 201);
    }
    assert_eq!(app.get("/health/ready").await.status(), 200);
    assert_eq!(
        app.get(&format!("/api/v1/articles/{DEMO}")).await.status(),
        200
    );
    drop((turns, held));
    let (status, page) = s.get("/api/v1/queue").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
}
