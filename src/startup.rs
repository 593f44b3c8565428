//! The one application builder, used by `main` and by the tests: it connects
//! and migrates the database, binds (port 0 picks a free port), and returns a
//! server ready to run.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use actix_web_prom::PrometheusMetricsBuilder;

use crate::config::Settings;
use crate::db::{self, Writer};
use crate::error::{ErrorCode, Problem};
use crate::notify::worker::Mailer;
use crate::router::BodyLimits;
use crate::routes::middleware;
use crate::state::AppState;

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    worker: Option<(
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    )>,
    hooks_worker: Option<(
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    )>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let (pool, backend) = {
            let url = db::with_connect_timeout(
                &settings.database.url,
                settings.database.connect_timeout_secs,
            );
            let (size, timeout) = (
                settings.database.pool_size,
                Duration::from_millis(settings.database.acquire_timeout_ms),
            );
            tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let (pool, backend) = db::connect(&url, size, timeout)?;
                let mut conn = pool.get()?;
                db::migrate(&mut conn)?;
                // The planner needs statistics to pick the queue's indexes,
                // and the queue needs stored priorities.
                db::analyze(&mut conn)?;
                // Reports filed before readers' keys were keyed hashes.
                crate::app::readers::rekey_legacy(&mut conn)
                    .map_err(|p| anyhow::anyhow!("readers' keys: {p}"))?;
                if db::cases::scored_at(&mut conn)?.is_none() {
                    use diesel::Connection;
                    let scored =
                        conn.transaction(|c| db::cases::rescore_recent(c, db::now(), true));
                    if let Err(e) = scored {
                        // Another instance scoring at the same time wins.
                        tracing::warn!(error = %e, "queue: first scoring failed");
                    }
                }
                drop(conn);
                Ok((pool, backend))
            })
            .await??
        };
        let writer = Writer::open(
            &backend,
            Duration::from_millis(settings.database.acquire_timeout_ms),
            settings.database.writer_max_batch,
        )?;
        let read_budget = Duration::from_millis(settings.database.read_budget_ms);
        let reads = crate::state::HeavyReads::new(
            db::connect_reads(&backend, settings.database.read_pool_size, read_budget)?,
            read_budget,
        );
        // Reader languages: a catalog that does not parse stops the start.
        // The pages, the intake's answer and readers' emails share them.
        let catalogs = std::sync::Arc::new(crate::locales::Catalogs::load(
            settings.ui.reader_locales_dir.as_deref(),
        )?);
        let widget_strings =
            web::Data::new(crate::web::public::i18n::WidgetStrings::new(&catalogs));

        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot listen on {}:{}: {e}",
                    settings.server.host,
                    settings.server.port
                )
            })?;
        let port = listener.local_addr()?.port();
        let public_url = if settings.server.public_url.is_empty() {
            format!("http://{}:{port}", settings.server.host)
        } else {
            settings.public_url()
        };
        let mailer = Mailer::new(
            &settings.email,
            settings.retention,
            pool.clone(),
            writer.clone(),
            public_url.clone(),
            settings.ui.time_zone(),
            catalogs.clone(),
        )?;
        // The email consumer wakes when a use case commits events.
        let wake_mailer = {
            let mailer = mailer.clone();
            std::sync::Arc::new(move || mailer.wake()) as std::sync::Arc<dyn Fn() + Send + Sync>
        };
        let hooks = crate::hooks::worker::Hooks::new(
            &settings.webhooks,
            pool.clone(),
            writer.clone(),
            public_url.clone(),
            format!("{}-hooks", mailer.worker_id()),
        );
        let wake_hooks = {
            let hooks = hooks.clone();
            std::sync::Arc::new(move || hooks.wake()) as std::sync::Arc<dyn Fn() + Send + Sync>
        };
        // The known-sentences cache reads this instance's commits at once.
        let known: std::sync::Arc<crate::app::known::KnownCache> = Default::default();
        let wake_known = {
            let known = known.clone();
            std::sync::Arc::new(move || known.committed()) as std::sync::Arc<dyn Fn() + Send + Sync>
        };
        // The live queue's tail reads this instance's commits at once too.
        let live = std::sync::Arc::new(crate::app::live::LiveHub::new(settings.live));
        let wake_live = {
            let live = live.clone();
            std::sync::Arc::new(move || live.committed()) as std::sync::Arc<dyn Fn() + Send + Sync>
        };
        // Single sign-on: the provider is only called at the first sign-in,
        // so an unreachable provider never stops the server from starting.
        let oidc = if settings.auth.oidc.enabled {
            Some(std::sync::Arc::new(crate::auth::oidc::Oidc::new(
                settings.auth.oidc.clone(),
                &format!("{public_url}/editor/login/oidc/callback"),
            )?))
        } else {
            None
        };
        let state = web::Data::new(AppState {
            oidc,
            catalogs: catalogs.clone(),
            keys: Default::default(),
            current_articles: Default::default(),
            known,
            live,
            intake: std::sync::Arc::new(crate::auth::limits::IntakeLimits::new(
                &settings.intake.rate_limit,
            )),
            login: std::sync::Arc::new(crate::auth::limits::LoginLimits::new(&settings.auth)),
            status_lookups: crate::auth::limits::StatusLimits::new(&settings.intake.rate_limit),
            listeners: vec![wake_mailer, wake_hooks, wake_known, wake_live],
            settings,
            public_url,
            pool,
            reads,
            writer,
            backend,
            mailer,
            hooks,
        });
        if state.settings.demo.enabled {
            crate::demo::import(&state)
                .await
                .map_err(|p| anyhow::anyhow!("demo import failed: {p}"))?;
        }
        spawn_housekeeping(state.clone());
        tokio::spawn(crate::app::known::run(
            std::sync::Arc::downgrade(&state.clone().into_inner()),
            state.known.clone(),
            state.settings.reader,
        ));
        tokio::spawn(crate::app::live::run(
            std::sync::Arc::downgrade(&state.clone().into_inner()),
            state.live.clone(),
        ));
        // Each backend's own upkeep: fresh statistics for PostgreSQL's
        // young tables, the deferred full-text index on SQLite.
        let weak = std::sync::Arc::downgrade(&state.clone().into_inner());
        match state.backend {
            crate::db::Backend::Postgres(_) => tokio::spawn(crate::app::planner::run(weak)),
            crate::db::Backend::Sqlite(_) => tokio::spawn(crate::app::search_index::run(weak)),
        };
        spawn_close_live_on_signal(state.live.clone());
        // Reported, never fatal: reports are accepted while mail is down.
        let mailer = state.mailer.clone();
        tokio::spawn(async move { mailer.check_transport().await });
        let worker = state.settings.email.worker.enabled.then(|| {
            let (stop, stopped) = tokio::sync::watch::channel(false);
            (stop, tokio::spawn(state.mailer.clone().run(stopped)))
        });
        let hooks_worker = state.settings.webhooks.enabled.then(|| {
            let (stop, stopped) = tokio::sync::watch::channel(false);
            (stop, tokio::spawn(state.hooks.clone().run(stopped)))
        });

        // Each app gets its own registry, so several apps (tests) coexist in one process.
        let registry = prometheus::Registry::new();
        state
            .mailer
            .metrics
            .register(&registry)
            .map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
        state
            .writer
            .metrics()
            .register(&registry)
            .map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
        let case_metrics = crate::app::stats::CaseMetrics::new();
        case_metrics
            .register(&registry)
            .map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
        spawn_case_metrics(state.clone(), case_metrics);
        let prometheus = PrometheusMetricsBuilder::new("erratum")
            .registry(registry)
            .endpoint("/metrics")
            .build()
            .map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            let s = &app_state.settings;
            let (cors, ingest, intake) = (
                s.cors.clone(),
                s.ingest.max_body_bytes,
                s.intake.max_body_bytes,
            );
            App::new()
                .wrap(from_fn(crate::routes::extract::refuse_controls_in_url))
                .wrap(ErrorHandlers::new().default_handler(middleware::problemize))
                .wrap(prometheus.clone())
                // Outside the Prometheus middleware, which answers /metrics itself.
                .wrap(from_fn(middleware::guard_metrics))
                .wrap(from_fn(middleware::request_id_and_log))
                .app_data(app_state.clone())
                .app_data(web::Data::from(catalogs.clone()))
                .app_data(widget_strings.clone())
                .app_data(web::QueryConfig::default().error_handler(|e, _| {
                    Problem::validation(vec![crate::error::FieldError::new(
                        "query",
                        "invalid_query",
                        e.to_string(),
                    )])
                    .into()
                }))
                .configure(|cfg| {
                    crate::router::configure(cfg, &cors, BodyLimits { ingest, intake });
                })
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(Problem::not_found(
                        ErrorCode::NotFound,
                        "No route matches this path.",
                    ))
                }))
        })
        .listen(listener)?
        .shutdown_timeout(state.settings.server.shutdown_timeout_secs);
        if state.settings.server.workers > 0 {
            server = server.workers(state.settings.server.workers);
        }
        Ok(Application {
            port,
            server: server.run(),
            state,
            worker,
            hooks_worker,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serve until SIGTERM/SIGINT (actix finishes in-flight requests first),
    /// then let the email worker finish the emails it is sending.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.state.live.close();
        if let Some((stop, handle)) = self.hooks_worker {
            let _ = stop.send(true);
            let grace = Duration::from_secs(self.state.settings.server.shutdown_timeout_secs);
            if tokio::time::timeout(grace, handle).await.is_err() {
                tracing::warn!(
                    "the webhook worker did not stop in time; undelivered events stay queued"
                );
            }
        }
        if let Some((stop, handle)) = self.worker {
            let _ = stop.send(true);
            let grace = Duration::from_secs(self.state.settings.server.shutdown_timeout_secs);
            if tokio::time::timeout(grace, handle).await.is_err() {
                tracing::warn!("the email worker did not stop in time; unsent emails stay queued");
            }
        }
        served
    }

    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}

