//! The editors' dashboard: the figures of `app::stats` for a period and a
//! desk, as server-drawn SVG charts each followed by its data table, with
//! CSV downloads (the API's `/api/v1/stats.csv`, which accepts the session).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};

use super::i18n::{self, Lang};
use super::page;
use super::session::Editor;
use crate::app::AppState;
use crate::app::stats::{self, Stats, StatsQuery};
use crate::error::{FieldError, Problem};
use crate::web::charts::{self, Series};

/// A duration in the editor's language.
pub fn duration(lang: Lang, seconds: Option<i64>) -> String {
    charts::duration(lang.as_str() == "fr", seconds)
}

fn share(v: Option<f64>) -> String {
    v.map(|v| format!("{:.0} %", v * 100.0))
        .unwrap_or_else(|| "–".to_string())
}

/// The query string of this page and the CSV links, without `table`.
fn query_string(s: &Stats, preset: Option<i64>) -> String {
    let mut u = url::Url::parse("http://x/").expect("a valid URL");
    {
        let mut q = u.query_pairs_mut();
        match preset {
            Some(p) => {
                q.append_pair("period", &p.to_string());
            }
            None => {
                q.append_pair("from", &s.period.from.to_string());
                q.append_pair("to", &s.period.to.to_string());
            }
        }
        if let Some(d) = &s.period.desk {
            q.append_pair("desk", d);
        }
    }
    u.query().unwrap_or_default().to_string()
}

/// GET /editor/dashboard
pub async fn page(
    Editor(editor): Editor,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let query = web::Query::<StatsQuery>::from_query(req.query_string())
        .map_err(|e| {
            Problem::validation(vec![FieldError::new(
                "query",
                "invalid_query",
                e.to_string(),
            )])
        })?
        .into_inner();
    let custom = query.from.as_deref().is_some_and(|f| !f.trim().is_empty());
    let s = stats::dashboard(&state, editor.actor().clone(), &query).await?;
    let lang = page::lang_of(&editor);
    let t = |k: &str| i18n::text(lang, k);
    let preset = if custom { None } else { Some(s.period.days) };
    let qs = query_string(&s, preset);

    let days: Vec<String> = s.daily.iter().map(|d| d.day.to_string()).collect();
    let every = match days.len() {
        0..=10 => 1,
        11..=35 => 7,
        _ => 14,
    };
    let (reports_name, cases_name) = (t("dashboard.reports"), t("dashboard.cases"));
    let daily_svg = charts::columns(
        "chart-daily",
        &t("dashboard.daily_title"),
        &format!(
            "{}: {} {}, {} {}",
            t("dashboard.daily_title"),
            s.total_reports,
            reports_name,
            s.total_cases,
            cases_name
        ),
        &days,
        &[
            Series {
                name: &reports_name,
                class: "a",
                values: s.daily.iter().map(|d| d.reports).collect(),
            },
            Series {
                name: &cases_name,
                class: "b",
                values: s.daily.iter().map(|d| d.cases).collect(),
            },
        ],
        every,
    );
    let decision_rows: Vec<(String, i64)> = s
        .decisions
        .iter()
        .map(|d| (t(&format!("resolution.{}", d.resolution.as_str())), d.cases))
        .collect();
    let decided: i64 = s.decisions.iter().map(|d| d.cases).sum();
    let decisions_svg = charts::bars(
        "chart-decisions",
        &t("dashboard.decisions_title"),
        &format!("{}: {decided}", t("dashboard.decisions_title")),
        &decision_rows,
    );
    let backlog_rows: Vec<(String, i64)> = s
        .backlog
        .iter()
        .map(|b| (t(&format!("dashboard.ages.{}", b.age)), b.cases))
        .collect();
    let open: i64 = s.backlog.iter().map(|b| b.cases).sum();
    let backlog_svg = charts::bars(
        "chart-backlog",
        &t("dashboard.backlog_title"),
        &format!("{}: {open}", t("dashboard.backlog_title")),
        &backlog_rows,
    );
    let category_rows: Vec<(String, i64)> = s
        .categories
        .iter()
        .map(|c| (t(&format!("category.{}", c.category.as_str())), c.reports))
        .collect();
    let categories_svg = charts::bars(
        "chart-categories",
        &t("dashboard.categories_title"),
        &format!("{}: {}", t("dashboard.categories_title"), s.total_reports),
        &category_rows,
    );
    let article_rows: Vec<(String, i64)> = s
        .busiest_articles
        .iter()
        .map(|a| (a.title.clone(), a.reports))
        .collect();
    let articles_svg = (!article_rows.is_empty()).then(|| {
        charts::bars(
            "chart-articles",
            &t("dashboard.articles_title"),
            &t("dashboard.articles_title"),
            &article_rows,
        )
    });
    let times = [
        ("time_to_decision", &s.time_to_decision),
        ("time_to_correction", &s.time_to_correction),
    ]
    .iter()
    .map(|(key, v)| {
        context! {
            key => *key,
            count => v.count,
            median => duration(lang, v.median_seconds),
            median_seconds => v.median_seconds,
            p90 => duration(lang, v.p90_seconds),
            p90_seconds => v.p90_seconds,
        }
    })
    .collect::<Vec<_>>();
    let tables = stats::TABLES
        .iter()
        .map(|name| {
            context! {
                name => *name,
                href => format!("/api/v1/stats.csv?table={name}&{qs}"),
            }
        })
        .collect::<Vec<_>>();
    let articles = s
        .busiest_articles
        .iter()
        .map(|a| {
            let id: String =
                url::form_urlencoded::byte_serialize(a.external_id.as_bytes()).collect();
            context! {
                title => a.title.clone(),
                reports => a.reports,
                cases => a.cases,
                href => format!("/editor/?article={id}&status=all"),
            }
        })
        .collect::<Vec<_>>();
    let ctx = context! {
        articles,
        s => Value::from_serialize(&s),
        periods => stats::PERIODS.to_vec(),
        preset,
        custom,
        times,
        on_time_share => share(s.on_time.share),
        decided,
        open,
        tables,
        daily_svg => Value::from_safe_string(daily_svg),
        decisions_svg => Value::from_safe_string(decisions_svg),
        backlog_svg => Value::from_safe_string(backlog_svg),
        categories_svg => Value::from_safe_string(categories_svg),
        articles_svg => articles_svg.map(Value::from_safe_string),
        ..page::base(&editor, "dashboard"),
    };
    page::render(StatusCode::OK, "dashboard.html", ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        let en = Lang::parse("en").unwrap();
        assert_eq!(duration(en, None), "–");
        assert_eq!(duration(en, Some(40)), "40 s");
        assert_eq!(duration(en, Some(720)), "12 min");
        assert_eq!(duration(en, Some(5 * 3600 + 1200)), "5 h 20 min");
        assert_eq!(duration(en, Some(3 * 86_400 + 4 * 3600 + 59)), "3 d 4 h");
    }
}
