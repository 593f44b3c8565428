//! The worker: claims due outbox rows, renders and sends them, and records
//! each try. It runs inside `erratum serve` and alone as `erratum worker`;
//! any number of workers may share one PostgreSQL database.
//!
//! Rows are claimed under a short lease (`email.worker.lease_secs`, renewed
//! while they are being sent), up to `email.worker.batch_size` per claim in
//! one writer job, and sent through a bounded pipeline (`run_once`); each is
//! marked sent as soon as the server accepts it, together with the others
//! accepted meanwhile. A crash between acceptance and marking is the only
//! way an email goes out twice, and then with the same `Message-ID` (derived
//! from the row's id), so the receiving side can drop the repeat. Each
//! worker has a stable identity (`email.worker.id`, or host name and
//! configuration): restarted, it takes back at once the rows its previous
//! run held, instead of leaving them until their lease ends.
//!
//! A failed try is retried after an exponential delay with jitter; a row
//! is dead-lettered once it has had `email.max_attempts` tries *and* is
//! `email.dead_after_hours` old (so a short outage never dead-letters mail),
//! or at once for a permanent refusal. A recipient the server refuses for
//! good (550/551/553) is put on the suppression list.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use lettre::message::Mailbox;
use rand::Rng;
use tokio::sync::{Notify, OnceCell, watch};

use super::NotifyConfig;
use super::content::Payload;
use super::render::{Links, Renderer};
use super::transport::{Failure, SendError, Transport};
use super::unsubscribe::{self, Unsubscribe};
use crate::config::{EmailSettings, RetentionSettings};
use crate::db::outbox::{self, OutboxRow};
use crate::db::{Pool, Writer, new_id, now};
use crate::error::Problem;

/// A claim in flight: the rows it leased, and how many were due.
type Claiming = tokio::task::JoinHandle<Result<(Vec<OutboxRow>, usize), Problem>>;

/// Prometheus metrics of the email worker, served on `/metrics` with the
/// HTTP ones.
#[derive(Clone)]
pub struct MailMetrics {
    /// Tries by outcome: sent, retry, dead, skipped.
    tries: prometheus::IntCounterVec,
    /// Rows per status, as the worker last counted them (all instances').
    outbox: prometheus::IntGaugeVec,
    /// The periodic scan's writer jobs, by step (`Mailer::scan_job`).
    scan_jobs: prometheus::HistogramVec,
}

impl MailMetrics {
    fn new() -> MailMetrics {
        let tries = prometheus::IntCounterVec::new(
            prometheus::Opts::new(
                "erratum_email_tries_total",
                "Email sending tries by outcome",
            ),
            &["outcome"],
        )
        .expect("a valid metric");
        let outbox = prometheus::IntGaugeVec::new(
            prometheus::Opts::new("erratum_outbox_emails", "Emails in the outbox by status"),
            &["status"],
        )
        .expect("a valid metric");
        let scan_jobs = prometheus::HistogramVec::new(
            prometheus::HistogramOpts::new(
                "erratum_worker_scan_job_seconds",
                "Time each writer job of the worker's periodic scan held the writer, by step",
            )
            .buckets(vec![
                0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
            ]),
            &["step"],
        )
        .expect("a valid metric");
        MailMetrics {
            tries,
            outbox,
            scan_jobs,
        }
    }

    pub fn register(&self, registry: &prometheus::Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.tries.clone()))?;
        registry.register(Box::new(self.outbox.clone()))?;
        registry.register(Box::new(self.scan_jobs.clone()))
    }
}

pub struct Mailer {
    pub metrics: MailMetrics,
    pool: Pool,
    writer: Writer,
    transport: Transport,
    renderer: Renderer,
    settings: EmailSettings,
    pub config: NotifyConfig,
    /// What the periodic scan forgets besides old emails.
    retention: RetentionSettings,
    /// How far the retention sweep's walk through the resolved cases got.
    sweep_mark: std::sync::Mutex<SweepMark>,
    from: Mailbox,
    public_url: String,
    /// `[ui] time_zone`: the zone of editors' emails unless they chose one.
    time_zone: crate::domain::time_zone::Tz,
    worker_id: String,
    /// Sends under way at once: `email.smtp.pool_size`.
    sends: tokio::sync::Semaphore,
    wake: Notify,
    secret: OnceCell<String>,
    reset_secret: OnceCell<String>,
    status_secret: OnceCell<String>,
}

