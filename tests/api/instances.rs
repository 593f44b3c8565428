//! Several instances on one PostgreSQL database (issue 12, item 3): two real
//! `erratum serve` processes started at the same moment on a new, empty
//! database both come up (migrations under an advisory lock, the demo import
//! racing harmlessly), and requests racing through both answer as if they
//! had come one after the other.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::helpers::{DEMO, INGEST_TOKEN, drop_pg_database, postgres_admin_url, postgres_enabled};

/// Reports one client may file a day, across both instances: the races file
/// 10 (each Idempotency-Key counts once), `limits` files the rest.
const PER_DAY: usize = 13;

/// Start `erratum serve` on a free port; its base URL once it listens, or
/// what it said before exiting.
fn spawn(database_url: &str, dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_erratum"))
        .arg("serve")
        .current_dir(dir)
        .env("ERRATUM__DATABASE__URL", database_url)
        .env("ERRATUM__SERVER__PORT", "0")
        .env("ERRATUM__INGEST__TOKEN", INGEST_TOKEN)
        .env("ERRATUM__LOG__FORMAT", "json")
        .env("ERRATUM__LOG__LEVEL", "info")
        .env("ERRATUM__EMAIL__WORKER__ENABLED", "false")
        .env("ERRATUM__INTAKE__RATE_LIMIT__PER_IP_PER_MINUTE", "10000")
        // Low enough for `limits` to reach it through both instances.
        .env(
            "ERRATUM__INTAKE__RATE_LIMIT__PER_IP_PER_DAY",
            PER_DAY.to_string(),
        )
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

fn listening(child: &mut Child) -> Result<String, String> {
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut said = Vec::new();
    let url = loop {
        let Some(Ok(line)) = lines.next() else {
            return Err(said.join("\n"));
        };
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && let Some(url) = v["url"].as_str()
        {
            break url.to_string();
        }
        said.push(line);
    };
    // Keep draining; warnings and errors show with a failing test's output.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if line.contains("\"WARN\"") || line.contains("\"ERROR\"") {
                eprintln!("{line}");
            }
        }
    });
    Ok(url)
}

/// A new, empty database on the test server (not the migrated template).
fn empty_database(admin: &str) -> (String, String) {
    use diesel::{Connection, RunQueryDsl};
    let name = format!("erratum_multi_{}", uuid::Uuid::new_v4().simple());
    let mut conn = diesel::pg::PgConnection::establish(admin).unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .unwrap();
    (crate::helpers::with_database(admin, &name), name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_new_postgres_database() {
    if !postgres_enabled() {
        return;
    }
    let admin = postgres_admin_url().unwrap();
    let (url, name) = empty_database(&admin);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // Both at the same moment, on a database nothing has migrated yet.
    let mut a = spawn(&url, dir_a.path());
    let mut b = spawn(&url, dir_b.path());
    let (base_a, base_b) = (listening(&mut a), listening(&mut b));
    let outcome = std::panic::AssertUnwindSafe(async {
        let base_a = base_a.expect("instance A came up");
        let base_b = base_b.expect("instance B came up");
        races(&base_a, &base_b).await;
        limits(&base_a, &base_b).await;
    });
    let result = futures::FutureExt::catch_unwind(outcome).await;
    for mut child in [a, b] {
        let _ = child.kill();
        let _ = child.wait();
    }
    drop_pg_database(&admin, &name);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

async fn races(base_a: &str, base_b: &str) {
    let client = reqwest::Client::new();
    let bases = [base_a, base_b];

    // The same new article through both instances, 10 times over.
    for round in 0..10 {
        let id = format!("race-{round}");
        let body = json!({
            "url": format!("https://news.example/{id}"),
            "title": "Une course",
            "language": "fr",
            "body_text": "Première phrase de l'article. Deuxième phrase.",
        });
        let puts = bases.map(|base| {
            client
                .put(format!("{base}/api/v1/articles/{id}"))
                .bearer_auth(INGEST_TOKEN)
                .json(&body)
                .send()
        });
        let answers = futures::future::join_all(puts).await;
        let mut statuses = Vec::new();
        let mut revisions = Vec::new();
        for r in answers {
            let r = r.unwrap();
            statuses.push(r.status().as_u16());
            let v: Value = r.json().await.unwrap();
            revisions.push(v["revision"].clone());
        }
        statuses.sort();
        assert_eq!(
            statuses,
            [200, 201],
            "round {round}: one creates, one finds it"
        );
        assert_eq!(revisions[0], revisions[1], "round {round}: one revision");
    }

    // One Idempotency-Key through both instances, 10 times over: one report.
    let mut report_ids = std::collections::HashSet::new();
    for round in 0..10 {
        let key = format!("key-{round}-{}", uuid::Uuid::new_v4());
        let body = json!({
            "quote": {"exact": "le 3 octobre"},
            "category": "factual_error",
            "comment": format!("Même requête, deux instances ({round})."),
        });
        let posts = bases.map(|base| {
            client
                .post(format!("{base}/api/v1/articles/{DEMO}/reports"))
                .header("Idempotency-Key", &key)
                .json(&body)
                .send()
        });
        let answers = futures::future::join_all(posts).await;
        let mut ids = Vec::new();
        for r in answers {
            let r = r.unwrap();
            let status = r.status().as_u16();
            let v: Value = r.json().await.unwrap();
            assert_eq!(status, 201, "round {round}: {v}");
            ids.push(v["report_id"].as_str().unwrap().to_string());
        }
        assert_eq!(ids[0], ids[1], "round {round}: the same report");
        report_ids.insert(ids[0].clone());
    }
    assert_eq!(report_ids.len(), 10);
}

/// The limits hold across the two processes: each has counted only part of
/// the client's reports in memory, the database counts them all.
async fn limits(base_a: &str, base_b: &str) {
    let client = reqwest::Client::new();
    let day = chrono::Utc::now().date_naive();
    let mut statuses = Vec::new();
    for n in 0..(PER_DAY - 10 + 2) {
        let base = [base_a, base_b][n % 2];
        let r = client
            .post(format!("{base}/api/v1/articles/{DEMO}/reports"))
            .json(&json!({
                "quote": {"exact": "le 3 octobre"},
                "category": "factual_error",
                "comment": format!("Limite partagée entre deux instances ({n})."),
            }))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    if chrono::Utc::now().date_naive() != day {
        return; // the day's window ended during the test
    }
    assert_eq!(
        statuses,
        [201, 201, 201, 429, 429],
        "the day's allowance is shared"
    );
}
