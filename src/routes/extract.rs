//! `ApiJson<T>`: the JSON body extractor behind every endpoint. It owns the
//! error model for bodies: 415 for a wrong content type, 413 over the limit,
//! 400 with line and column for malformed JSON, and 422 naming the field for
//! JSON of the wrong shape (via serde_path_to_error).
//!
//! It is also the boundary every text crosses on its way in: no string in a
//! JSON body, a form (`refuse_controls_in_form`, called by the editors'
//! form reader) or a path or query (`refuse_controls_in_url`, middleware)
//! may hold a control character other than tab, LF and CR (none at all in a
//! path or query): 422 `validation` naming the field, code
//! `control_character`, on both backends alike.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::{ErrorCode, FieldError, Problem};

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

/// Bodies larger than this are parsed on the blocking pool: a megabyte of
/// JSON must not hold an HTTP worker (and the health checks behind it).
const PARSE_INLINE_MAX: usize = 64 * 1024;

impl<T: DeserializeOwned + Send + 'static> FromRequest for ApiJson<T> {
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
                    ErrorCode::UnsupportedMediaType,
                    "Unsupported media type",
                    "The request body must be JSON (Content-Type: application/json).",
                ));
            }
            if declared.is_some_and(|len| len > limit) {
                return Err(Problem::too_large(limit));
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    Problem::new(
                        StatusCode::BAD_REQUEST,
                        ErrorCode::BadRequest,
                        "Bad request",
                        e.to_string(),
                    )
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(Problem::too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            if body.len() > PARSE_INLINE_MAX {
                let body = body.freeze();
                return actix_web::web::block(move || parse_json(&body))
                    .await?
                    .map(ApiJson);
            }
            parse_json(&body).map(ApiJson)
        })
    }
}

/// Parse a JSON body, mapping every failure to the error model.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    if may_hold_control(body) {
        // Rare: find the string at fault by its path.
        let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
        let mut path = String::new();
        if let Some(field) = control_in_value(&value, &mut path) {
            return Err(control_character(field));
        }
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        shape_error(&path, &inner)
    })?;
    de.end().map_err(|e| malformed(&e))?;
    Ok(value)
}

/// Whether a JSON text may decode to a string with a control character. Raw
/// C0 bytes are invalid JSON already; the rest come as `\u` escapes, as DEL,
/// or as C1 characters (UTF-8 `C2 80`–`C2 9F`). A cheap scan keeps the
/// common body to one parse.
fn may_hold_control(body: &[u8]) -> bool {
    body.windows(2)
        .any(|w| w == b"\\u" || w[0] == 0x7F || (w[0] == 0xC2 && (0x80..=0x9F).contains(&w[1])))
        || body.last() == Some(&0x7F)
}

/// The path of the first key or string holding a forbidden control.
fn control_in_value(value: &serde_json::Value, path: &mut String) -> Option<String> {
    use crate::domain::text::has_forbidden_control;
    use serde_json::Value;
    let here = |path: &String| {
        if path.is_empty() {
            "body".to_string()
        } else {
            path.clone()
        }
    };
    match value {
        Value::String(s) if has_forbidden_control(s, true) => Some(here(path)),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = control_in_value(v, path);
            path.truncate(len);
            found
        }),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(k);
            let found = if has_forbidden_control(k, false) {
                Some(here(path))
            } else {
                control_in_value(v, path)
            };
            path.truncate(len);
            found
        }),
        _ => None,
    }
}

pub use crate::domain::text::{control_character, refuse_controls_in_form};

/// Decode `%XX` escapes, for checking (never for routing).
fn percent_decoded(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The path and query boundary: no control character at all (no id, token
/// or filter holds one). The query parameter at fault is named; a path is
/// `path`.
pub fn control_in_url(path: &str, query: &str) -> Option<String> {
    use crate::domain::text::has_forbidden_control;
    if has_forbidden_control(&percent_decoded(path), false) {
        return Some("path".into());
    }
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, v)| has_forbidden_control(k, false) || has_forbidden_control(v, false))
        .map(|(k, _)| {
            if has_forbidden_control(&k, false) {
                "query".to_string()
            } else {
                k.into_owned()
            }
        })
}

/// Middleware: refuse a request whose path or query holds a control
/// character, before any extractor or handler sees it.
pub async fn refuse_controls_in_url(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    if let Some(field) = control_in_url(req.path(), req.query_string()) {
        let (req, _) = req.into_parts();
        let res = actix_web::ResponseError::error_response(&control_character(field));
        return Ok(actix_web::dev::ServiceResponse::new(req, res));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

fn malformed(e: &serde_json::Error) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        ErrorCode::MalformedJson,
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
        assert_eq!(p.code, crate::error::ErrorCode::Validation);
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
    fn control_characters_are_refused_by_field() {
        for (body, field) in [
            (r#"{"comment": "a\u0000b"}"#, "comment"),
            (
                r#"{"comment": "x", "sources": ["ok", "\u001b[2J"]}"#,
                "sources[1]",
            ),
            (
                r#"{"comment": "x", "reporter": {"email": "a\u007f@b.c"}}"#,
                "reporter.email",
            ),
            ("{\"comment\": \"a\u{85}b\"}", "comment"),
            ("{\"comment\": \"a\u{7f}\"}", "comment"),
        ] {
            let p = err(body);
            assert_eq!(p.errors[0].field, field, "{body}");
            assert_eq!(p.errors[0].code, "control_character", "{body}");
        }
        // Newlines and tabs, escaped or not, and other escapes pass.
        assert!(parse_json::<Body>(br#"{"comment": "a\nb\tc \u00e9"}"#).is_ok());
        // An escaped backslash before "u" is text, not an escape.
        assert!(parse_json::<Body>(br#"{"comment": "C:\\u0000"}"#).is_ok());
    }

    #[test]
    fn control_characters_in_forms_and_urls() {
        assert!(refuse_controls_in_form(b"email=a%00b&password=x").is_err());
        assert!(refuse_controls_in_form(b"note=a%0D%0Ab").is_ok());
        assert_eq!(
            control_in_url("/api/v1/queue", "desk=a%00&limit=2"),
            Some("desk".into())
        );
        assert_eq!(
            control_in_url("/api/v1/editors/a%07b", ""),
            Some("path".into())
        );
        assert_eq!(
            control_in_url("/editor/login", "next=%2Feditor%2F%0D%0A"),
            Some("next".into())
        );
        assert_eq!(
            control_in_url("/api/v1/articles/x", "q=%C3%A9t%C3%A9+ok"),
            None
        );
    }

    #[test]
    fn malformed_json_has_line_and_column() {
        let p = err("{\n  \"comment\": ");
        assert_eq!(p.code, crate::error::ErrorCode::MalformedJson);
        assert_eq!(p.extensions["line"], 2);
        let p = err(r#"{"comment": "x"} trailing"#);
        assert_eq!(p.code, crate::error::ErrorCode::MalformedJson);
    }
}
