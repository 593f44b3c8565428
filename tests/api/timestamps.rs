//! Times in the JSON API are RFC 3339 with an offset, `…Z` (issue 12, item
//! 6), as the OpenAPI `date-time` format says, on both backends.

use erratum::domain::editor::Role;
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{Backend, DEMO};
use crate::staff::{self, add, login};

backend_tests!(api_times_carry_their_utc_offset);

/// Every string under a key ending in `_at` (or `as_of`), anywhere in `v`.
fn times(v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if let (true, Some(s)) = (k.ends_with("_at") || k == "as_of", v.as_str()) {
                    out.push((k.clone(), s.to_string()));
                }
                times(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| times(v, out)),
        _ => {}
    }
}

async fn api_times_carry_their_utc_offset(b: Backend) {
    let app = staff::spawn(b).await;
    let admin = add(&app, Role::Admin, &[]).await;
    let s = login(&app, &admin).await;
    let receipt = staff::report_receipt(&app, "le 3 octobre", "factual_error").await;
    let case_id = receipt["case_id"].as_str().unwrap().to_string();
    let token = receipt["status_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        s.post(
            "/api/v1/tokens",
            Some(&serde_json::json!({"name": "t", "expires_in_days": 30}))
        )
        .await
        .0,
        201
    );

    let mut seen = Vec::new();
    let (status, v) = app
        .get_json(&format!("/api/v1/reports/status/{token}"))
        .await;
    assert_eq!(status, 200, "{v}");
    times(&v, &mut seen);
    for path in [
        "/api/v1/queue".to_string(),
        format!("/api/v1/cases/{case_id}"),
        "/api/v1/editors".to_string(),
        "/api/v1/tokens".to_string(),
        "/api/v1/audit".to_string(),
        format!("/api/v1/articles/{DEMO}"),
    ] {
        let (status, v) = s.get(&path).await;
        assert_eq!(status, 200, "{path}: {v}");
        times(&v, &mut seen);
    }
    for key in [
        "updated_at",
        "due_at",
        "first_reported_at",
        "created_at",
        "as_of",
    ] {
        assert!(seen.iter().any(|(k, _)| k == key), "no {key} in {seen:?}");
    }
    for (key, value) in &seen {
        let parsed = chrono::DateTime::parse_from_rfc3339(value);
        assert!(parsed.is_ok() && value.ends_with('Z'), "{key}: {value}");
    }

    // The OpenAPI document calls them date-time.
    let (_, doc) = app.get_json("/api/openapi.json").await;
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for (name, schema) in schemas {
        for (prop, def) in schema["properties"].as_object().into_iter().flatten() {
            if prop.ends_with("_at") {
                let text = def.to_string();
                assert!(text.contains("date-time"), "{name}.{prop}: {text}");
            }
        }
    }
}
