//! Report intake against `/health/live` on the same server, on SQLite and
//! (when `ERRATUM_TEST_DATABASE_URL` is set) PostgreSQL. Prints requests per
//! second, latency percentiles, and the intake/health ratio measured in the
//! same run, which is what to compare across machines.
//!
//!     cargo bench --bench intake
//!     ERRATUM_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench intake
//!
//! Knobs: BENCH_SECONDS (per phase, default 5), BENCH_CLIENTS (default 32).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl};
use erratum::config::Settings;
use erratum::startup::Application;

const QUOTES: [&str; 6] = [
    "le 3 octobre",
    "Kim Yong-kyun",
    "Donetsk",
    "Pyongyang en juin",
    "Kyungnam",
    "de 1991",
];

struct Phase {
    requests: u64,
    errors: u64,
    elapsed: Duration,
    latencies_us: Vec<u64>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
    fn pct(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us[i] as f64 / 1000.0
    }
}

async fn run_phase(
    clients: usize,
    seconds: u64,
    make: Arc<dyn Fn(u64) -> reqwest::RequestBuilder + Send + Sync>,
) -> Phase {
    let counter = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let make = make.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let (mut lat, mut errors) = (Vec::new(), 0u64);
                while Instant::now() < deadline {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    match make(n).send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            lat.push(t.elapsed().as_micros() as u64);
                        }
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut latencies_us = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        latencies_us.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    latencies_us.sort_unstable();
    Phase {
        requests: latencies_us.len() as u64,
        errors,
        elapsed,
        latencies_us,
    }
}

async fn bench(label: &str, database_url: &str, clients: usize, seconds: u64) {
    let settings = Settings::from_toml_overrides(&format!(
        "[server]\nport = 0\n[database]\nurl = \"{database_url}\"\n[log]\nlevel = \"error\"\n\
         [intake.rate_limit]\nper_ip_per_minute = 100000000\nper_ip_per_day = 100000000\n\
         per_article_per_minute = 100000000\nper_sentence_per_hour = 100000000\n"
    ))
    .unwrap();
    let app = Application::build(settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();

    let health = {
        let (client, url) = (client.clone(), format!("{base}/health/live"));
        run_phase(clients, seconds, Arc::new(move |_| client.get(&url))).await
    };
    let intake = {
        let (client, url) = (
            client.clone(),
            format!("{base}/api/v1/articles/demo-coree-du-nord/reports"),
        );
        run_phase(
            clients,
            seconds,
            Arc::new(move |n| {
                client.post(&url).json(&serde_json::json!({
                    "quote": {"exact": QUOTES[n as usize % QUOTES.len()]},
                    "category": "factual_error",
                    "comment": format!("Rapport de mesure numéro {n}"),
                }))
            }),
        )
        .await
    };
    println!(
        "{label:<10} health  {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  errors {}",
        health.rate(),
        health.pct(0.5),
        health.pct(0.99),
        health.errors
    );
    println!(
        "{label:<10} intake  {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  errors {}  (durable reports)",
        intake.rate(),
        intake.pct(0.5),
        intake.pct(0.99),
        intake.errors
    );
    println!(
        "{label:<10} intake/health throughput ratio: {:.2}",
        intake.rate() / health.rate()
    );
}

fn main() {
    let seconds = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let clients = std::env::var("BENCH_CLIENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{clients} concurrent clients, {seconds} s per phase, server and load generator on this machine"
    );
    let dir = tempfile::tempdir().unwrap();
    rt.block_on(bench(
        "sqlite",
        &format!("sqlite://{}", dir.path().join("bench.db").display()),
        clients,
        seconds,
    ));
    if let Ok(admin) = std::env::var("ERRATUM_TEST_DATABASE_URL") {
        let name = format!("erratum_bench_{}", std::process::id());
        let admin_db = format!(
            "{}/postgres",
            admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin)
        );
        let mut conn =
            diesel::pg::PgConnection::establish(&admin_db).expect("PostgreSQL for the benchmark");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .unwrap();
        let url = format!(
            "{}/{name}",
            admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin)
        );
        rt.block_on(bench("postgres", &url, clients, seconds));
        diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut conn)
            .unwrap();
    }
}
