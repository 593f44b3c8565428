//! Every rate limit in one place. Each is counted twice:
//! - in memory, per instance (governor's GCRA). Once an address is over
//!   its report limit, its next reports are refused by `refuse_early`
//!   (a middleware on the report route) before their body is read or
//!   parsed and before the database is touched, so a flood costs little
//!   more than `/health/live`;
//! - in the database (`SharedLimit`, fixed windows in `rate_windows`), inside
//!   the writer transaction that does the work, so that N instances on one
//!   database still allow each client the limit once, not N times. The upsert
//!   rides in the batch's transaction (no round trip of its own), and a
//!   refusal rolls back with the job's savepoint.
//!
//! Status-link lookups are reads and stay per instance: a database write per
//! lookup would turn a brute-force attempt into write load, and 256-bit
//! tokens cannot be guessed at any rate.
//!
//! The limits:
//! - reports (`IntakeLimits`): per client address a minute and a day, per
//!   article and per sentence. Keys live only in memory: the raw address is
//!   never written anywhere.
//! - status-link lookups (`StatusLimits`): per client address, so that the
//!   private links cannot be tried by the thousand a second.
//! - logins (`LoginLimits`): per client address, and per account so that a
//!   password cannot be guessed slowly from many addresses. Every attempt
//!   counts, successful or not, so that the answer never tells whether the
//!   password was right.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::{AuthSettings, RateLimitSettings};
use crate::domain::text::sha256_hex;
use crate::error::Problem;

pub struct LoginLimits {
    settings: AuthSettings,
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
    reset_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    reset_per_account: DefaultKeyedRateLimiter<String>,
}

fn quota(count: u32, period: Duration) -> Quota {
    let n = NonZeroU32::new(count).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period / n.get())
        .unwrap_or_else(|| Quota::per_second(n))
        .allow_burst(n)
}

/// How long to wait, in whole seconds, rounded up.
fn wait_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// One limit counted in the database, over a fixed window: at most `limit`
/// hits per `window` for `bucket` (a keyed hash and a scope, never a raw
/// address or email).
pub struct SharedLimit {
    pub bucket: String,
    pub limit: u32,
    pub window: chrono::Duration,
    /// What the refusal says is limited ("reports from this address").
    pub what: &'static str,
}

impl SharedLimit {
    fn new(scope: &str, key: &str, limit: u32, secs: i64, what: &'static str) -> Self {
        SharedLimit {
            // The key first: a client's windows (its minute and its day)
            // are then neighbours in the table's key, so a report that
            // counts both writes one page of it rather than two pages far
            // apart. The keys are hashes spread at random, and these pages
            // were a quarter of what a batch of reports wrote to SQLite's
            // log (migration 2026-12-14-000100_rate_windows_by_key).
            bucket: format!("{key}:{scope}"),
            limit: limit.max(1),
            window: chrono::Duration::seconds(secs),
            what,
        }
    }

    /// The start of the window `t` falls in (windows are aligned on the
    /// epoch, so every instance agrees on them).
    fn window_start(&self, t: NaiveDateTime) -> NaiveDateTime {
        let secs = self.window.num_seconds().max(1);
        let ts = t.and_utc().timestamp();
        chrono::DateTime::from_timestamp(ts - ts.rem_euclid(secs), 0)
            .map(|d| d.naive_utc())
            .unwrap_or(t)
    }
}

/// Count one hit on each limit, in the caller's transaction; 429 with
/// Retry-After (the end of the window) at the first one over its limit.
/// The caller's savepoint then takes back the hits already counted, so a
/// refused request counts nowhere.
pub fn count_shared(
    conn: &mut crate::db::DbConn,
    limits: &[SharedLimit],
    t: NaiveDateTime,
) -> Result<(), Problem> {
    for l in limits {
        let start = l.window_start(t);
        let hits = crate::db::limits::hit(conn, &l.bucket, start)?;
        if hits > l.limit as i32 {
            let secs = (start + l.window - t).num_seconds().max(1) as u64;
            return Err(Problem::rate_limited(
                format!("Too many {}; retry in {secs} seconds.", l.what),
                secs,
            ));
        }
    }
    Ok(())
}

