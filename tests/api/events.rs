//! Domain events and their consumers: each use case records its events in
//! its own transaction, and a consumer applies each event exactly once, even
//! when its process is killed between reading the events and acknowledging
//! them.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use erratum::domain::event::Event;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};

backend_tests!(
    reports_record_their_events_in_their_transaction,
    a_consumer_killed_between_reading_and_acknowledging_loses_and_repeats_nothing,
    the_consumers_probe_tells_and_seeks_the_log,
);

async fn events_of(app: &TestApp, case_id: &str) -> Vec<Event> {
    let id = case_id.to_string();
    app.app_state
        .read(move |conn| Ok(erratum::db::events::for_case(conn, &id)?))
        .await
        .unwrap()
}

async fn reports_record_their_events_in_their_transaction(b: Backend) {
    let app = TestApp::spawn(b).await;
    let r = app
        .post_report(crate::helpers::DEMO, &app.valid_report())
        .await;
    assert_eq!(r.status(), 201);
    let receipt: serde_json::Value = r.json().await.unwrap();
    let case_id = receipt["case_id"].as_str().unwrap();
    let kinds = |events: Vec<Event>| events.iter().map(|e| e.kind()).collect::<Vec<_>>();
    // A factual error on the demo article, published just now: the case is
    // escalated with its first report.
    assert_eq!(
        kinds(events_of(&app, case_id).await),
        ["report_filed", "case_opened", "case_escalated"]
    );
    // A second report on the same sentence files without opening nor
    // escalating again; a duplicate of it (same comment, same client)
    // records nothing.
    let second = app.valid_report();
    let r = app.post_report(crate::helpers::DEMO, &second).await;
    assert_eq!(r.status(), 201);
    let r = app.post_report(crate::helpers::DEMO, &second).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        kinds(events_of(&app, case_id).await),
        [
            "report_filed",
            "case_opened",
            "case_escalated",
            "report_filed"
        ]
    );
}

/// The demo article's sentences a report can quote, one case each.
const QUOTES: [&str; 3] = ["le 3 octobre", "Lim Eul-chul", "Kim Yong-kyun"];

async fn a_consumer_killed_between_reading_and_acknowledging_loses_and_repeats_nothing(b: Backend) {
    let app = TestApp::spawn(b).await;
    app.insert_editor("ed@news.example", &[], "fr").await;
    for (i, quote) in QUOTES.iter().enumerate() {
        let r = app
            .post_report(
                crate::helpers::DEMO,
                &json!({"quote": {"exact": quote}, "category": "typo",
                        "comment": format!("Coquille {i}.")}),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }

    // A worker process reads the events, writes their emails, then stops
    // before acknowledging (the fault injection) and is killed there.
    let mut worker = Command::new(env!("CARGO_BIN_EXE_erratum"))
        .args(["worker", "--drain"])
        .env("ERRATUM__DATABASE__URL", &app.database_url)
        .env("ERRATUM__EMAIL__FILE__DIR", app.dir().join("mail"))
        .env("ERRATUM__LOG__LEVEL", "warn")
        .env("ERRATUM_FAULT_PAUSE_AFTER_EVENTS_MS", "60000")
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stderr = worker.stderr.take().unwrap();
    let (seen_tx, seen_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("fault injection") {
                let _ = seen_tx.send(());
            }
        }
    });
    let paused = seen_rx.recv_timeout(Duration::from_secs(60)).is_ok();
    worker.kill().expect("SIGKILL");
    worker.wait().unwrap();
    assert!(
        paused,
        "the worker reached the point between reading and acknowledging"
    );

    // Nothing it did was committed: no email, the cursor where it was.
    let count = |app: &TestApp| {
        let state = app.app_state.clone();
        async move {
            state
                .read(|conn| {
                    use diesel::prelude::*;
                    use erratum::db::schema::outbox;
                    Ok(outbox::table.count().get_result::<i64>(conn)?)
                })
                .await
                .unwrap()
        }
    };
    assert_eq!(count(&app).await, 0, "the killed worker committed nothing");

    // The next consumer applies every event once: one new-case email per
    // case; running it again finds nothing more to do.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut handled = 0;
    while handled < QUOTES.len() * 2 && Instant::now() < deadline {
        handled += app.app_state.mailer.consume_events().await.unwrap();
        if handled < QUOTES.len() * 2 {
            // PostgreSQL ends the dead session's transaction on its own time.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(
        handled,
        QUOTES.len() * 2,
        "every report_filed and case_opened"
    );
    assert_eq!(count(&app).await, QUOTES.len() as i64);
    assert_eq!(app.app_state.mailer.consume_events().await.unwrap(), 0);
    assert_eq!(count(&app).await, QUOTES.len() as i64, "none twice");
}

