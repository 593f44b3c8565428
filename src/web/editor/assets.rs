//! The pages' stylesheet and script, compiled into the binary and served
//! under /editor/static/ with a content-hash ETag: browsers revalidate on
//! every page (a new release is picked up at once) and get a bodiless 304.

use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::domain::text::sha256_hex;
use crate::error::Problem;

const FILES: &[(&str, &str, &str)] = &[
    (
        "editor.css",
        "text/css; charset=utf-8",
        include_str!("../static/editor.css"),
    ),
    (
        "editor.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/editor.js"),
    ),
];

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
    etag: String,
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(name, content_type, body)| Asset {
            name,
            content_type,
            body,
            etag: format!("\"{}\"", &sha256_hex(body)[..20]),
        })
        .collect()
});

/// The URL of a file with its version, so a page never gets a stale copy.
pub fn url(name: &str) -> String {
    let v = ASSETS
        .iter()
        .find(|a| a.name == name)
        .map(|a| &a.etag[1..9])
        .unwrap_or("0");
    format!("/editor/static/{name}?v={v}")
}

/// GET /editor/static/{file}
pub async fn serve(req: HttpRequest, file: web::Path<String>) -> Result<HttpResponse, Problem> {
    let asset = ASSETS
        .iter()
        .find(|a| a.name == file.as_str())
        .ok_or_else(|| Problem::not_found("not_found", "No such file."))?;
    let fresh = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().trim_start_matches("W/") == asset.etag);
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, asset.etag.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    if fresh {
        return Ok(res.finish());
    }
    res.insert_header((
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    ));
    Ok(res.body(asset.body))
}
