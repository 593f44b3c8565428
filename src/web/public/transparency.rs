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
use crate::locales::{Catalog, Catalogs};
use crate::web::charts::{self, Series};

#[derive(Deserialize)]
pub struct TransparencyQuery {
    lang: Option<String>,
}

/// How many corrections of the log the page lists below the figures.
const LOG_SIZE: i64 = 30;

/// The public transparency page.
#[utoipa::path(get, path = "/transparency", tag = "pages",
    params(("lang" = Option<String>, Query, description = "A language tag: fr (default), en, es, or any added by a file in ui.reader_locales_dir")),
    responses(
        (status = 200, description = "Corrections figures, the corrections log and the newsroom's JSON-LD", body = String, content_type = "text/html"),
        (status = 404, description = "The page is turned off ([transparency] enabled = false)", body = String, content_type = "text/html"),
    ))]
pub async fn page(
    state: web::Data<AppState>,
    catalogs: web::Data<Catalogs>,
    query: web::Query<TransparencyQuery>,
) -> HttpResponse {
    // `?lang=` resolves like an article's tag; French without one.
    let words = catalogs.resolve(query.lang.as_deref().unwrap_or("fr"));
    build(&state, &catalogs, words)
        .await
        .unwrap_or_else(|p| error_page(&p, Audience::Public))
}

/// A median time in the page's words (`[dates.duration]`): "2 d 3 h",
/// "4 h 5 min", "12 min", "40 s", as the editors' dashboard writes it.
fn duration(words: &Catalog, s: i64) -> String {
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3_600, (s % 3_600) / 60);
    let key = if d > 0 {
        "days"
    } else if h > 0 {
        "hours"
    } else if m > 0 {
        "minutes"
    } else {
        "seconds"
    };
    let (d, h, m, s) = (d.to_string(), h.to_string(), m.to_string(), s.to_string());
    words.fill(
        &format!("dates.duration.{key}"),
        &[("d", &d), ("h", &h), ("m", &m), ("s", &s)],
    )
}

async fn build(
    state: &AppState,
    catalogs: &Catalogs,
    words: &Catalog,
) -> Result<HttpResponse, Problem> {
    let figures = stats::transparency(state).await?;
    let log = corrections_app::page(state, LOG_SIZE, None).await?;
    let entries = super::pages::log_entries(&log.items, words);
    let title = words.text("transparency.chart_title");
    let total: i64 = figures.per_month.iter().map(|m| m.1).sum();
    let series = words.text("transparency.series");
    let chart = charts::columns(
        "chart-months",
        &title,
        &words.fill(
            "transparency.chart_summary",
            &[
                ("title", &title),
                ("total", &total.to_string()),
                ("months", &figures.months.len().to_string()),
            ],
        ),
        &figures.months,
        &[Series {
            name: &series,
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
        .map(|s| duration(words, s));
    let ctx = minijinja::context! {
        lang => words.tag.as_str(),
        t => words.value(),
        others => super::pages::other_languages(catalogs, words, "/transparency"),
        chart => minijinja::Value::from_safe_string(chart),
        // `2026-11` for machines, "November 2026" for readers.
        months => figures.months.iter().map(|m| minijinja::context! {
            key => m,
            name => words.month_year(m),
        }).collect::<Vec<_>>(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_the_dashboard_writes_them() {
        let c = Catalogs::built_in();
        for secs in [40, 12 * 60, 4 * 3600 + 5 * 60, 2 * 86_400 + 3 * 3600] {
            for fr in [true, false] {
                let words = c.get(if fr { "fr" } else { "en" }).unwrap();
                assert_eq!(
                    duration(words, secs),
                    charts::duration(fr, Some(secs)),
                    "{secs}"
                );
            }
        }
        assert_eq!(duration(c.get("es").unwrap(), 90_000), "1 d 1 h");
    }
}
