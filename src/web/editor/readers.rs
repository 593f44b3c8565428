//! The case page's reader buttons: trust, block, or back to ordinary
//! (the same use case as `POST /api/v1/reports/{id}/reader`).

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::flash;
use super::page;
use super::session::Posted;
use crate::app::AppState;
use crate::app::readers;
use crate::domain::reader::Standing;
use crate::error::Problem;

#[derive(Debug, Deserialize)]
pub struct StandingForm {
    standing: String,
    /// The case page the buttons were on.
    return_to: Option<String>,
}

/// POST /editor/reports/{id}/reader
pub async fn set(
    state: web::Data<AppState>,
    path: web::Path<String>,
    posted: Posted<StandingForm>,
) -> Result<HttpResponse, Problem> {
    let Posted { editor, form } = posted;
    let id = readers::report_id(&path)?;
    let standing = Standing::from_field(form.standing.trim())?;
    readers::set_standing(&state, editor.actor().clone(), id.clone(), standing).await?;
    let word = match standing {
        Some(Standing::Trusted) => "reader_trusted",
        Some(Standing::Blocked) => "reader_blocked",
        None => "reader_cleared",
    };
    let back = format!("{}#r-{id}", flash::safe_return(form.return_to.as_deref()));
    Ok(page::see_other(&flash::with(&back, &[("done", word)])))
}
