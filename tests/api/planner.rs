//! The planner on PostgreSQL: its statistics follow a young table's growth
//! (`db::planner`): the service analyses a table that has doubled since it
//! was last analysed, without waiting for autovacuum; and the writer's
//! batch of reports runs generic plans (`db::stable_plans`).

use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};

backend_tests!(
    a_grown_table_is_analysed_by_the_service,
    a_batch_of_reports_is_not_planned_again_for_each_batch,
    a_failed_batch_rolls_back_alone
);

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

#[derive(QueryableByName, Debug)]
struct Plans {
    #[diesel(sql_type = diesel::sql_types::Text)]
    statement: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    generic_plans: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    custom_plans: i64,
}

/// The batch's reads take arrays of varying length; PostgreSQL's default
/// planned them again on every batch (custom plans). The writer's
/// connection keeps the count of each kind per prepared statement.
async fn a_batch_of_reports_is_not_planned_again_for_each_batch(b: Backend) {
    let app = TestApp::spawn(b).await;
    // The first report opens the case (filed alone); the next ones join it
    // through the batch, one batch each, more than the five runs after
    // which PostgreSQL weighs a generic plan against custom ones.
    for _ in 0..8 {
        let r = app
            .post_report(crate::helpers::DEMO, &app.valid_report())
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    let plans = app
        .app_state
        .write(|conn| match conn {
            erratum::db::DbConn::Pg(c) => Ok(diesel::sql_query(
                "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements",
            )
            .load::<Plans>(c)?),
            erratum::db::DbConn::Sqlite(_) => Ok(Vec::new()),
        })
        .await
        .unwrap();
    if b == Backend::Sqlite {
        return; // SQLite's plans never depend on the values (stable_plans).
    }
    // The look-up of references already taken runs once per batch.
    let taken: Vec<&Plans> = plans
        .iter()
        .filter(|p| p.statement.contains(r#""reports"."reference" = ANY"#))
        .collect();
    assert_eq!(taken.len(), 1, "{plans:#?}");
    assert!(taken[0].generic_plans >= 7, "{:?}", taken[0]);
    assert_eq!(taken[0].custom_plans, 0, "{:?}", taken[0]);
    // The writer's other statements keep PostgreSQL's choice: the plan
    // mode ended with the batch's transaction.
    let shown = app
        .app_state
        .write(|conn| {
            #[derive(QueryableByName)]
            struct Mode {
                #[diesel(sql_type = diesel::sql_types::Text)]
                plan_cache_mode: String,
            }
            let erratum::db::DbConn::Pg(c) = conn else {
                unreachable!()
            };
            Ok(diesel::sql_query("SHOW plan_cache_mode")
                .get_result::<Mode>(c)?
                .plan_cache_mode)
        })
        .await
        .unwrap();
    assert_eq!(shown, "auto");
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = diesel::sql_types::Text)]
    plan_cache_mode: String,
}

/// The batch's savepoint (`db::stable_plans::in_generic_savepoint`): what
/// a failing batch wrote is rolled back and the writer's transaction goes
/// on (the reports are then filed one at a time, each in a savepoint of
/// its own, within the batch's, which is never released); what a batch
/// that succeeds wrote is committed with the rest.
async fn a_failed_batch_rolls_back_alone(b: Backend) {
    use erratum::db::DbError;
    use erratum::db::schema::rate_windows as w;
    use erratum::db::stable_plans::in_generic_savepoint;
    let app = TestApp::spawn(b).await;
    let t = erratum::db::now();
    let insert = move |c: &mut erratum::db::DbConn, bucket: &str| {
        diesel::insert_into(w::table)
            .values((w::bucket.eq(bucket), w::window_start.eq(t), w::hits.eq(1)))
            .execute(c)
    };
    let mode = app
        .app_state
        .writer
        .run(move |conn| -> Result<Option<String>, DbError> {
            let failed: Result<(), DbError> = in_generic_savepoint(conn, |c| {
                insert(c, "sp-a")?;
                insert(c, "sp-a")?;
                Ok(())
            });
            assert!(failed.is_err(), "the second insert repeats the key");
            insert(conn, "sp-b")?;
            let mode = in_generic_savepoint(conn, |c| -> Result<_, DbError> {
                insert(c, "sp-c")?;
                Ok(match c {
                    erratum::db::DbConn::Pg(pg) => Some(
                        diesel::sql_query("SHOW plan_cache_mode")
                            .get_result::<Setting>(pg)?
                            .plan_cache_mode,
                    ),
                    erratum::db::DbConn::Sqlite(_) => None,
                })
            })?;
            // A report filed alone after the batch: a savepoint within it.
            diesel::Connection::transaction(conn, |c| -> Result<(), DbError> {
                insert(c, "sp-d")?;
                Ok(())
            })?;
            Ok(mode)
        })
        .await
        .unwrap();
    if b == Backend::Postgres {
        assert_eq!(mode.as_deref(), Some("force_generic_plan"));
    }
    let mut kept: Vec<String> = app
        .app_state
        .read(|conn| {
            Ok(w::table
                .filter(w::bucket.like("sp-%"))
                .select(w::bucket)
                .load(conn)?)
        })
        .await
        .unwrap();
    kept.sort();
    assert_eq!(kept, ["sp-b", "sp-c", "sp-d"]);
}
