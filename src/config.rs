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
    pub metrics: MetricsSettings,
    pub log: LogSettings,
    pub email: EmailSettings,
    pub retention: RetentionSettings,
    pub transparency: TransparencySettings,
    pub webhooks: WebhookSettings,
    pub reader: ReaderSettings,
    pub live: LiveSettings,
    pub ui: UiSettings,
}

/// The editors' live queue (`[live]`, `app::live`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveSettings {
    /// Most live streams one instance holds open at once (each is a held
    /// connection); past it the page falls back to polling.
    pub max_streams: usize,
    /// Seconds between two keep-alive comments on an idle stream.
    pub keepalive_secs: u64,
    /// Seconds between two reads of the events table for the streams (this
    /// instance's own commits are read at once), and between two polls of
    /// a page whose stream failed.
    pub refresh_secs: u64,
}

/// The public transparency page and the newsroom's schema.org description
/// (`[transparency]`). Empty URLs are left out of the JSON-LD.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransparencySettings {
    pub enabled: bool,
    pub organization_name: String,
    pub organization_url: String,
    pub corrections_policy_url: String,
    pub actionable_feedback_policy_url: String,
    pub publishing_principles_url: String,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    pub token: String,
}

// The token stays out of debug output (settings are logged at start).
impl std::fmt::Debug for MetricsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsSettings")
            .field("token", &if self.token.is_empty() { "" } else { "(set)" })
            .finish()
    }
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
    pub acquire_timeout_ms: u64,
    pub writer_max_batch: usize,
    /// Connections (and concurrent reads) of the editors' heavy reads.
    pub read_pool_size: u32,
    /// Milliseconds a heavy read may take before it is cancelled (503).
    pub read_budget_ms: u64,
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

/// The editors' pages and emails (`[ui]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiSettings {
    /// IANA name of the zone times are shown in, unless an editor chose
    /// their own (checked at start).
    pub time_zone: String,
    /// A folder of reader catalogs (`de.toml`, …) added to the built-in
    /// English, French and Spanish (`web::public::i18n`).
    #[serde(default)]
    pub reader_locales_dir: Option<std::path::PathBuf>,
}

impl UiSettings {
    /// The installation's zone (validated at start; UTC if somehow not).
    pub fn time_zone(&self) -> crate::domain::time_zone::Tz {
        crate::domain::time_zone::parse(&self.time_zone).unwrap_or(chrono_tz::UTC)
    }
}

/// What the reader widget shows of what is already known (`[reader]`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderSettings {
    /// Mark sentences with a published correction.
    pub mark_corrections: bool,
    /// Mark sentences with an open case ("already reported, being checked").
    pub mark_open_cases: bool,
    /// Seconds between two reads of the events other instances committed.
    pub known_refresh_secs: u64,
    /// Longest a cached answer of the known-sentences endpoint is served.
    pub known_max_age_secs: u64,
    /// Most articles whose answer is kept in memory.
    pub known_cache_articles: usize,
}

/// How long personal data and request records are kept (`[retention]`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Days after a case is resolved that readers' email addresses on its
    /// reports are erased; 0 keeps them.
    pub reporter_email_days: u32,
    /// Days an Idempotency-Key and its answer are kept.
    pub idempotency_key_days: u32,
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
    pub status_per_ip_per_minute: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSettings {
    /// The queue page counts each status's cases up to this many, then
    /// shows "N+" (`db::queue::counts`).
    pub count_cap: u32,
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
    /// Password-reset requests per client address per hour (429 beyond).
    pub reset_per_ip_per_hour: u32,
    /// Reset emails per address per hour; requests beyond get the same
    /// answer and send nothing.
    pub reset_per_account_per_hour: u32,
    /// Single sign-on through an OpenID provider (`[auth.oidc]`).
    pub oidc: OidcSettings,
}

