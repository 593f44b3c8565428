//! Readers' reports: submission and the private status link.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::http::header::HeaderName;
use actix_web::{HttpRequest, HttpResponse, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;

use super::extract::{ApiJson, parse_value};
use crate::config::RateLimitSettings;
use crate::db::articles as article_store;
use crate::db::reports::{self as store, ReportReceipt, ReportStatus, Submission};
use crate::domain::anchor;
use crate::domain::report::{NewReport, ReportSubmission};
use crate::domain::text::sha256_hex;
use crate::error::Problem;
use crate::state::AppState;

const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// In-memory abuse limits (per process). Keys live only in memory: the raw
/// address is never written anywhere.
pub struct IntakeLimits {
    per_ip_minute: DefaultKeyedRateLimiter<IpAddr>,
    per_ip_day: DefaultKeyedRateLimiter<IpAddr>,
    per_article: DefaultKeyedRateLimiter<String>,
    per_sentence: DefaultKeyedRateLimiter<String>,
}

fn quota(count: u32, period: Duration) -> Quota {
    let n = NonZeroU32::new(count).unwrap_or(NonZeroU32::MIN);
    // `count` per `period`, all of it usable at once (a burst), refilled evenly.
    Quota::with_period(period / n.get())
        .unwrap_or_else(|| Quota::per_second(n))
        .allow_burst(n)
}

impl IntakeLimits {
    pub fn new(s: &RateLimitSettings) -> Self {
        IntakeLimits {
            per_ip_minute: RateLimiter::keyed(quota(s.per_ip_per_minute, Duration::from_secs(60))),
            per_ip_day: RateLimiter::keyed(quota(s.per_ip_per_day, Duration::from_secs(86_400))),
            per_article: RateLimiter::keyed(quota(
                s.per_article_per_minute,
                Duration::from_secs(60),
            )),
            per_sentence: RateLimiter::keyed(quota(
                s.per_sentence_per_hour,
                Duration::from_secs(3600),
            )),
        }
    }

    fn check(&self, ip: IpAddr, article_id: &str, sentence_id: &str) -> Result<(), Problem> {
        let now = DefaultClock::default().now();
        let refused = |what: &str, wait: Duration| {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Problem::rate_limited(
                format!("Too many reports {what}; retry in {secs} seconds."),
                secs,
            )
        };
        self.per_ip_minute
            .check_key(&ip)
            .map_err(|n| refused("from this address", n.wait_time_from(now)))?;
        self.per_ip_day
            .check_key(&ip)
            .map_err(|n| refused("from this address today", n.wait_time_from(now)))?;
        self.per_article
            .check_key(&article_id.to_string())
            .map_err(|n| refused("on this article", n.wait_time_from(now)))?;
        self.per_sentence
            .check_key(&sentence_id.to_string())
            .map_err(|n| refused("on this sentence", n.wait_time_from(now)))?;
        Ok(())
    }

    /// Forget idle keys (called periodically) so memory stays bounded.
    pub fn retain_recent(&self) {
        self.per_ip_minute.retain_recent();
        self.per_ip_day.retain_recent();
        self.per_article.retain_recent();
        self.per_sentence.retain_recent();
    }
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy, in
/// which case the right-most address in X-Forwarded-For that is not itself a
/// trusted proxy (the left part of that header is client-controlled).
pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> IpAddr {
    let peer = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    if !trusted.iter().any(|n| n.contains(&peer)) {
        return peer;
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted.iter().any(|n| n.contains(ip)))
        .unwrap_or(peer)
}

/// File a report on a sentence of an article.
///
/// The report is anchored to a sentence of the current revision (by
/// `sentence_id`, or found from the quote) and gathered into that sentence's
/// open case. `201` means it is committed to disk. Retries with the same
/// `Idempotency-Key` get the first answer back; the same comment from the same
/// client within the duplicate window is answered `200` with the first
/// reference.
#[utoipa::path(post, path = "/api/v1/articles/{external_id}/reports", tag = "reports",
    params(
        ("external_id" = String, Path, description = "The article's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: same key and body, same answer"),
    ),
    request_body = ReportSubmission,
    responses(
        (status = 201, description = "Stored", body = ReportReceipt, example = json!({
            "report_id": "0193a5e4-7b7c-7c4e-9d1e-2f3a4b5c6d7e", "case_id": "0193a5e4-7b7c-7c4e-9d1e-2f3a4b5c6d00",
            "reference": "ERR-7KQ2-MX", "status_url": "http://127.0.0.1:8080/r/Zk3…",
            "message": "Merci ! Nous étudierons vos commentaires dans les plus brefs délais.", "duplicate": false})),
        (status = 200, description = "A duplicate of an earlier report: its reference", body = ReportReceipt),
        (status = 400, description = "Malformed JSON", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Unknown article", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 413, description = "Body over 16 KiB", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or a quote that does not resolve", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited; see Retry-After", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ApiJson<serde_json::Value>,
) -> Result<HttpResponse, Problem> {
    let external_id = super::external_id(&path)?;
    let request_hash = sha256_hex(body.0.to_string());
    let report = NewReport::parse(parse_value::<ReportSubmission>(body.0)?)?;
    let idempotency = match req.headers().get(IDEMPOTENCY_KEY) {
        None => None,
        Some(v) => match v.to_str() {
            Ok(k) if !k.trim().is_empty() && k.len() <= 255 => {
                Some((k.trim().to_string(), request_hash))
            }
            _ => {
                return Err(Problem::field(
                    "invalid_idempotency_key",
                    "Invalid idempotency key",
                    "Idempotency-Key",
                    "must be 1 to 255 visible ASCII characters",
                ));
            }
        },
    };
    let ip = client_ip(&req, &state.settings.server.trusted_proxies);

    // Anchor against the current revision (a read), then check limits before
    // taking the writer's time.
    let report_for_read = report.clone();
    let key_for_read = idempotency.as_ref().map(|(k, _)| k.clone());
    let (article, anchor, replay) = state
        .read(move |conn| {
            let article = article_store::find_by_external_id(conn, external_id.as_str())?
                .ok_or_else(|| {
                    Problem::not_found(
                        "article_not_found",
                        format!("No article {:?}.", external_id.as_str()),
                    )
                })?;
            let sentences =
                article_store::revision_sentences(conn, &article.id, article.current_revision)?;
            let anchor = anchor::resolve(
                &sentences,
                report_for_read.sentence_id.as_deref(),
                &report_for_read.quote,
            )?;
            let replay = match key_for_read {
                Some(key) => store::idempotency_key_exists(conn, &article.id, &key)?,
                None => false,
            };
            Ok((article, anchor, replay))
        })
        .await?;
    // A retry of an answered request replays its answer and is not counted again.
    if !replay {
        state.intake.check(ip, &article.id, &anchor.sentence_id)?;
    }

    let st = state.clone();
    let (code, receipt) = state
        .writer
        .run(move |conn| {
            let sub = Submission {
                article: &article,
                anchor: &anchor,
                report: &report,
                client_ip: ip.to_string(),
                idempotency,
                public_url: &st.public_url,
                due_hours: &st.settings.queue.due_hours,
                duplicate_window_hours: st.settings.intake.duplicate_window_hours,
                notify: &st.mailer.config,
                keys: &st.keys,
            };
            store::submit(conn, &sub)
        })
        .await?;
    if code == 201 {
        tracing::info!(reference = %receipt.reference, case_id = %receipt.case_id, "report stored");
        // The report's emails are committed with it: send them now.
        state.mailer.wake();
    }
    Ok(
        HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap_or_default())
            .json(receipt),
    )
}

/// A report's status, through its private link's token.
#[utoipa::path(get, path = "/api/v1/reports/status/{token}", tag = "reports",
    params(("token" = String, Path, description = "The token from the status link")),
    responses(
        (status = 200, description = "The report's status", body = ReportStatus),
        (status = 404, description = "Unknown token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn status(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let status = lookup_status(&state, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(status))
}

pub async fn lookup_status(state: &AppState, token: String) -> Result<ReportStatus, Problem> {
    let unknown = || Problem::not_found("report_not_found", "No report has this status link.");
    if token.is_empty() || token.len() > 128 {
        return Err(unknown());
    }
    state
        .read(move |conn| store::status_by_token(conn, &token)?.ok_or_else(unknown))
        .await
}