/// Where the retention sweep goes on from (`db::retention::Walk`). Each
/// minute's sweep looks only at the cases resolved since the previous one
/// reached its cut-off; the whole history is walked again at start and
/// once a day (`WHOLE_WALK_EVERY`), a few cases per writer job.
#[derive(Debug, Default)]
struct SweepMark {
    /// Cases resolved before this were swept.
    through: Option<chrono::NaiveDateTime>,
    /// A walk of the whole history is under way: it also looks for
    /// leftovers (`Walk::leftovers`).
    whole: bool,
    /// When the latest walk of the whole history began.
    began: Option<chrono::NaiveDateTime>,
}

/// How often the sweep walks the whole history again rather than the
/// cases resolved since its last cut-off: for a report that came to a case
/// after its resolution (a merge into it, a re-split), which the walk had
/// passed already.
const WHOLE_WALK_EVERY: chrono::Duration = chrono::Duration::days(1);

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunStats {
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
    pub skipped: usize,
}

#[derive(Clone)]
enum Outcome {
    Sent,
    Failed(SendError),
}

impl Mailer {
    pub fn new(
        settings: &EmailSettings,
        retention: RetentionSettings,
        pool: Pool,
        writer: Writer,
        public_url: String,
        time_zone: crate::domain::time_zone::Tz,
        catalogs: Arc<crate::locales::Catalogs>,
    ) -> anyhow::Result<Arc<Mailer>> {
        let from = settings
            .from
            .parse::<Mailbox>()
            .map_err(|e| anyhow::anyhow!("email.from: {e}"))?;
        let transport = Transport::from_settings(settings)?;
        let local = [
            "http://127.",
            "http://localhost",
            "http://0.0.0.0",
            "http://[::1]",
        ];
        if matches!(transport, Transport::Smtp { .. })
            && local.iter().any(|p| public_url.starts_with(p))
        {
            tracing::warn!(
                public_url = %public_url,
                "emails link to a local address: set server.public_url to the address readers and editors use"
            );
        }
        let renderer =
            Renderer::new(catalogs).map_err(|e| anyhow::anyhow!("email templates: {e:#}"))?;
        Ok(Arc::new(Mailer {
            metrics: MailMetrics::new(),
            pool,
            writer,
            transport,
            renderer,
            settings: settings.clone(),
            config: NotifyConfig::from_settings(settings),
            retention,
            sweep_mark: Default::default(),
            from,
            public_url,
            time_zone,
            worker_id: worker_identity(settings),
            sends: tokio::sync::Semaphore::new(settings.smtp.pool_size as usize),
            wake: Notify::new(),
            secret: OnceCell::new(),
            reset_secret: OnceCell::new(),
            status_secret: OnceCell::new(),
        }))
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// This worker's name in the outbox's leases (stable across restarts).
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// Release the rows an earlier run of this worker still holds: it
    /// stopped (or died) while sending them. Called when the worker starts.
    pub async fn take_back_own_claims(&self) -> Result<usize, Problem> {
        let id = self.worker_id.clone();
        let n = self
            .writer
            .run(move |conn| -> Result<_, Problem> {
                Ok(outbox::release_claims_of(conn, &id, now())?)
            })
            .await?;
        if n > 0 {
            tracing::warn!(
                emails = n,
                worker = %self.worker_id,
                "email: taking back the emails this worker was sending when it stopped; each may go out again, with the same Message-ID"
            );
        }
        Ok(n)
    }

    /// Tell the worker that rows were committed (call after the commit).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Log whether the SMTP server answers. Never fatal: reports must keep
    /// being accepted while mail is down; emails wait in the outbox.
    pub async fn check_transport(&self) {
        match self.transport.check().await {
            Ok(()) => {
                tracing::info!(transport = %self.transport.describe(), "email transport ready")
            }
            Err(e) => tracing::warn!(
                transport = %self.transport.describe(),
                error = %e,
                "email: the SMTP server does not answer; emails stay queued until it does"
            ),
        }
    }

    async fn secret(&self) -> Result<&String, Problem> {
        self.named_secret(&self.secret, unsubscribe::SECRET_NAME)
            .await
    }

    async fn named_secret<'a>(
        &self,
        cell: &'a OnceCell<String>,
        name: &'static str,
    ) -> Result<&'a String, Problem> {
        cell.get_or_try_init(|| async {
            self.writer
                .run(move |conn| Ok(crate::auth::keys::instance_secret(conn, name)?))
                .await
        })
        .await
    }

    /// The zone an email's times are written in: its editor's own, else
    /// `[ui] time_zone` (readers' emails too).
    async fn time_zone_of(&self, row: &OutboxRow) -> String {
        let default = self.time_zone.name().to_string();
        let Some(id) = row.editor_id.clone() else {
            return default;
        };
        let pool = self.pool.clone();
        let own = tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().ok()?;
            crate::db::editors::find(&mut conn, &id)
                .ok()
                .flatten()?
                .time_zone
        })
        .await
        .ok()
        .flatten();
        own.filter(|z| crate::domain::time_zone::parse(z).is_some())
            .unwrap_or(default)
    }

    /// The link of a password-reset or status-link email, derived from the
    /// reset's or link's id with an instance key (the row never holds it).
    async fn secret_url(&self, payload: &Payload) -> Result<Option<String>, Problem> {
        use super::content::Content;
        use crate::auth::keys;
        match &payload.content {
            Content::PasswordReset { reset_id, .. } => {
                let key = self
                    .named_secret(&self.reset_secret, keys::RESET_SECRET_NAME)
                    .await?;
                let token = keys::reset_token(key, reset_id);
                Ok(Some(super::render::reset_url(&self.public_url, &token)))
            }
            Content::StatusLink { link_id, .. } => {
                let key = self
                    .named_secret(&self.status_secret, keys::STATUS_SECRET_NAME)
                    .await?;
                let token = keys::status_link_token(key, link_id);
                Ok(Some(super::render::status_url(&self.public_url, &token)))
            }
            _ => Ok(None),
        }
    }

    /// Turn the domain events committed since the last pass into outbox
    /// rows (the email consumer, `events`); returns how many were handled.
    pub async fn consume_events(&self) -> Result<usize, Problem> {
        super::events::drain(&self.pool, &self.writer, &self.config).await
    }

    /// Write due digests and overdue notices as of `at`, forget emails
    /// older than `email.retention_days`, and what `[retention]` says to
    /// forget (`db::retention`); roll up the days that are over for the
    /// dashboard (`db::stats::rollup`).
    pub async fn scan(&self, at: NaiveDateTime) -> Result<(usize, usize), Problem> {
        // Digests collect what the events caused: apply the events first,
        // then those of the cases this scan finds overdue.
        self.consume_events().await?;
        // A bounded number per writer job, like the sweep below.
        let mut overdue = 0;
        for _ in 0..super::events::OVERDUE_JOBS {
            let cfg = self.config.clone();
            let (flagged, more) = self
                .scan_job("overdue", move |conn| {
                    super::events::scan_overdue(conn, &cfg, at)
                })
                .await?;
            overdue += flagged;
            if !more {
                break;
            }
        }
        self.consume_events().await?;
        let cfg = self.config.clone();
        let retention = self.retention;
        let digests = self
            .scan_job("digests", move |conn| {
                let digests = super::digest::build_due(conn, &cfg, at)?;
                outbox::purge(conn, at - chrono::Duration::days(cfg.retention_days))?;
                crate::db::limits::purge(conn, at - crate::db::limits::KEPT)?;
                Ok(digests)
            })
            .await?;
        // Readers' addresses, a bounded number per writer job so that
        // reports filed meanwhile wait for one short job at most.
        let leftovers = {
            let mut mark = self.sweep_mark.lock().expect("sweep mark");
            if mark
                .began
                .is_none_or(|b| at - b >= WHOLE_WALK_EVERY || b > at)
            {
                *mark = SweepMark {
                    through: None,
                    whole: true,
                    began: Some(at),
                };
            }
            mark.whole
        };
        loop {
            let from = self.sweep_mark.lock().expect("sweep mark").through;
            let walk = crate::db::retention::Walk { from, leftovers };
            let swept = self
                .scan_job("sweep", move |conn| {
                    use crate::db::retention::{SweepLimits, sweep};
                    Ok(sweep(conn, at, &retention, walk, SweepLimits::default())?)
                })
                .await?;
            let mut mark = self.sweep_mark.lock().expect("sweep mark");
            mark.through = swept.through;
            if !swept.more {
                mark.whole = false;
                break;
            }
        }
        // The queue's stored priorities move to `at`; SQLite's planner
        // statistics are refreshed where stale. Each is one short write.
        self.scan_job("rescore", move |conn| {
            crate::db::cases::rescore_recent(conn, at, false)?;
            Ok(())
        })
        .await?;
        // The days that are over, counted once for the dashboard
        // (`db::stats::rollup`), a few per writer job: the first scan of a
        // long history takes many short jobs, not one long one.
        loop {
            let rolled = self
                .scan_job("rollup", move |conn| {
                    use crate::db::stats::rollup::{ROLL_DAYS, roll_up};
                    Ok(roll_up(conn, at, ROLL_DAYS)?)
                })
                .await?;
            if !rolled.more {
                break;
            }
        }
        self.scan_job("optimize", |conn| Ok(crate::db::optimize(conn)?))
            .await?;
        Ok((overdue, digests))
    }

    /// One writer job of the scan, its time in the writer observed under
    /// `step` (`erratum_worker_scan_job_seconds`): every report queued
    /// meanwhile waited as long, so this is where a housekeeping step that
    /// outgrew its index shows.
    async fn scan_job<T, F>(&self, step: &'static str, f: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: FnOnce(&mut crate::db::DbConn) -> Result<T, Problem> + Send + 'static,
    {
        let seconds = self.metrics.scan_jobs.with_label_values(&[step]);
        self.writer
            .run(move |conn| {
                let began = std::time::Instant::now();
                let out = f(conn);
                seconds.observe(began.elapsed().as_secs_f64());
                out
            })
            .await
    }

    /// Send every row due now, claiming until none is left. Rows that fail
    /// are rescheduled for later, so a pass always ends.
    ///
    /// A pipeline, so that no step waits for the slowest email of a batch:
    /// the worker holds at most `2 × batch_size` rows (claimed, being sent,
    /// or sent and waiting to be marked), and claims again as soon as there
    /// is room; at most `email.smtp.pool_size` sends are under way (one per
    /// pooled connection: more would open connections only to close them);
    /// the outcomes that came in meanwhile are recorded together, in one
    /// writer job. Events committed during the pass (the worker is woken)
    /// become rows at once, and the claims' newest-first half takes them
    /// before the backlog.
    pub async fn run_once(self: &Arc<Self>) -> Result<RunStats, Problem> {
        self.consume_events().await?;
        let mut stats = RunStats::default();
        // A row already tried is taken only if it was due when the pass
        // began: one retried at once (0 s delays) waits for the next pass,
        // so a pass always ends, even now that a young email is never
        // dead-lettered.
        let retries_by = now();
        let batch = self.settings.worker.batch_size as usize;
        let window = 2 * batch;
        let mut held = 0usize;
        let mut more = true;
        let mut failure: Option<Problem> = None;
        let mut consumed = tokio::time::Instant::now();
        let mut claiming: Option<Claiming> = None;
        let mut sending: tokio::task::JoinSet<(OutboxRow, Outcome)> = tokio::task::JoinSet::new();
        let mut done: Vec<(OutboxRow, Outcome)> = Vec::new();
        let mut recording: Option<(usize, tokio::task::JoinHandle<Result<RunStats, Problem>>)> =
            None;
        let renewal = {
            let me = self.clone();
            tokio::spawn(async move { me.keep_leases().await })
        };
        loop {
            if more && claiming.is_none() && held < window {
                let me = self.clone();
                let room = (window - held).min(batch);
                claiming = Some(tokio::spawn(async move {
                    me.claim_with_retries(retries_by, room).await
                }));
            }
            if recording.is_none() && !done.is_empty() {
                let outcomes = std::mem::take(&mut done);
                let me = self.clone();
                let n = outcomes.len();
                recording = Some((n, tokio::spawn(async move { me.record(outcomes).await })));
            }
            if claiming.is_none() && recording.is_none() && sending.is_empty() {
                break;
            }
            tokio::select! {
                claimed = async { claiming.as_mut().expect("a claim").await }, if claiming.is_some() => {
                    claiming = None;
                    match claimed.map_err(Problem::internal).and_then(|c| c) {
                        Ok((rows, skipped)) => {
                            stats.skipped += skipped;
                            self.metrics
                                .tries
                                .with_label_values(&["skipped"])
                                .inc_by(skipped as u64);
                            if rows.is_empty() && skipped == 0 {
                                more = false;
                            }
                            held += rows.len();
                            for row in rows {
                                let me = self.clone();
                                sending.spawn(async move {
                                    let outcome = me.deliver(&row).await;
                                    (row, outcome)
                                });
                            }
                        }
                        Err(p) => {
                            more = false;
                            failure = Some(p);
                        }
                    }
                }
                Some(sent) = sending.join_next(), if !sending.is_empty() => {
                    let mut next = Some(sent);
                    while let Some(sent) = next {
                        match sent {
                            Ok(d) => done.push(d),
                            Err(e) => {
                                held -= 1;
                                tracing::error!(error = %e, "email: a send task failed");
                            }
                        }
                        next = sending.try_join_next();
                    }
                }
                recorded = async { (&mut recording.as_mut().expect("a record").1).await }, if recording.is_some() => {
                    let (n, _) = recording.take().expect("a record");
                    held -= n;
                    match recorded {
                        Ok(Ok(r)) => {
                            stats.sent += r.sent;
                            stats.retried += r.retried;
                            stats.dead += r.dead;
                        }
                        Ok(Err(p)) => tracing::warn!(error = %p, emails = n, "email: cannot record tries"),
                        Err(e) => tracing::error!(error = %e, "email: a record task failed"),
                    }
                }
                _ = crate::wake::woken(&self.wake, consumed) => {
                    // A report committed during the pass: its emails are
                    // written now, not after the backlog.
                    consumed = tokio::time::Instant::now();
                    match self.consume_events().await {
                        Ok(_) => more = more || failure.is_none(),
                        Err(p) => tracing::warn!(error = %p, "email: cannot read the events"),
                    }
                }
            }
        }
        renewal.abort();
        match failure {
            Some(p) => Err(p),
            None => Ok(stats),
        }
    }

    /// Renew the leases of every row this worker holds, every third of
    /// `lease_secs`, for as long as a pass runs (it aborts this when it
    /// ends). The lease can then be short: a dead worker's rows are free
    /// again soon, a live one's are never taken over in the middle of a
    /// send. One statement for all the claims in flight.
    async fn keep_leases(&self) {
        let lease = self.settings.worker.lease_secs;
        let every = Duration::from_millis(lease * 1000 / 3);
        loop {
            tokio::time::sleep(every).await;
            let id = self.worker_id.clone();
            let until = now() + chrono::Duration::seconds(lease as i64);
            if let Err(p) = self
                .writer
                .run(move |conn| -> Result<_, Problem> {
                    Ok(outbox::renew_claims_of(conn, &id, until)?)
                })
                .await
            {
                tracing::warn!(error = %p, "email: cannot renew a lease");
            }
        }
    }

    /// A claim that meets a busy database (another process writing) is
    /// tried again before the pass gives up.
    async fn claim_with_retries(
        &self,
        retries_by: NaiveDateTime,
        limit: usize,
    ) -> Result<(Vec<OutboxRow>, usize), Problem> {
        let mut last = None;
        for attempt in 0..5u64 {
            match self.claim(retries_by, limit).await {
                Ok(claimed) => return Ok(claimed),
                Err(p) if p.status.as_u16() == 503 => {
                    last = Some(p);
                    tokio::time::sleep(Duration::from_millis(100 * (attempt + 1))).await;
                }
                Err(p) => return Err(p),
            }
        }
        Err(last.unwrap_or_else(|| Problem::unavailable("the database is busy")))
    }

    /// Claim up to `limit` rows in one writer job; rows whose address is now
    /// suppressed are marked skipped instead (their count is returned beside
    /// the rows), all with one statement each, whatever the claim's size.
    async fn claim(
        &self,
        retries_by: NaiveDateTime,
        limit: usize,
    ) -> Result<(Vec<OutboxRow>, usize), Problem> {
        let token = format!("{}/{}", self.worker_id, new_id());
        let lease = chrono::Duration::seconds(self.settings.worker.lease_secs as i64);
        self.writer
            .run(move |conn| {
                let t = now();
                let rows =
                    outbox::claim_due(conn, &token, t, retries_by.min(t), t + lease, limit as i64)?;
                // An address may have bounced since the row was written.
                let keys: Vec<&str> = rows.iter().map(|r| r.recipient_key.as_str()).collect();
                let suppressed = outbox::suppressed_among(conn, &keys)?;
                let (skip, keep): (Vec<OutboxRow>, Vec<OutboxRow>) =
                    rows.into_iter().partition(|row| {
                        // A bounce stops every email, an unsubscribe readers'.
                        let reader = row.editor_id.is_none();
                        suppressed.iter().any(|(key, reason)| {
                            *key == row.recipient_key
                                && (reason == outbox::BOUNCE
                                    || (reader && reason == outbox::UNSUBSCRIBED))
                        })
                    });
                let ids: Vec<&str> = skip.iter().map(|r| r.id.as_str()).collect();
                outbox::mark_skipped_many(conn, &ids, "the address is suppressed", t)?;
                Ok((keep, skip.len()))
            })
            .await
    }

    async fn deliver(&self, row: &OutboxRow) -> Outcome {
        let payload: Payload = match serde_json::from_str(&row.payload) {
            Ok(p) => p,
            Err(e) => {
                return Outcome::Failed(SendError {
                    failure: Failure::Permanent,
                    detail: format!("unreadable payload: {e}"),
                });
            }
        };
        let secret = match self.secret().await {
            Ok(s) => s,
            Err(p) => {
                return Outcome::Failed(SendError {
                    failure: Failure::Transient,
                    detail: p.detail,
                });
            }
        };
        let token = Unsubscribe::for_row(row, &payload).sign(secret);
        let secret_url = match self.secret_url(&payload).await {
            Ok(u) => u,
            Err(p) => {
                return Outcome::Failed(SendError {
                    failure: Failure::Transient,
                    detail: p.detail,
                });
            }
        };
        let links = Links {
            public_url: self.public_url.clone(),
            unsubscribe_url: format!("{}/unsubscribe/{token}", self.public_url),
            secret_url,
            time_zone: self.time_zone_of(row).await,
        };
        let transactional =
            crate::domain::email::EmailKind::parse(&row.kind).is_some_and(|k| k.is_transactional());
        let ctx = super::render::context(row, &payload, &links);
        let rendered = match self.renderer.render(&row.kind, &row.language, &ctx) {
            Ok(r) => r,
            Err(e) => {
                return Outcome::Failed(SendError {
                    failure: Failure::Permanent,
                    detail: format!("template error: {e:#}"),
                });
            }
        };
        let message = match super::render::message(
            &self.from,
            row,
            payload.recipient_name.as_deref(),
            rendered,
            (!transactional).then_some(links.unsubscribe_url.as_str()),
        ) {
            Ok(m) => m,
            Err(detail) => {
                return Outcome::Failed(SendError {
                    failure: Failure::Permanent,
                    detail,
                });
            }
        };
        // Never longer than half the lease, so no other worker takes the row
        // over while this one may still be sending it.
        let limit = Duration::from_secs(self.settings.worker.lease_secs / 2);
        // One send per pooled connection; the rest wait their turn here,
        // rendered and ready.
        let _turn = self.sends.acquire().await;
        match tokio::time::timeout(limit, self.transport.send(message)).await {
            Ok(Ok(())) => Outcome::Sent,
            Ok(Err(e)) => Outcome::Failed(e),
            Err(_) => Outcome::Failed(SendError {
                failure: Failure::Transient,
                detail: "timed out".into(),
            }),
        }
    }

    /// Record the tries of several rows in one writer job: the sent ones
    /// with one statement, each failure on its own. A busy database is tried
    /// again: an email that went out but is not marked sent would go out
    /// again once its lease ends.
    async fn record(&self, outcomes: Vec<(OutboxRow, Outcome)>) -> Result<RunStats, Problem> {
        let max = self.settings.max_attempts as i32;
        let min_age = chrono::Duration::hours(self.settings.dead_after_hours as i64);
        let base = self.settings.retry_base_secs;
        let cap = self.settings.retry_max_secs;
        let outcomes = Arc::new(outcomes);
        let mut tries = 0u64;
        let recorded = loop {
            let outcomes = outcomes.clone();
            let result = self
                .writer
                .run(move |conn| -> Result<Vec<Recorded>, Problem> {
                    let t = now();
                    let sent: Vec<&str> = outcomes
                        .iter()
                        .filter(|(_, o)| matches!(o, Outcome::Sent))
                        .map(|(row, _)| row.id.as_str())
                        .collect();
                    outbox::mark_sent_many(conn, &sent, t)?;
                    let mut recorded = Vec::with_capacity(outcomes.len());
                    for (row, outcome) in outcomes.iter() {
                        let Outcome::Failed(e) = outcome else {
                            recorded.push(Recorded::Sent);
                            continue;
                        };
                        let attempts = row.attempts + 1;
                        let detail = redact(&e.detail, &row.recipient);
                        if e.failure == Failure::Bounce {
                            outbox::suppress(
                                conn,
                                &row.recipient_key,
                                outbox::BOUNCE,
                                Some(&detail),
                                t,
                            )?;
                        }
                        // Out of tries and old enough, both: an outage
                        // shorter than `dead_after_hours` costs retries,
                        // never the email.
                        let exhausted = attempts >= max && t - row.created_at >= min_age;
                        let retry = (e.failure == Failure::Transient && !exhausted)
                            .then(|| t + backoff(attempts, base, cap));
                        outbox::mark_failed(conn, &row.id, &detail, retry, t)?;
                        recorded.push(if retry.is_some() {
                            Recorded::Retry
                        } else {
                            Recorded::Dead
                        });
                    }
                    Ok(recorded)
                })
                .await;
            match result {
                Ok(r) => break r,
                Err(p) if p.status.as_u16() == 503 && tries < 5 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(200 * tries)).await;
                }
                Err(p) => return Err(p),
            }
        };
        let mut stats = RunStats::default();
        for ((row, _), recorded) in outcomes.iter().zip(recorded) {
            let (id, kind, attempts) = (&row.id, &row.kind, row.attempts + 1);
            let outcome = match recorded {
                Recorded::Sent => "sent",
                Recorded::Retry => "retry",
                Recorded::Dead => "dead",
            };
            self.metrics.tries.with_label_values(&[outcome]).inc();
            match recorded {
                Recorded::Sent => {
                    stats.sent += 1;
                    tracing::info!(outbox_id = %id, kind, attempts, "email sent")
                }
                Recorded::Retry => {
                    stats.retried += 1;
                    tracing::warn!(outbox_id = %id, kind, attempts, "email failed; will retry")
                }
                Recorded::Dead => {
                    stats.dead += 1;
                    tracing::warn!(outbox_id = %id, kind, attempts, "email dead-lettered")
                }
            }
        }
        Ok(stats)
    }

    /// The worker's loop, until `shutdown` turns true: scan for digests and
    /// overdue cases every `scan_secs`, send what is due, then sleep until
    /// woken, until the next row is due, or `poll_secs`.
    ///
    /// Every committed report wakes it, most of them with nothing to send:
    /// a cheap read of the next due time decides whether to claim, so that
    /// a wake-up without mail costs one query and no write (claims go
    /// through the writer, which the intake shares). The outbox gauges are
    /// refreshed at most every `GAUGE_EVERY`.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        const GAUGE_EVERY: Duration = Duration::from_secs(5);
        let poll = Duration::from_secs(self.settings.worker.poll_secs);
        let scan_every = Duration::from_secs(self.settings.worker.scan_secs);
        let mut last_scan: Option<tokio::time::Instant> = None;
        let mut last_gauges: Option<tokio::time::Instant> = None;
        tracing::info!(transport = %self.transport.describe(), worker = %self.worker_id, "email worker started");
        if let Err(p) = self.take_back_own_claims().await {
            tracing::warn!(error = %p, "email: cannot take back this worker's earlier claims");
        }
        loop {
            let pass = tokio::time::Instant::now();
            if *shutdown.borrow() {
                break;
            }
            let mut scanned = false;
            if last_scan.is_none_or(|s| s.elapsed() >= scan_every) {
                if let Err(p) = self.scan(now()).await {
                    tracing::warn!(error = %p, "email: scan failed");
                }
                last_scan = Some(tokio::time::Instant::now());
                scanned = true;
            }
            // Events committed since the last pass become outbox rows first.
            if let Err(p) = self.consume_events().await {
                tracing::warn!(error = %p, "email: cannot read the events");
            }
            let mut next = self.next_due().await;
            if scanned || next.is_some_and(|n| n <= now()) {
                if let Err(p) = self.run_once().await {
                    tracing::warn!(error = %p, "email: cannot claim rows");
                }
                next = self.next_due().await;
            }
            if last_gauges.is_none_or(|g| g.elapsed() >= GAUGE_EVERY) {
                let pool = self.pool.clone();
                let counts = tokio::task::spawn_blocking(move || {
                    pool.get()
                        .ok()
                        .and_then(|mut conn| outbox::count_by_status(&mut conn).ok())
                        .unwrap_or_default()
                })
                .await
                .unwrap_or_default();
                for (status, n) in counts {
                    self.metrics
                        .outbox
                        .with_label_values(&[status.as_str()])
                        .set(n);
                }
                last_gauges = Some(tokio::time::Instant::now());
            }
            let mut wait = poll.min(scan_every);
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
        tracing::info!("email worker stopped");
    }

    /// When the next pending row is due (a read, outside the writer).
    async fn next_due(&self) -> Option<NaiveDateTime> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            pool.get()
                .ok()
                .and_then(|mut conn| outbox::next_due(&mut conn).ok().flatten())
        })
        .await
        .ok()
        .flatten()
    }
}

