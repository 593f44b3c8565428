//! Outgoing webhooks and chat alerts against real HTTP receivers: a Python
//! server that checks every signature with the `standardwebhooks` package
//! from PyPI (installed into target/pydeps by the first test that needs it),
//! the SSRF guard, the chat payloads, and what `PUT /api/v1/articles/{id}`
//! answers about the cases a revision touched.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use erratum::domain::editor::Role;
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::staff::{self, Session, add, login};

backend_tests!(
    a_receiver_that_was_down_gets_every_event_once_in_order,
    the_ssrf_guard_refuses_private_targets,
    chat_alerts_are_block_kit_and_adaptive_cards_per_desk,
    a_revision_answers_the_open_cases_it_touched,
    admins_manage_destinations_in_the_editors_pages,
);

const HOOKS: &str = "[webhooks]\nallow_private_targets = true\nretry_base_secs = 1\nretry_max_secs = 2\npoll_secs = 1\n";

/// `standardwebhooks` from PyPI, installed once into target/pydeps.
fn pydeps() -> PathBuf {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/pydeps");
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if !dir.join("standardwebhooks").exists() {
        let status = std::process::Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
            ])
            .arg(&dir)
            .arg("standardwebhooks==1.1.0")
            .status()
            .expect("python3 runs");
        assert!(status.success(), "pip install standardwebhooks failed");
    }
    dir
}

/// A running receiver; killed when dropped.
struct Receiver {
    _child: tokio::process::Child,
    log: PathBuf,
    port: u16,
}

