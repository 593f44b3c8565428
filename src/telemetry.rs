//! Structured logs with `tracing`: human-readable or JSON lines.

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

/// Install the global subscriber once (later calls, e.g. from tests, are no-ops).
pub fn init(settings: &LogSettings) {
    let filter =
        EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(filter_of(settings)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match settings.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

/// `log.level`, with actix-web-prom's warnings off unless the level names
/// that crate: it warns on every request to a route whose pattern holds a
/// regex (Swagger UI's `/docs/{_:.*}`, whatever the method), one useless
/// line per request that any client can multiply.
fn filter_of(settings: &LogSettings) -> String {
    if settings.level.contains("actix_web_prom") {
        settings.level.clone()
    } else {
        format!("{},actix_web_prom=error", settings.level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metrics_crate_warnings_are_off_unless_asked_for() {
        let of = |level: &str| {
            filter_of(&LogSettings {
                format: LogFormat::Pretty,
                level: level.into(),
            })
        };
        assert_eq!(of("info"), "info,actix_web_prom=error");
        assert_eq!(of("actix_web_prom=debug"), "actix_web_prom=debug");
        assert!(EnvFilter::try_new(of("erratum=debug,actix_web=info")).is_ok());
    }
}
