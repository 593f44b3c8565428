//! Login throttling, in memory per instance (like the intake limits): per
//! client address, and per account so that a password cannot be guessed
//! slowly from many addresses. Every attempt counts, successful or not, so
//! that the answer never tells whether the password was right.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::AuthSettings;
use crate::domain::text::sha256_hex;
use crate::error::Problem;

pub struct LoginLimits {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
}

fn quota(count: u32, period: Duration) -> Quota {
    let n = NonZeroU32::new(count).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period / n.get())
        .unwrap_or_else(|| Quota::per_second(n))
        .allow_burst(n)
}

impl LoginLimits {
    pub fn new(s: &AuthSettings) -> Self {
        LoginLimits {
            per_ip: RateLimiter::keyed(quota(s.login_per_ip_per_minute, Duration::from_secs(60))),
            per_account: RateLimiter::keyed(quota(
                s.login_per_account_per_hour,
                Duration::from_secs(3600),
            )),
        }
    }

    /// Count one attempt; 429 with Retry-After when over a limit. The
    /// account key is a hash: addresses are not kept even in memory.
    pub fn check(&self, ip: IpAddr, email: &str) -> Result<(), Problem> {
        let now = DefaultClock::default().now();
        let refused = |wait: Duration| {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
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

    pub fn retain_recent(&self) {
        self.per_ip.retain_recent();
        self.per_account.retain_recent();
    }
}
