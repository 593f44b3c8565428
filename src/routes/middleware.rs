//! Cross-cutting middleware: request ids and access logs, and the safety net
//! that turns every non-problem error response into problem+json.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{Error, HttpMessage, ResponseError};
use tracing::Instrument;

use crate::error::{ErrorCode, PROBLEM_JSON, Problem};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id, from a well-formed incoming `X-Request-Id` or a new one.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A new request id: a time-ordered UUID (version 7) whose random part is
/// drawn once per process and counted up from there, so ids stay unique
/// within the process and, with 80 random bits, across instances.
/// `Uuid::now_v7` asked the kernel for fresh random bytes on every request:
/// 3% of what refusing a flood's request cost. Nothing secret hangs on it.
fn new_request_id() -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEED: OnceLock<[u8; 10]> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = SEED.get_or_init(|| {
        let mut seed = [0u8; 10];
        seed.copy_from_slice(&uuid::Uuid::new_v4().as_bytes()[..10]);
        seed
    });
    let mut random = *seed;
    let mut tail = [0u8; 8];
    tail.copy_from_slice(&random[2..]);
    let counted = u64::from_be_bytes(tail).wrapping_add(COUNTER.fetch_add(1, Ordering::Relaxed));
    random[2..].copy_from_slice(&counted.to_be_bytes());
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .to_string()
}

/// Give each request an id, echo it in `X-Request-Id`, and log one line per
/// request. Only the route pattern is logged, never the path: paths carry
/// status tokens, and query strings may carry addresses.
pub async fn request_id_and_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_string)
        .unwrap_or_else(new_request_id);
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().to_string();
    let span = tracing::info_span!("request", request_id = %id, method = %method);
    let started = Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let status = res.status().as_u16();
    // The route is looked up again only when the line is written (a field's
    // value is evaluated only then): `match_pattern` walks the route table
    // anew, regular expressions and all, and with the line filtered out
    // (`log.level = warn`) that was one more walk per request for nothing.
    span.in_scope(|| {
        tracing::info!(
            route = %res.request().match_pattern().as_deref().unwrap_or("(unmatched)"),
            status,
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(res)
}

/// Refuse a report from an address already over its per-address limit
/// (429 with Retry-After, the answer the use case would give) before its
/// body is read or parsed and before any database work (`IntakeLimits::
/// refuse_early`). Mounted on the report route only.
pub async fn refuse_over_intake_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, Error> {
    let refused = req
        .app_data::<actix_web::web::Data<crate::app::AppState>>()
        .and_then(|s| {
            let ip = crate::auth::client_ip(req.request(), &s.settings.server.trusted_proxies);
            s.intake
                .refuse_early(ip)
                .err()
                .map(|p| (p, s.settings.intake.max_body_bytes))
        });
    match refused {
        Some((problem, max_body)) => {
            let (http, mut payload) = req.into_parts();
            discard_small_body(&http, &mut payload, max_body).await;
            Ok(ServiceResponse::new(http, problem.error_response()).map_into_right_body())
        }
        None => Ok(next.call(req).await?.map_into_left_body()),
    }
}

/// How long a refused request may take to send the rest of its body.
const DISCARD_WITHIN: std::time::Duration = std::time::Duration::from_millis(500);

/// Read and drop the body of a refused request when it declares a length
/// the intake would accept. actix closes a keep-alive connection whose
/// request body was left unread, so without this every refusal of a flood
/// would cost the client (and the server) a new TCP connection, and
/// refusals would run at a tenth of the rate they cost. The bytes are
/// never parsed; a larger, chunked or slow body is left unread and its
/// connection closed, as before.
async fn discard_small_body(
    req: &actix_web::HttpRequest,
    payload: &mut actix_web::dev::Payload,
    max_body: usize,
) {
    use futures_util::StreamExt;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let Some(declared) = declared.filter(|&n| n <= max_body) else {
        return;
    };
    let read = async {
        let mut seen = 0usize;
        while let Some(Ok(chunk)) = payload.next().await {
            seen += chunk.len();
            if seen > declared {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DISCARD_WITHIN, read).await;
}

/// Guard `GET /metrics` (served by the Prometheus middleware, inside this
/// one): with `metrics.token` set, only a request bearing it; without, only
/// clients on this machine. Request counts per route and the outbox's
/// figures are not for the public.
pub async fn guard_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, Error> {
    if req.path() != "/metrics" {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let settings = req
        .app_data::<actix_web::web::Data<crate::app::AppState>>()
        .map(|s| {
            (
                s.settings.metrics.token.clone(),
                s.settings.server.trusted_proxies.clone(),
            )
        });
    let refused = match settings {
        None => Some(Problem::forbidden("Metrics are not available.")),
        Some((token, _)) if !token.is_empty() => {
            let given = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            match given {
                Some(given) if crate::auth::secret::same_secret(given, &token) => None,
                _ => Some(Problem::unauthorized(
                    "Send the metrics token as Authorization: Bearer <token>.",
                )),
            }
        }
        Some((_, trusted)) => {
            let ip = crate::auth::client_ip(req.request(), &trusted);
            (!ip.is_loopback()).then(|| {
                Problem::forbidden(
                    "Metrics are served to this machine only, or with metrics.token.",
                )
            })
        }
    };
    match refused {
        Some(problem) => Ok(req
            .into_response(problem.error_response())
            .map_into_right_body()),
        None => Ok(next.call(req).await?.map_into_left_body()),
    }
}

/// For `ErrorHandlers::default_handler`: any error response that is not
/// already problem+json (unknown route, wrong method, extractor errors from
/// actix itself) is rewritten into one, keeping its status.
pub fn problemize<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // Problems pass through, and so do the HTML error pages `web` renders
    // for browsers (an unknown status link is a 404 page, not JSON).
    let already_rendered = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON) || v.starts_with("text/html"));
    if already_rendered {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let detail = res
        .response()
        .error()
        .map(|e| e.to_string())
        .filter(|d| !d.is_empty());
    let problem = problem_for(status, detail);
    let (req, old) = res.into_parts();
    let mut new = problem.error_response();
    // Keep headers such as Allow (405) and CORS headers.
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    let new: actix_web::HttpResponse<BoxBody> = new;
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, new).map_into_right_body(),
    ))
}