/// OpenID Connect sign-in for editors (`[auth.oidc]`, see `app::sso`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    pub enabled: bool,
    /// The issuer URL; its discovery document is
    /// `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Scopes asked for; `openid` is always asked.
    pub scopes: Vec<String>,
    /// "Sign in with <display_name>" on the login page.
    pub display_name: String,
    /// The ID-token claim that carries the address (`email`, or e.g.
    /// `preferred_username` / `upn` for Entra ID).
    pub email_claim: String,
    /// The ID-token claim that lists the user's groups.
    pub groups_claim: String,
    /// Address domains allowed in; empty: any domain.
    pub allowed_domains: Vec<String>,
    /// Whether local passwords still work (login form, API login, resets).
    pub local_passwords: bool,
    /// On an installation without an admin, the first sign-in with this
    /// address creates the first admin; empty: none.
    pub bootstrap_admin_email: String,
    /// Seconds for each call to the issuer (discovery, keys, token).
    pub timeout_secs: u64,
    /// Seconds the discovery document and keys are kept before being read
    /// again (an unknown signing key triggers a re-read at once).
    pub cache_secs: u64,
    /// IdP group → role and desks; an account gets the most powerful role
    /// among its groups' rules.
    pub groups: Vec<OidcGroupRule>,
}

// The client secret must never reach a log line through `{:?}`.
impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("enabled", &self.enabled)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("scopes", &self.scopes)
            .field("display_name", &self.display_name)
            .field("email_claim", &self.email_claim)
            .field("groups_claim", &self.groups_claim)
            .field("allowed_domains", &self.allowed_domains)
            .field("local_passwords", &self.local_passwords)
            .field("timeout_secs", &self.timeout_secs)
            .field("cache_secs", &self.cache_secs)
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

/// One line of the group mapping (`[[auth.oidc.groups]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcGroupRule {
    /// The group's name as the IdP sends it in the groups claim.
    pub group: String,
    pub role: crate::domain::editor::Role,
    /// Desks the role applies to; empty: every desk.
    #[serde(default)]
    pub desks: Vec<String>,
}

impl OidcSettings {
    /// Whether password logins work: always without single sign-on.
    pub fn passwords_allowed(&self) -> bool {
        !self.enabled || self.local_passwords
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, msg: &str| Err(ConfigError(format!("{key}: {msg}")));
        if !self.enabled {
            return Ok(());
        }
        match url::Url::parse(&self.issuer) {
            Ok(u) if u.scheme() == "https" || u.scheme() == "http" => {}
            _ => return bad("auth.oidc.issuer", "must be the issuer's http(s) URL"),
        }
        if self.client_id.trim().is_empty() {
            return bad("auth.oidc.client_id", "must be set when auth.oidc.enabled");
        }
        if self.display_name.trim().is_empty() || self.display_name.chars().count() > 100 {
            return bad("auth.oidc.display_name", "must be 1 to 100 characters");
        }
        if self.email_claim.trim().is_empty() {
            return bad("auth.oidc.email_claim", "must name a claim");
        }
        if self.timeout_secs == 0 || self.timeout_secs > 120 {
            return bad("auth.oidc.timeout_secs", "must be between 1 and 120");
        }
        for d in &self.allowed_domains {
            if d.is_empty() || d.contains(['@', ' ', '/']) {
                return bad(
                    "auth.oidc.allowed_domains",
                    &format!("{d:?} is not a domain name"),
                );
            }
        }
        for (i, g) in self.groups.iter().enumerate() {
            if g.group.is_empty() {
                return bad(&format!("auth.oidc.groups[{i}].group"), "must name a group");
            }
            if crate::domain::editor::parse_desks(&g.desks).is_err() {
                return bad(
                    &format!("auth.oidc.groups[{i}].desks"),
                    "are not valid desks",
                );
            }
        }
        if !self.bootstrap_admin_email.is_empty() {
            let Ok(e) = crate::domain::editor::EditorEmail::parse(&self.bootstrap_admin_email)
            else {
                return bad(
                    "auth.oidc.bootstrap_admin_email",
                    "must be an email address",
                );
            };
            if !self.domain_allowed(e.as_str()) {
                return bad(
                    "auth.oidc.bootstrap_admin_email",
                    "its domain must be in auth.oidc.allowed_domains",
                );
            }
        }
        Ok(())
    }

