//! The error model: every error leaves as `application/problem+json` (RFC 9457)
//! with a stable `type` URI per kind (`urn:erratum:problem:<code>`), a human
//! `detail`, and, for validation errors, the list of fields at fault.
//!
//! Handlers return `Result<_, Problem>`; `ErrorHandlers` in `startup` turns any
//! other error response actix produces (404, 405, …) into the same shape.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;

mod code;
pub use code::ErrorCode;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One field at fault in a validation error.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// Path of the field, e.g. `comment`, `sources[2]`, `reporter.email`.
    pub field: String,
    /// Stable machine code, e.g. `required`, `too_long`, `invalid_url`.
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem. `code` is the stable part clients match on.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub extensions: serde_json::Map<String, serde_json::Value>,
    pub retry_after: Option<u64>,
}

/// The JSON body, as documented in the OpenAPI description.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemBody {
    /// Stable URI identifying the kind of problem, e.g. `urn:erratum:problem:validation`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The stable code alone (the last part of `type`).
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        code: ErrorCode,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            status,
            code,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            extensions: Default::default(),
            retry_after: None,
        }
    }

    pub fn type_uri(&self) -> String {
        format!("urn:erratum:problem:{}", self.code.as_str())
    }

    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        if let Ok(v) = serde_json::to_value(value) {
            self.extensions.insert(key.to_string(), v);
        }
        self
    }

    /// 422 with the fields at fault.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => format!("{} fields are invalid", errors.len()),
        };
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Validation,
            "Invalid request",
            detail,
        );
        p.errors = errors;
        p
    }

    /// 422 for one field, with its own stable code as the problem type, for
    /// errors a client is expected to handle specifically (quote not found, …).
    pub fn field(
        code: ErrorCode,
        title: &'static str,
        field: &str,
        message: impl Into<String>,
    ) -> Self {
        let message = message.into();
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            title,
            format!("{field}: {message}"),
        );
        p.errors = vec![FieldError::new(field, code.as_str(), message)];
        p
    }

    pub fn not_found(code: ErrorCode, detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, code, "Not found", detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "Authentication required",
            detail,
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "Forbidden",
            detail,
        )
    }

    /// 413: a request body over `limit` bytes.
    pub fn too_large(limit: usize) -> Self {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            "Payload too large",
            format!("The request body must be at most {limit} bytes."),
        )
        .with("limit_bytes", limit)
    }

    pub fn conflict(code: ErrorCode, detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::CONFLICT, code, "Conflict", detail)
    }

    pub fn rate_limited(detail: impl Into<String>, retry_after_secs: u64) -> Self {
        let mut p = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            "Too many requests",
            detail,
        );
        p.retry_after = Some(retry_after_secs.max(1));
        p.with("retry_after", retry_after_secs.max(1))
    }

    /// The database could not be reached or answered with an error that is not
    /// the client's fault: 503 so clients retry (with the same Idempotency-Key).
    pub fn unavailable(detail: impl Into<String>) -> Self {
        let mut p = Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "Service unavailable",
            detail,
        );
        p.retry_after = Some(5);
        p
    }

    /// A bug. Logged with its cause; the client sees no internals.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "Internal error",
            "An unexpected error occurred.",
        )
    }

    pub fn body(&self) -> serde_json::Value {
        let body = ProblemBody {
            type_: self.type_uri(),
            title: self.title.to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.as_str().to_string(),
            errors: self.errors.clone(),
        };
        let mut value = serde_json::to_value(body).unwrap_or_default();
        if let Some(obj) = value.as_object_mut() {
            for (k, v) in &self.extensions {
                obj.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        value
    }
}

/// The body as sent: `ProblemBody`'s fields borrowed, the extensions
/// beside them (never over them), written straight to a string. Building a
/// `serde_json::Value` first, then printing it, was a tenth of the cost of
/// refusing a flood's request.
#[derive(Serialize)]
struct ProblemWire<'a> {
    #[serde(rename = "type")]
    type_: &'a str,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [FieldError],
    #[serde(flatten)]
    extensions: Extensions<'a>,
}

/// The extensions, less any that would repeat a standard member.
struct Extensions<'a>(&'a serde_json::Map<String, serde_json::Value>);

impl Serialize for Extensions<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        const STANDARD: [&str; 6] = ["type", "title", "status", "detail", "code", "errors"];
        let mut map = s.serialize_map(None)?;
        for (k, v) in self
            .0
            .iter()
            .filter(|(k, _)| !STANDARD.contains(&k.as_str()))
        {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Problem {
    /// The JSON body as sent (`body` as a value).
    pub fn wire(&self) -> String {
        let type_ = self.type_uri();
        let wire = ProblemWire {
            type_: &type_,
            title: self.title,
            status: self.status.as_u16(),
            detail: &self.detail,
            code: self.code.as_str(),
            errors: &self.errors,
            extensions: Extensions(&self.extensions),
        };
        serde_json::to_string(&wire).unwrap_or_else(|_| self.body().to_string())
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code,
            self.status.as_u16(),
            self.detail
        )
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        resp.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if let Some(secs) = self.retry_after {
            resp.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        resp.body(self.wire())
    }
}

impl From<diesel::result::Error> for Problem {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::Error;
        match &err {
            Error::NotFound => {
                Problem::not_found(ErrorCode::NotFound, "The resource does not exist.")
            }
            // Connection-level trouble (restart, shutdown, read-only,
            // serialisation, SQLite busy): the client retries, never a 500.
            e if crate::db::is_unavailable(e) => {
                tracing::warn!(error = %err, "database unavailable");
                Problem::unavailable("The database is temporarily unavailable; please retry.")
            }
            _ => Problem::internal(err),
        }
    }
}

impl From<crate::db::DbError> for Problem {
    fn from(err: crate::db::DbError) -> Self {
        use crate::db::DbError;
        match err {
            DbError::Query(e) => e.into(),
            DbError::Pool(e) => e.into(),
            DbError::Unavailable(detail) => Problem::unavailable(detail),
        }
    }
}

impl From<diesel::r2d2::PoolError> for Problem {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %err, "no database connection");
        Problem::unavailable("The database is temporarily unavailable; please retry.")
    }
}

impl From<actix_web::error::BlockingError> for Problem {
    fn from(err: actix_web::error::BlockingError) -> Self {
        Problem::internal(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_sent_is_the_documented_body() {
        let plain =
            Problem::validation(vec![FieldError::new("comment", "too_long", "Too long <b>")]);
        // An extension never replaces a standard member.
        let extended = Problem::validation(Vec::new())
            .with("limit", 2000)
            .with("status", "overridden")
            .with("note", "\"quoted\" é");
        for p in [plain, extended] {
            let sent: serde_json::Value = serde_json::from_str(&p.wire()).unwrap();
            assert_eq!(sent, p.body());
        }
    }
}
