//! The pages' stylesheet and script, compiled into the binary and served
//! under /editor/static/ with a content-hash ETag: browsers revalidate on
//! every page (a new release is picked up at once) and get a bodiless 304.

use std::sync::LazyLock;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::{ErrorCode, Problem};
use crate::web::public::assets::{Asset, respond};

const FILES: &[(&str, &str, &str)] = &[
    (
        "editor.css",
        "text/css; charset=utf-8",
        include_str!("static/editor.css"),
    ),
    (
        "editor.js",
        "text/javascript; charset=utf-8",
        include_str!("static/editor.js"),
    ),
    (
        "cases.js",
        "text/javascript; charset=utf-8",
        include_str!("static/cases.js"),
    ),
    (
        "live.js",
        "text/javascript; charset=utf-8",
        include_str!("static/live.js"),
    ),
];

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(name, content_type, body)| Asset::new(name, content_type, body))
        .collect()
});

/// The URL of a file with its version, so a page never gets a stale copy.
pub fn url(name: &str) -> String {
    let v = ASSETS
        .iter()
        .find(|a| a.path == name)
        .map(|a| &a.etag[3..11])
        .unwrap_or("0");
    format!("/editor/static/{name}?v={v}")
}

/// GET /editor/static/{file}: revalidated on every page load (`no-cache`),
/// so a new release is picked up at once, with a bodiless 304 otherwise.
pub async fn serve(req: HttpRequest, file: web::Path<String>) -> Result<HttpResponse, Problem> {
    let asset = ASSETS
        .iter()
        .find(|a| a.path == file.as_str())
        .ok_or_else(|| Problem::not_found(ErrorCode::NotFound, "No such file."))?;
    Ok(respond(&req, asset, "no-cache"))
}