/// `count_shared` for many requests at once (the writer's batch of
/// reports), with the same outcome as counting them one after the other in
/// this order: one upsert adds every request's hits, the requests are then
/// checked in order against the counts from before, and the hits of the
/// refused ones (their first limit over, and those before it) are taken
/// back by a second upsert, only when some were refused. One answer per
/// request.
pub fn count_shared_many(
    conn: &mut crate::db::DbConn,
    requests: &[Vec<SharedLimit>],
    t: NaiveDateTime,
) -> Result<Vec<Result<(), Problem>>, Problem> {
    use std::collections::HashMap;
    type Key = (String, NaiveDateTime);
    let mut added: HashMap<Key, i32> = HashMap::new();
    for l in requests.iter().flatten() {
        *added
            .entry((l.bucket.clone(), l.window_start(t)))
            .or_default() += 1;
    }
    if added.is_empty() {
        return Ok(requests.iter().map(|_| Ok(())).collect());
    }
    let windows: Vec<(String, NaiveDateTime, i32)> = added
        .iter()
        .map(|((b, s), n)| (b.clone(), *s, *n))
        .collect();
    let after = crate::db::limits::hit_many(conn, &windows)?;
    // The counts before this batch; then each request in turn.
    let mut count: HashMap<Key, i32> = added
        .iter()
        .map(|(k, n)| (k.clone(), after.get(k).copied().unwrap_or(*n) - n))
        .collect();
    let mut refused_hits: HashMap<Key, i32> = HashMap::new();
    let mut answers = Vec::with_capacity(requests.len());
    for limits in requests {
        let mut counted: Vec<Key> = Vec::new();
        let mut answer = Ok(());
        for l in limits {
            let start = l.window_start(t);
            let key = (l.bucket.clone(), start);
            let hits = count.entry(key.clone()).or_default();
            *hits += 1;
            counted.push(key);
            if *hits > l.limit as i32 {
                let secs = (start + l.window - t).num_seconds().max(1) as u64;
                answer = Err(Problem::rate_limited(
                    format!("Too many {}; retry in {secs} seconds.", l.what),
                    secs,
                ));
                break;
            }
        }
        if answer.is_err() {
            for key in counted {
                *count.entry(key).or_default() -= 1;
            }
            // The upsert added all of its limits, checked or not.
            for l in limits {
                *refused_hits
                    .entry((l.bucket.clone(), l.window_start(t)))
                    .or_default() += 1;
            }
        }
        answers.push(answer);
    }
    if !refused_hits.is_empty() {
        let back: Vec<(String, NaiveDateTime, i32)> = refused_hits
            .into_iter()
            .map(|((b, s), n)| (b, s, -n))
            .collect();
        crate::db::limits::hit_many(conn, &back)?;
    }
    Ok(answers)
}

pub struct IntakeLimits {
    settings: RateLimitSettings,
    /// Addresses the per-address limits refused, until when, and the
    /// refusal's wording: `refuse_early` answers them before their body is
    /// read (see `check`).
    refused: RwLock<HashMap<IpAddr, (Instant, &'static str)>>,
    per_ip_minute: DefaultKeyedRateLimiter<IpAddr>,
    per_ip_day: DefaultKeyedRateLimiter<IpAddr>,
    per_article: DefaultKeyedRateLimiter<String>,
    per_sentence: DefaultKeyedRateLimiter<String>,
}

impl IntakeLimits {
    pub fn new(s: &RateLimitSettings) -> Self {
        IntakeLimits {
            settings: s.clone(),
            refused: Default::default(),
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

    /// Count one report; 429 with Retry-After when over a limit.
    pub fn check(&self, ip: IpAddr, article_id: &str, sentence_id: &str) -> Result<(), Problem> {
        // The limiters' own clock: a new `DefaultClock` calibrates itself
        // (CPUID, costly in a virtual machine) on every call.
        let now = self.per_ip_minute.clock().now();
        let refused = |what: &str, wait: Duration| {
            let secs = wait_secs(wait);
            Problem::rate_limited(
                format!("Too many reports {what}; retry in {secs} seconds."),
                secs,
            )
        };
        // A refusal by a per-address limit is remembered until the limiter
        // would allow the address again: the limiter's state does not move
        // while it refuses, so until then `refuse_early` answers exactly
        // what this would, before the body is read.
        let remember = |what: &'static str, wait: Duration| {
            let until = Instant::now() + wait;
            let mut map = self.refused.write().unwrap_or_else(|e| e.into_inner());
            let entry = map.entry(ip).or_insert((until, what));
            if entry.0 < until {
                *entry = (until, what);
            }
            refused(what, wait)
        };
        self.per_ip_minute
            .check_key(&ip)
            .map_err(|n| remember("from this address", n.wait_time_from(now)))?;
        self.per_ip_day
            .check_key(&ip)
            .map_err(|n| remember("from this address today", n.wait_time_from(now)))?;
        self.per_article
            .check_key(&article_id.to_string())
            .map_err(|n| refused("on this article", n.wait_time_from(now)))?;
        self.per_sentence
            .check_key(&sentence_id.to_string())
            .map_err(|n| refused("on this sentence", n.wait_time_from(now)))?;
        Ok(())
    }

    /// The cheap refusal, run before a report's body is read or parsed and
    /// before any database work: 429 for an address a per-address limit
    /// refused and that is still over it. Costs one map look-up.
    pub fn refuse_early(&self, ip: IpAddr) -> Result<(), Problem> {
        let map = self.refused.read().unwrap_or_else(|e| e.into_inner());
        match map.get(&ip) {
            Some(&(until, what)) => {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(());
                }
                let secs = wait_secs(left);
                Err(Problem::rate_limited(
                    format!("Too many reports {what}; retry in {secs} seconds."),
                    secs,
                ))
            }
            None => Ok(()),
        }
    }