fn problem_for(status: StatusCode, detail: Option<String>) -> Problem {
    match status {
        StatusCode::NOT_FOUND => Problem::not_found(
            ErrorCode::NotFound,
            detail.unwrap_or_else(|| "No such resource.".into()),
        ),
        StatusCode::METHOD_NOT_ALLOWED => Problem::new(
            status,
            ErrorCode::MethodNotAllowed,
            "Method not allowed",
            "This method is not allowed on this resource; see the Allow header.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            status,
            ErrorCode::PayloadTooLarge,
            "Payload too large",
            detail.unwrap_or_else(|| "The request body is too large.".into()),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Problem::new(
            status,
            ErrorCode::UnsupportedMediaType,
            "Unsupported media type",
            detail.unwrap_or_else(|| "Unsupported content type.".into()),
        ),
        s if s.is_client_error() => Problem::new(
            s,
            ErrorCode::BadRequest,
            "Bad request",
            detail.unwrap_or_else(|| s.canonical_reason().unwrap_or("Bad request").into()),
        ),
        s => {
            // Never echo internal error text to clients; log it instead.
            if let Some(d) = &detail {
                tracing::error!(status = s.as_u16(), error = %d, "server error");
            }
            Problem::new(
                s,
                ErrorCode::Internal,
                "Internal error",
                "An unexpected error occurred.",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use actix_web::{App, HttpResponse, test, web};

    use super::*;

    // `test` here is actix's macro: the standard attribute by its full path.
    #[::core::prelude::v1::test]
    fn request_ids_are_distinct_time_ordered_uuids() {
        let ids: Vec<uuid::Uuid> = (0..1000)
            .map(|_| uuid::Uuid::parse_str(&new_request_id()).unwrap())
            .collect();
        assert!(ids.iter().all(|u| u.get_version_num() == 7));
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let (secs, _) = ids[999].get_timestamp().unwrap().to_unix();
        assert!(now.abs_diff(secs) <= 1, "stamped with the time");
    }

    /// The log lines written while the guard lives, as text.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    async fn logged(level: tracing::Level) -> String {
        let lines = Lines::default();
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = test::init_service(
            App::new()
                .wrap(actix_web::middleware::from_fn(request_id_and_log))
                .route("/r/{token}", web::get().to(HttpResponse::Ok)),
        )
        .await;
        let res = test::call_service(
            &app,
            test::TestRequest::get().uri("/r/secret-token").to_request(),
        )
        .await;
        assert!(res.status().is_success());
        assert!(res.headers().contains_key(REQUEST_ID));
        String::from_utf8(lines.0.lock().unwrap().clone()).unwrap()
    }

    #[actix_web::test]
    async fn the_request_line_names_the_route_never_the_path() {
        let text = logged(tracing::Level::INFO).await;
        assert!(text.contains("route=/r/{token}"), "{text}");
        assert!(text.contains("status=200"), "{text}");
        assert!(!text.contains("secret-token"), "{text}");
        // Filtered out, the line is not written (nor its route looked up).
        assert!(logged(tracing::Level::WARN).await.is_empty());
    }
}