async fn probe_pending(app: &TestApp) -> bool {
    app.app_state
        .read(|conn| Ok(erratum::db::events::pending(conn, "probe-test")?))
        .await
        .unwrap()
}

/// `events::pending` says whether events lie after a consumer's cursor;
/// on PostgreSQL its probe seeks the log's index even in the generic plan
/// a prepared statement gets after a few runs (as an `EXISTS`, that plan
/// scanned every event, all of which fail the test at the log's end).
async fn the_consumers_probe_tells_and_seeks_the_log(b: Backend) {
    use diesel::prelude::*;
    use erratum::db::schema::{event_cursors, events};
    let app = TestApp::spawn(b).await;
    let r = app
        .post_report(crate::helpers::DEMO, &app.valid_report())
        .await;
    assert_eq!(r.status(), 201);
    // No cursor yet: every event is after it.
    assert!(probe_pending(&app).await);
    // A cursor on the last event: nothing after it.
    app.app_state
        .read(|conn| {
            let (xid, id): (i64, i32) = events::table
                .order((events::xid.desc(), events::id.desc()))
                .select((events::xid, events::id))
                .first(conn)?;
            diesel::insert_into(event_cursors::table)
                .values((
                    event_cursors::consumer.eq("probe-test"),
                    event_cursors::last_xid.eq(xid),
                    event_cursors::last_id.eq(id),
                    event_cursors::updated_at.eq(erratum::db::now()),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    assert!(!probe_pending(&app).await);
    let r = app
        .post_report(crate::helpers::DEMO, &app.valid_report())
        .await;
    assert_eq!(r.status(), 201);
    assert!(probe_pending(&app).await);

    if b == Backend::Postgres {
        let plan = app
            .app_state
            .read(|conn| {
                use diesel::connection::SimpleConnection;
                #[derive(QueryableByName)]
                struct Line {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    #[diesel(column_name = "QUERY PLAN")]
                    line: String,
                }
                let erratum::db::DbConn::Pg(c) = conn else {
                    unreachable!()
                };
                // Uncommitted, so no consumer ever reads these events.
                c.batch_execute(
                    "BEGIN; \
                     INSERT INTO events (kind, payload, created_at) \
                     SELECT 'report_filed', '{}', now() FROM generate_series(1, 20000); \
                     ANALYZE events; SET LOCAL plan_cache_mode = force_generic_plan;",
                )?;
                let probe = erratum::db::events::PENDING_PG
                    .replacen('?', "$1", 1)
                    .replacen('?', "$2", 1);
                c.batch_execute(&format!(
                    "PREPARE erratum_probe_plan(bigint, int) AS {probe}"
                ))?;
                let plan =
                    diesel::sql_query("EXPLAIN EXECUTE erratum_probe_plan(9223372036854775807, 0)")
                        .load::<Line>(c)?;
                c.batch_execute("DEALLOCATE erratum_probe_plan; ROLLBACK;")?;
                Ok(plan
                    .into_iter()
                    .map(|l| l.line)
                    .collect::<Vec<_>>()
                    .join("\n"))
            })
            .await
            .unwrap();
        assert!(
            plan.contains("Index Only Scan using events_order_idx") && !plan.contains("Seq Scan"),
            "{plan}"
        );
    }
}
