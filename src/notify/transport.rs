//! Where emails go: an SMTP server (pooled connections, STARTTLS or implicit
//! TLS, optional credentials, timeouts), or `.eml` files in a folder — the
//! default, so a new installation can read exactly what it would have sent.

use std::time::Duration;

use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{EmailSettings, EmailTransport, SmtpSecurity};

pub enum Transport {
    Smtp {
        mailer: AsyncSmtpTransport<Tokio1Executor>,
        /// `host:port`, for log lines.
        server: String,
    },
    File {
        mailer: AsyncFileTransport<Tokio1Executor>,
        dir: std::path::PathBuf,
    },
}

/// How a try failed, which decides what happens to the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Worth retrying later (4xx, network, timeout, server down).
    Transient,
    /// The server refused the message for good (5xx): no point retrying.
    Permanent,
    /// The server refused the recipient for good (550/551/553 at RCPT):
    /// the address is marked and not mailed again.
    Bounce,
}

#[derive(Debug, Clone)]
pub struct SendError {
    pub failure: Failure,
    pub detail: String,
}

impl Transport {
    /// Build the configured transport. For `file`, the folder is created now,
    /// so a folder that cannot be written stops the start with a clear line.
    pub fn from_settings(s: &EmailSettings) -> anyhow::Result<Transport> {
        match s.transport {
            EmailTransport::File => {
                std::fs::create_dir_all(&s.file.dir).map_err(|e| {
                    anyhow::anyhow!(
                        "email.file.dir: cannot create {}: {e}",
                        s.file.dir.display()
                    )
                })?;
                Ok(Transport::File {
                    mailer: AsyncFileTransport::new(&s.file.dir),
                    dir: s.file.dir.clone(),
                })
            }
            EmailTransport::Smtp => {
                let smtp = &s.smtp;
                let host = smtp.host.trim();
                let builder = match smtp.security {
                    SmtpSecurity::None => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                    }
                    SmtpSecurity::Starttls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                            .map_err(|e| anyhow::anyhow!("email.smtp.host: {e}"))?
                    }
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                        .map_err(|e| anyhow::anyhow!("email.smtp.host: {e}"))?,
                };
                let mut builder = builder
                    .port(smtp.port)
                    .timeout(Some(Duration::from_secs(smtp.timeout_secs)))
                    .pool_config(PoolConfig::new().max_size(smtp.pool_size));
                if !smtp.username.is_empty() {
                    builder = builder.credentials(Credentials::new(
                        smtp.username.clone(),
                        smtp.password.clone(),
                    ));
                }
                Ok(Transport::Smtp {
                    mailer: builder.build(),
                    server: format!("{host}:{}", smtp.port),
                })
            }
        }
    }

    /// Where emails go, for log lines (no credentials).
    pub fn describe(&self) -> String {
        match self {
            Transport::Smtp { server, .. } => format!("smtp://{server}"),
            Transport::File { dir, .. } => format!("files in {}", dir.display()),
        }
    }

    /// Check that the SMTP server answers (and accepts the credentials); a
    /// file transport only needs its folder, made at start.
    pub async fn check(&self) -> Result<(), String> {
        match self {
            Transport::Smtp { mailer, .. } => match mailer.test_connection().await {
                Ok(true) => Ok(()),
                Ok(false) => Err("the server did not accept a connection".into()),
                Err(e) => Err(e.to_string()),
            },
            Transport::File { .. } => Ok(()),
        }
    }

    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Transport::Smtp { mailer, .. } => {
                mailer
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| SendError {
                        failure: classify(&e),
                        detail: e.to_string(),
                    })
            }
            Transport::File { mailer, .. } => {
                mailer
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| SendError {
                        failure: Failure::Transient,
                        detail: e.to_string(),
                    })
            }
        }
    }
}

/// 550, 551 and 553 are the answers to RCPT for an address that does not
/// exist or is refused; other 5xx refuse the message, not the address.
fn classify(e: &lettre::transport::smtp::Error) -> Failure {
    if !e.is_permanent() {
        return Failure::Transient;
    }
    match e.status().map(|c| c.to_string()).as_deref() {
        Some("550" | "551" | "553") => Failure::Bounce,
        _ => Failure::Permanent,
    }
}
