//! Readers' reports: submission and the private status link.

use actix_web::http::header::HeaderName;
use actix_web::{HttpRequest, HttpResponse, web};

use super::extract::{ApiJson, parse_value};
use crate::app::AppState;
use crate::app::intake::{self, FileReport, Filed, Idempotency, ReportReceipt, ReportStatus};
use crate::auth::client_ip;
use crate::domain::report::{NewReport, ReportSubmission};
use crate::domain::text::sha256_hex;
use crate::error::{ErrorCode, Problem};
use crate::locales::Catalogs;

const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

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
        (status = 409, description = "`me_too` on a sentence without an open case (`no_open_case`)", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or a quote that does not resolve", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited; see Retry-After", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    catalogs: web::Data<Catalogs>,
    path: web::Path<String>,
    body: ApiJson<serde_json::Value>,
) -> Result<HttpResponse, Problem> {
    let external_id = super::external_id(&path)?;
    let request_hash = sha256_hex(body.0.to_string());
    let report = NewReport::parse(parse_value::<ReportSubmission>(body.0)?)?;
    let idempotency = match req.headers().get(IDEMPOTENCY_KEY) {
        None => None,
        Some(v) => match v.to_str() {
            Ok(k) if !k.trim().is_empty() && k.len() <= 255 => Some(Idempotency {
                key: k.trim().to_string(),
                request_hash,
            }),
            _ => {
                return Err(Problem::field(
                    ErrorCode::InvalidIdempotencyKey,
                    "Invalid idempotency key",
                    "Idempotency-Key",
                    "must be 1 to 255 visible ASCII characters",
                ));
            }
        },
    };
    let input = FileReport {
        external_id,
        report,
        idempotency,
        client_ip: client_ip(&req, &state.settings.server.trusted_proxies),
        catalogs: catalogs.into_inner(),
    };
    let (filed, receipt) = intake::file_report(&state, input).await?;
    Ok(match filed {
        Filed::Created => HttpResponse::Created().json(receipt),
        Filed::Duplicate => HttpResponse::Ok().json(receipt),
    })
}

/// A report's status, through its private link's token.
#[utoipa::path(get, path = "/api/v1/reports/status/{token}", tag = "reports",
    params(("token" = String, Path, description = "The token from the status link")),
    responses(
        (status = 200, description = "The report's status", body = ReportStatus),
        (status = 404, description = "Unknown token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "Too many lookups from this address (intake.rate_limit.status_per_ip_per_minute); see Retry-After", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn status(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let ip = client_ip(&req, &state.settings.server.trusted_proxies);
    let status = intake::status_for(&state, ip, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(status))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailLinkForm {
    /// Where to send the status link (this one email; it subscribes to
    /// nothing).
    #[schema(min_length = 1, max_length = 254)]
    pub email: String,
}

/// "Email me this link": queue an email with a link to this report's status
/// page (a new link of its own; the one in the path is never stored). At
/// most 3 per report a day; counted with the status lookups.
#[utoipa::path(post, path = "/api/v1/reports/status/{token}/email", tag = "reports",
    params(("token" = String, Path, description = "The token from the status link")),
    request_body = EmailLinkForm,
    responses(
        (status = 202, description = "The email is queued"),
        (status = 400, description = "Malformed JSON", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Unknown token", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A malformed address", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "Too many lookups from this address, or emails for this report today; see Retry-After", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn email_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ApiJson<EmailLinkForm>,
) -> Result<HttpResponse, Problem> {
    let ip = client_ip(&req, &state.settings.server.trusted_proxies);
    crate::app::status_link::email_status_link(&state, ip, path.into_inner(), body.0.email).await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}
