//! Ingest cannot freeze the server: HTML nested too deeply or with too many
//! elements is refused with 422 `html_too_complex` before it is parsed, and
//! bodies that are parsed are parsed off the HTTP workers, so `/health/live`
//! keeps answering while hostile bodies arrive together.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, INGEST_TOKEN, TestApp};

backend_tests!(
    deep_or_huge_html_is_refused_as_too_complex,
    health_answers_while_hostile_bodies_are_ingested,
);

fn article(html: String) -> Value {
    json!({
        "url": "https://news.example/hostile",
        "title": "Un titre",
        "language": "fr",
        "body_html": html,
    })
}

/// About 1 MB of `<div>` nested as deep as the bytes allow.
fn nested_divs() -> String {
    "<div>".repeat(200_000)
}

/// About 1 MB that nests just under the cap, over and over: the most work
/// the pre-scan lets through to the parser.
fn deep_but_allowed() -> String {
    let depth = erratum::domain::segment::MAX_HTML_DEPTH - 1;
    let block = format!("{}x. {}", "<i>".repeat(depth), "</i>".repeat(depth));
    block.repeat(1_000_000 / block.len())
}

async fn deep_or_huge_html_is_refused_as_too_complex(b: Backend) {
    let app = TestApp::spawn(b).await;
    let r = app.put_article("deep", &article(nested_divs())).await;
    assert_eq!(r.status().as_u16(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "urn:erratum:problem:html_too_complex");
    assert_eq!(body["errors"][0]["field"], "body_html");
    assert_eq!(body["max_depth"], erratum::domain::segment::MAX_HTML_DEPTH);

    let many = "<span>a</span> ".repeat(erratum::domain::segment::MAX_HTML_ELEMENTS + 1);
    let r = app.put_article("many", &article(many)).await;
    assert_eq!(r.status().as_u16(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "urn:erratum:problem:html_too_complex");

    // Ordinary markup, sloppy or not, still goes in.
    let fine = format!(
        "<article><h1>Un titre</h1>{}<ul><li>Un point.<li>Un autre.</ul></article>",
        "<p>Une phrase. Une autre phrase.".repeat(50)
    );
    let r = app.put_article("fine", &article(fine)).await;
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
}

async fn health_answers_while_hostile_bodies_are_ingested(b: Backend) {
    let app = TestApp::spawn(b).await;
    let client = reqwest::Client::new();
    let put = |id: &str, html: String| {
        client
            .put(app.url(&format!("/api/v1/articles/{id}")))
            .bearer_auth(INGEST_TOKEN)
            .json(&article(html))
            .send()
    };
    // The probe's connection is open before the bodies arrive: the figure
    // is the server's answer time, not a TCP handshake.
    let r = client.get(app.url("/health/live")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let hostile = futures::future::join_all([
        put("h1", nested_divs()),
        put("h2", nested_divs()),
        put("h3", deep_but_allowed()),
        put("h4", deep_but_allowed()),
    ]);
    let probe = async {
        let mut times = Vec::new();
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until {
            let started = Instant::now();
            let r = client.get(app.url("/health/live")).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200);
            times.push(started.elapsed());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        times.sort();
        times
    };
    let (answers, times) = tokio::join!(hostile, probe);
    for r in answers {
        let r = r.unwrap();
        let status = r.status().as_u16();
        assert!(status == 422 || status == 201, "{status}");
    }
    let probes = times.len();
    assert!(probes > 10, "{probes} probes");
    // Nine probes in ten within 50 ms, and none near a freeze (a blocked
    // worker held /health/live for over a minute). The slowest alone is the
    // test runner's scheduling on a busy machine as much as the server's.
    let p90 = times[probes * 9 / 10];
    let slowest = times[probes - 1];
    assert!(
        p90 < Duration::from_millis(50),
        "/health/live p90 {p90:?} while articles were ingested"
    );
    assert!(
        slowest < Duration::from_millis(1000),
        "/health/live took {slowest:?} while articles were ingested"
    );
}
