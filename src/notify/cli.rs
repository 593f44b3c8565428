//! `erratum worker` and `erratum outbox list|retry`.

use std::time::Duration;

use crate::config::Settings;
use crate::db::{self, Pool, Writer};

fn open(settings: &Settings) -> anyhow::Result<(Pool, db::Backend)> {
    let (pool, backend) = db::connect(
        &settings.database.url,
        settings.database.pool_size.min(4),
        Duration::from_secs(settings.database.connect_timeout_secs),
    )?;
    db::migrate(&mut *pool.get()?)?;
    Ok((pool, backend))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f).await?
}

/// Run the worker until SIGTERM/SIGINT, or (`--drain`) until nothing is due.
pub async fn worker(settings: Settings, drain: bool) -> anyhow::Result<()> {
    let (pool, backend) = {
        let s = settings.clone();
        blocking(move || open(&s)).await?
    };
    let writer = Writer::open(
        &backend,
        Duration::from_secs(settings.database.connect_timeout_secs),
        settings.database.writer_max_batch,
    )?;
    let mailer = super::worker::Mailer::new(
        &settings.email,
        settings.retention,
        pool.clone(),
        writer.clone(),
        settings.public_url(),
        settings.ui.time_zone(),
        // Readers' emails in their articles' languages, as the server
        // writes them.
        std::sync::Arc::new(crate::locales::Catalogs::load(
            settings.ui.reader_locales_dir.as_deref(),
        )?),
    )?;
    let hooks = crate::hooks::worker::Hooks::new(
        &settings.webhooks,
        pool,
        writer,
        settings.public_url(),
        format!("{}-hooks", mailer.worker_id()),
    );
    if drain {
        mailer
            .scan(db::now())
            .await
            .map_err(|p| anyhow::anyhow!("{}", p.detail))?;
        let stats = mailer
            .run_once()
            .await
            .map_err(|p| anyhow::anyhow!("{}", p.detail))?;
        println!(
            "sent {}, to retry {}, dead {}, skipped {}",
            stats.sent, stats.retried, stats.dead, stats.skipped
        );
        if settings.webhooks.enabled {
            let h = hooks
                .run_once()
                .await
                .map_err(|p| anyhow::anyhow!("{}", p.detail))?;
            println!(
                "webhooks: delivered {}, to retry {}, dead {}",
                h.delivered, h.retried, h.dead
            );
        }
        return Ok(());
    }
    mailer.check_transport().await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let hooks_handle = settings
        .webhooks
        .enabled
        .then(|| tokio::spawn(hooks.run(stopped.clone())));
    let handle = tokio::spawn(mailer.run(stopped));
    shutdown_signal().await;
    tracing::info!("stopping the email worker");
    let _ = stop.send(true);
    let _ = tokio::time::timeout(
        Duration::from_secs(settings.server.shutdown_timeout_secs),
        handle,
    )
    .await;
    if let Some(h) = hooks_handle {
        let _ = tokio::time::timeout(
            Duration::from_secs(settings.server.shutdown_timeout_secs),
            h,
        )
        .await;
    }
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub async fn list(settings: Settings, dead: bool, limit: i64) -> anyhow::Result<()> {
    let list = blocking(move || {
        let (pool, _) = open(&settings)?;
        let q = super::admin::OutboxQuery {
            status: dead.then(|| {
                crate::domain::email::OutboxStatus::Dead
                    .as_str()
                    .to_string()
            }),
            limit: Some(limit),
        };
        super::admin::list(&mut *pool.get()?, &q).map_err(|p| anyhow::anyhow!("{}", p.detail))
    })
    .await?;
    // Written as one block and a closed pipe is not an error: `erratum
    // outbox list | head -1` must end quietly, and println! panics on EPIPE.
    use std::fmt::Write as _;
    let c = &list.counts;
    let mut out = format!(
        "{} pending, {} sent, {} dead, {} skipped\n",
        c.pending, c.sent, c.dead, c.skipped
    );
    if !list.entries.is_empty() {
        let _ = writeln!(
            out,
            "{:<36}  {:<14}  {:<7}  {:>5}  {:<19}  {:<24}  ERROR",
            "ID", "KIND", "STATUS", "TRIES", "CREATED (UTC)", "TO"
        );
    }
    for e in list.entries {
        let _ = writeln!(
            out,
            "{:<36}  {:<14}  {:<7}  {:>5}  {:<19}  {:<24}  {}",
            e.id,
            e.kind,
            e.status,
            e.attempts,
            e.created_at.format("%Y-%m-%d %H:%M:%S"),
            e.recipient,
            e.last_error.unwrap_or_default()
        );
    }
    write_stdout(&out)
}

/// Write to standard output; a reader that went away (EPIPE) ends the
/// output, as for any Unix tool, instead of failing the command.
fn write_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

pub async fn retry(settings: Settings, id: Option<String>, all_dead: bool) -> anyhow::Result<()> {
    let message = blocking(move || {
        let (pool, _) = open(&settings)?;
        let mut conn = pool.get()?;
        let err = |p: crate::error::Problem| anyhow::anyhow!("{}", p.detail);
        if all_dead {
            let r = super::admin::retry_all_dead(&mut conn).map_err(err)?;
            Ok(format!("{} dead emails are queued again", r.retried))
        } else {
            let id = id.unwrap_or_default();
            let e = super::admin::retry(&mut conn, &id).map_err(err)?;
            Ok(format!("{} is queued again", e.id))
        }
    })
    .await?;
    // The worker of a running server picks them up at its next poll.
    println!("{message}");
    Ok(())
}

/// `erratum dev emails N`: queue N reader outcome emails (one distinct
/// address each, `reader-<i>@<domain>`), due now, as a resolution that
/// notifies many readers would. For `scripts/bench-outbox`: a burst to drain.
pub async fn queue_burst(settings: Settings, count: usize, domain: String) -> anyhow::Result<()> {
    use super::content::{Content, Payload};
    use crate::db::outbox::{NewEmail, enqueue};
    use diesel::Connection as _;
    let cfg = super::NotifyConfig::from_settings(&settings.email);
    let started = std::time::Instant::now();
    let queued = blocking(move || {
        let (pool, _) = open(&settings)?;
        let mut conn = pool.get()?;
        let mut queued = 0usize;
        // A transaction per thousand: quick, and never one huge write.
        for chunk in (0..count).collect::<Vec<_>>().chunks(1000) {
            queued += conn.transaction::<_, diesel::result::Error, _>(|c| {
                let t = db::now();
                let mut n = 0;
                for &i in chunk {
                    let recipient = format!("reader-{i}@{domain}");
                    let payload = Payload {
                        recipient_name: None,
                        content: Content::ReaderOutcome {
                            reference: format!("ERR-{:04}-BN", i % 10_000),
                            article_title: "Corée du Nord : ce que l'on sait".into(),
                            article_url: "https://news.example/monde/coree".into(),
                            sentence: "Kim Yong-kyun a été nommé en 2019.".into(),
                            resolution: crate::domain::workflow::Resolution::Corrected,
                            public_note: Some("Merci pour votre signalement.".into()),
                            correction: Some("Il a été nommé en 2018.".into()),
                        },
                    };
                    let email = NewEmail {
                        kind: super::EmailKind::ReaderOutcome,
                        recipient: &recipient,
                        editor_id: None,
                        case_id: None,
                        language: "fr",
                        payload,
                        id: None,
                    };
                    if enqueue(c, &cfg.outbox(), email, t)?.is_ok() {
                        n += 1;
                    }
                }
                Ok(n)
            })?;
        }
        Ok(queued)
    })
    .await?;
    println!(
        "{queued} emails queued in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
