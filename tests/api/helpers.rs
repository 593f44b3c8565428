//! `TestApp`: the real application on port 0, owning its own database: a
//! temporary SQLite file, or a fresh PostgreSQL database cloned from a migrated
//! template and dropped afterwards.

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::{Connection, RunQueryDsl};
use erratum::config::Settings;
use erratum::startup::Application;
use serde_json::{Value, json};

pub const DEMO: &str = "demo-coree-du-nord";
pub const INGEST_TOKEN: &str = "test-ingest-token";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server for tests, when `ERRATUM_TEST_DATABASE_URL` is set
/// (a URL to any database on it; tests create and drop their own).
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("ERRATUM_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// Whether to run the PostgreSQL variant of a test. With
/// `ERRATUM_REQUIRE_POSTGRES=1` (as in CI) a missing server is a failure,
/// never a silent skip.
pub fn postgres_enabled() -> bool {
    let required = std::env::var("ERRATUM_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    match postgres_admin_url() {
        Some(_) => true,
        None if required => {
            panic!("ERRATUM_REQUIRE_POSTGRES=1 but ERRATUM_TEST_DATABASE_URL is not set")
        }
        None => {
            eprintln!("skipped: ERRATUM_TEST_DATABASE_URL is not set");
            false
        }
    }
}

/// Replace the database name in a PostgreSQL URL.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let prefix_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[prefix_end..].find('/') {
        Some(i) => &base[..prefix_end + i],
        None => base,
    };
    format!("{base}/{db}{query}")
}

fn migrations_hash() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut entries: Vec<_> = walk(&dir);
    entries.sort();
    let mut all = String::new();
    for path in entries {
        all.push_str(&path.to_string_lossy());
        all.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
    }
    erratum::domain::text::sha256_hex(all)[..12].to_string()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Create a fresh database from the migrated template (creating the template
/// first if this version of the migrations has none yet). An advisory lock
/// serialises this across test processes.
pub fn create_pg_database(admin_url: &str) -> (String, String) {
    let mut admin = diesel::pg::PgConnection::establish(&with_database(admin_url, "postgres"))
        .expect("cannot connect to the PostgreSQL test server (ERRATUM_TEST_DATABASE_URL)");
    diesel::sql_query("SELECT pg_advisory_lock(727274)")
        .execute(&mut admin)
        .unwrap();
    let template = format!("erratum_tpl_{}", migrations_hash());
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let exists = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM pg_database WHERE datname = '{template}'"
    ))
    .get_result::<Count>(&mut admin)
    .unwrap()
    .n > 0;
    if !exists {
        diesel::sql_query(format!("CREATE DATABASE {template}"))
            .execute(&mut admin)
            .unwrap();
        let (pool, _) = erratum::db::connect(
            &with_database(admin_url, &template),
            1,
            std::time::Duration::from_secs(10),
        )
        .expect("connect to template");
        erratum::db::migrate(&mut pool.get().unwrap()).expect("migrate template");
        drop(pool);
    }
    let name = format!("erratum_test_{}", uuid::Uuid::new_v4().simple());
    diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
        .execute(&mut admin)
        .unwrap();
    diesel::sql_query("SELECT pg_advisory_unlock(727274)")
        .execute(&mut admin)
        .unwrap();
    (with_database(admin_url, &name), name)
}

pub fn drop_pg_database(admin_url: &str, name: &str) {
    if let Ok(mut admin) =
        diesel::pg::PgConnection::establish(&with_database(admin_url, "postgres"))
    {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin);
    }
}

