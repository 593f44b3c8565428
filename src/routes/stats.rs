//! `GET /api/v1/stats` and `GET /api/v1/stats.csv`: the editors'
//! dashboard's figures as JSON and as CSV tables.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::app::AppState;
use crate::app::stats::{self, Stats, StatsQuery};
use crate::auth::CurrentEditor;
use crate::error::Problem;

#[utoipa::path(get, path = "/api/v1/stats", tag = "stats", params(StatsQuery),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "Every figure of the dashboard for the period and desk", body = Stats),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid period, dates or desk", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "The read spent `database.read_budget_ms` and was cancelled (`read_over_budget`); see Retry-After", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn get(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    query: web::Query<StatsQuery>,
) -> Result<HttpResponse, Problem> {
    let s = stats::dashboard(&state, editor.actor().clone(), &query).await?;
    Ok(HttpResponse::Ok().json(s))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CsvQuery {
    /// `daily` (default), `decisions`, `times`, `on_time`, `backlog`,
    /// `articles` or `categories`.
    pub table: Option<String>,
    /// As for `/api/v1/stats`.
    #[param(value_type = Option<u32>)]
    pub period: Option<String>,
    /// As for `/api/v1/stats`.
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// As for `/api/v1/stats`.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// As for `/api/v1/stats`.
    pub desk: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/stats.csv", tag = "stats", params(CsvQuery),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "One table of the dashboard as CSV, with a header row", content_type = "text/csv", body = String),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid table, period, dates or desk", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn csv(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    query: web::Query<CsvQuery>,
) -> Result<HttpResponse, Problem> {
    let table = stats::parse_table(query.table.as_deref())?;
    let q = query.into_inner();
    let asked = StatsQuery {
        period: q.period,
        from: q.from,
        to: q.to,
        desk: q.desk,
    };
    let s = stats::dashboard(&state, editor.actor().clone(), &asked).await?;
    let body = stats::csv(&s, table).unwrap_or_default();
    let name = format!("erratum-{table}-{}-{}.csv", s.period.from, s.period.to);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body))
}
