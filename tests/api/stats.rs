//! The dashboard's figures (`/api/v1/stats`, its CSV, the SVG of
//! `/editor/dashboard`), the public transparency page and the case metrics,
//! on a seeded history whose times are set directly in the database so
//! every figure has a known answer.

use chrono::{Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use erratum::db::schema::{cases, corrections, reports};
use erratum::domain::editor::Role;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::staff::{self, Session, add, article, case_on, login};

backend_tests!(
    every_figure_has_its_known_answer,
    empty_periods_have_no_medians,
    bad_parameters_are_422,
    the_transparency_page_is_off_by_default_and_shows_figures_only,
    case_metrics_count_open_overdue_and_decision_times,
    reports_count_under_their_cases_desk_after_the_article_moves,
    rolled_up_days_give_the_same_figures,
);

/// One seeded case: its desk, category of its reports, how many reports,
/// when it was first reported, its decision (resolution and time) and due
/// time.
struct Seed {
    article: &'static str,
    sentence: usize,
    category: &'static str,
    reports: usize,
    first: NaiveDateTime,
    decided: Option<(&'static str, NaiveDateTime)>,
    due: NaiveDateTime,
}

fn midnight(d: NaiveDate) -> NaiveDateTime {
    d.and_hms_opt(0, 0, 0).unwrap()
}

fn history(now: NaiveDateTime) -> Vec<Seed> {
    let today = midnight(now.date());
    let h = Duration::hours;
    let d = Duration::days;
    vec![
        // Politics: two decisions of exactly 2 h (a tie at the median).
        Seed {
            article: "pol",
            sentence: 1,
            category: "factual_error",
            reports: 3,
            first: today - d(2) + h(10),
            decided: Some(("corrected", today - d(2) + h(12))),
            due: today - d(2) + h(34),
        },
        Seed {
            article: "pol",
            sentence: 2,
            category: "typo",
            reports: 1,
            first: today - d(3) + h(10),
            decided: Some(("rejected", today - d(3) + h(12))),
            due: today - d(3) + h(11),
        },
        Seed {
            article: "pol",
            sentence: 3,
            category: "typo",
            reports: 1,
            first: today - d(5) + h(8),
            decided: Some(("no_change", today - d(5) + h(18))),
            due: today - d(5) + h(32),
        },
        // Reported before the period, decided inside it (39 days).
        Seed {
            article: "pol",
            sentence: 4,
            category: "factual_error",
            reports: 1,
            first: today - d(40),
            decided: Some(("corrected", today - d(1))),
            due: today - d(39),
        },
        Seed {
            article: "pol",
            sentence: 5,
            category: "other",
            reports: 1,
            first: now - h(2),
            decided: None,
            due: now + h(22),
        },
        Seed {
            article: "pol",
            sentence: 6,
            category: "misleading",
            reports: 1,
            first: now - d(10),
            decided: None,
            due: now - d(9),
        },
        // Sport.
        Seed {
            article: "spo",
            sentence: 1,
            category: "outdated",
            reports: 1,
            first: today - d(1) + h(9),
            decided: Some(("clarified", today - d(1) + h(39))),
            due: today - d(1) + h(57),
        },
        Seed {
            article: "spo",
            sentence: 2,
            category: "typo",
            reports: 1,
            first: now - d(45),
            decided: None,
            due: now - d(44),
        },
        // Decided long before the period (5 days).
        Seed {
            article: "spo",
            sentence: 3,
            category: "other",
            reports: 1,
            first: today - d(100),
            decided: Some(("no_change", today - d(95))),
            due: today - d(99),
        },
    ]
}

fn desk_of(s: &Seed) -> &'static str {
    if s.article == "pol" {
        "politics"
    } else {
        "sport"
    }
}

/// Make the history through the API, then set its times in the database.
async fn seed(app: &TestApp, editor: &Session, now: NaiveDateTime) -> Vec<Seed> {
    article(app, "pol", Some("politics"), 8).await;
    article(app, "spo", Some("sport"), 8).await;
    let seeds = history(now);
    let mut ids = Vec::new();
    for s in &seeds {
        let id = case_on(app, s.article, s.sentence, s.category).await;
        for _ in 1..s.reports {
            let again = case_on(app, s.article, s.sentence, s.category).await;
            assert_eq!(again, id);
        }
        if let Some((resolution, _)) = s.decided {
            let body = if resolution == "corrected" || resolution == "clarified" {
                json!({"resolution": resolution, "public_note": "The date was wrong; it is now right."})
            } else {
                json!({"resolution": resolution})
            };
            let (status, r) = editor.act(&id, "resolve", Some(body)).await;
            assert_eq!(status, 200, "{r}");
        }
        ids.push(id);
    }
    let times: Vec<(String, NaiveDateTime, Option<NaiveDateTime>, NaiveDateTime)> = seeds
        .iter()
        .zip(&ids)
        .map(|(s, id)| (id.clone(), s.first, s.decided.map(|d| d.1), s.due))
        .collect();
    app.app_state
        .write(move |conn| -> Result<_, erratum::error::Problem> {
            for (id, first, decided, due) in &times {
                diesel::update(cases::table.find(id))
                    .set((
                        cases::first_reported_at.eq(first),
                        cases::last_reported_at.eq(first),
                        cases::created_at.eq(first),
                        cases::resolved_at.eq(decided),
                        cases::due_at.eq(due),
                    ))
                    .execute(conn)
                    .map_err(erratum::db::DbError::from)?;
                diesel::update(reports::table.filter(reports::case_id.eq(id)))
                    .set(reports::created_at.eq(first))
                    .execute(conn)
                    .map_err(erratum::db::DbError::from)?;
                if let Some(t) = decided {
                    diesel::update(corrections::table.filter(corrections::case_id.eq(id)))
                        .set(corrections::published_at.eq(t))
                        .execute(conn)
                        .map_err(erratum::db::DbError::from)?;
                }
            }
            Ok(())
        })
        .await
        .unwrap();
    seeds
}

/// Nearest-rank percentile, written again here from its definition.
fn rank(mut v: Vec<i64>, p: f64) -> Value {
    if v.is_empty() {
        return Value::Null;
    }
    v.sort();
    let r = ((p * v.len() as f64).ceil() as usize).max(1);
    json!(v[r - 1])
}

/// What every figure should be for `[from, to]` and `desk`, from the seeds.
fn expected(
    seeds: &[Seed],
    from: NaiveDate,
    to: NaiveDate,
    desk: Option<&str>,
    now: NaiveDateTime,
) -> Value {
    let (lo, hi) = (midnight(from), midnight(to) + Duration::days(1));
    let inside = |t: NaiveDateTime| t >= lo && t < hi;
    let mine: Vec<&Seed> = seeds
        .iter()
        .filter(|s| desk.is_none_or(|d| desk_of(s) == d))
        .collect();
    let mut daily = Vec::new();
    let mut day = from;
    while day <= to {
        let on = |t: NaiveDateTime| t.date() == day;
        daily.push(json!({
            "day": day.to_string(),
            "reports": mine.iter().filter(|s| on(s.first)).map(|s| s.reports as i64).sum::<i64>(),
            "cases": mine.iter().filter(|s| on(s.first)).count(),
        }));
        day += Duration::days(1);
    }
    let decided: Vec<&&Seed> = mine
        .iter()
        .filter(|s| s.decided.is_some_and(|d| inside(d.1)))
        .collect();
    let resolutions = [
        "corrected",
        "clarified",
        "updated",
        "no_change",
        "rejected",
        "duplicate",
        "spam",
    ];
    let decisions: Vec<Value> = resolutions
        .iter()
        .map(|r| json!({"resolution": r, "cases": decided.iter().filter(|s| s.decided.unwrap().0 == *r).count()}))
        .collect();
    let secs = |s: &Seed| (s.decided.unwrap().1 - s.first).num_seconds();
    let to_decision: Vec<i64> = decided.iter().map(|s| secs(s)).collect();
    let to_correction: Vec<i64> = decided
        .iter()
        .filter(|s| matches!(s.decided.unwrap().0, "corrected" | "clarified" | "updated"))
        .map(|s| secs(s))
        .collect();
    let on_time = decided
        .iter()
        .filter(|s| s.decided.unwrap().1 <= s.due)
        .count() as i64;
    let n = decided.len() as i64;
    let open: Vec<&&Seed> = mine.iter().filter(|s| s.decided.is_none()).collect();
    let ages = [1, 3, 7, 30];
    let mut backlog = Vec::new();
    let names = [
        "under_1_day",
        "1_to_3_days",
        "3_to_7_days",
        "7_to_30_days",
        "over_30_days",
    ];
    let mut newer = Duration::zero();
    for (i, name) in names.iter().enumerate() {
        let older = ages
            .get(i)
            .map(|d| Duration::days(*d))
            .unwrap_or(Duration::days(365_000));
        let c = open
            .iter()
            .filter(|s| now - s.first >= newer && now - s.first < older)
            .count();
        backlog.push(json!({"age": name, "cases": c}));
        newer = older;
    }
    let categories = [
        "factual_error",
        "typo",
        "outdated",
        "misleading",
        "missing_context",
        "translation",
        "broken_link",
        "other",
    ];
    let in_period: Vec<&&Seed> = mine.iter().filter(|s| inside(s.first)).collect();
    let cats: Vec<Value> = categories
        .iter()
        .map(|c| json!({"category": c, "reports": in_period.iter().filter(|s| s.category == *c).map(|s| s.reports as i64).sum::<i64>()}))
        .collect();
    let mut arts: Vec<Value> = ["pol", "spo"]
        .iter()
        .filter_map(|a| {
            let of: Vec<&&&Seed> = in_period.iter().filter(|s| s.article == *a).collect();
            (!of.is_empty()).then(|| {
                json!({"external_id": a, "title": format!("Article {a}"),
                       "url": format!("https://news.example/{a}"),
                       "reports": of.iter().map(|s| s.reports as i64).sum::<i64>(),
                       "cases": of.len()})
            })
        })
        .collect();
    arts.sort_by(|a, b| b["reports"].as_i64().cmp(&a["reports"].as_i64()));
    json!({
        "period": {"from": from.to_string(), "to": to.to_string(),
                   "days": (to - from).num_days() + 1, "desk": desk},
        "daily": daily,
        "total_reports": in_period.iter().map(|s| s.reports as i64).sum::<i64>(),
        "total_cases": in_period.len(),
        "decisions": decisions,
        "time_to_decision": {"count": to_decision.len(), "median_seconds": rank(to_decision.clone(), 0.5), "p90_seconds": rank(to_decision, 0.9)},
        "time_to_correction": {"count": to_correction.len(), "median_seconds": rank(to_correction.clone(), 0.5), "p90_seconds": rank(to_correction, 0.9)},
        "on_time": {"decided": n, "on_time": on_time, "share": if n > 0 { json!(on_time as f64 / n as f64) } else { Value::Null }},
        "backlog": backlog,
        "busiest_articles": arts,
        "categories": cats,
        "desks": ["politics", "sport"],
    })
}

/// A GET with the session's cookies: status, content type and body.
async fn text(app: &TestApp, s: &Session, path: &str) -> (u16, String, String) {
    let r = s.client.get(app.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

/// `data-value` of every bar with `data-label` in one chart of the page.
fn bars(html: &str, chart: &str) -> Vec<(String, i64)> {
    let start = html.find(&format!("id=\"{chart}\"")).expect(chart);
    let end = start + html[start..].find("</svg>").unwrap();
    let svg = &html[start..end];
    let mut out = Vec::new();
    for part in svg.split("<rect class=\"bar").skip(1) {
        let attr = |name: &str| {
            let k = format!("{name}=\"");
            let i = part.find(&k).unwrap() + k.len();
            part[i..i + part[i..].find('"').unwrap()].to_string()
        };
        out.push((attr("data-label"), attr("data-value").parse().unwrap()));
    }
    out
}

fn csv_rows(csv: &str) -> Vec<Vec<String>> {
    csv.trim_end()
        .split("\r\n")
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

async fn every_figure_has_its_known_answer(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let now = Utc::now().naive_utc();
    let seeds = seed(&app, &s, now).await;
    let today = now.date();

    for (query, from, desk) in [
        ("period=30", today - Duration::days(29), None),
        ("period=7", today - Duration::days(6), None),
        (
            "period=90&desk=politics",
            today - Duration::days(89),
            Some("politics"),
        ),
        (
            "period=30&desk=sport",
            today - Duration::days(29),
            Some("sport"),
        ),
    ] {
        let (status, got) = s.get(&format!("/api/v1/stats?{query}")).await;
        assert_eq!(status, 200, "{query}: {got}");
        let want = expected(&seeds, from, today, desk, now);
        for key in want.as_object().unwrap().keys() {
            assert_eq!(got[key], want[key], "{query}: {key}");
        }

        // The CSV tables say the same.
        let (status, ct, csv) =
            text(&app, &s, &format!("/api/v1/stats.csv?table=daily&{query}")).await;
        assert_eq!(status, 200);
        assert!(ct.starts_with("text/csv"), "{ct}");
        let rows = csv_rows(&csv);
        assert_eq!(rows[0], ["day", "reports", "cases"]);
        assert_eq!(rows.len() - 1, want["daily"].as_array().unwrap().len());
        for (row, d) in rows[1..].iter().zip(want["daily"].as_array().unwrap()) {
            assert_eq!(row[0], d["day"].as_str().unwrap());
            assert_eq!(row[1], d["reports"].to_string());
            assert_eq!(row[2], d["cases"].to_string());
        }
        let (_, _, csv) = text(&app, &s, &format!("/api/v1/stats.csv?table=times&{query}")).await;
        let rows = csv_rows(&csv);
        for (row, key) in rows[1..]
            .iter()
            .zip(["time_to_decision", "time_to_correction"])
        {
            assert_eq!(row[0], key);
            assert_eq!(row[1], want[key]["count"].to_string());
            for (cell, k) in row[2..].iter().zip(["median_seconds", "p90_seconds"]) {
                let w = &want[key][k];
                assert_eq!(
                    cell,
                    &if w.is_null() {
                        String::new()
                    } else {
                        w.to_string()
                    },
                    "{query} {key} {k}"
                );
            }
        }
        let (_, _, csv) = text(
            &app,
            &s,
            &format!("/api/v1/stats.csv?table=decisions&{query}"),
        )
        .await;
        let rows = csv_rows(&csv);
        for (row, d) in rows[1..].iter().zip(want["decisions"].as_array().unwrap()) {
            assert_eq!(row[0], d["resolution"].as_str().unwrap());
            assert_eq!(row[1], d["cases"].to_string());
        }
        let (_, _, csv) = text(
            &app,
            &s,
            &format!("/api/v1/stats.csv?table=on_time&{query}"),
        )
        .await;
        let rows = csv_rows(&csv);
        assert_eq!(rows[1][0], want["on_time"]["decided"].to_string());
        assert_eq!(rows[1][1], want["on_time"]["on_time"].to_string());

        // And so do the page's charts and tables.
        let (status, _, html) = text(&app, &s, &format!("/editor/dashboard?{query}")).await;
        assert_eq!(status, 200, "{html}");
        let daily = bars(&html, "chart-daily");
        let days = want["daily"].as_array().unwrap();
        assert_eq!(daily.len(), days.len() * 2);
        for (pair, d) in daily.chunks(2).zip(days) {
            assert_eq!(pair[0].0, d["day"].as_str().unwrap());
            assert_eq!(pair[0].1, d["reports"].as_i64().unwrap());
            assert_eq!(pair[1].1, d["cases"].as_i64().unwrap());
        }
        let decided: Vec<i64> = bars(&html, "chart-decisions").iter().map(|b| b.1).collect();
        let want_decided: Vec<i64> = want["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["cases"].as_i64().unwrap())
            .collect();
        assert_eq!(decided, want_decided);
        let backlog: Vec<i64> = bars(&html, "chart-backlog").iter().map(|b| b.1).collect();
        let want_backlog: Vec<i64> = want["backlog"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["cases"].as_i64().unwrap())
            .collect();
        assert_eq!(backlog, want_backlog);
        let cats: Vec<i64> = bars(&html, "chart-categories")
            .iter()
            .map(|b| b.1)
            .collect();
        let want_cats: Vec<i64> = want["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["reports"].as_i64().unwrap())
            .collect();
        assert_eq!(cats, want_cats);
        for key in ["time_to_decision", "time_to_correction"] {
            let row = &html[html.find(&format!("data-measure=\"{key}\"")).unwrap()..];
            for k in ["median_seconds", "p90_seconds"] {
                let w = &want[key][k];
                let cell = format!(
                    "data-seconds=\"{}\"",
                    if w.is_null() {
                        String::new()
                    } else {
                        w.to_string()
                    }
                );
                assert!(
                    row[..row.find("</tr>").unwrap()].contains(&cell),
                    "{query} {key} {k}"
                );
            }
        }
        assert!(html.contains(&format!("data-on-time=\"{}\"", want["on_time"]["on_time"])));
    }

    // The known answers, spelled out once for the whole newsroom over 30
    // days: 2 h, 2 h, 10 h, 30 h and 39 d to a decision.
    let (_, all) = s.get("/api/v1/stats?period=30").await;
    assert_eq!(all["time_to_decision"]["median_seconds"], 36_000);
    assert_eq!(all["time_to_decision"]["p90_seconds"], 39 * 86_400);
    assert_eq!(all["time_to_correction"]["median_seconds"], 30 * 3600);
    let (_, pol) = s.get("/api/v1/stats?period=30&desk=politics").await;
    // Four times with a tie: the median is the second, 2 h.
    assert_eq!(pol["time_to_decision"]["median_seconds"], 7200);
    assert_eq!(all["on_time"]["on_time"], 3);
    assert_eq!(all["on_time"]["decided"], 5);
}

async fn empty_periods_have_no_medians(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Viewer, &[]).await).await;
    let (status, got) = s.get("/api/v1/stats?from=2001-01-01&to=2001-01-31").await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["daily"].as_array().unwrap().len(), 31);
    assert!(
        got["daily"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["reports"] == 0 && d["cases"] == 0)
    );
    assert_eq!(
        got["time_to_decision"],
        json!({"count": 0, "median_seconds": null, "p90_seconds": null})
    );
    assert_eq!(got["time_to_correction"]["median_seconds"], Value::Null);
    assert_eq!(
        got["on_time"],
        json!({"decided": 0, "on_time": 0, "share": null})
    );
    assert_eq!(got["busiest_articles"], json!([]));
    let (_, _, csv) = text(
        &app,
        &s,
        "/api/v1/stats.csv?table=times&from=2001-01-01&to=2001-01-31",
    )
    .await;
    assert_eq!(
        csv,
        "measure,count,median_seconds,p90_seconds\r\ntime_to_decision,0,,\r\ntime_to_correction,0,,\r\n"
    );
    let (status, _, html) = text(&app, &s, "/editor/dashboard?from=2001-01-01&to=2001-01-31").await;
    assert_eq!(status, 200);
    assert!(html.contains("role=\"img\""));
    assert!(bars(&html, "chart-daily").iter().all(|b| b.1 == 0));
}

async fn bad_parameters_are_422(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Viewer, &[]).await).await;
    for (q, field) in [
        ("period=8", "period"),
        ("from=2026-01-01", "to"),
        ("from=2026-13-01&to=2026-12-01", "from"),
        ("from=2026-02-01&to=2026-01-01", "to"),
        ("from=2020-01-01&to=2026-01-01", "to"),
    ] {
        let (status, p) = s.get(&format!("/api/v1/stats?{q}")).await;
        assert_eq!(status, 422, "{q}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{q}: {p}");
    }
    let (status, p) = s.get("/api/v1/stats.csv?table=nope").await;
    assert_eq!(status, 422, "{p}");
    let r = app.get("/api/v1/stats").await;
    assert_eq!(r.status(), 401);
}

async fn the_transparency_page_is_off_by_default_and_shows_figures_only(b: Backend) {
    let off = staff::spawn(b).await;
    assert_eq!(off.get("/transparency").await.status(), 404);
    drop(off);

    let app = staff::spawn_with(
        b,
        "[transparency]\nenabled = true\norganization_name = \"La Gazette </script>\"\ncorrections_policy_url = \"https://news.example/corrections-policy\"\nactionable_feedback_policy_url = \"https://news.example/feedback\"\npublishing_principles_url = \"https://news.example/principles\"\n",
    )
    .await;
    let editor = add(&app, Role::Editor, &[]).await;
    let s = login(&app, &editor).await;
    let now = Utc::now().naive_utc();
    seed(&app, &s, now).await;
    let r = app.get("/transparency?lang=en").await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    // JSON-LD: the organisation and its policies, escaped inside the script.
    let start = html.find("application/ld+json\">").unwrap() + "application/ld+json\">".len();
    let ld = &html[start..start + html[start..].find("</script>").unwrap()];
    let ld: Value = serde_json::from_str(ld).unwrap();
    assert_eq!(ld["@type"], "NewsMediaOrganization");
    assert_eq!(ld["name"], "La Gazette </script>");
    assert_eq!(
        ld["correctionsPolicy"],
        "https://news.example/corrections-policy"
    );
    assert_eq!(
        ld["actionableFeedbackPolicy"],
        "https://news.example/feedback"
    );
    assert_eq!(
        ld["publishingPrinciples"],
        "https://news.example/principles"
    );
    // Figures: corrections published this month and the last (p1, p4, s1
    // fall inside the 12 months), the share upheld, the Atom link.
    assert!(html.contains("href=\"/corrections.atom\""));
    let window: Vec<Seed> = history(now)
        .into_iter()
        .filter(|x| {
            x.decided
                .is_some_and(|d| d.1.date() >= first_of_window(now))
        })
        .collect();
    let upholds = |x: &Seed| matches!(x.decided.unwrap().0, "corrected" | "clarified" | "updated");
    let corrections = window.iter().filter(|x| upholds(x)).count();
    assert!(
        html.contains(&format!("data-figure=\"corrections\">{corrections}<")),
        "{html}"
    );
    // Reports upheld: those on cases that published a correction, of those
    // on every case decided within the window.
    let upheld: usize = window
        .iter()
        .filter(|x| upholds(x))
        .map(|x| x.reports)
        .sum();
    let decided: usize = window.iter().map(|x| x.reports).sum();
    assert!(
        html.contains(&format!(
            "data-upheld=\"{upheld}\" data-decided=\"{decided}\""
        )),
        "{html}"
    );
    // Never readers' text nor editors' names.
    assert!(!html.contains("Remarque"), "a reader's comment leaked");
    assert!(!html.contains(&editor.email));
    let n = editor
        .email
        .trim_start_matches("editor")
        .split('@')
        .next()
        .unwrap();
    assert!(
        !html.contains(&format!("editor {n}")),
        "an editor's name leaked"
    );
    // The log below links to the sentence with a text fragment.
    assert!(html.contains("#:~:text="), "{html}");
}

fn first_of_window(now: NaiveDateTime) -> NaiveDate {
    let m = NaiveDate::from_ymd_opt(
        chrono::Datelike::year(&now),
        chrono::Datelike::month(&now),
        1,
    )
    .unwrap();
    m.checked_sub_months(chrono::Months::new(11)).unwrap()
}

async fn case_metrics_count_open_overdue_and_decision_times(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let now = Utc::now().naive_utc();
    let seeds = seed(&app, &s, now).await;
    let metrics = erratum::app::stats::CaseMetrics::new();
    let registry = prometheus::Registry::new();
    metrics.register(&registry).unwrap();
    metrics.refresh(&app.app_state).await.unwrap();
    let mut text = String::new();
    use prometheus::Encoder;
    let mut buf = Vec::new();
    prometheus::TextEncoder::new()
        .encode(&registry.gather(), &mut buf)
        .unwrap();
    text.push_str(&String::from_utf8(buf).unwrap());
    let open = |desk: &str| {
        seeds
            .iter()
            .filter(|x| x.decided.is_none() && desk_of(x) == desk)
            .count()
    };
    let overdue = |desk: &str| {
        seeds
            .iter()
            .filter(|x| x.decided.is_none() && desk_of(x) == desk && x.due < now)
            .count()
    };
    for desk in ["politics", "sport"] {
        assert!(
            text.contains(&format!(
                "erratum_cases_open{{desk=\"{desk}\",status=\"new\"}} {}",
                open(desk)
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "erratum_cases_overdue{{desk=\"{desk}\"}} {}",
                overdue(desk)
            )),
            "{text}"
        );
    }
    let decided: Vec<i64> = seeds
        .iter()
        .filter_map(|x| x.decided.map(|d| (d.1 - x.first).num_seconds()))
        .collect();
    for bound in erratum::db::stats::DECISION_BUCKETS {
        let n = decided.iter().filter(|s| **s as u64 <= bound).count();
        assert!(
            text.contains(&format!(
                "erratum_case_decision_seconds_bucket{{le=\"{bound}\"}} {n}"
            )),
            "{bound}: {text}"
        );
    }
    assert!(
        text.contains(&format!(
            "erratum_case_decision_seconds_count {}",
            decided.len()
        )),
        "{text}"
    );
    // And the server's own /metrics carries them.
    let body = app.get("/metrics").await.text().await.unwrap();
    assert!(
        body.contains("erratum_case_decision_seconds_count"),
        "{body}"
    );
}

/// A report's desk is its case's (copied when filed, for the figures' index):
/// an article that moves desk leaves its open case, and the reports that
/// join it later, under the case's desk.
async fn reports_count_under_their_cases_desk_after_the_article_moves(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Viewer, &[]).await).await;
    article(&app, "mov", Some("politics"), 3).await;
    let first = case_on(&app, "mov", 0, "typo").await;
    article(&app, "mov", Some("sport"), 3).await;
    assert_eq!(case_on(&app, "mov", 0, "typo").await, first);
    // A new case opens under the article's new desk.
    case_on(&app, "mov", 1, "typo").await;
    let reports = |desk: &'static str| {
        let s = &s;
        async move {
            let (status, body) = s.get(&format!("/api/v1/stats?period=7&desk={desk}")).await;
            assert_eq!(status, 200, "{body}");
            (body["total_reports"].as_i64(), body["total_cases"].as_i64())
        }
    };
    assert_eq!(reports("politics").await, (Some(2), Some(1)));
    assert_eq!(reports("sport").await, (Some(1), Some(1)));
}

