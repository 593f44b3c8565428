//! Settings: the compiled-in `config/default.toml`, then `--config FILE`, then
//! `ERRATUM__SECTION__KEY` environment variables. Every problem is reported as
//! one line naming the key, before anything starts.

use std::net::IpAddr;
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use ipnet::IpNet;
use serde::Deserialize;

pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub ingest: IngestSettings,
    pub demo: DemoSettings,
    pub intake: IntakeSettings,
    pub queue: QueueSettings,
    pub auth: AuthSettings,
    pub cors: CorsSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub public_url: String,
    pub workers: usize,
    pub trusted_proxies: Vec<IpNet>,
    pub shutdown_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: u32,
    pub connect_timeout_secs: u64,
    pub writer_max_batch: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestSettings {
    pub token: String,
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSettings {
    pub enabled: bool,
    pub external_id: String,
    pub url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeSettings {
    pub max_body_bytes: usize,
    pub duplicate_window_hours: u32,
    pub rate_limit: RateLimitSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    pub per_ip_per_minute: u32,
    pub per_ip_per_day: u32,
    pub per_article_per_minute: u32,
    pub per_sentence_per_hour: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSettings {
    pub due_hours: DueHours,
}

/// Hours to a decision per category (`queue.due_hours.<category>`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DueHours {
    pub factual_error: u32,
    pub misleading: u32,
    pub outdated: u32,
    pub missing_context: u32,
    pub translation: u32,
    pub broken_link: u32,
    pub typo: u32,
    pub other: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub session_hours: u32,
    pub cookie_secure: CookieSecure,
    pub login_per_ip_per_minute: u32,
    pub login_per_account_per_hour: u32,
    pub token_max_days: u32,
}

/// When the session cookie gets the `Secure` attribute.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CookieSecure {
    /// When `server.public_url` is https or the request came over https.
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsSettings {
    pub public_origins: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// A configuration problem, displayed as one line naming the key.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Settings {
    /// Defaults, then the optional file, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError(format!(
                    "--config {}: no such file",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(Env::prefixed("ERRATUM__").split("__"));
        Self::from_figment(figment)
    }

    /// Defaults overridden by the given TOML text (for tests).
    pub fn from_toml_overrides(overrides: &str) -> Result<Settings, ConfigError> {
        Self::from_figment(Figment::from(Toml::string(DEFAULT_TOML)).merge(Toml::string(overrides)))
    }

    fn from_figment(figment: Figment) -> Result<Settings, ConfigError> {
        let settings: Settings = figment.extract().map_err(|e| {
            let e = e
                .into_iter()
                .next()
                .expect("a figment error has at least one cause");
            let key = e.path.join(".");
            let source = e
                .metadata
                .as_ref()
                .map(|m| format!(" (from {})", m.name))
                .unwrap_or_default();
            if key.is_empty() {
                ConfigError(format!("{}{source}", e.kind))
            } else {
                ConfigError(format!("{key}: {}{source}", e.kind))
            }
        })?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, msg: &str| Err(ConfigError(format!("{key}: {msg}")));
        if self.server.host.parse::<IpAddr>().is_err() && self.server.host != "localhost" {
            return bad("server.host", "must be an IP address or \"localhost\"");
        }
        if !self.server.public_url.is_empty() {
            match url::Url::parse(&self.server.public_url) {
                Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
                _ => return bad("server.public_url", "must be an http(s) URL"),
            }
        }
        if let Err(e) = crate::db::Backend::from_url(&self.database.url) {
            return bad("database.url", &e);
        }
        if self.database.pool_size == 0 {
            return bad("database.pool_size", "must be at least 1");
        }
        if self.database.writer_max_batch == 0 {
            return bad("database.writer_max_batch", "must be at least 1");
        }
        if self.intake.max_body_bytes < 1024 {
            return bad("intake.max_body_bytes", "must be at least 1024");
        }
        if self.ingest.max_body_bytes < 1024 {
            return bad("ingest.max_body_bytes", "must be at least 1024");
        }
        let rl = &self.intake.rate_limit;
        for (key, v) in [
            ("intake.rate_limit.per_ip_per_minute", rl.per_ip_per_minute),
            ("intake.rate_limit.per_ip_per_day", rl.per_ip_per_day),
            (
                "intake.rate_limit.per_article_per_minute",
                rl.per_article_per_minute,
            ),
            (
                "intake.rate_limit.per_sentence_per_hour",
                rl.per_sentence_per_hour,
            ),
        ] {
            if v == 0 {
                return bad(key, "must be at least 1");
            }
        }
        let auth = &self.auth;
        for (key, v) in [
            ("auth.session_hours", auth.session_hours),
            ("auth.login_per_ip_per_minute", auth.login_per_ip_per_minute),
            (
                "auth.login_per_account_per_hour",
                auth.login_per_account_per_hour,
            ),
        ] {
            if v == 0 {
                return bad(key, "must be at least 1");
            }
        }
        if auth.session_hours > 24 * 90 {
            return bad("auth.session_hours", "must be at most 2160 (90 days)");
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return bad("log.level", "is not a valid filter (e.g. \"info\")");
        }
        for origin in &self.cors.public_origins {
            if origin != "*" && url::Url::parse(origin).is_err() {
                return bad(
                    "cors.public_origins",
                    &format!("{origin:?} is not an origin URL"),
                );
            }
        }
        Ok(())
    }

    /// The base URL for links, without a trailing slash.
    pub fn public_url(&self) -> String {
        if self.server.public_url.is_empty() {
            format!("http://{}:{}", self.server.host, self.server.port)
        } else {
            self.server.public_url.trim_end_matches('/').to_string()
        }
    }
}
