//! Figures about the newsroom's work: the editors' dashboard (and its JSON
//! and CSV), the public transparency page, and the Prometheus gauges on
//! open cases.
//!
//! Counts are grouped in SQL (`db::stats`, index range scans over the
//! period). Medians and 90th percentiles are nearest-rank values (no
//! interpolation, so each figure is one real case's time) picked from the
//! period's times, which SQL reads through the same indexes.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::db::stats::{self as store, Scope};
use crate::db::{DbConn, now};
use crate::domain::actor::Actor;
use crate::domain::report::Category;
use crate::domain::text::clean;
use crate::domain::workflow::{Resolution, Status};
use crate::error::{ErrorCode, FieldError, Problem};

/// The periods the dashboard offers, in days.
pub const PERIODS: [i64; 3] = [7, 30, 90];
const DEFAULT_PERIOD: i64 = 30;
/// The longest span of dates one request may ask for.
pub const MAX_DAYS: i64 = 366;
/// How many of the busiest articles are listed.
pub const BUSIEST: usize = 10;

/// The age buckets of the open backlog: under each bound, then older.
pub const BACKLOG_AGES: [(&str, i64); 4] = [
    ("under_1_day", 1),
    ("1_to_3_days", 3),
    ("3_to_7_days", 7),
    ("7_to_30_days", 30),
];
pub const BACKLOG_OLDEST: &str = "over_30_days";

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// The last 7, 30 or 90 days up to today (UTC), default 30; ignored
    /// when `from` and `to` are given.
    #[param(value_type = Option<u32>)]
    pub period: Option<String>,
    /// First day, `YYYY-MM-DD` (UTC), with `to`.
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Last day included, `YYYY-MM-DD` (UTC), with `from`; at most 366 days
    /// after it.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// Only cases of this desk.
    pub desk: Option<String>,
}

/// The question, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    /// Last day included.
    pub to: NaiveDate,
    /// One of `PERIODS` when asked by length.
    pub preset: Option<i64>,
    pub desk: Option<String>,
}

