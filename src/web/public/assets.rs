//! The widget's files and the pages' stylesheets, compiled into the binary and
//! served with a content-hash ETag, so browsers revalidate cheaply (304) and a
//! new release is picked up within the cache lifetime.

use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use crate::domain::text::sha256_hex;
use crate::error::{ErrorCode, Problem};

/// How long browsers and CDNs may use a copy without asking. Short enough that
/// a fixed widget reaches every newsroom page within the hour; the ETag makes
/// the revalidation after that a bodiless 304.
pub(crate) const CACHE_CONTROL: &str = "public, max-age=3600";

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every embedded file: the URL path it is served at, its type and content.
pub(crate) const FILES: &[(&str, &str, &str)] = &[
    ("/widget.js", JS, include_str!("static/widget.js")),
    ("/widget.css", CSS, include_str!("static/widget.css")),
    ("/static/demo.css", CSS, include_str!("static/demo.css")),
    ("/static/status.css", CSS, include_str!("static/status.css")),
    ("/static/status.js", JS, include_str!("static/status.js")),
    (
        "/static/hostile.css",
        CSS,
        include_str!("static/hostile.css"),
    ),
];

pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
    /// The body compressed once at gzip's best level: the widget is loaded
    /// on every article page, so its bytes on the wire matter more than
    /// the milliseconds at start (the Compress middleware's fast level
    /// sends about a third more).
    pub gzipped: Vec<u8>,
    /// Weak: the same entity may leave gzip-compressed or not.
    pub etag: String,
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(path, content_type, body)| Asset::new(path, content_type, body))
        .collect()
});

pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// Whether `If-None-Match` names this ETag (weak comparison, as for GET).
fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || bare(t) == bare(etag))
}

/// Answer one embedded file (GET and HEAD).
pub async fn serve(req: HttpRequest) -> Result<HttpResponse, Problem> {
    let asset =
        find(req.path()).ok_or_else(|| Problem::not_found(ErrorCode::NotFound, "No such file."))?;
    Ok(respond(&req, asset, CACHE_CONTROL))
}

/// An embedded file with its ETag: 304 when the client has it, the body
/// otherwise. Shared with the editors' pages, which cache differently.
pub fn respond(
    req: &HttpRequest,
    asset: &'static Asset,
    cache_control: &'static str,
) -> HttpResponse {
    let fresh = not_modified(req, &asset.etag);
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, asset.etag.as_str()))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // Lets a newsroom load the widget with `crossorigin` and Subresource
        // Integrity; the files are public and carry no credentials.
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"));
    if fresh {
        return res.finish();
    }
    res.insert_header((
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    ))
    .insert_header((header::VARY, "Accept-Encoding"));
    if accepts_gzip(req) {
        // Already encoded: the Compress middleware leaves it as it is.
        res.insert_header((header::CONTENT_ENCODING, "gzip"));
        // Assets live in statics: the bytes are borrowed, not copied per request.
        return res.body(asset.gzipped.as_slice());
    }
    res.body(asset.body)
}

/// Whether `Accept-Encoding` allows gzip (`gzip;q=0` refuses it).
fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

fn gzip_best(body: &str) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(body.as_bytes())
        .and_then(|_| enc.finish())
        .expect("gzip into memory cannot fail")
}

impl Asset {
    /// An embedded file and its content-hash ETag.
    pub fn new(path: &'static str, content_type: &'static str, body: &'static str) -> Asset {
        Asset {
            path,
            content_type,
            body,
            gzipped: gzip_best(body),
            etag: format!("W/\"{}\"", &sha256_hex(body)[..20]),
        }
    }
}