#[allow(dead_code)] // not every test file uses every field
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub backend: Backend,
    pub database_url: String,
    pub client: reqwest::Client,
    pub app_state: actix_web::web::Data<erratum::state::AppState>,
    handle: actix_web::dev::ServerHandle,
    pg_database: Option<(String, String)>,
    _dir: tempfile::TempDir,
    counter: AtomicU64,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, "").await
    }

    /// Start the app with extra TOML settings on top of the test defaults.
    pub async fn spawn_with(backend: Backend, extra: &str) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let (database_url, pg_database) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("erratum.db").display()),
                None,
            ),
            Backend::Postgres => {
                let admin = postgres_admin_url().expect("ERRATUM_TEST_DATABASE_URL");
                let (url, name) = tokio::task::spawn_blocking({
                    let admin = admin.clone();
                    move || create_pg_database(&admin)
                })
                .await
                .unwrap();
                (url, Some((admin, name)))
            }
        };
        Self::start(backend, database_url, pg_database, dir, extra).await
    }

    /// A second instance on this one's database (its own pool, writer,
    /// in-memory limits and caches), as when a newsroom runs several.
    #[allow(dead_code)]
    pub async fn spawn_beside(&self, extra: &str) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        Self::start(self.backend, self.database_url.clone(), None, dir, extra).await
    }

    async fn start(
        backend: Backend,
        database_url: String,
        pg_database: Option<(String, String)>,
        dir: tempfile::TempDir,
        extra: &str,
    ) -> TestApp {
        let settings = test_settings(&database_url, &with_test_email(dir.path(), extra));
        let app = Application::build(settings).await.expect("the app starts");
        let port = app.port();
        let app_state = app.state();
        let handle = app.server_handle();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            backend,
            database_url,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            app_state,
            handle,
            pg_database,
            _dir: dir,
            counter: AtomicU64::new(0),
        }
    }

    /// The test's own folder (emails of the file transport go to `mail/`).
    #[allow(dead_code)]
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn put_article(&self, external_id: &str, body: &Value) -> reqwest::Response {
        self.client
            .put(self.url(&format!("/api/v1/articles/{external_id}")))
            .bearer_auth(INGEST_TOKEN)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn demo_article(&self) -> Value {
        let (status, body) = self.get_json(&format!("/api/v1/articles/{DEMO}")).await;
        assert_eq!(status, 200);
        body
    }

    /// Post a report as raw JSON on an article.
    pub async fn post_report(&self, external_id: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/v1/articles/{external_id}/reports")))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// A valid report on the demo article with a unique comment.
    pub fn valid_report(&self) -> Value {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        json!({
            "quote": {"exact": "le 3 octobre"},
            "category": "factual_error",
            "comment": format!("La frappe a eu lieu le 4 octobre (remarque {n})."),
        })
    }

    #[allow(dead_code)]
    pub fn stop(&self) -> impl std::future::Future<Output = ()> {
        self.handle.stop(false)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg_database.take() {
            // Dropped from a blocking thread: Drop may run inside the runtime.
            let _ = std::thread::spawn(move || drop_pg_database(&admin, &name)).join();
        }
    }
}

pub fn test_settings(database_url: &str, extra: &str) -> Settings {
    let base = format!(
        r#"
[server]
host = "127.0.0.1"
port = 0
workers = 2
[database]
url = "{database_url}"
pool_size = 4
[ingest]
token = "{INGEST_TOKEN}"
[intake.rate_limit]
per_ip_per_minute = 10000
per_ip_per_day = 10000
per_article_per_minute = 10000
per_sentence_per_hour = 10000
status_per_ip_per_minute = 10000
[log]
level = "warn"
"#
    );
    // Later tables override earlier keys: merge `extra` over the base.
    let mut doc: toml::Table = base.parse().unwrap();
    let extra: toml::Table = extra.parse().expect("extra settings are TOML");
    merge(&mut doc, extra);
    Settings::from_toml_overrides(&toml::to_string(&doc).unwrap()).expect("test settings are valid")
}

/// Emails go to files in the test's own folder and the background worker is
/// off: tests drain the outbox themselves (`run_worker_once`) unless they
/// turn it on.
fn with_test_email(dir: &std::path::Path, extra: &str) -> String {
    let mut doc: toml::Table = "[email.file]\n[email.worker]\nenabled = false\n"
        .parse()
        .unwrap();
    if let Some(toml::Value::Table(email)) = doc.get_mut("email")
        && let Some(toml::Value::Table(file)) = email.get_mut("file")
    {
        file.insert(
            "dir".into(),
            toml::Value::String(dir.join("mail").display().to_string()),
        );
    }
    merge(&mut doc, extra.parse().expect("extra settings are TOML"));
    toml::to_string(&doc).unwrap()
}

pub fn merge(into: &mut toml::Table, from: toml::Table) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

/// Generate one test per backend for each listed async fn taking a `Backend`.
/// The PostgreSQL variant runs when `ERRATUM_TEST_DATABASE_URL` is set.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if !$crate::helpers::postgres_enabled() {
                        return;
                    }
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            )*
        }
    };
}