#[derive(Clone, Copy)]
enum Recorded {
    Sent,
    Retry,
    Dead,
}

/// The worker's name in leases: `email.worker.id`, or the host name and a
/// hash of what tells this worker from another on the same host (working
/// folder, command line, email folder). The same after a restart, so the
/// worker recognises its own leases (`take_back_own_claims`).
fn worker_identity(settings: &EmailSettings) -> String {
    if !settings.worker.id.is_empty() {
        return settings.worker.id.clone();
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    let host: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
        .take(64)
        .collect();
    let cwd = std::env::current_dir().unwrap_or_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seed = format!(
        "{}\n{}\n{}",
        cwd.display(),
        args.join("\0"),
        settings.file.dir.display()
    );
    format!("{host}-{}", &crate::domain::text::sha256_hex(seed)[..10])
}

/// The wait before try `attempts + 1`: `base · 2^(attempts-1)`, at most
/// `cap`, spread by ±20% so a burst of failures does not retry in lockstep.
pub fn backoff(attempts: i32, base_secs: u64, cap_secs: u64) -> chrono::Duration {
    let exp = (attempts - 1).clamp(0, 30) as u32;
    let secs = base_secs.saturating_mul(1u64 << exp).min(cap_secs) as f64;
    let jitter = rand::rng().random_range(0.8..=1.2);
    chrono::Duration::milliseconds((secs * jitter * 1000.0) as i64)
}

/// An SMTP answer may quote the address; it is personal data and stays out
/// of the stored error and the logs.
fn redact(detail: &str, address: &str) -> String {
    let mut out = detail.to_string();
    if !address.is_empty() {
        let lower = out.to_lowercase();
        let needle = address.to_lowercase();
        let mut result = String::with_capacity(out.len());
        let mut rest = 0;
        for (i, _) in lower.match_indices(&needle) {
            result.push_str(&out[rest..i]);
            result.push_str("<recipient>");
            rest = i + needle.len();
        }
        result.push_str(&out[rest..]);
        out = result;
    }
    out.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for attempts in 1..=10 {
            let d = backoff(attempts, 180, 43_200).num_milliseconds() as f64 / 1000.0;
            let expected = (180.0 * 2f64.powi(attempts - 1)).min(43_200.0);
            assert!(
                d >= expected * 0.8 - 0.001 && d <= expected * 1.2 + 0.001,
                "{attempts}: {d}"
            );
        }
        // Ten tries with the defaults span about a day.
        let total: f64 = (1..10)
            .map(|a| (180.0 * 2f64.powi(a - 1)).min(43_200.0))
            .sum();
        assert!((20.0 * 3600.0..30.0 * 3600.0).contains(&total), "{total}");
        assert_eq!(backoff(3, 0, 0).num_milliseconds(), 0);
    }

    #[test]
    fn addresses_are_redacted_from_errors() {
        assert_eq!(
            redact(
                "550 5.1.1 <Jane@Example.org>: no such user",
                "jane@example.org"
            ),
            "550 5.1.1 <<recipient>>: no such user"
        );
    }
}
