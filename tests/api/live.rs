//! The queue's live arrivals: the server-sent events stream and its poll
//! fallback, fed from the events table; both need a signed-in session;
//! streams are bounded and end at shutdown.

use std::time::Duration;

use erratum::domain::editor::Role;
use serde_json::Value;

use crate::backend_tests;
use crate::editor_ui::{account, browser, sign_in};
use crate::helpers::{Backend, TestApp};
use crate::staff::{self, QUOTES};

backend_tests!(
    the_stream_announces_a_new_case,
    the_stream_needs_a_session_and_is_bounded,
    the_poll_answers_changes_after_a_cursor,
);

/// Read the stream until `want` appears in what was read; a guard against
/// a hang, not a timing assertion.
async fn read_until(r: &mut reqwest::Response, seen: &mut String, want: &str) {
    let wait = tokio::time::timeout(Duration::from_secs(30), async {
        while !seen.contains(want) {
            match r.chunk().await.unwrap() {
                Some(bytes) => seen.push_str(&String::from_utf8_lossy(&bytes)),
                None => panic!("the stream ended before {want:?}: {seen}"),
            }
        }
    });
    wait.await
        .unwrap_or_else(|_| panic!("no {want:?} in: {seen}"));
}

async fn open(app: &TestApp, c: &reqwest::Client) -> reqwest::Response {
    c.get(app.url("/editor/queue/live"))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap()
}

async fn the_stream_announces_a_new_case(b: Backend) {
    let app = crate::editor_ui::spawn(b).await;
    let editor = account(&app, Role::Editor, "Éd").await;
    let (c, _) = sign_in(&app, &editor).await;
    let mut r = open(&app, &c).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    let mut seen = String::new();
    read_until(&mut r, &mut seen, "event: ready").await;

    // A reader files a report: the stream names the new case.
    let case_id = staff::report(&app, QUOTES[0], "factual_error", None).await;
    read_until(&mut r, &mut seen, &case_id).await;
    let frame = seen
        .split("\n\n")
        .find(|f| f.contains("event: cases") && f.contains(&case_id))
        .unwrap();
    let data: Value = serde_json::from_str(
        frame
            .lines()
            .find_map(|l| l.strip_prefix("data: "))
            .unwrap(),
    )
    .unwrap();
    assert!(
        data["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["case_id"] == case_id.as_str() && c["new"] == true),
        "{data}"
    );
    // Changes to a case come too.
    let admin = staff::login(&app, &staff::add(&app, Role::Admin, &[]).await).await;
    assert_eq!(admin.act(&case_id, "triage", None).await.0, 200);
    read_until(&mut r, &mut seen, "case_triaged").await;

    // At shutdown the stream ends cleanly.
    assert_eq!(app.app_state.live.open_streams(), 1);
    app.app_state.live.close();
    let end = tokio::time::timeout(Duration::from_secs(30), async {
        while r.chunk().await.unwrap().is_some() {}
    });
    end.await.expect("the stream ended");
}

async fn the_stream_needs_a_session_and_is_bounded(b: Backend) {
    let app = crate::editor_ui::spawn(b).await;
    // No session: no stream.
    let r = open(&app, &browser()).await;
    assert_ne!(r.status(), 200);
    let r = browser()
        .get(app.url("/editor/queue/live/poll"))
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), 200);

    // Every stream the instance allows is open: the next one is refused,
    // and a slot frees when a page goes away (noticed at the next write:
    // a keep-alive every second here).
    let app = {
        drop(app);
        crate::helpers::TestApp::spawn_with(
            b,
            "[auth]\nlogin_per_ip_per_minute = 10000\n[live]\nmax_streams = 1\nkeepalive_secs = 1\n",
        )
        .await
    };
    let viewer = account(&app, Role::Viewer, "Vi").await;
    let (c, _) = sign_in(&app, &viewer).await;
    let first = open(&app, &c).await;
    assert_eq!(first.status(), 200, "viewers follow the queue too");
    let second = open(&app, &c).await;
    assert_eq!(second.status(), 503);
    assert!(second.headers().contains_key("retry-after"));
    let body: Value = second.json().await.unwrap_or(Value::Null);
    if !body.is_null() {
        assert_eq!(body["code"], "too_many_streams");
    }
    drop(first);
    let again = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let r = open(&app, &c).await;
            if r.status() == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    again.await.expect("the slot is freed");
}

async fn the_poll_answers_changes_after_a_cursor(b: Backend) {
    let app = crate::editor_ui::spawn(b).await;
    let editor = account(&app, Role::Editor, "Éd").await;
    let (c, _) = sign_in(&app, &editor).await;
    let get = |path: String| {
        let c = c.clone();
        let url = app.url(&path);
        async move {
            let r = c.get(url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let start = get("/editor/queue/live/poll".into()).await;
    assert!(start["changes"].as_array().unwrap().is_empty());
    let cursor = start["cursor"].as_str().unwrap().to_string();

    let case_id = staff::report(&app, QUOTES[1], "typo", None).await;
    let after = get(format!("/editor/queue/live/poll?after={cursor}")).await;
    let changes = after["changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["case_id"] == case_id.as_str() && c["new"] == true),
        "{after}"
    );
    assert_ne!(after["cursor"], start["cursor"]);
    // From the new cursor, nothing more.
    let next = get(format!(
        "/editor/queue/live/poll?after={}",
        after["cursor"].as_str().unwrap()
    ))
    .await;
    assert!(next["changes"].as_array().unwrap().is_empty());
}
