//! The signed-in editor's own time zone (account settings): every time in
//! their pages and emails is shown in it; empty follows `[ui] time_zone`.

use actix_web::HttpResponse;
use actix_web::web;
use minijinja::{Value, context};
use serde::Deserialize;

use super::flash;
use super::page;
use super::session::Posted;
use crate::app::AppState;
use crate::app::accounts;
use crate::error::Problem;

/// What the time zone field needs besides its value: the names it proposes
/// and the installation's zone (the placeholder).
pub fn field_context(state: &AppState, zone: Option<&str>) -> Value {
    context! {
        zone,
        zones => chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect::<Vec<_>>(),
        default_zone => state.settings.ui.time_zone().name(),
    }
}

#[derive(Deserialize)]
pub struct TimeZoneForm {
    #[serde(default)]
    time_zone: String,
}

/// POST /editor/settings/time-zone
pub async fn save(
    state: web::Data<AppState>,
    posted: Posted<TimeZoneForm>,
) -> Result<HttpResponse, Problem> {
    let Posted { editor, form } = posted;
    let back = super::account::PATH;
    let zone = match accounts::parse_time_zone(&form.time_zone) {
        Ok(z) => z,
        Err(_) => {
            return Ok(page::see_other(&flash::with(
                back,
                &[("err", "invalid_time_zone")],
            )));
        }
    };
    accounts::set_time_zone(&state, editor.actor(), zone).await?;
    Ok(page::see_other(&flash::with(
        back,
        &[("done", "time_zone_saved")],
    )))
}
