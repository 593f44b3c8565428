//! A case with many reports: the API and the case page give them a page at a
//! time, and following the cursor reaches every report exactly once while
//! the case's totals count them all.

use std::collections::HashSet;

use erratum::domain::editor::Role;
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::Backend;
use crate::staff::{self, QUOTES, add, login, report};

backend_tests!(
    case_reports_come_a_page_at_a_time,
    case_page_links_to_more_reports,
);

const REPORTS: usize = 120;

/// One case with `REPORTS` reports, filed 20 at a time so that some share a
/// timestamp (the cursor's id tie-break is exercised too).
async fn big_case(app: &crate::helpers::TestApp) -> String {
    let mut ids = HashSet::new();
    for _ in 0..REPORTS / 20 {
        let batch = (0..20).map(|_| report(app, QUOTES[0], "factual_error", None));
        ids.extend(futures::future::join_all(batch).await);
    }
    assert_eq!(ids.len(), 1, "every report joins the one open case");
    ids.into_iter().next().unwrap()
}

async fn case_reports_come_a_page_at_a_time(b: Backend) {
    let app = staff::spawn(b).await;
    let ed = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let case_id = big_case(&app).await;

    let mut seen: Vec<String> = Vec::new();
    let mut sizes = Vec::new();
    let mut path = format!("/api/v1/cases/{case_id}");
    loop {
        let (status, d) = ed.get(&path).await;
        assert_eq!(status, 200, "{d}");
        // The totals are the whole case's, whatever the page.
        assert_eq!(d["case"]["report_count"], REPORTS as i64);
        assert_eq!(d["case"]["categories"][0]["count"], REPORTS as i64);
        let reports = d["reports"].as_array().unwrap();
        sizes.push(reports.len());
        let times: Vec<&str> = reports
            .iter()
            .map(|r| r["created_at"].as_str().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
        seen.extend(
            reports
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string()),
        );
        match &d["reports_next_cursor"] {
            Value::String(c) => path = format!("/api/v1/cases/{case_id}?reports_cursor={c}"),
            other => {
                assert!(other.is_null());
                break;
            }
        }
    }
    assert_eq!(sizes, [50, 50, 20]);
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), REPORTS, "every report exactly once");

    let (status, p) = ed
        .get(&format!("/api/v1/cases/{case_id}?reports_cursor=garbage"))
        .await;
    assert_eq!(status, 422, "{p}");
    assert_eq!(p["errors"][0]["field"], "reports_cursor");
}

/// The `href` of the page's "more reports" link, if any.
fn more_link(html: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("p.more-reports a[rel=next]").unwrap();
    doc.select(&sel)
        .next()
        .map(|a| a.value().attr("href").unwrap().to_string())
}

fn report_count(html: &str) -> usize {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("article.report").unwrap();
    doc.select(&sel).count()
}

async fn case_page_links_to_more_reports(b: Backend) {
    let app = staff::spawn(b).await;
    let ed = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let case_id = big_case(&app).await;

    let mut path = format!("/editor/cases/{case_id}");
    let mut counts = Vec::new();
    loop {
        let r = ed.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(
            html.contains(&format!("({REPORTS})")),
            "the heading counts all"
        );
        counts.push(report_count(&html));
        match more_link(&html) {
            Some(href) => {
                assert!(href.starts_with(&format!("/editor/cases/{case_id}?reports_cursor=")));
                path = href.split('#').next().unwrap().to_string();
            }
            None => break,
        }
    }
    assert_eq!(counts, [50, 50, 20]);
}
