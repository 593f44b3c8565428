//! The planner's statistics on PostgreSQL follow a young table's growth
//! (`db::planner`): the service analyses a table that has doubled since it
//! was last analysed, without waiting for autovacuum.

use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};

backend_tests!(a_grown_table_is_analysed_by_the_service);

#[derive(QueryableByName)]
struct Tuples {
    #[diesel(sql_type = diesel::sql_types::Double)]
    n: f64,
}

async fn planner_rows(app: &TestApp) -> f64 {
    app.app_state
        .read(|conn| {
            let erratum::db::DbConn::Pg(c) = conn else {
                unreachable!()
            };
            Ok(diesel::sql_query(
                "SELECT reltuples::float8 AS n FROM pg_class WHERE oid = 'rate_windows'::regclass",
            )
            .get_result::<Tuples>(c)?
            .n)
        })
        .await
        .unwrap()
}

async fn a_grown_table_is_analysed_by_the_service(b: Backend) {
    let app = TestApp::spawn(b).await;
    if b == Backend::Sqlite {
        // SQLite's statements are planned again after its own ANALYZE.
        let analysed = erratum::app::planner::refresh(&app.app_state)
            .await
            .unwrap();
        assert!(analysed.is_empty(), "{analysed:?}");
        return;
    }
    // Analysed empty at start.
    assert!(planner_rows(&app).await <= 0.0);
    let grown = erratum::db::planner::GROWN_FROM * 3;
    app.app_state
        .read(move |conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute(&format!(
                "INSERT INTO rate_windows (bucket, window_start, hits) \
                 SELECT 'planner-test-' || i, now(), 1 FROM generate_series(1, {grown}) i"
            ))?;
            Ok(())
        })
        .await
        .unwrap();
    // The service's own look (every few seconds) analyses it; the table's
    // activity reaches PostgreSQL's statistics within a second or so.
    let started = Instant::now();
    let mut rows = planner_rows(&app).await;
    while rows < grown as f64 && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        rows = planner_rows(&app).await;
    }
    assert_eq!(rows, grown as f64, "rate_windows was not analysed");
    // Its statistics are fresh now: a look leaves it alone.
    let analysed = erratum::app::planner::refresh(&app.app_state)
        .await
        .unwrap();
    assert!(
        !analysed.contains(&"rate_windows".to_string()),
        "{analysed:?}"
    );
}