/// Every figure of the JSON for `queries` (`query`, days back from today
/// to the first day, desk) is its known answer.
async fn same_figures(s: &Session, seeds: &[Seed], now: NaiveDateTime, when: &str) {
    let today = now.date();
    for (query, back, desk) in [
        ("period=90", 89, None),
        ("period=30&desk=politics", 29, Some("politics")),
        ("period=7&desk=sport", 6, Some("sport")),
        ("period=7", 6, None),
    ] {
        let (status, got) = s.get(&format!("/api/v1/stats?{query}")).await;
        assert_eq!(status, 200, "{when}, {query}: {got}");
        let want = expected(seeds, today - Duration::days(back), today, desk, now);
        for key in want.as_object().unwrap().keys() {
            assert_eq!(got[key], want[key], "{when}, {query}: {key}");
        }
    }
}

/// Run `statement` on the app's database (test set-up and probes only).
async fn execute(app: &TestApp, statement: String) -> usize {
    app.app_state
        .write(move |conn| -> Result<usize, erratum::error::Problem> {
            Ok(diesel::sql_query(statement)
                .execute(conn)
                .map_err(erratum::db::DbError::from)?)
        })
        .await
        .unwrap()
}

/// The days that are over are counted once by the worker's scan
/// (`db::stats::rollup`) and read from those counts after: the figures stay
/// their known answers. A report moved to another day takes the mark off
/// both days, which are read from the reports again until the next scan.
async fn rolled_up_days_give_the_same_figures(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let now = Utc::now().naive_utc();
    let mut seeds = seed(&app, &s, now).await;
    let today = now.date();
    let day = |d: NaiveDate| (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days();
    same_figures(&s, &seeds, now, "nothing rolled up").await;

    app.app_state.mailer.scan(now).await.unwrap();
    let marked = marked_days(&app, "1 = 1").await;
    // From the first report, 100 days ago, to yesterday (or the day before,
    // in the first hour of a day): today is never rolled up.
    assert!((99..=100).contains(&marked), "{marked} days marked");
    same_figures(&s, &seeds, now, "rolled up").await;

    // The figures do come from the counts: a count changed behind the
    // rollup's back shows (three politics reports two days ago).
    let two_days_ago = day(today - Duration::days(2));
    let bumped = execute(
        &app,
        format!(
            "UPDATE report_days_categories SET reports = reports + 100 \
             WHERE day = {two_days_ago} AND desk = 'politics' AND category = 'factual_error'"
        ),
    )
    .await;
    assert_eq!(bumped, 1);
    let (_, got) = s.get("/api/v1/stats?period=7").await;
    let want = expected(&seeds, today - Duration::days(6), today, None, now);
    assert_eq!(
        got["total_reports"].as_i64().unwrap(),
        want["total_reports"].as_i64().unwrap() + 100
    );

    // An open politics case of ten days ago moves to two days ago: both
    // days lose their mark, the bumped count is no longer read.
    let moved = 5;
    assert_eq!(seeds[moved].sentence, 6);
    let new_first = midnight(today - Duration::days(2)) + Duration::hours(1);
    let old_day = day(seeds[moved].first.date());
    let case_id: String = {
        let first = seeds[moved].first;
        app.app_state
            .write(move |conn| -> Result<String, erratum::error::Problem> {
                // Stored times may have lost the clock's nanoseconds.
                let id: String = cases::table
                    .filter(cases::first_reported_at.gt(first - Duration::seconds(1)))
                    .filter(cases::first_reported_at.lt(first + Duration::seconds(1)))
                    .select(cases::id)
                    .first(conn)
                    .map_err(erratum::db::DbError::from)?;
                diesel::update(cases::table.find(&id))
                    .set((
                        cases::first_reported_at.eq(new_first),
                        cases::last_reported_at.eq(new_first),
                        cases::created_at.eq(new_first),
                    ))
                    .execute(conn)
                    .map_err(erratum::db::DbError::from)?;
                diesel::update(reports::table.filter(reports::case_id.eq(&id)))
                    .set(reports::created_at.eq(new_first))
                    .execute(conn)
                    .map_err(erratum::db::DbError::from)?;
                Ok(id)
            })
            .await
            .unwrap()
    };
    assert!(!case_id.is_empty());
    seeds[moved].first = new_first;
    for d in [old_day, two_days_ago] {
        let left = marked_days(&app, &format!("day = {d}")).await;
        assert_eq!(left, 0, "day {d} is no longer marked");
    }
    same_figures(&s, &seeds, now, "after the move").await;

    // The next scan counts the two days again.
    app.app_state.mailer.scan(now).await.unwrap();
    assert_eq!(marked_days(&app, "1 = 1").await, marked);
    same_figures(&s, &seeds, now, "rolled up again").await;
}

/// How many days are marked rolled up among those matching `condition`.
async fn marked_days(app: &TestApp, condition: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let q = format!("SELECT COUNT(*) AS n FROM report_days_done WHERE {condition}");
    app.app_state
        .write(move |conn| -> Result<i64, erratum::error::Problem> {
            Ok(diesel::sql_query(q)
                .get_result::<N>(conn)
                .map_err(erratum::db::DbError::from)?
                .n)
        })
        .await
        .unwrap()
}
