//! Operations from the command line: `erratum backup` under write load and
//! `erratum restore`, `erratum migrate --check`, `erratum subject …`, and the
//! start-up lines that tell a newcomer where to go.

use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{self, Backend, DEMO, TestApp};

backend_tests!(
    migrate_check_tells_pending_from_up_to_date,
    subject_commands
);

fn erratum(dir: &std::path::Path, database_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_erratum"));
    cmd.current_dir(dir).env_remove("RUST_LOG");
    for (k, _) in std::env::vars() {
        if k.starts_with("ERRATUM__") || k == "ERRATUM_CONFIG" || k == "CARGO_MANIFEST_DIR" {
            cmd.env_remove(k);
        }
    }
    cmd.env("ERRATUM__DATABASE__URL", database_url)
        .env("ERRATUM__LOG__LEVEL", "warn");
    cmd
}

fn references(path: &std::path::Path) -> Vec<String> {
    let mut conn = diesel::sqlite::SqliteConnection::establish(&path.to_string_lossy()).unwrap();
    erratum::db::schema::reports::table
        .select(erratum::db::schema::reports::reference)
        .load(&mut conn)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_write_load_holds_every_report_acknowledged_before_it() {
    let app = Arc::new(TestApp::spawn(Backend::Sqlite).await);
    let acked: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = vec![];
    for _ in 0..4 {
        let (app, acked, stop) = (app.clone(), acked.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = app.post_report(DEMO, &app.valid_report()).await;
                assert_eq!(r.status(), 201);
                let receipt: Value = r.json().await.unwrap();
                let reference = receipt["reference"].as_str().unwrap().to_string();
                acked.lock().unwrap().push((Instant::now(), reference));
            }
        }));
    }
    while acked.lock().unwrap().len() < 40 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup.db");
    let started = Instant::now();
    let out = {
        let mut cmd = erratum(dir.path(), &app.database_url);
        cmd.args(["backup", copy.to_str().unwrap()]);
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap()
    };
    let finished = Instant::now();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("backed up "));
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }

    let held = references(&copy);
    let acked = acked.lock().unwrap().clone();
    let before: Vec<&String> = acked
        .iter()
        .filter(|(t, _)| *t < started)
        .map(|(_, r)| r)
        .collect();
    let during = acked
        .iter()
        .filter(|(t, _)| *t >= started && *t <= finished)
        .count();
    assert!(during > 0, "reports kept being filed while the backup ran");
    for r in &before {
        assert!(
            held.contains(r),
            "{r}, acknowledged before the backup, is missing"
        );
    }
    assert!(
        held.len() < acked.len(),
        "the copy is a snapshot, not the end state"
    );

    // No overwriting a file, and PostgreSQL is pointed to its own tools.
    let again = erratum(dir.path(), &app.database_url)
        .args(["backup", copy.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let pg = erratum(dir.path(), "postgres://nobody@127.0.0.1:1/none")
        .args(["backup", dir.path().join("pg.db").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(pg.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&pg.stderr).contains("pg_dump"));

    // A running installation is not restored over.
    let busy = erratum(dir.path(), &app.database_url)
        .args(["restore", copy.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(busy.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&busy.stderr).contains("in use"),
        "{}",
        String::from_utf8_lossy(&busy.stderr)
    );

    // Restored into a stopped installation: the old database is kept aside,
    // the restored one holds exactly the copy, and serves.
    let site = tempfile::tempdir().unwrap();
    let db = site.path().join("data/erratum.db");
    let url = format!("sqlite://{}", db.display());
    let migrated = erratum(site.path(), &url).arg("migrate").output().unwrap();
    assert!(migrated.status.success());
    let restored = erratum(site.path(), &url)
        .args(["restore", copy.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    assert!(String::from_utf8_lossy(&restored.stdout).contains("before-restore-"));
    let kept = std::fs::read_dir(site.path().join("data"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".before-restore-")
        })
        .count();
    assert!(kept >= 1);
    let mut back = references(&db);
    let mut expected = held.clone();
    back.sort();
    expected.sort();
    assert_eq!(back, expected);
    let check = erratum(site.path(), &url)
        .args(["migrate", "--check"])
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0));
}

#[test]
fn restore_refuses_a_damaged_file_and_a_newer_release() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("erratum.db").display());
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all, just some bytes").unwrap();
    let out = erratum(dir.path(), &url)
        .args(["restore", junk.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !dir.path().join("erratum.db").exists(),
        "nothing was put in place"
    );

    // A database from a release with a migration this one does not know.
    let newer = dir.path().join("newer.db");
    let newer_url = format!("sqlite://{}", newer.display());
    assert!(
        erratum(dir.path(), &newer_url)
            .arg("migrate")
            .status()
            .unwrap()
            .success()
    );
    let mut conn = diesel::sqlite::SqliteConnection::establish(&newer.to_string_lossy()).unwrap();
    diesel::sql_query(
        "INSERT INTO __diesel_schema_migrations (version, run_on) VALUES ('29991231000000', CURRENT_TIMESTAMP)",
    )
    .execute(&mut conn)
    .unwrap();
    drop(conn);
    let out = erratum(dir.path(), &url)
        .args(["restore", newer.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("newer release") && stderr.contains("29991231000000"),
        "{stderr}"
    );
    let out = erratum(dir.path(), &url)
        .args(["restore", dir.path().join("absent.db").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

async fn migrate_check_tells_pending_from_up_to_date(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .count();
    let (url, pg) = match b {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("e.db").display()),
            None,
        ),
        Backend::Postgres => {
            // A database without any migration (the tests' template has them all).
            let admin = helpers::postgres_admin_url().unwrap();
            let name = format!("erratum_check_{}", uuid::Uuid::new_v4().simple());
            let mut conn = diesel::pg::PgConnection::establish(&admin).unwrap();
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .unwrap();
            let url = match admin.rsplit_once('/') {
                Some((base, _)) => format!("{base}/{name}"),
                None => unreachable!(),
            };
            (url, Some((admin, name)))
        }
    };
    let out = erratum(dir.path(), &url)
        .args(["migrate", "--check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("pending ")).count(),
        migrations,
        "{stdout}"
    );
    // Nothing was applied by the check.
    let again = erratum(dir.path(), &url)
        .args(["migrate", "--check"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(
        erratum(dir.path(), &url)
            .arg("migrate")
            .status()
            .unwrap()
            .success()
    );
    let done = erratum(dir.path(), &url)
        .args(["migrate", "--check"])
        .output()
        .unwrap();
    assert_eq!(done.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&done.stdout).contains("up to date"));
    let broken = erratum(dir.path(), "postgres://nobody@127.0.0.1:1/none")
        .args(["migrate", "--check"])
        .output()
        .unwrap();
    assert_eq!(broken.status.code(), Some(2));
    if let Some((admin, name)) = pg {
        helpers::drop_pg_database(&admin, &name);
    }
}

async fn subject_commands(b: Backend) {
    let app = TestApp::spawn(b).await;
    let mut body = app.valid_report();
    body["reporter"] = json!({"email": "lecteur@example.org", "notify": true});
    assert_eq!(app.post_report(DEMO, &body).await.status(), 201);
    let (dir, url) = (app.dir().to_path_buf(), app.database_url.clone());
    let run = move |args: &[&str]| {
        let out = erratum(&dir, &url).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(&["subject", "export", "LECTEUR@example.org"])
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{err}");
    let export: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(export["reports"].as_array().unwrap().len(), 1);
    let (code, out, _) = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(&["subject", "requests"])
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0));
    assert!(out.contains("no open requests"));
    let (code, out, err) = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(&["subject", "erase", "lecteur@example.org", "--remove-text"])
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with("erased: 1 reports unlinked and their text removed"),
        "{out}"
    );
    let (code, _, err) = tokio::task::spawn_blocking(move || run(&["subject", "export", "nope"]))
        .await
        .unwrap();
    assert_eq!(code, Some(1));
    assert!(err.contains("email"), "{err}");
}

/// What `cargo run` tells a newcomer, and the quick start's path: the first
/// admin made with the printed command gets the email of the first report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_installation_says_where_to_go_and_the_first_report_reaches_the_first_admin() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("data/erratum.db").display());
    let mut child = erratum(dir.path(), &url)
        .env("ERRATUM__SERVER__PORT", "0")
        .env("ERRATUM__LOG__LEVEL", "info")
        .env("ERRATUM__EMAIL__WORKER__ENABLED", "false")
        .arg("serve")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let mut seen = vec![];
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.unwrap();
            let done = line.contains("editor add");
            seen.push(line);
            if done {
                break;
            }
        }
        seen
    });
    let lines = tokio::time::timeout(Duration::from_secs(60), lines)
        .await
        .expect("the start-up lines come")
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let all = lines.join("\n");
    assert!(all.contains("/demo"), "{all}");
    assert!(all.contains("/editor/"), "{all}");
    assert!(
        all.contains(
            "erratum editor add --email you@example.org --name \"Your Name\" --role admin --language en"
        ),
        "{all}"
    );

    // The quick start: the admin made with that command, then a report.
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut add = erratum(app.dir(), &app.database_url)
        .args([
            "editor",
            "add",
            "--email",
            "you@example.org",
            "--name",
            "Your Name",
            "--role",
            "admin",
            "--language",
            "en",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    assert!(add.wait().unwrap().success());
    assert_eq!(
        app.post_report(DEMO, &app.valid_report()).await.status(),
        201
    );
    app.run_worker_once().await;
    let mail: Vec<String> = std::fs::read_dir(app.dir().join("mail"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(mail.len(), 1, "one email for the one editor");
    assert!(
        mail[0].contains("To: \"Your Name\" <you@example.org>")
            || mail[0].contains("you@example.org")
    );
}
