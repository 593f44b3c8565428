//! `ApiJson<T>`: the JSON body extractor behind every endpoint. It owns the
//! error model for bodies: 415 for a wrong content type, 413 over the limit,
//! 400 with line and column for malformed JSON, and 422 naming the field for
//! JSON of the wrong shape (via serde_path_to_error).

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::{FieldError, Problem};

/// The largest body a route accepts; set per scope or resource with `app_data`.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

pub struct ApiJson<T>(pub T);

fn is_json(req: &HttpRequest) -> bool {
    let Some(ct) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

pub fn too_large(limit: usize) -> Problem {
    Problem::too_large(limit)
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = Problem;
    type Future = LocalBoxFuture<'static, Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<BodyLimit>()
            .map(|l| l.0)
            .unwrap_or(DEFAULT_BODY_LIMIT);
        let json = is_json(req);
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !json {
                return Err(Problem::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "Unsupported media type",
                    "The request body must be JSON (Content-Type: application/json).",
                ));
            }
            if declared.is_some_and(|len| len > limit) {
                return Err(too_large(limit));
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    Problem::new(
                        StatusCode::BAD_REQUEST,
                        "bad_request",
                        "Bad request",
                        e.to_string(),
                    )
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(ApiJson)
        })
    }
}

/// Parse a JSON body, mapping every failure to the error model.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        shape_error(&path, &inner)
    })?;
    de.end().map_err(|e| malformed(&e))?;
    Ok(value)
}

fn malformed(e: &serde_json::Error) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "malformed_json",
        "Malformed JSON",
        format!("The body is not valid JSON: {e}"),
    )
    .with("line", e.line())
    .with("column", e.column())
}

fn shape_error(path: &str, e: &serde_json::Error) -> Problem {
    use serde_json::error::Category;
    if !matches!(e.classify(), Category::Data) {
        return malformed(e);
    }
    // For a missing field serde's message names it and the path names the
    // enclosing object.
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    let prefix = if path == "." {
        String::new()
    } else {
        format!("{path}.")
    };
    let backticked = |m: &str| m.split('`').nth(1).map(str::to_string);
    let (field, code, message) = if msg.starts_with("missing field") {
        let name = backticked(&msg).unwrap_or_default();
        (
            format!("{prefix}{name}"),
            "required",
            "is required".to_string(),
        )
    } else if msg.starts_with("unknown field") {
        // Here the path already ends with the unknown field's name.
        (
            path.to_string(),
            "unknown_field",
            "is not a known field".to_string(),
        )
    } else if msg.starts_with("unknown variant") {
        (path.to_string(), "invalid_value", msg.clone())
    } else if msg.starts_with("invalid type") {
        (path.to_string(), "invalid_type", msg.clone())
    } else {
        (path.to_string(), "invalid_value", msg.clone())
    };
    let field = if field.is_empty() || field == "." {
        "body".to_string()
    } else {
        field
    };
    Problem::validation(vec![FieldError::new(field, code, message)])
}

/// Turn an already parsed JSON value into `T`, naming the field at fault.
pub fn parse_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Problem> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        shape_error(&path, e.inner())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        email: String,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        comment: String,
        reporter: Option<Inner>,
        sources: Option<Vec<String>>,
    }

    fn err(body: &str) -> Problem {
        parse_json::<Body>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn names_the_field_at_fault() {
        let p = err(r#"{"sources": []}"#);
        assert_eq!(p.code, "validation");
        assert_eq!(p.errors[0].field, "comment");
        let p = err(r#"{"comment": "x", "reporter": {"email": 3}}"#);
        assert_eq!(p.errors[0].field, "reporter.email");
        assert_eq!(p.errors[0].code, "invalid_type");
        let p = err(r#"{"comment": "x", "sources": ["a", 2]}"#);
        assert_eq!(p.errors[0].field, "sources[1]");
        let p = err(r#"{"comment": "x", "extra": 1}"#);
        assert_eq!(
            (p.errors[0].field.as_str(), p.errors[0].code),
            ("extra", "unknown_field")
        );
    }

    #[test]
    fn malformed_json_has_line_and_column() {
        let p = err("{\n  \"comment\": ");
        assert_eq!(p.code, "malformed_json");
        assert_eq!(p.extensions["line"], 2);
        let p = err(r#"{"comment": "x"} trailing"#);
        assert_eq!(p.code, "malformed_json");
    }
}
