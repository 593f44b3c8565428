//! Database trouble is a 503 with Retry-After, never a 500 (issue 12, item 2):
//! a PostgreSQL cluster of the test's own (initdb + pg_ctl on a free port in a
//! temporary folder, never the shared server) is stopped and started twice
//! while clients post reports and read, once with `-m fast` (sessions ended by
//! an admin shutdown) and once with `-m immediate` (a crash, then recovery).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use erratum::startup::Application;
use serde_json::{Value, json};

use crate::helpers::{DEMO, test_settings};

/// The newest PostgreSQL server binaries installed (Debian's layout), if any.
fn pg_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

fn id(args: &[&str]) -> Option<u32> {
    let out = Command::new("id").args(args).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// A throw-away cluster. PostgreSQL refuses to run as root, so under root
/// (containers) it runs as the `postgres` user, which owns the folder.
struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    run_as: Option<(u32, u32)>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(self.bin.join(program));
        if let Some((uid, gid)) = self.run_as {
            use std::os::unix::process::CommandExt;
            c.uid(uid).gid(gid);
        }
        c
    }

    fn init(bin: PathBuf) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let run_as = match id(&["-u"]) {
            Some(0) => Some((
                id(&["-u", "postgres"]).expect("running as root needs a postgres user"),
                id(&["-g", "postgres"]).expect("running as root needs a postgres group"),
            )),
            _ => None,
        };
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Cluster {
            bin,
            data: dir.path().join("data"),
            port,
            run_as,
            _dir: dir,
        };
        let ok = cluster
            .cmd("initdb")
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .arg("-D")
            .arg(&cluster.data)
            .output()
            .unwrap();
        assert!(ok.status.success(), "initdb: {ok:?}");
        cluster.start();
        cluster
    }

    fn pg_ctl(&self, args: &[&str]) {
        let socket_dir = self.data.parent().unwrap().display().to_string();
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {socket_dir}",
            self.port
        );
        let log = self.data.parent().unwrap().join("server.log");
        let out = self
            .cmd("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(&log)
            .args(["-o", &opts, "-w"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "pg_ctl {args:?}: {out:?}");
    }

    fn start(&self) {
        self.pg_ctl(&["start"]);
    }

    fn stop(&self, mode: &str) {
        self.pg_ctl(&["stop", "-m", mode]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .cmd("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["stop", "-m", "immediate"])
            .output();
    }
}

#[derive(Default)]
struct Seen {
    acknowledged: Vec<String>,
    unavailable: usize,
    /// Anything but 200, 201 and a well-formed 503: status and body.
    wrong: Vec<(u16, String)>,
}

/// One client: posts a report and reads the article, until `stop`.
async fn client_loop(base: String, n: usize, stop: Arc<AtomicBool>) -> Seen {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut seen = Seen::default();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let body = json!({
            "quote": {"exact": "le 3 octobre"},
            "category": "factual_error",
            "comment": format!("Client {n}, rapport {i} : la date est fausse."),
        });
        let requests = [
            client
                .post(format!("{base}/api/v1/articles/{DEMO}/reports"))
                .json(&body),
            client.get(format!("{base}/api/v1/articles/{DEMO}")),
        ];
        for request in requests {
            let r = match request.send().await {
                Ok(r) => r,
                Err(e) => {
                    seen.wrong.push((0, e.to_string()));
                    continue;
                }
            };
            let status = r.status().as_u16();
            let problem = r
                .headers()
                .get("content-type")
                .is_some_and(|v| v == "application/problem+json");
            let retry_after = r.headers().contains_key("retry-after");
            let text = r.text().await.unwrap_or_default();
            match status {
                201 => {
                    let v: Value = serde_json::from_str(&text).unwrap();
                    let token = v["status_url"].as_str().unwrap().rsplit('/').next();
                    seen.acknowledged.push(token.unwrap().to_string());
                }
                200 => {}
                503 if problem && retry_after => seen.unavailable += 1,
                _ => seen.wrong.push((status, text)),
            }
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_answers_503_and_loses_no_acknowledged_report() {
    let Some(bin) = pg_bin_dir() else {
        assert!(
            std::env::var("ERRATUM_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "ERRATUM_REQUIRE_POSTGRES=1 but no PostgreSQL server binaries under /usr/lib/postgresql"
        );
        eprintln!("skipped: no PostgreSQL server binaries under /usr/lib/postgresql");
        return;
    };
    let cluster = tokio::task::spawn_blocking(move || Cluster::init(bin))
        .await
        .unwrap();
    let mail = tempfile::tempdir().unwrap();
    let extra = format!(
        "[database]\nacquire_timeout_ms = 500\npool_size = 4\n\
         [email.file]\ndir = {:?}\n[email.worker]\nenabled = false\n",
        mail.path().display().to_string()
    );
    let app = Application::build(test_settings(&cluster.url(), &extra))
        .await
        .expect("the app starts on the test's own cluster");
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.server_handle();
    tokio::spawn(app.run_until_stopped());

    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|n| tokio::spawn(client_loop(base.clone(), n, stop.clone())))
        .collect();
    let pause = |ms| tokio::time::sleep(Duration::from_millis(ms));
    let cluster = Arc::new(cluster);
    for mode in ["fast", "immediate"] {
        pause(700).await;
        let c = cluster.clone();
        tokio::task::spawn_blocking(move || c.stop(mode))
            .await
            .unwrap();
        // Down long enough for every client to meet the outage.
        pause(1500).await;
        let c = cluster.clone();
        tokio::task::spawn_blocking(move || c.start())
            .await
            .unwrap();
    }
    pause(1500).await;
    stop.store(true, Ordering::Relaxed);
    let mut seen = Seen::default();
    for c in clients {
        let s = c.await.unwrap();
        seen.acknowledged.extend(s.acknowledged);
        seen.unavailable += s.unavailable;
        seen.wrong.extend(s.wrong);
    }

    assert!(
        seen.wrong.is_empty(),
        "{} answers were neither a success nor a 503 problem with Retry-After, e.g. {:?}",
        seen.wrong.len(),
        &seen.wrong[..seen.wrong.len().min(5)]
    );
    assert!(seen.unavailable > 0, "the outages were seen as 503s");

    // After the restarts the service answers again, and every report it
    // acknowledged (before, between and after the outages) is there.
    let client = reqwest::Client::new();
    let after = client
        .post(format!("{base}/api/v1/articles/{DEMO}/reports"))
        .json(&json!({
            "quote": {"exact": "le 3 octobre"},
            "category": "factual_error",
            "comment": "Après les redémarrages.",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 201, "the service recovers by itself");
    assert!(!seen.acknowledged.is_empty());
    let mut missing = 0;
    for token in &seen.acknowledged {
        let r = client
            .get(format!("{base}/api/v1/reports/status/{token}"))
            .send()
            .await
            .unwrap();
        if r.status() != 200 {
            missing += 1;
        }
    }
    handle.stop(false).await;
    assert_eq!(
        missing,
        0,
        "{missing} of {} acknowledged reports were lost",
        seen.acknowledged.len()
    );
    drop(mail);
}
