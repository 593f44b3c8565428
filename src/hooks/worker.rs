//! The delivery worker: it runs inside `erratum serve` and `erratum worker`
//! beside the email worker; any number of them may share one PostgreSQL
//! database.
//!
//! It leases destinations (not single rows: `db::webhooks::claim`, `FOR
//! UPDATE SKIP LOCKED` on PostgreSQL) and sends each one's due deliveries
//! oldest first, one at a time, each call bounded by
//! `webhooks.timeout_secs`. A delivery is done when the receiver answers
//! 2xx. A failure is retried after an exponential delay with jitter and
//! pauses the destination until then, so later deliveries wait behind it and
//! a receiver that was down gets every event in order when it comes back.
//! A delivery is dead-lettered when it has had `webhooks.max_attempts` tries
//! *and* is `webhooks.dead_after_hours` old, or at once when the guard
//! refuses its destination; the next one then goes.
//!
//! A crash between the receiver's answer and the record is the only way a
//! message goes out twice, with the same `webhook-id`, which receivers use
//! to drop repeats (as the specification asks).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::{sign, target};
use crate::config::WebhookSettings;
use crate::db::webhooks::{self as store, DeliveryRow, EndpointRow};
use crate::db::{Pool, Writer, new_id, now};
use crate::error::Problem;

pub struct Hooks {
    pool: Pool,
    writer: Writer,
    settings: WebhookSettings,
    public_url: String,
    worker_id: String,
    wake: Notify,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunStats {
    pub delivered: usize,
    pub retried: usize,
    pub dead: usize,
}

/// How one try went.
enum Outcome {
    Delivered(u16),
    /// A failure worth retrying (no answer, or a non-2xx answer).
    Failed(Option<u16>, String),
    /// The destination is refused by the guard: no retry can help.
    Refused(String),
}

impl Hooks {
    pub fn new(
        settings: &WebhookSettings,
        pool: Pool,
        writer: Writer,
        public_url: String,
        worker_id: String,
    ) -> Arc<Hooks> {
        Arc::new(Hooks {
            pool,
            writer,
            settings: settings.clone(),
            public_url,
            worker_id,
            wake: Notify::new(),
        })
    }

    /// Tell the worker that events were committed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Turn the events committed since the last pass into deliveries.
    pub async fn consume_events(&self) -> Result<usize, Problem> {
        super::events::drain(&self.pool, &self.writer, &self.public_url).await
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.settings.timeout_secs)
    }

    /// Send what is due now on every destination, until nothing is.
    pub async fn run_once(self: &Arc<Self>) -> Result<RunStats, Problem> {
        self.consume_events().await?;
        let mut stats = RunStats::default();
        for _ in 0..1000 {
            let token = format!("{}/{}", self.worker_id, new_id());
            let batch = self.settings.batch_size as i64;
            // Every call of the lease is bounded: the lease outlives them.
            let lease = chrono::Duration::seconds(
                (self.settings.timeout_secs * (self.settings.batch_size as u64 + 2)) as i64,
            );
            let claim_token = token.clone();
            let claimed = self
                .writer
                .run(move |conn| -> Result<_, Problem> {
                    let t = now();
                    Ok(store::claim(conn, &claim_token, t, t + lease, batch)?)
                })
                .await?;
            if claimed.is_empty() {
                break;
            }
            let mut tasks = tokio::task::JoinSet::new();
            for endpoint_id in claimed {
                let me = self.clone();
                let token = token.clone();
                tasks.spawn(async move { me.serve_endpoint(endpoint_id, token).await });
            }
            while let Some(done) = tasks.join_next().await {
                match done {
                    Ok(Ok(s)) => {
                        stats.delivered += s.delivered;
                        stats.retried += s.retried;
                        stats.dead += s.dead;
                    }
                    Ok(Err(p)) => {
                        tracing::warn!(error = %p, "webhooks: a destination's pass failed")
                    }
                    Err(e) => tracing::error!(error = %e, "webhooks: a delivery task failed"),
                }
            }
        }
        Ok(stats)
    }

    /// Send one leased destination's due deliveries in order; stop at the
    /// first failure (pausing the destination until its retry).
    async fn serve_endpoint(
        &self,
        endpoint_id: String,
        token: String,
    ) -> Result<RunStats, Problem> {
        let mut stats = RunStats::default();
        let pool = self.pool.clone();
        let (id, limit) = (endpoint_id.clone(), self.settings.batch_size as i64);
        let loaded = tokio::task::spawn_blocking(move || -> Result<_, Problem> {
            let mut conn = pool.get()?;
            let ep = store::endpoint(&mut conn, &id)?;
            let rows = store::pending(&mut conn, &id, limit)?;
            Ok((ep, rows))
        })
        .await
        .map_err(Problem::internal)?;
        let mut pause = None;
        if let Ok((Some(ep), rows)) = loaded {
            for row in rows {
                if row.next_attempt_at > now() {
                    pause = Some(row.next_attempt_at);
                    break;
                }
                let outcome = self.send(&ep, &row).await;
                match self.record(&row, outcome).await? {
                    Recorded::Delivered => stats.delivered += 1,
                    Recorded::Dead => stats.dead += 1,
                    Recorded::Retry(at) => {
                        stats.retried += 1;
                        pause = Some(at);
                        break;
                    }
                }
            }
        }
        self.writer
            .run(move |conn| -> Result<_, Problem> {
                Ok(store::release(conn, &endpoint_id, &token, pause)?)
            })
            .await?;
        Ok(stats)
    }