    /// The same limits, counted in the database across instances; the
    /// client is its daily keyed hash.
    pub fn shared(
        &self,
        client_hash: &str,
        article_id: &str,
        sentence_id: &str,
    ) -> Vec<SharedLimit> {
        let s = &self.settings;
        vec![
            SharedLimit::new(
                "report-ip-minute",
                client_hash,
                s.per_ip_per_minute,
                60,
                "reports from this address",
            ),
            SharedLimit::new(
                "report-ip-day",
                client_hash,
                s.per_ip_per_day,
                86_400,
                "reports from this address today",
            ),
            SharedLimit::new(
                "report-article",
                article_id,
                s.per_article_per_minute,
                60,
                "reports on this article",
            ),
            SharedLimit::new(
                "report-sentence",
                sentence_id,
                s.per_sentence_per_hour,
                3600,
                "reports on this sentence",
            ),
        ]
    }

    /// Forget idle keys (called periodically) so memory stays bounded.
    pub fn retain_recent(&self) {
        let now = Instant::now();
        self.refused
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, (until, _)| *until > now);
        self.per_ip_minute.retain_recent();
        self.per_ip_day.retain_recent();
        self.per_article.retain_recent();
        self.per_sentence.retain_recent();
    }
}

/// Lookups of reports by their private status token (the JSON status, the
/// status page and its data-request page), per client address.
pub struct StatusLimits {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
}

impl StatusLimits {
    pub fn new(s: &RateLimitSettings) -> Self {
        StatusLimits {
            per_ip: RateLimiter::keyed(quota(s.status_per_ip_per_minute, Duration::from_secs(60))),
        }
    }

    /// Count one lookup; 429 with Retry-After when over the limit.
    pub fn check(&self, ip: IpAddr) -> Result<(), Problem> {
        let now = self.per_ip.clock().now();
        self.per_ip.check_key(&ip).map_err(|n| {
            let secs = wait_secs(n.wait_time_from(now));
            Problem::rate_limited(
                format!("Too many status lookups from this address; retry in {secs} seconds."),
                secs,
            )
        })
    }

    pub fn retain_recent(&self) {
        self.per_ip.retain_recent();
    }
}

impl LoginLimits {
    pub fn new(s: &AuthSettings) -> Self {
        LoginLimits {
            settings: s.clone(),
            per_ip: RateLimiter::keyed(quota(s.login_per_ip_per_minute, Duration::from_secs(60))),
            per_account: RateLimiter::keyed(quota(
                s.login_per_account_per_hour,
                Duration::from_secs(3600),
            )),
            reset_per_ip: RateLimiter::keyed(quota(
                s.reset_per_ip_per_hour,
                Duration::from_secs(3600),
            )),
            reset_per_account: RateLimiter::keyed(quota(
                s.reset_per_account_per_hour,
                Duration::from_secs(3600),
            )),
        }
    }