/// How often the case gauges and the time-to-decision histogram are read
/// from the database.
const CASE_METRICS_EVERY: Duration = Duration::from_secs(30);

/// Keep the case gauges of `/metrics` fresh: read now, then every
/// `CASE_METRICS_EVERY`, until the app is gone.
fn spawn_case_metrics(state: web::Data<AppState>, metrics: crate::app::stats::CaseMetrics) {
    let weak = std::sync::Arc::downgrade(&state.into_inner());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CASE_METRICS_EVERY);
        loop {
            tick.tick().await;
            let Some(state) = weak.upgrade() else { break };
            if let Err(p) = metrics.refresh(&state).await {
                tracing::warn!(error = %p, "metrics: cannot read the case figures");
            }
        }
    });
}

/// Periodic upkeep that needs no database: forget idle rate-limit keys.
fn spawn_housekeeping(state: web::Data<AppState>) {
    let weak = std::sync::Arc::downgrade(&state.into_inner());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            match weak.upgrade() {
                Some(state) => {
                    state.intake.retain_recent();
                    state.login.retain_recent();
                    state.status_lookups.retain_recent();
                }
                None => break,
            }
        }
    });
}

/// End the live queue's streams as soon as a shutdown signal arrives:
/// actix then waits for open connections, and a stream never hangs up by
/// itself (the pages reconnect to another instance, or poll).
fn spawn_close_live_on_signal(live: std::sync::Arc<crate::app::live::LiveHub>) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
        }
        live.close();
    });
}