    /// Whether an address (lower-cased) is in an allowed domain.
    pub fn domain_allowed(&self, email: &str) -> bool {
        let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        self.allowed_domains.is_empty()
            || self
                .allowed_domains
                .iter()
                .any(|d| d.trim().eq_ignore_ascii_case(domain))
    }
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

/// Email notifications (`[email]`): transport, sender, retries, limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    pub transport: EmailTransport,
    pub from: String,
    pub max_attempts: u32,
    /// An email is dead-lettered only once it is this old as well as out of
    /// tries, so an outage shorter than this never loses mail.
    pub dead_after_hours: u32,
    pub retry_base_secs: u64,
    pub retry_max_secs: u64,
    pub reader_daily_limit: u32,
    pub reader_receipt: bool,
    pub retention_days: u32,
    pub file: FileTransportSettings,
    pub smtp: SmtpSettings,
    pub worker: WorkerSettings,
    pub escalation: EscalationSettings,
    pub digest: DigestSettings,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransport {
    File,
    Smtp,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileTransportSettings {
    pub dir: std::path::PathBuf,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: String,
    pub timeout_secs: u64,
    pub pool_size: u32,
}

// The password must never reach a log line through `{:?}`.
impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("timeout_secs", &self.timeout_secs)
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    pub enabled: bool,
    /// This worker's name in the outbox's leases; empty: derived from the
    /// host name and the configuration, stable across restarts.
    pub id: String,
    pub poll_secs: u64,
    pub scan_secs: u64,
    pub batch_size: u32,
    pub lease_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationSettings {
    pub report_threshold: u32,
    pub fresh_article_hours: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestSettings {
    pub daily_hour_utc: u32,
}

/// Outgoing webhooks and chat alerts (`[webhooks]`, see `hooks`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Run the delivery worker inside `erratum serve` and `erratum worker`.
    pub enabled: bool,
    /// Allow destinations on loopback, link-local, private and unspecified
    /// addresses (off: refused, as an SSRF guard).
    pub allow_private_targets: bool,
    /// Seconds for one delivery (DNS, connection and answer included).
    pub timeout_secs: u64,
    pub max_attempts: u32,
    /// A delivery is dead-lettered only once it is this old as well as out
    /// of tries.
    pub dead_after_hours: u32,
    pub retry_base_secs: u64,
    pub retry_max_secs: u64,
    /// Seconds between looks at the queue for retries and other processes'
    /// rows (new events wake the worker at once).
    pub poll_secs: u64,
    /// Destinations leased at once; deliveries per destination per lease.
    pub batch_size: u32,
    /// Days delivered rows stay in the delivery log.
    pub retention_days: u32,
}

impl WebhookSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, msg: &str| Err(ConfigError(format!("{key}: {msg}")));
        if self.timeout_secs == 0 || self.timeout_secs > 300 {
            return bad("webhooks.timeout_secs", "must be between 1 and 300");
        }
        if self.max_attempts == 0 {
            return bad("webhooks.max_attempts", "must be at least 1");
        }
        if self.retry_max_secs < self.retry_base_secs {
            return bad(
                "webhooks.retry_max_secs",
                "must be at least webhooks.retry_base_secs",
            );
        }
        if self.poll_secs == 0 {
            return bad("webhooks.poll_secs", "must be at least 1");
        }
        if self.batch_size == 0 || self.batch_size > 1000 {
            return bad("webhooks.batch_size", "must be between 1 and 1000");
        }
        Ok(())
    }
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
        let t = &self.transparency;
        for (key, value) in [
            ("transparency.organization_url", &t.organization_url),
            (
                "transparency.corrections_policy_url",
                &t.corrections_policy_url,
            ),
            (
                "transparency.actionable_feedback_policy_url",
                &t.actionable_feedback_policy_url,
            ),
            (
                "transparency.publishing_principles_url",
                &t.publishing_principles_url,
            ),
        ] {
            if !value.is_empty() {
                match url::Url::parse(value) {
                    Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
                    _ => return bad(key, "must be an http(s) URL or empty"),
                }
            }
        }
        self.webhooks.validate()?;
        if crate::domain::time_zone::parse(&self.ui.time_zone).is_none() {
            return bad(
                "ui.time_zone",
                "must be an IANA time zone name such as Europe/Paris or UTC",
            );
        }
        if self.queue.count_cap == 0 {
            return bad("queue.count_cap", "must be at least 1");
        }
        if self.database.pool_size == 0 {
            return bad("database.pool_size", "must be at least 1");
        }
        if self.database.acquire_timeout_ms == 0 {
            return bad("database.acquire_timeout_ms", "must be at least 1");
        }
        if self.database.writer_max_batch == 0 {
            return bad("database.writer_max_batch", "must be at least 1");
        }
        if self.database.read_pool_size == 0 {
            return bad("database.read_pool_size", "must be at least 1");
        }
        if self.database.read_budget_ms == 0 {
            return bad("database.read_budget_ms", "must be at least 1");
        }
        if self.reader.known_refresh_secs == 0 {
            return bad("reader.known_refresh_secs", "must be at least 1");
        }
        if self.live.keepalive_secs == 0 || self.live.refresh_secs == 0 {
            return bad("live", "keepalive_secs and refresh_secs must be at least 1");
        }
        if self.reader.known_cache_articles == 0 {
            return bad("reader.known_cache_articles", "must be at least 1");
        }
        if self.retention.idempotency_key_days == 0 {
            return bad("retention.idempotency_key_days", "must be at least 1");
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
            (
                "intake.rate_limit.status_per_ip_per_minute",
                rl.status_per_ip_per_minute,
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
        auth.oidc.validate()?;
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
        self.email.validate()
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

impl EmailSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, msg: &str| Err(ConfigError(format!("{key}: {msg}")));
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return bad(
                "email.from",
                "must be an address, e.g. \"Erratum <erratum@news.example>\"",
            );
        }
        if self.max_attempts == 0 {
            return bad("email.max_attempts", "must be at least 1");
        }
        if self.retry_max_secs < self.retry_base_secs {
            return bad(
                "email.retry_max_secs",
                "must be at least email.retry_base_secs",
            );
        }
        if self.reader_daily_limit == 0 {
            return bad("email.reader_daily_limit", "must be at least 1");
        }
        if self.retention_days == 0 {
            return bad("email.retention_days", "must be at least 1");
        }
        match self.transport {
            EmailTransport::File if self.file.dir.as_os_str().is_empty() => {
                return bad("email.file.dir", "must name a folder");
            }
            EmailTransport::Smtp => {
                let host = self.smtp.host.trim();
                if host.is_empty() {
                    return bad(
                        "email.smtp.host",
                        "must name the SMTP server when email.transport = \"smtp\"",
                    );
                }
                if host.contains(|c: char| c.is_whitespace() || c == '/' || c == ':')
                    && host.parse::<IpAddr>().is_err()
                {
                    return bad("email.smtp.host", "must be a host name or an IP address");
                }
                if self.smtp.port == 0 {
                    return bad("email.smtp.port", "must be a port number (1-65535)");
                }
                if self.smtp.username.is_empty() != self.smtp.password.is_empty() {
                    return bad(
                        "email.smtp.password",
                        "give both email.smtp.username and email.smtp.password, or neither",
                    );
                }
            }
            EmailTransport::File => {}
        }
        if self.smtp.timeout_secs == 0 {
            return bad("email.smtp.timeout_secs", "must be at least 1");
        }
        if self.smtp.pool_size == 0 {
            return bad("email.smtp.pool_size", "must be at least 1");
        }
        let w = &self.worker;
        if w.poll_secs == 0 {
            return bad("email.worker.poll_secs", "must be at least 1");
        }
        if w.scan_secs == 0 {
            return bad("email.worker.scan_secs", "must be at least 1");
        }
        if w.batch_size == 0 {
            return bad("email.worker.batch_size", "must be at least 1");
        }
        if w.id.len() > 100
            || !w
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return bad(
                "email.worker.id",
                "must be at most 100 letters, digits, '-', '_' or '.'",
            );
        }
        // A lease shorter than a slow send would let a second worker take the
        // row while the first is still talking to the server: a double send.
        if w.lease_secs < 4 * self.smtp.timeout_secs {
            return bad(
                "email.worker.lease_secs",
                "must be at least 4 times email.smtp.timeout_secs",
            );
        }
        if self.escalation.report_threshold < 2 {
            return bad("email.escalation.report_threshold", "must be at least 2");
        }
        if self.digest.daily_hour_utc > 23 {
            return bad(
                "email.digest.daily_hour_utc",
                "must be an hour from 0 to 23",
            );
        }
        Ok(())
    }
}