impl Period {
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    fn scope(&self) -> Scope {
        Scope {
            from: self.from.and_hms_opt(0, 0, 0).unwrap_or_default(),
            to: (self.to + Duration::days(1))
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default(),
            desk: self.desk.clone(),
        }
    }
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Parse the query against `today` (UTC), collecting every error.
pub fn parse(q: &StatsQuery, today: NaiveDate) -> Result<Period, Problem> {
    let mut errors = Vec::new();
    let date = |field: &str, v: &str, errors: &mut Vec<FieldError>| {
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .ok()
            .filter(|_| v.len() == 10)
            .or_else(|| {
                errors.push(FieldError::new(
                    field,
                    "invalid_date",
                    "must be a date as YYYY-MM-DD",
                ));
                None
            })
    };
    let desk = present(&q.desk).and_then(|d| match clean(d, 100, false) {
        Ok(d) => Some(d),
        Err(e) => {
            errors.push(FieldError::new("desk", e.code(), e.message()));
            None
        }
    });
    let preset = match present(&q.period) {
        None => None,
        Some(p) => match p.parse::<i64>() {
            Ok(n) if PERIODS.contains(&n) => Some(n),
            _ => {
                errors.push(FieldError::new(
                    "period",
                    "invalid_value",
                    "must be 7, 30 or 90",
                ));
                None
            }
        },
    };
    let (from, to) = match (present(&q.from), present(&q.to)) {
        (None, None) => (None, None),
        (Some(f), Some(t)) => (date("from", f, &mut errors), date("to", t, &mut errors)),
        (Some(_), None) => {
            errors.push(FieldError::new("to", "required", "is needed with from"));
            (None, None)
        }
        (None, Some(_)) => {
            errors.push(FieldError::new("from", "required", "is needed with to"));
            (None, None)
        }
    };
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            errors.push(FieldError::new("to", "out_of_range", "is before from"));
        } else if (t - f).num_days() + 1 > MAX_DAYS {
            errors.push(FieldError::new(
                "to",
                "out_of_range",
                format!("at most {MAX_DAYS} days after from"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    Ok(match (from, to) {
        (Some(from), Some(to)) => Period {
            from,
            to,
            preset: None,
            desk,
        },
        _ => {
            let days = preset.unwrap_or(DEFAULT_PERIOD);
            Period {
                from: today - Duration::days(days - 1),
                to: today,
                preset: Some(days),
                desk,
            }
        }
    })
}

/// Nearest-rank percentile `num/den` of ascending `sorted`.
pub fn percentile(sorted: &[i64], num: usize, den: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (num * sorted.len()).div_ceil(den).max(1);
    sorted.get(rank - 1).copied()
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PeriodView {
    /// First day (UTC).
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    /// Last day included (UTC).
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    pub days: i64,
    pub desk: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Day {
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    /// Reports filed that day (honeypot spam aside).
    pub reports: i64,
    /// Cases opened that day (by their first report).
    pub cases: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Decisions {
    pub resolution: Resolution,
    pub cases: i64,
}

/// Times in whole seconds; `null` when nothing happened in the period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Times {
    pub count: i64,
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
}

impl Times {
    fn of(mut seconds: Vec<i64>) -> Times {
        seconds.sort_unstable();
        Times {
            count: seconds.len() as i64,
            median_seconds: percentile(&seconds, 1, 2),
            p90_seconds: percentile(&seconds, 9, 10),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OnTime {
    /// Cases decided in the period.
    pub decided: i64,
    /// Of them, decided at or before their due time.
    pub on_time: i64,
    /// `on_time / decided`; `null` when nothing was decided.
    pub share: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Backlog {
    /// `under_1_day`, `1_to_3_days`, `3_to_7_days`, `7_to_30_days`,
    /// `over_30_days`: since the first report.
    pub age: String,
    pub cases: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Article {
    pub external_id: String,
    pub title: String,
    pub url: String,
    pub reports: i64,
    pub cases: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CategoryCount {
    pub category: Category,
    pub reports: i64,
}

/// Every figure of the dashboard for one period and desk.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Stats {
    pub period: PeriodView,
    /// Every day of the period, empty ones included.
    pub daily: Vec<Day>,
    pub total_reports: i64,
    pub total_cases: i64,
    /// Cases decided in the period by their latest resolution (every
    /// resolution listed).
    pub decisions: Vec<Decisions>,
    /// From a case's first report to its decision, cases decided in the period.
    pub time_to_decision: Times,
    /// From a case's first report to its published correction,
    /// corrections published in the period.
    pub time_to_correction: Times,
    pub on_time: OnTime,
    /// Cases open now, by age (not bound to the period).
    pub backlog: Vec<Backlog>,
    /// The articles with the most reports in the period (at most 10).
    pub busiest_articles: Vec<Article>,
    /// Reports filed in the period by category (every category listed).
    pub categories: Vec<CategoryCount>,
    /// The desks that have cases, for the filter.
    pub desks: Vec<String>,
}

fn seconds(spans: &[store::Span]) -> Vec<i64> {
    spans.iter().map(|s| s.seconds).collect()
}

/// The first of the two reads: the period's reports (per day, per
/// category, the busiest articles), the decisions by resolution, the open
/// backlog and the desks.
struct Filed {
    reports: store::PeriodReports,
    decided: Vec<(Resolution, i64)>,
    backlog: Vec<i64>,
    desks: Vec<String>,
}

impl Filed {
    fn read(conn: &mut DbConn, p: &Period, at: NaiveDateTime) -> Result<Filed, Problem> {
        let s = p.scope();
        let bounds: Vec<Duration> = BACKLOG_AGES
            .iter()
            .map(|(_, d)| Duration::days(*d))
            .collect();
        Ok(Filed {
            reports: store::period_reports(conn, &s, BUSIEST)?,
            decided: store::decisions(conn, &s)?,
            backlog: store::backlog(conn, &p.desk, at, &bounds)?,
            desks: store::desks(conn)?,
        })
    }
}

/// The second: cases opened per day, and the times of the cases decided
/// and the corrections published. The split keeps the two about even at a
/// million reports (30–40 ms each on SQLite for 90 days), since the page
/// waits for the longer.
struct Decided {
    cases: Vec<(String, i64)>,
    spans: Vec<store::Span>,
    corrections: Vec<store::Span>,
}

impl Decided {
    fn read(conn: &mut DbConn, p: &Period) -> Result<Decided, Problem> {
        let s = p.scope();
        Ok(Decided {
            cases: store::cases_per_day(conn, &s)?,
            spans: store::decided_spans(conn, &s)?,
            corrections: store::correction_spans(conn, &s)?,
        })
    }
}

/// Every figure, from what the two reads answered.
fn assemble(p: &Period, filed: Filed, d: Decided) -> Stats {
    let mut daily = Vec::with_capacity(p.days() as usize);
    let mut day = p.from;
    while day <= p.to {
        let key = day.format("%Y-%m-%d").to_string();
        daily.push(Day {
            day,
            reports: filed.reports.per_day.get(&key).copied().unwrap_or(0),
            cases: d.cases.iter().find(|(k, _)| *k == key).map_or(0, |x| x.1),
        });
        day += Duration::days(1);
    }
    let decisions = Resolution::ALL
        .iter()
        .map(|r| Decisions {
            resolution: *r,
            cases: filed
                .decided
                .iter()
                .find(|(x, _)| x == r)
                .map_or(0, |x| x.1),
        })
        .collect();
    let on_time = d.spans.iter().filter(|s| s.on_time).count() as i64;
    let n = d.spans.len() as i64;
    let on_time = OnTime {
        decided: n,
        on_time,
        share: (n > 0).then(|| on_time as f64 / n as f64),
    };
    let backlog = BACKLOG_AGES
        .iter()
        .map(|(k, _)| *k)
        .chain([BACKLOG_OLDEST])
        .zip(filed.backlog)
        .map(|(age, cases)| Backlog {
            age: age.to_string(),
            cases,
        })
        .collect();
    let busiest_articles = filed
        .reports
        .busiest
        .into_iter()
        .map(|a| Article {
            external_id: a.external_id,
            title: a.title,
            url: a.url,
            reports: a.reports,
            cases: a.cases,
        })
        .collect();
    let categories = Category::ALL
        .iter()
        .map(|c| CategoryCount {
            category: *c,
            reports: filed
                .reports
                .per_category
                .get(c.as_str())
                .copied()
                .unwrap_or(0),
        })
        .collect();
    Stats {
        period: PeriodView {
            from: p.from,
            to: p.to,
            days: p.days(),
            desk: p.desk.clone(),
        },
        total_reports: filed.reports.per_day.values().sum(),
        total_cases: d.cases.iter().map(|x| x.1).sum(),
        daily,
        decisions,
        time_to_decision: Times::of(seconds(&d.spans)),
        time_to_correction: Times::of(seconds(&d.corrections)),
        on_time,
        backlog,
        busiest_articles,
        categories,
        desks: filed.desks,
    }
}

/// The dashboard's figures as `actor` asked for them. Any editor may read
/// them: they are counts and times, no reader's text.
///
/// Two reads at once, each on its own connection (`Filed`, `Decided`), so
/// the page waits for the longer of the two rather than for both (it takes
/// two of the editors' read turns meanwhile).
pub async fn dashboard(state: &AppState, _actor: Actor, q: &StatsQuery) -> Result<Stats, Problem> {
    let at = now();
    let period = parse(q, at.date())?;
    let (first, second) = (period.clone(), period.clone());
    let (filed, decided) = futures_util::future::try_join(
        state.heavy_read(move |conn| Filed::read(conn, &first, at)),
        state.heavy_read(move |conn| Decided::read(conn, &second)),
    )
    .await?;
    Ok(assemble(&period, filed, decided))
}

/// The CSV tables of the dashboard.
pub const TABLES: [&str; 7] = [
    "daily",
    "decisions",
    "times",
    "backlog",
    "articles",
    "categories",
    "on_time",
];

/// One field, quoted when it must be (RFC 4180), and defused when a
/// spreadsheet would run it as a formula.
fn field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

fn opt(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// One table of `stats` as CSV (CRLF line ends, a header row), or `None`
/// for an unknown table.
pub fn csv(stats: &Stats, table: &str) -> Option<String> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    match table {
        "daily" => {
            rows.push(vec!["day".into(), "reports".into(), "cases".into()]);
            for d in &stats.daily {
                rows.push(vec![
                    d.day.to_string(),
                    d.reports.to_string(),
                    d.cases.to_string(),
                ]);
            }
        }
        "decisions" => {
            rows.push(vec!["resolution".into(), "cases".into()]);
            for d in &stats.decisions {
                rows.push(vec![d.resolution.as_str().into(), d.cases.to_string()]);
            }
        }
        "times" => {
            rows.push(vec![
                "measure".into(),
                "count".into(),
                "median_seconds".into(),
                "p90_seconds".into(),
            ]);
            for (name, t) in [
                ("time_to_decision", &stats.time_to_decision),
                ("time_to_correction", &stats.time_to_correction),
            ] {
                rows.push(vec![
                    name.into(),
                    t.count.to_string(),
                    opt(t.median_seconds),
                    opt(t.p90_seconds),
                ]);
            }
        }
        "on_time" => {
            rows.push(vec!["decided".into(), "on_time".into(), "share".into()]);
            let o = &stats.on_time;
            rows.push(vec![
                o.decided.to_string(),
                o.on_time.to_string(),
                o.share.map(|s| format!("{s:.4}")).unwrap_or_default(),
            ]);
        }
        "backlog" => {
            rows.push(vec!["age".into(), "cases".into()]);
            for b in &stats.backlog {
                rows.push(vec![b.age.clone(), b.cases.to_string()]);
            }
        }
        "articles" => {
            rows.push(vec![
                "external_id".into(),
                "title".into(),
                "url".into(),
                "reports".into(),
                "cases".into(),
            ]);
            for a in &stats.busiest_articles {
                rows.push(vec![
                    a.external_id.clone(),
                    a.title.clone(),
                    a.url.clone(),
                    a.reports.to_string(),
                    a.cases.to_string(),
                ]);
            }
        }
        "categories" => {
            rows.push(vec!["category".into(), "reports".into()]);
            for c in &stats.categories {
                rows.push(vec![c.category.as_str().into(), c.reports.to_string()]);
            }
        }
        _ => return None,
    }
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r.iter().map(String::as_str).map(field).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Some(out)
}

/// The table name of a CSV request, checked.
pub fn parse_table(table: Option<&str>) -> Result<&'static str, Problem> {
    let t = table.map(str::trim).unwrap_or("daily");
    TABLES.iter().find(|x| **x == t).copied().ok_or_else(|| {
        Problem::validation(vec![FieldError::new(
            "table",
            "invalid_value",
            format!("must be one of {}", TABLES.join(", ")),
        )])
    })
}

// ---------------------------------------------------------------------------
// The public transparency page.

/// How far back the public page looks, in months (this one included).
pub const PUBLIC_MONTHS: u32 = 12;

#[derive(Debug, Clone, Serialize)]
pub struct MonthCount {
    /// `YYYY-MM`.
    pub month: String,
    /// A desk or a category; `None` for corrections without a desk.
    pub key: Option<String>,
    pub corrections: i64,
}

/// What the newsroom publishes about its corrections: counts, times and
/// shares only; never a reader's text nor an editor's name.
#[derive(Debug, Clone, Serialize)]
pub struct Transparency {
    /// Every month of the window, oldest first.
    pub months: Vec<String>,
    pub by_desk: Vec<MonthCount>,
    pub by_category: Vec<MonthCount>,
    /// Corrections per month, all desks.
    pub per_month: Vec<(String, i64)>,
    pub time_to_correction: Times,
    /// Reports on decided cases that led to a correction (spam and
    /// duplicates aside).
    pub reports_upheld: i64,
    pub reports_decided: i64,
    pub upheld_share: Option<f64>,
}

fn month_start(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(chrono::Datelike::year(&d), chrono::Datelike::month(&d), 1).unwrap_or(d)
}

/// The public figures of the last `PUBLIC_MONTHS` months up to `at`.
pub fn compute_public(conn: &mut DbConn, at: NaiveDateTime) -> Result<Transparency, Problem> {
    let this_month = month_start(at.date());
    let first = this_month
        .checked_sub_months(chrono::Months::new(PUBLIC_MONTHS - 1))
        .unwrap_or(this_month);
    let end = this_month
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(this_month);
    let (from, to) = (
        first.and_hms_opt(0, 0, 0).unwrap_or_default(),
        end.and_hms_opt(0, 0, 0).unwrap_or_default(),
    );
    let mut months = Vec::new();
    let mut m = first;
    while m < end {
        months.push(m.format("%Y-%m").to_string());
        m = m.checked_add_months(chrono::Months::new(1)).unwrap_or(end);
    }
    let mc = |(month, key, corrections): (String, Option<String>, i64)| MonthCount {
        month,
        key,
        corrections,
    };
    let by_desk: Vec<MonthCount> = store::corrections_by_month_desk(conn, from, to)?
        .into_iter()
        .map(mc)
        .collect();
    let by_category = store::corrections_by_month_category(conn, from, to)?
        .into_iter()
        .map(mc)
        .collect();
    let per_month = months
        .iter()
        .map(|m| {
            let n = by_desk
                .iter()
                .filter(|c| &c.month == m)
                .map(|c| c.corrections)
                .sum();
            (m.clone(), n)
        })
        .collect();
    let scope = Scope {
        from,
        to,
        desk: None,
    };
    let time_to_correction = Times::of(seconds(&store::correction_spans(conn, &scope)?));
    let (upheld, decided) = store::reports_upheld(conn, &scope)?;
    Ok(Transparency {
        months,
        by_desk,
        by_category,
        per_month,
        time_to_correction,
        reports_upheld: upheld,
        reports_decided: decided,
        upheld_share: (decided > 0).then(|| upheld as f64 / decided as f64),
    })
}

/// The public page's figures, or 404 when the newsroom has not turned the
/// page on (`[transparency] enabled`).
pub async fn transparency(state: &AppState) -> Result<Transparency, Problem> {
    if !state.settings.transparency.enabled {
        return Err(Problem::not_found(
            ErrorCode::NotFound,
            "This newsroom does not publish a transparency page.",
        ));
    }
    let at = now();
    state.read(move |conn| compute_public(conn, at)).await
}

/// The site-level schema.org description: the newsroom as a
/// `NewsMediaOrganization` with the policy pages the configuration names.
pub fn organization_json_ld(state: &AppState) -> serde_json::Value {
    let t = &state.settings.transparency;
    let mut org = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "NewsMediaOrganization",
        "name": t.organization_name,
        "url": if t.organization_url.is_empty() { state.public_url.clone() } else { t.organization_url.clone() },
    });
    for (key, value) in [
        ("correctionsPolicy", &t.corrections_policy_url),
        (
            "actionableFeedbackPolicy",
            &t.actionable_feedback_policy_url,
        ),
        ("publishingPrinciples", &t.publishing_principles_url),
    ] {
        if !value.is_empty() {
            org[key] = serde_json::Value::String(value.clone());
        }
    }
    org
}

// ---------------------------------------------------------------------------
// Prometheus.

/// Gauges on open cases and the histogram of time to decision, read from
/// the database (so every instance reports the same figures and a restart
/// loses nothing) by `refresh`, which the server runs every minute.
#[derive(Clone)]
pub struct CaseMetrics {
    open: prometheus::IntGaugeVec,
    overdue: prometheus::IntGaugeVec,
    decision: std::sync::Arc<std::sync::Mutex<([u64; 9], u64, f64)>>,
    decision_desc: prometheus::core::Desc,
}

impl CaseMetrics {
    pub fn new() -> CaseMetrics {
        let open = prometheus::IntGaugeVec::new(
            prometheus::Opts::new("erratum_cases_open", "Open cases by status and desk"),
            &["status", "desk"],
        )
        .expect("a valid metric");
        let overdue = prometheus::IntGaugeVec::new(
            prometheus::Opts::new(
                "erratum_cases_overdue",
                "Open cases past their due time, by desk",
            ),
            &["desk"],
        )
        .expect("a valid metric");
        let decision_desc = prometheus::core::Desc::new(
            "erratum_case_decision_seconds".into(),
            "Time from a case's first report to its decision, every decided case".into(),
            vec![],
            Default::default(),
        )
        .expect("a valid metric");
        CaseMetrics {
            open,
            overdue,
            decision: Default::default(),
            decision_desc,
        }
    }

    pub fn register(&self, registry: &prometheus::Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.open.clone()))?;
        registry.register(Box::new(self.overdue.clone()))?;
        registry.register(Box::new(self.clone()))
    }

    /// Read the figures again.
    pub async fn refresh(&self, state: &AppState) -> Result<(), Problem> {
        let at = now();
        let (open, histogram) = state
            .read(move |conn| {
                Ok((
                    store::open_by_status_desk(conn, at)?,
                    store::decision_histogram(conn)?,
                ))
            })
            .await?;
        self.open.reset();
        self.overdue.reset();
        for status in Status::OPEN {
            // Zero rather than absent, so an alert on a status sees it.
            self.open.with_label_values(&[status.as_str(), ""]).set(0);
        }
        self.overdue.with_label_values(&[""]).set(0);
        for (status, desk, n, overdue) in open {
            let desk = desk.unwrap_or_default();
            self.open
                .with_label_values(&[status.as_str(), desk.as_str()])
                .add(n);
            self.overdue
                .with_label_values(&[desk.as_str()])
                .add(overdue);
        }
        if let Ok(mut h) = self.decision.lock() {
            *h = histogram;
        }
        Ok(())
    }
}

impl Default for CaseMetrics {
    fn default() -> Self {
        CaseMetrics::new()
    }
}

impl prometheus::core::Collector for CaseMetrics {
    fn desc(&self) -> Vec<&prometheus::core::Desc> {
        vec![&self.decision_desc]
    }

    fn collect(&self) -> Vec<prometheus::proto::MetricFamily> {
        use prometheus::proto::{Bucket, Histogram, Metric, MetricFamily, MetricType};
        let (buckets, count, sum) = self.decision.lock().map(|h| *h).unwrap_or_default();
        let mut h = Histogram::default();
        h.set_sample_count(count);
        h.set_sample_sum(sum);
        h.set_bucket(
            store::DECISION_BUCKETS
                .iter()
                .zip(buckets)
                .map(|(bound, n)| {
                    let mut b = Bucket::default();
                    b.set_upper_bound(*bound as f64);
                    b.set_cumulative_count(n);
                    b
                })
                .collect(),
        );
        let mut m = Metric::default();
        m.set_histogram(h);
        let mut f = MetricFamily::default();
        f.set_name(self.decision_desc.fq_name.clone());
        f.set_help(self.decision_desc.help.clone());
        f.set_field_type(MetricType::HISTOGRAM);
        f.set_metric(vec![m]);
        vec![f]
    }
}
