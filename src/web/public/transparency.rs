//! `/transparency`: what the newsroom publishes about its corrections
//! (counts per month by desk and category, the median time to a
//! correction, the share of reports upheld), the corrections log below, and
//! the newsroom's schema.org `NewsMediaOrganization`. Off unless
//! `[transparency] enabled`; figures only, never a reader's text nor an
//! editor's name.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{Audience, error_page, html, render};
use crate::app::AppState;
use crate::app::corrections as corrections_app;
use crate::app::stats;
use crate::error::Problem;
use crate::web::charts::{self, Series};

#[derive(Deserialize)]
pub struct TransparencyQuery {
    lang: Option<String>,
}

/// How many corrections of the log the page lists below the figures.
const LOG_SIZE: i64 = 30;

/// The public transparency page.
#[utoipa::path(get, path = "/transparency", tag = "pages",
    params(("lang" = Option<String>, Query, description = "fr (default) or en")),
    responses(
        (status = 200, description = "Corrections figures, the corrections log and the newsroom's JSON-LD", body = String, content_type = "text/html"),
        (status = 404, description = "The page is turned off ([transparency] enabled = false)", body = String, content_type = "text/html"),
    ))]
pub async fn page(
    state: web::Data<AppState>,
    query: web::Query<TransparencyQuery>,
) -> HttpResponse {
    let lang = if query.lang.as_deref() == Some("en") {
        "en"
    } else {
        "fr"
    };
    build(&state, lang)
        .await
        .unwrap_or_else(|p| error_page(&p, Audience::Public))
}

async fn build(state: &AppState, lang: &'static str) -> Result<HttpResponse, Problem> {
    let figures = stats::transparency(state).await?;
    let fr = lang == "fr";
    let log = corrections_app::page(state, LOG_SIZE, None).await?;
    let entries = super::pages::log_entries(&log.items, lang);
    let title = if fr {
        "Corrections publiées par mois"
    } else {
        "Corrections published per month"
    };
    let total: i64 = figures.per_month.iter().map(|m| m.1).sum();
    let chart = charts::columns(
        "chart-months",
        title,
        &if fr {
            format!("{title} : {total} sur {} mois", figures.months.len())
        } else {
            format!("{title}: {total} over {} months", figures.months.len())
        },
        &figures.months,
        &[Series {
            name: "Corrections",
            class: "a",
            values: figures.per_month.iter().map(|m| m.1).collect(),
        }],
        2,
    );
    // Tables: one row per desk (or category), one column per month.
    let table = |rows: &[stats::MonthCount]| {
        let mut keys: Vec<Option<String>> = rows.iter().map(|r| r.key.clone()).collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .map(|k| {
                let cells: Vec<i64> = figures
                    .months
                    .iter()
                    .map(|m| {
                        rows.iter()
                            .filter(|r| &r.month == m && r.key == k)
                            .map(|r| r.corrections)
                            .sum()
                    })
                    .collect();
                let total: i64 = cells.iter().sum();
                minijinja::context! { key => k, cells, total }
            })
            .collect::<Vec<_>>()
    };
    let by_desk = table(&figures.by_desk);
    let by_category = table(&figures.by_category);
    let json_ld = crate::domain::text::script_safe_json(&stats::organization_json_ld(state));
    let median = figures
        .time_to_correction
        .median_seconds
        .map(|s| charts::duration(fr, Some(s)));
    let ctx = minijinja::context! {
        lang,
        chart => minijinja::Value::from_safe_string(chart),
        months => figures.months.clone(),
        per_month => figures.per_month.clone(),
        by_desk,
        by_category,
        median,
        median_seconds => figures.time_to_correction.median_seconds,
        corrections_count => figures.time_to_correction.count,
        upheld => figures.reports_upheld,
        decided => figures.reports_decided,
        upheld_share => figures.upheld_share.map(|s| format!("{:.0}", s * 100.0)),
        entries,
        json_ld => minijinja::Value::from_safe_string(json_ld),
    };
    Ok(html(
        StatusCode::OK,
        render("transparency.html", ctx)?,
        Audience::Public,
    ))
}