    async fn send(&self, ep: &EndpointRow, d: &DeliveryRow) -> Outcome {
        let timeout = self.timeout();
        let target = match target::check(&ep.url, self.settings.allow_private_targets, timeout)
            .await
        {
            Ok(t) => t,
            Err(e @ target::Refused::Unresolved(_)) => return Outcome::Failed(None, e.to_string()),
            Err(e) => return Outcome::Refused(e.to_string()),
        };
        let client = match target::client(&target, timeout) {
            Ok(c) => c,
            Err(e) => return Outcome::Failed(None, e.without_url().to_string()),
        };
        let ts = chrono::Utc::now().timestamp();
        let Some(signature) = sign::signature(&ep.secret, &d.id, ts, d.payload.as_bytes()) else {
            return Outcome::Refused("the destination's secret is unreadable".into());
        };
        let sent = client
            .post(target.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", &d.id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .body(d.payload.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => Outcome::Delivered(r.status().as_u16()),
            Ok(r) => Outcome::Failed(
                Some(r.status().as_u16()),
                format!("the receiver answered {}", r.status()),
            ),
            // Without the URL: a chat webhook's URL is its secret.
            Err(e) => Outcome::Failed(None, e.without_url().to_string()),
        }
    }

    async fn record(&self, row: &DeliveryRow, outcome: Outcome) -> Result<Recorded, Problem> {
        let s = &self.settings;
        let (max, min_age) = (
            s.max_attempts as i32,
            chrono::Duration::hours(s.dead_after_hours as i64),
        );
        let (base, cap) = (s.retry_base_secs, s.retry_max_secs);
        let (id, created, attempts) = (row.id.clone(), row.created_at, row.attempts + 1);
        let recorded = self
            .writer
            .run(move |conn| -> Result<Recorded, Problem> {
                let t = now();
                Ok(match outcome {
                    Outcome::Delivered(code) => {
                        store::mark_delivered(conn, &id, code as i32, t)?;
                        Recorded::Delivered
                    }
                    Outcome::Refused(why) => {
                        store::mark_failed(conn, &id, None, &why, None, t)?;
                        Recorded::Dead
                    }
                    Outcome::Failed(code, why) => {
                        let exhausted = attempts >= max && t - created >= min_age;
                        let retry = (!exhausted)
                            .then(|| t + crate::notify::worker::backoff(attempts, base, cap));
                        let why: String = why.chars().take(500).collect();
                        store::mark_failed(conn, &id, code.map(i32::from), &why, retry, t)?;
                        match retry {
                            Some(at) => Recorded::Retry(at),
                            None => Recorded::Dead,
                        }
                    }
                })
            })
            .await?;
        match recorded {
            Recorded::Delivered => {
                tracing::info!(delivery = %row.id, event = %row.event_type, attempts, "webhook delivered")
            }
            Recorded::Retry(_) => {
                tracing::warn!(delivery = %row.id, event = %row.event_type, attempts, "webhook failed; will retry")
            }
            Recorded::Dead => {
                tracing::warn!(delivery = %row.id, event = %row.event_type, attempts, "webhook dead-lettered")
            }
        }
        Ok(recorded)
    }

    /// The worker's loop, until `shutdown` turns true.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let poll = Duration::from_secs(self.settings.poll_secs);
        let retention = chrono::Duration::days(self.settings.retention_days as i64);
        let mut last_purge: Option<tokio::time::Instant> = None;
        let id = self.worker_id.clone();
        if let Err(p) = self
            .writer
            .run(move |conn| -> Result<_, Problem> { Ok(store::release_claims_of(conn, &id)?) })
            .await
        {
            tracing::warn!(error = %p, "webhooks: cannot take back this worker's earlier leases");
        }
        tracing::info!(worker = %self.worker_id, "webhook worker started");
        loop {
            let pass = tokio::time::Instant::now();
            if *shutdown.borrow() {
                break;
            }
            if let Err(p) = self.run_once().await {
                tracing::warn!(error = %p, "webhooks: pass failed");
            }
            if last_purge.is_none_or(|p| p.elapsed() >= Duration::from_secs(3600)) {
                let before = now() - retention;
                let _ = self
                    .writer
                    .run(move |conn| -> Result<_, Problem> { Ok(store::purge(conn, before)?) })
                    .await;
                last_purge = Some(tokio::time::Instant::now());
            }
            let mut wait = poll;
            let pool = self.pool.clone();
            let next = tokio::task::spawn_blocking(move || {
                pool.get()
                    .ok()
                    .and_then(|mut conn| store::next_due(&mut conn).ok().flatten())
            })
            .await
            .ok()
            .flatten();
            if let Some(next) = next {
                let until = (next - now()).to_std().unwrap_or(Duration::ZERO);
                wait = wait.min(until.max(Duration::from_millis(50)));
            }
            tokio::select! {
                _ = crate::wake::woken(&self.wake, pass) => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!("webhook worker stopped");
    }
}

enum Recorded {
    Delivered,
    Retry(chrono::NaiveDateTime),
    Dead,
}
