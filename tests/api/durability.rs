//! A 201 means committed: kill -9 the real binary right after a burst of
//! acknowledged reports, restart it, and find every one of them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{Backend, DEMO, create_pg_database, drop_pg_database, postgres_admin_url};

backend_tests!(acknowledged_reports_survive_sigkill);

/// Start `erratum serve` on a free port and return it with its base URL.
fn start(database_url: &str, workdir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_erratum"))
        .arg("serve")
        .current_dir(workdir)
        .env("ERRATUM__DATABASE__URL", database_url)
        .env("ERRATUM__SERVER__PORT", "0")
        .env("ERRATUM__LOG__FORMAT", "json")
        .env("ERRATUM__LOG__LEVEL", "info")
        .env("ERRATUM__INTAKE__RATE_LIMIT__PER_IP_PER_MINUTE", "100000")
        .env("ERRATUM__INTAKE__RATE_LIMIT__PER_IP_PER_DAY", "100000")
        .env(
            "ERRATUM__INTAKE__RATE_LIMIT__PER_ARTICLE_PER_MINUTE",
            "100000",
        )
        .env(
            "ERRATUM__INTAKE__RATE_LIMIT__PER_SENTENCE_PER_HOUR",
            "100000",
        )
        .env(
            "ERRATUM__INTAKE__RATE_LIMIT__STATUS_PER_IP_PER_MINUTE",
            "100000",
        )
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the server logs that it listens")
            .unwrap();
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && let Some(url) = v["url"].as_str()
        {
            break url.to_string();
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

async fn acknowledged_reports_survive_sigkill(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, pg) = match b {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("erratum.db").display()),
            None,
        ),
        Backend::Postgres => {
            let admin = postgres_admin_url().unwrap();
            let (url, name) = create_pg_database(&admin);
            (url, Some((admin, name)))
        }
    };
    let (mut child, base) = start(&database_url, dir.path());
    let client = reqwest::Client::new();
    let burst = 200;
    let sends = (0..burst).map(|i| {
        let client = client.clone();
        let url = format!("{base}/api/v1/articles/{DEMO}/reports");
        async move {
            let body = serde_json::json!({
                "quote": {"exact": "le 3 octobre"},
                "category": "factual_error",
                "comment": format!("Rapport numéro {i}"),
            });
            let r = client.post(url).json(&body).send().await.ok()?;
            if r.status() != 201 {
                return None;
            }
            let v: Value = r.json().await.ok()?;
            Some(v["status_url"].as_str()?.rsplit('/').next()?.to_string())
        }
    });
    let tokens: Vec<String> = futures::future::join_all(sends)
        .await
        .into_iter()
        .flatten()
        .collect();
    // SIGKILL the moment the last acknowledgement arrived: no graceful anything.
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(tokens.len(), burst, "every report was acknowledged");

    let (mut child, base) = start(&database_url, dir.path());
    let mut missing = 0;
    for token in &tokens {
        let r = client
            .get(format!("{base}/api/v1/reports/status/{token}"))
            .send()
            .await
            .unwrap();
        if r.status() != 200 {
            missing += 1;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    if let Some((admin, name)) = pg {
        drop_pg_database(&admin, &name);
    }
    assert_eq!(missing, 0, "{missing} acknowledged reports were lost");
}