    /// Count one password-reset request: 429 when the address asked too
    /// often; `Ok(false)` when the account's address did (the caller answers
    /// as usual and sends nothing, so the answer never tells whether the
    /// account exists). Addresses are counted whether they exist or not.
    pub fn check_reset(&self, ip: IpAddr, email: &str) -> Result<bool, Problem> {
        let now = self.reset_per_ip.clock().now();
        self.reset_per_ip.check_key(&ip).map_err(|n| {
            let secs = wait_secs(n.wait_time_from(now));
            Problem::rate_limited(
                format!("Too many password-reset requests; retry in {secs} seconds."),
                secs,
            )
        })?;
        Ok(self
            .reset_per_account
            .check_key(&sha256_hex(email.trim().to_lowercase()))
            .is_ok())
    }

    /// Count one attempt; 429 with Retry-After when over a limit. The
    /// account key is a hash: addresses are not kept even in memory.
    pub fn check(&self, ip: IpAddr, email: &str) -> Result<(), Problem> {
        let now = self.per_ip.clock().now();
        let refused = |wait: Duration| {
            let secs = wait_secs(wait);
            Problem::rate_limited(
                format!("Too many login attempts; retry in {secs} seconds."),
                secs,
            )
        };
        self.per_ip
            .check_key(&ip)
            .map_err(|n| refused(n.wait_time_from(now)))?;
        self.per_account
            .check_key(&sha256_hex(email.trim().to_lowercase()))
            .map_err(|n| refused(n.wait_time_from(now)))?;
        Ok(())
    }

    /// Login attempts counted in the database across instances (the
    /// address and the account as daily keyed hashes).
    pub fn shared_login(&self, client_hash: &str, account_hash: &str) -> Vec<SharedLimit> {
        let s = &self.settings;
        vec![
            SharedLimit::new(
                "login-ip",
                client_hash,
                s.login_per_ip_per_minute,
                60,
                "login attempts",
            ),
            SharedLimit::new(
                "login-account",
                account_hash,
                s.login_per_account_per_hour,
                3600,
                "login attempts",
            ),
        ]
    }

    /// Password-reset requests from one address, across instances.
    pub fn shared_reset_ip(&self, client_hash: &str) -> SharedLimit {
        let s = &self.settings;
        SharedLimit::new(
            "reset-ip",
            client_hash,
            s.reset_per_ip_per_hour,
            3600,
            "password-reset requests",
        )
    }

    /// Password-reset emails to one account, across instances.
    pub fn shared_reset_account(&self, account_hash: &str) -> SharedLimit {
        let s = &self.settings;
        SharedLimit::new(
            "reset-account",
            account_hash,
            s.reset_per_account_per_hour,
            3600,
            "password-reset requests",
        )
    }

    pub fn retain_recent(&self) {
        self.per_ip.retain_recent();
        self.per_account.retain_recent();
        self.reset_per_ip.retain_recent();
        self.reset_per_account.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> RateLimitSettings {
        RateLimitSettings {
            per_ip_per_minute: 5,
            per_ip_per_day: 50,
            per_article_per_minute: 100,
            per_sentence_per_hour: 100,
            status_per_ip_per_minute: 10,
        }
    }

    /// The table's key is the bucket: a client's two windows must sort
    /// next to each other (one page written per report, not two), between
    /// any two other clients' windows.
    #[test]
    fn a_clients_windows_are_neighbours_in_the_key() {
        let limits = IntakeLimits::new(&settings());
        let mut buckets: Vec<(String, &str)> = ["c0ffee", "0badc0de", "f00d", "beef"]
            .into_iter()
            .flat_map(|client| {
                limits
                    .shared(client, "article-1", "sentence-1")
                    .into_iter()
                    .map(move |l| (l.bucket, client))
            })
            .collect();
        buckets.sort();
        let clients: Vec<&str> = buckets
            .iter()
            .filter(|(b, _)| b.contains("report-ip"))
            .map(|(_, c)| *c)
            .collect();
        assert_eq!(clients.len(), 8);
        for pair in clients.chunks(2) {
            assert_eq!(pair[0], pair[1], "{buckets:?}");
        }
    }
}
