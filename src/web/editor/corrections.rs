//! The published corrections, newest first, as readers see them.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::{Value, context};

use super::page;
use super::session::Editor;
use crate::app::AppState;
use crate::app::corrections::{self, PageQuery, decode_cursor};
use crate::error::{FieldError, Problem};

const PAGE: i64 = 50;

/// GET /editor/corrections
pub async fn list(
    Editor(editor): Editor,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Problem> {
    let after = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(decode_cursor(c).ok_or_else(|| {
            Problem::validation(vec![FieldError::new(
                "cursor",
                "invalid_cursor",
                "is not a cursor from this list",
            )])
        })?),
    };
    let paged = after.is_some();
    let listed = corrections::page(&state, PAGE, after).await?;
    // Each entry links to the sentence it corrects with a text fragment, as
    // the public log does.
    let items: Vec<serde_json::Value> = listed
        .items
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap_or_default();
            v["sentence_url"] =
                crate::domain::fragment::link(&c.article.url, &c.sentence_before, None, None)
                    .into();
            v
        })
        .collect();
    let next = listed
        .next_cursor
        .map(|c| format!("/editor/corrections?cursor={c}"));
    let ctx = context! {
        items => Value::from_serialize(&items),
        next,
        paged,
        ..page::base(&editor, "corrections"),
    };
    page::render(StatusCode::OK, "corrections.html", ctx)
}