impl Receiver {
    async fn start(dir: &std::path::Path, port: u16, secret: Option<&str>) -> Receiver {
        let log = dir.join(format!("receiver-{port}.jsonl"));
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/webhooks/receiver.py");
        let mut cmd = tokio::process::Command::new("python3");
        cmd.arg(script)
            .arg(port.to_string())
            .arg(&log)
            .env("PYTHONPATH", pydeps())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true);
        if let Some(s) = secret {
            cmd.arg(s);
        }
        let mut child = cmd.spawn().expect("the receiver starts");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        tokio::io::BufReader::new(stdout)
            .read_line(&mut line)
            .await
            .unwrap();
        let port = line.trim().parse().expect("the receiver prints its port");
        Receiver {
            _child: child,
            log,
            port,
        }
    }

    fn records(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// A port nothing listens on (yet).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Wait (at most a minute) until `done` holds.
async fn until<F: FnMut() -> Fut, Fut: std::future::Future<Output = bool>>(
    what: &str,
    mut done: F,
) {
    for _ in 0..600 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("gave up waiting: {what}");
}

async fn admin(app: &TestApp) -> Session {
    login(app, &add(app, Role::Admin, &[]).await).await
}

async fn register(s: &Session, body: Value) -> Value {
    let (status, created) = s.post("/api/v1/webhooks", Some(&body)).await;
    assert_eq!(status, 201, "{created}");
    created
}

async fn log_of(s: &Session, id: &str) -> Vec<Value> {
    let (status, log) = s.get(&format!("/api/v1/webhooks/{id}/deliveries")).await;
    assert_eq!(status, 200, "{log}");
    log.as_array().unwrap().clone()
}

async fn a_receiver_that_was_down_gets_every_event_once_in_order(b: Backend) {
    let app = staff::spawn_with(b, HOOKS).await;
    let s = admin(&app).await;
    let port = free_port();
    let hook = register(
        &s,
        json!({"url": format!("http://127.0.0.1:{port}/hook"), "description": "CMS",
            "events": ["report.filed", "case.opened", "case.triaged", "case.resolved", "correction.published"]}),
    )
    .await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{hook}");
    let id = hook["id"].as_str().unwrap().to_string();
    let (_, list) = s.get("/api/v1/webhooks").await;
    assert_eq!(list[0]["id"], id.as_str());
    assert!(list[0].get("secret").is_none(), "{list}");

    // Two cases, one corrected, while nothing listens.
    let a = staff::report(&app, "le 3 octobre", "factual_error", None).await;
    staff::article(&app, "other", None, 2).await;
    let b_case = staff::case_on(&app, "other", 0, "typo").await;
    assert_eq!(s.act(&a, "triage", None).await.0, 200);
    let note = "La frappe a eu lieu le 4 octobre, et non le 3.";
    let (status, body) = s
        .act(
            &a,
            "resolve",
            Some(json!({"resolution": "corrected", "public_note": note})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = s
        .act(&b_case, "resolve", Some(json!({"resolution": "no_change"})))
        .await;
    assert_eq!(status, 200, "{body}");

    // The worker tries, fails, and keeps the deliveries for later.
    until("a failed try", || async {
        log_of(&s, &id)
            .await
            .iter()
            .any(|d| d["attempts"].as_i64() > Some(0) && d["status"] == "pending")
    })
    .await;
    let receiver = Receiver::start(app.dir(), port, Some(&secret)).await;
    assert_eq!(receiver.port, port);
    until("every delivery delivered", || async {
        let log = log_of(&s, &id).await;
        log.len() >= 8 && log.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    let log = log_of(&s, &id).await;
    let records = receiver.records();

    // Exactly once: one record per delivery, each verified by the library.
    let sent: HashSet<&str> = log.iter().map(|d| d["id"].as_str().unwrap()).collect();
    let got: Vec<&str> = records.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(got.len(), sent.len(), "{records:?}");
    assert_eq!(got.iter().copied().collect::<HashSet<_>>(), sent);
    assert!(records.iter().all(|r| r["verified"] == true), "{records:?}");
    assert!(
        log.iter().any(|d| d["attempts"].as_i64() > Some(1)),
        "{log:?}"
    );

    // In order per case: as the events happened.
    let types_of = |case: &str| -> Vec<String> {
        records
            .iter()
            .filter(|r| {
                let d = &r["body"]["data"];
                d["case"]["id"] == case || d["case_id"] == case
            })
            .map(|r| r["body"]["type"].as_str().unwrap().to_string())
            .collect()
    };
    let a_types = types_of(&a);
    assert_eq!(
        a_types,
        [
            "report.filed",
            "case.opened",
            "case.triaged",
            "correction.published",
            "case.resolved"
        ]
        .map(String::from)
        .to_vec(),
        "{a_types:?}"
    );
    let b_types = types_of(&b_case);
    assert_eq!(b_types.first().map(String::as_str), Some("report.filed"));
    assert_eq!(b_types.last().map(String::as_str), Some("case.resolved"));
    for case in [&a, &b_case] {
        let times: Vec<&str> = records
            .iter()
            .filter(|r| r["body"]["data"]["case"]["id"] == case.as_str())
            .map(|r| r["body"]["timestamp"].as_str().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    }

    // What a CMS needs of a correction.
    let c = records
        .iter()
        .find(|r| r["body"]["type"] == "correction.published")
        .unwrap();
    let data = &c["body"]["data"];
    assert_eq!(data["case_id"], a.as_str());
    assert_eq!(data["text"], note);
    assert_eq!(data["kind"], "corrected");
    assert!(
        data["sentence_before"]
            .as_str()
            .unwrap()
            .contains("le 3 octobre")
    );
    assert!(!data["article"]["external_id"].as_str().unwrap().is_empty());
    assert!(data["article"]["url"].as_str().unwrap().starts_with("http"));
    assert_eq!(data["json_ld"]["@type"], "CorrectionComment");
    assert_eq!(data["json_ld"]["text"], note);
    assert_eq!(data["json_ld"]["about"]["url"], data["article"]["url"]);
    let opened = records
        .iter()
        .find(|r| r["body"]["type"] == "case.opened")
        .unwrap();
    let case = &opened["body"]["data"]["case"];
    assert!(
        case["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/editor/cases/{a}"))
    );
    assert!(case["priority"].as_f64().unwrap() > 0.0);
    assert!(
        case["latest_report"]["comment"]
            .as_str()
            .unwrap()
            .contains("le 3 octobre")
    );
    assert_eq!(opened["headers"]["content-type"], "application/json");

    // The test button goes through the same queue.
    let (status, queued) = s.post(&format!("/api/v1/webhooks/{id}/test"), None).await;
    assert_eq!(status, 202, "{queued}");
    let test_id = queued["delivery_id"].as_str().unwrap().to_string();
    until("the test event", || async {
        receiver
            .records()
            .iter()
            .any(|r| r["id"] == test_id.as_str())
    })
    .await;
    let t = receiver.records().into_iter().last().unwrap();
    assert_eq!(t["body"]["type"], "webhook.test");
    assert_eq!(t["verified"], true);

    // Deleted: gone with its log.
    let (status, _) = s
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/webhooks/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = s.get(&format!("/api/v1/webhooks/{id}/deliveries")).await;
    assert_eq!(status, 404);
}

async fn the_ssrf_guard_refuses_private_targets(b: Backend) {
    let app = staff::spawn(b).await;
    let s = admin(&app).await;
    let receiver = Receiver::start(app.dir(), 0, None).await;
    for (url, code) in [
        (
            format!("http://127.0.0.1:{}/", receiver.port),
            "target_refused",
        ),
        (
            format!("http://localhost:{}/", receiver.port),
            "target_refused",
        ),
        ("http://[::1]/".to_string(), "target_refused"),
        (
            "http://169.254.169.254/latest/meta-data".to_string(),
            "target_refused",
        ),
        ("http://10.0.0.7/".to_string(), "target_refused"),
        ("http://192.168.1.1/".to_string(), "target_refused"),
        ("http://0.0.0.0:8080/".to_string(), "target_refused"),
        ("http://[::ffff:127.0.0.1]/".to_string(), "target_refused"),
        ("ftp://files.example/".to_string(), "invalid_url"),
        ("file:///etc/passwd".to_string(), "invalid_url"),
        ("https://user:pw@hooks.example/".to_string(), "invalid_url"),
    ] {
        let (status, body) = s
            .post(
                "/api/v1/webhooks",
                Some(&json!({"url": url, "events": ["case.opened"]})),
            )
            .await;
        assert_eq!(status, 422, "{url}: {body}");
        assert_eq!(body["errors"][0]["field"], "url", "{url}: {body}");
        assert_eq!(body["errors"][0]["code"], code, "{url}: {body}");
    }
    let (status, body) = s
        .post(
            "/api/v1/webhooks",
            Some(&json!({"url": "https://hooks.example/x", "events": ["case.nope"]})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["code"], "unknown_event", "{body}");
    // Only admins.
    let editor = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let (status, _) = editor.get("/api/v1/webhooks").await;
    assert_eq!(status, 403);
    let (_, list) = s.get("/api/v1/webhooks").await;
    assert_eq!(list, json!([]));
    assert!(receiver.records().is_empty());
}

async fn chat_alerts_are_block_kit_and_adaptive_cards_per_desk(b: Backend) {
    let app = staff::spawn_with(b, HOOKS).await;
    let s = admin(&app).await;
    let receiver = Receiver::start(app.dir(), 0, None).await;
    let base = format!("http://127.0.0.1:{}", receiver.port);
    let slack = register(
        &s,
        json!({"url": format!("{base}/slack/T000/B000/XXXX"), "format": "slack", "desk": "city"}),
    )
    .await;
    assert_eq!(slack["events"].as_array().unwrap().len(), 4, "{slack}");
    assert_eq!(slack["url"], format!("{base}/…"), "the path is a secret");
    let teams = register(
        &s,
        json!({"url": format!("{base}/teams"), "format": "teams"}),
    )
    .await;
    let sports = register(
        &s,
        json!({"url": format!("{base}/sports"), "format": "teams", "desk": "sports"}),
    )
    .await;
    let (status, body) = s
        .post(
            "/api/v1/webhooks",
            Some(
                &json!({"url": format!("{base}/x"), "format": "slack", "events": ["case.triaged"]}),
            ),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (422, json!("unknown_event"))
    );

    staff::article(&app, "bridge", Some("city"), 3).await;
    let case = staff::case_on(&app, "bridge", 1, "typo").await;
    let note = "Le pont a ouvert en 1933.";
    let (status, body) = s
        .act(
            &case,
            "resolve",
            Some(json!({"resolution": "corrected", "public_note": note})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    until("four alerts", || async { receiver.records().len() >= 4 }).await;
    let slack_id = slack["id"].as_str().unwrap();
    let teams_id = teams["id"].as_str().unwrap();
    until("the logs say delivered", || async {
        let (a, b) = (log_of(&s, slack_id).await, log_of(&s, teams_id).await);
        a.len() == 2 && b.len() == 2 && a.iter().chain(&b).all(|d| d["status"] == "delivered")
    })
    .await;
    assert!(log_of(&s, sports["id"].as_str().unwrap()).await.is_empty());
    let records = receiver.records();
    assert_eq!(records.len(), 4, "{records:?}");
    let link = format!("/editor/cases/{case}");

    let slack_msgs: Vec<&Value> = records
        .iter()
        .filter(|r| r["headers"]["webhook-id"].is_string() && r["body"]["blocks"].is_array())
        .map(|r| &r["body"])
        .collect();
    assert_eq!(slack_msgs.len(), 2, "{records:?}");
    let new_case = slack_msgs[0];
    assert_eq!(new_case["blocks"][0]["type"], "header");
    assert_eq!(new_case["blocks"][0]["text"]["text"], "New reported error");
    let text = new_case.to_string();
    assert!(text.contains("k1x"), "the sentence: {text}");
    assert!(text.contains("Remarque"), "the readers' words: {text}");
    assert!(text.contains("*Priority*"), "{text}");
    let button = new_case["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "actions")
        .unwrap();
    assert!(
        button["elements"][0]["url"]
            .as_str()
            .unwrap()
            .ends_with(&link)
    );
    assert_eq!(
        slack_msgs[1]["blocks"][0]["text"]["text"],
        "Correction published"
    );
    assert!(slack_msgs[1].to_string().contains(note));

    let cards: Vec<&Value> = records
        .iter()
        .filter(|r| r["body"]["type"] == "message")
        .map(|r| &r["body"]["attachments"][0])
        .collect();
    assert_eq!(cards.len(), 2, "{records:?}");
    for card in &cards {
        assert_eq!(
            card["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["content"]["type"], "AdaptiveCard");
        assert!(
            card["content"]["actions"][0]["url"]
                .as_str()
                .unwrap()
                .ends_with(&link)
        );
    }
    assert!(cards[0]["content"]["body"].to_string().contains("k1x"));
    assert!(cards[1]["content"]["body"].to_string().contains(note));
}

async fn a_revision_answers_the_open_cases_it_touched(b: Backend) {
    let app = staff::spawn(b).await;
    staff::article(&app, "touch", None, 4).await;
    let fixed = staff::case_on(&app, "touch", 1, "typo").await;
    let gone = staff::case_on(&app, "touch", 2, "typo").await;
    let body = [
        "Le dossier k0x avance lentement.",
        "Le dossier k1x avance enfin vite.",
        "Le dossier k3x avance lentement.",
    ]
    .join("\n\n");
    let r = app
        .put_article(
            "touch",
            &json!({"url": "https://news.example/touch", "title": "Article touch",
                "language": "fr", "body_text": body}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(
        answer["touched"]["possibly_fixed"],
        json!([fixed]),
        "{answer}"
    );
    assert_eq!(answer["touched"]["orphaned"], json!([gone]), "{answer}");
    assert_eq!(answer["external_id"], "touch");
    // The same body again touches nothing.
    let r = app
        .put_article(
            "touch",
            &json!({"url": "https://news.example/touch", "title": "Article touch",
                "language": "fr", "body_text": body}),
        )
        .await;
    let answer: Value = r.json().await.unwrap();
    assert_eq!(
        answer["touched"],
        json!({"possibly_fixed": [], "orphaned": []})
    );
}

async fn admins_manage_destinations_in_the_editors_pages(b: Backend) {
    let app = staff::spawn_with(b, HOOKS).await;
    let s = admin(&app).await;
    let receiver = Receiver::start(app.dir(), 0, None).await;
    let page = |path: &str| {
        let url = app.url(path);
        let client = s.client.clone();
        async move {
            let r = client.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, html) = page("/editor/admin/webhooks").await;
    assert_eq!(status, 200);
    assert!(html.contains("action=\"/editor/admin/webhooks\""), "{html}");
    let url = format!("http://127.0.0.1:{}/cms", receiver.port);
    let form = [
        ("csrf_token", s.csrf.as_str()),
        ("url", url.as_str()),
        ("format", "standard"),
        ("events", "case.opened"),
        ("events", "correction.published"),
        ("desk", ""),
        ("description", "Le CMS"),
    ];
    let r = s
        .client
        .post(app.url("/editor/admin/webhooks"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-webhook-secret"), "{html}");
    assert!(html.contains("whsec_"), "{html}");
    let (_, list) = s.get("/api/v1/webhooks").await;
    let id = list[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        list[0]["events"],
        json!(["case.opened", "correction.published"])
    );
    // Without the CSRF token, nothing happens.
    let r = s
        .client
        .post(app.url(&format!("/editor/admin/webhooks/{id}/test")))
        .form(&[("csrf_token", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The test button, then the log shows the delivery.
    let r = s
        .client
        .post(app.url(&format!("/editor/admin/webhooks/{id}/test")))
        .form(&[("csrf_token", s.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    until("the test event arrives", || async {
        receiver.records().len() == 1
    })
    .await;
    assert_eq!(receiver.records()[0]["body"]["type"], "webhook.test");
    until("the log says delivered", || async {
        let (_, html) = page(&format!("/editor/admin/webhooks/{id}")).await;
        html.contains("webhook.test")
            && (html.contains("<td>delivered</td>") || html.contains("<td>remis</td>"))
    })
    .await;
    // A refused target is explained on the page.
    let form = [
        ("csrf_token", s.csrf.as_str()),
        ("url", "ftp://files.example/"),
        ("format", "slack"),
        ("desk", ""),
        ("description", ""),
    ];
    let r = s
        .client
        .post(app.url("/editor/admin/webhooks"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = s
        .client
        .post(app.url(&format!("/editor/admin/webhooks/{id}/delete")))
        .form(&[("csrf_token", s.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, list) = s.get("/api/v1/webhooks").await;
    assert_eq!(list, json!([]));
}
