//! The error model: every malformed request gets problem+json with a stable
//! type, never a 500.

use reqwest::Method;
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{Backend, DEMO, INGEST_TOKEN, TestApp};

backend_tests!(malformed_requests_get_problem_json);

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
}

fn case(
    name: &'static str,
    method: Method,
    path: &str,
    ct: Option<&'static str>,
    body: &[u8],
    status: u16,
    code: &'static str,
) -> Case {
    Case {
        name,
        method,
        path: path.to_string(),
        content_type: ct,
        body: body.to_vec(),
        status,
        code,
    }
}

async fn malformed_requests_get_problem_json(b: Backend) {
    let app = TestApp::spawn(b).await;
    let reports = format!("/api/v1/articles/{DEMO}/reports");
    let article = "/api/v1/articles/new-one".to_string();
    let json = Some("application/json");
    let big = vec![b'a'; 17 * 1024];
    let mut big_json = br#"{"comment":""#.to_vec();
    big_json.extend(std::iter::repeat_n(b'x', 17 * 1024));
    big_json.extend(br#""}"#);
    let cases = vec![
        case(
            "unknown route",
            Method::GET,
            "/nope",
            None,
            b"",
            404,
            "not_found",
        ),
        case(
            "unknown api route",
            Method::GET,
            "/api/v1/whatever/else",
            None,
            b"",
            404,
            "not_found",
        ),
        case(
            "wrong method",
            Method::DELETE,
            &format!("/api/v1/articles/{DEMO}"),
            None,
            b"",
            405,
            "method_not_allowed",
        ),
        case(
            "wrong method on reports",
            Method::GET,
            &reports,
            None,
            b"",
            405,
            "method_not_allowed",
        ),
        case(
            "no content type",
            Method::POST,
            &reports,
            None,
            b"{}",
            415,
            "unsupported_media_type",
        ),
        case(
            "form content type",
            Method::POST,
            &reports,
            Some("application/x-www-form-urlencoded"),
            b"a=b",
            415,
            "unsupported_media_type",
        ),
        case(
            "text content type",
            Method::POST,
            &reports,
            Some("text/plain"),
            b"{}",
            415,
            "unsupported_media_type",
        ),
        case(
            "oversize body",
            Method::POST,
            &reports,
            json,
            &big,
            413,
            "payload_too_large",
        ),
        case(
            "oversize json",
            Method::POST,
            &reports,
            json,
            &big_json,
            413,
            "payload_too_large",
        ),
        case(
            "empty body",
            Method::POST,
            &reports,
            json,
            b"",
            400,
            "malformed_json",
        ),
        case(
            "truncated json",
            Method::POST,
            &reports,
            json,
            b"{\"quote\": {",
            400,
            "malformed_json",
        ),
        case(
            "trailing comma",
            Method::POST,
            &reports,
            json,
            b"{\"a\": 1,}",
            400,
            "malformed_json",
        ),
        case(
            "trailing garbage",
            Method::POST,
            &reports,
            json,
            b"{} {}",
            400,
            "malformed_json",
        ),
        case(
            "not utf-8",
            Method::POST,
            &reports,
            json,
            b"{\"comment\": \"\xff\xfe\"}",
            400,
            "malformed_json",
        ),
        case(
            "json array",
            Method::POST,
            &reports,
            json,
            b"[]",
            422,
            "validation",
        ),
        case(
            "json null",
            Method::POST,
            &reports,
            json,
            b"null",
            422,
            "validation",
        ),
        case(
            "missing fields",
            Method::POST,
            &reports,
            json,
            b"{}",
            422,
            "validation",
        ),
        case(
            "wrong type",
            Method::POST,
            &reports,
            json,
            b"{\"quote\": 5, \"category\": \"typo\", \"comment\": \"x\"}",
            422,
            "validation",
        ),
        case(
            "unknown article",
            Method::POST,
            "/api/v1/articles/nope/reports",
            json,
            br#"{"quote":{"exact":"x"},"category":"typo","comment":"x"}"#,
            404,
            "article_not_found",
        ),
        case(
            "invalid article id",
            Method::POST,
            "/api/v1/articles/%20%3Cx%3E/reports",
            json,
            br#"{"quote":{"exact":"x"},"category":"typo","comment":"x"}"#,
            404,
            "article_not_found",
        ),
        case(
            "unknown status token",
            Method::GET,
            "/api/v1/reports/status/nope",
            None,
            b"",
            404,
            "report_not_found",
        ),
        case(
            "huge status token",
            Method::GET,
            &format!("/api/v1/reports/status/{}", "a".repeat(500)),
            None,
            b"",
            404,
            "report_not_found",
        ),
        case(
            "put without token",
            Method::PUT,
            &article,
            json,
            b"{}",
            401,
            "unauthorized",
        ),
        case(
            "bad query",
            Method::GET,
            "/api/v1/articles?url=%ZZ",
            None,
            b"",
            422,
            "validation",
        ),
    ];
    for c in cases {
        let mut req = app
            .client
            .request(c.method.clone(), app.url(&c.path))
            .body(c.body.clone());
        if let Some(ct) = c.content_type {
            req = req.header("content-type", ct);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let text = r.text().await.unwrap();
        assert_eq!(status, c.status, "{}: {text}", c.name);
        assert_eq!(
            ct.as_deref(),
            Some("application/problem+json"),
            "{}",
            c.name
        );
        let p: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{}: body is not JSON: {text}", c.name));
        assert_eq!(
            p["type"],
            format!("urn:erratum:problem:{}", c.code),
            "{}: {p}",
            c.name
        );
        assert_eq!(p["status"], c.status, "{}", c.name);
        assert!(
            p["title"].is_string() && p["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{}",
            c.name
        );
        if c.code == "malformed_json" && !c.body.is_empty() && c.name != "not utf-8" {
            assert!(
                p["line"].is_u64() && p["column"].is_u64(),
                "{}: no line/column: {p}",
                c.name
            );
        }
        if c.status == 422 {
            assert!(
                !p["errors"].as_array().unwrap().is_empty(),
                "{}: no fields: {p}",
                c.name
            );
        }
    }
    // An authorised PUT with malformed JSON gets the same treatment.
    let r = app
        .client
        .put(app.url(&article))
        .bearer_auth(INGEST_TOKEN)
        .header("content-type", "application/json")
        .body("{\n\"url\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let p: Value = r.json().await.unwrap();
    assert_eq!(
        (p["code"].as_str(), p["line"].as_u64()),
        (Some("malformed_json"), Some(2))
    );
}
