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
    let items = listed.items;
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
