//! `erratum dev seed`: the scale dataset of issue 19, on both backends, has
//! the shape its documentation gives (`seed_cli`), and is left as a server
//! that ran through its history would have left it: scores stored, the
//! search index caught up, the dashboard's days rolled up.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use erratum::db::schema::{articles, cases, reports};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};

backend_tests!(the_scale_dataset_has_the_documented_shape);

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn the_scale_dataset_has_the_documented_shape(b: Backend) {
    let app = TestApp::spawn(b).await;
    let mut settings = app.app_state.settings.clone();
    settings.database.url = app.database_url.clone();
    erratum::seed_cli::seed(settings, 12, 3000).await.unwrap();

    type Row = (String, Option<String>, NaiveDateTime, String);
    let (rows, case_rows, desks, scored, rolled, pending) = app
        .app_state
        .read(|conn| {
            let seeded = || {
                articles::table
                    .filter(articles::external_id.like("seed-%"))
                    .select(articles::id)
            };
            let rows: Vec<Row> = reports::table
                .filter(reports::article_id.eq_any(seeded()))
                .select((
                    reports::case_id,
                    reports::reporter_email,
                    reports::created_at,
                    reports::category,
                ))
                .load(conn)?;
            let case_rows: Vec<(String, String, i32)> = cases::table
                .filter(cases::article_id.eq_any(seeded()))
                .select((cases::id, cases::status, cases::priority_tenths))
                .load(conn)?;
            let desks: Vec<Option<String>> = articles::table
                .filter(articles::external_id.like("seed-%"))
                .select(articles::desk)
                .distinct()
                .load(conn)?;
            let scored = erratum::db::cases::scored_at(conn)?;
            let rolled = diesel::sql_query("SELECT COUNT(*) AS n FROM report_days_done")
                .get_result::<Count>(conn)?
                .n;
            let pending = match conn {
                erratum::db::DbConn::Sqlite(c) => {
                    diesel::sql_query("SELECT COUNT(*) AS n FROM search_fts_pending")
                        .get_result::<Count>(c)?
                        .n
                }
                erratum::db::DbConn::Pg(_) => 0,
            };
            Ok((rows, case_rows, desks, scored, rolled, pending))
        })
        .await
        .unwrap();

    assert_eq!(rows.len(), 3000, "as many reports as asked");
    // Most cases small, a few large.
    let mut per_case = std::collections::HashMap::<&str, usize>::new();
    for (case, ..) in &rows {
        *per_case.entry(case.as_str()).or_default() += 1;
    }
    let small = per_case.values().filter(|n| **n <= 3).count();
    assert!(
        small * 10 >= per_case.len() * 7,
        "{small} of {}",
        per_case.len()
    );
    assert!(per_case.values().any(|n| *n >= 5), "some busy cases");
    assert_eq!(per_case.len(), case_rows.len());
    // Statuses and categories mixed, several desks.
    let statuses: HashSet<&str> = case_rows.iter().map(|(_, s, _)| s.as_str()).collect();
    assert!(
        statuses.contains("resolved") && statuses.len() >= 3,
        "{statuses:?}"
    );
    let categories: HashSet<&str> = rows.iter().map(|(.., c)| c.as_str()).collect();
    assert!(categories.len() >= 5, "{categories:?}");
    assert!(desks.len() >= 3, "{desks:?}");
    // About 5 % of reports with an email.
    let with_email = rows.iter().filter(|(_, e, ..)| e.is_some()).count();
    assert!((60..=300).contains(&with_email), "{with_email} of 3000");
    // History over about two years.
    let first = rows.iter().map(|(_, _, t, _)| *t).min().unwrap();
    let last = rows.iter().map(|(_, _, t, _)| *t).max().unwrap();
    assert!((last - first).num_days() > 365, "{first} .. {last}");
    // Left as a running server leaves it.
    assert!(scored.is_some(), "scores stored");
    assert!(case_rows.iter().any(|(.., p)| *p > 0), "priorities stored");
    assert!(rolled > 300, "{rolled} days rolled up");
    assert_eq!(pending, 0, "the search index caught up");
}
