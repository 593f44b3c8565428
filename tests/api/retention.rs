//! `[retention]`: readers' addresses are erased some time after their case is
//! resolved, idempotency keys after a few days; the worker's scan does it.

use chrono::Duration;
use diesel::prelude::*;
use erratum::db::retention::{SweepLimits, Swept, Walk};
use erratum::db::schema::{cases, idempotency_keys, reports};
use erratum::domain::editor::Role;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::staff::{self, QUOTES, add, login};

backend_tests!(
    addresses_and_idempotency_keys_are_forgotten_in_time,
    a_backlog_is_swept_a_bounded_number_at_a_time,
    the_sweep_walks_the_resolved_cases_a_few_at_a_time,
);

/// Every report's (case id, address, notify).
async fn addresses(app: &TestApp) -> Vec<(String, Option<String>, bool)> {
    app.app_state
        .read(|conn| {
            Ok(reports::table
                .select((reports::case_id, reports::reporter_email, reports::notify))
                .load(conn)?)
        })
        .await
        .unwrap()
}

async fn idempotency_key_count(app: &TestApp) -> i64 {
    app.app_state
        .read(|conn| Ok(idempotency_keys::table.count().get_result(conn)?))
        .await
        .unwrap()
}

/// How many of `rows` (from `addresses`) still have an address.
fn kept(rows: Vec<(String, Option<String>, bool)>) -> usize {
    rows.iter().filter(|(_, e, _)| e.is_some()).count()
}

/// An app keeping readers' addresses 30 days, with three cases resolved
/// now, each with one report that left an address.
async fn three_resolved_with_addresses(b: Backend) -> TestApp {
    let app = staff::spawn_with(b, "[retention]\nreporter_email_days = 30\n").await;
    let admin = add(&app, Role::Admin, &[]).await;
    let s = login(&app, &admin).await;
    for (i, quote) in QUOTES.iter().take(3).enumerate() {
        let case = staff::report(&app, quote, "typo", Some(&format!("r{i}@example.org"))).await;
        let (status, _) = s
            .act(&case, "resolve", Some(json!({"resolution": "no_change"})))
            .await;
        assert_eq!(status, 200);
    }
    app
}

/// One sweep as of `at`, in a writer job as the worker runs it.
async fn sweep_once(
    app: &TestApp,
    at: chrono::NaiveDateTime,
    walk: Walk,
    limits: SweepLimits,
) -> Swept {
    let retention = app.app_state.settings.retention;
    app.app_state
        .writer
        .run(move |conn| -> Result<Swept, erratum::db::DbError> {
            Ok(erratum::db::retention::sweep(
                conn, at, &retention, walk, limits,
            )?)
        })
        .await
        .unwrap()
}

async fn addresses_and_idempotency_keys_are_forgotten_in_time(b: Backend) {
    let app = staff::spawn_with(
        b,
        "[retention]\nreporter_email_days = 30\nidempotency_key_days = 7\n",
    )
    .await;
    let admin = add(&app, Role::Admin, &[]).await;
    let s = login(&app, &admin).await;

    // A report with an Idempotency-Key and an address, on a case resolved now…
    let body = json!({
        "quote": {"exact": QUOTES[0]},
        "category": "typo",
        "comment": "Une coquille dans cette phrase.",
        "reporter": {"email": "lectrice@example.org", "notify": true},
    });
    let send = || {
        reqwest::Client::new()
            .post(app.url("/api/v1/articles/demo-coree-du-nord/reports"))
            .header("Idempotency-Key", "retention-test-key")
            .json(&body)
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    let resolved = first["case_id"].as_str().unwrap().to_string();
    assert_eq!(
        s.act(
            &resolved,
            "resolve",
            Some(json!({"resolution": "no_change"}))
        )
        .await
        .0,
        200
    );
    // …and one on a case still open.
    let open = staff::report(
        &app,
        QUOTES[1],
        "factual_error",
        Some("lecteur@example.org"),
    )
    .await;
    assert_eq!(idempotency_key_count(&app).await, 1);

    let now = erratum::db::now();
    let scan = |days: i64| {
        let app = &app;
        async move {
            app.app_state
                .mailer
                .scan(now + Duration::days(days))
                .await
                .unwrap()
        }
    };
    let address_of = |rows: &[(String, Option<String>, bool)], case: &str| {
        rows.iter()
            .find(|(c, _, _)| c == case)
            .map(|(_, e, n)| (e.clone(), *n))
            .unwrap()
    };

    // A day later nothing is forgotten: a retry still gets the first answer.
    scan(1).await;
    let replay: Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(replay["report_id"], first["report_id"]);
    assert_eq!(idempotency_key_count(&app).await, 1);

    // After a week the key is gone; the address stays until 30 days after
    // the resolution.
    scan(8).await;
    assert_eq!(idempotency_key_count(&app).await, 0);
    let rows = addresses(&app).await;
    assert_eq!(
        address_of(&rows, &resolved),
        (Some("lectrice@example.org".into()), true)
    );

    scan(31).await;
    let rows = addresses(&app).await;
    assert_eq!(address_of(&rows, &resolved), (None, false), "erased");
    assert_eq!(
        address_of(&rows, &open),
        (Some("lecteur@example.org".into()), true),
        "an open case keeps its readers' addresses"
    );
    // The case keeps its reports, their text and its reader count.
    let (status, case) = s.get(&format!("/api/v1/cases/{resolved}")).await;
    assert_eq!(status, 200);
    assert_eq!(case["reports"].as_array().unwrap().len(), 1);
    assert_eq!(
        case["reports"][0]["comment"],
        "Une coquille dans cette phrase."
    );
    assert!(case["reports"][0]["reporter_email"].is_null());
}

/// A sweep forgets `limit` addresses at most and says whether more are due
/// (the worker then sweeps again, each sweep one short writer job).
async fn a_backlog_is_swept_a_bounded_number_at_a_time(b: Backend) {
    let app = three_resolved_with_addresses(b).await;
    let later = erratum::db::now() + Duration::days(31);
    let walk = Walk {
        from: None,
        leftovers: true,
    };
    let sweep = |limit: i64| {
        let limits = SweepLimits {
            reports: limit,
            cases: 1000,
        };
        sweep_once(&app, later, walk, limits)
    };
    let first = sweep(2).await;
    assert_eq!((first.reporter_emails, first.more), (2, true));
    assert_eq!(kept(addresses(&app).await), 1);
    let second = sweep(2).await;
    assert_eq!((second.reporter_emails, second.more), (1, false));
    assert_eq!(kept(addresses(&app).await), 0);
    let third = sweep(2).await;
    assert_eq!((third.reporter_emails, third.more), (0, false));

    // Unlinked too: no report keeps its reader's key.
    let keys: Vec<String> = app
        .app_state
        .read(|conn| Ok(reports::table.select(reports::reporter_key).load(conn)?))
        .await
        .unwrap();
    assert!(keys.iter().all(|k| k.starts_with("erased:")), "{keys:?}");
}

/// Each sweep looks at `cases` resolved cases at most, in resolution order,
/// and the next goes on from its `through`: a minute's sweep reads the
/// cases resolved since the last cut-off, not the whole history. Cases
/// resolved at one instant stay in one sweep, however many.
async fn the_sweep_walks_the_resolved_cases_a_few_at_a_time(b: Backend) {
    let app = three_resolved_with_addresses(b).await;
    let now = erratum::db::now();
    let later = now + Duration::days(31);
    let sweep = |at: chrono::NaiveDateTime, from: Option<chrono::NaiveDateTime>| {
        let walk = Walk {
            from,
            leftovers: false,
        };
        let limits = SweepLimits {
            reports: 1000,
            cases: 1,
        };
        sweep_once(&app, at, walk, limits)
    };
    // Walks the whole history from `from`; each sweep's erasures, and where
    // the walk ended.
    let walk = |at: chrono::NaiveDateTime, mut from: Option<chrono::NaiveDateTime>| {
        let sweep = &sweep;
        async move {
            let mut erased = Vec::new();
            for _ in 0..10 {
                let swept = sweep(at, from).await;
                erased.push(swept.reporter_emails);
                from = swept.through;
                if !swept.more {
                    return (erased, from);
                }
            }
            panic!("the walk did not end: {erased:?}");
        }
    };
    let cutoff = later - Duration::days(30);

    // One case a sweep, in three sweeps at least, up to the cut-off.
    let (erased, through) = walk(later, None).await;
    assert_eq!(erased.iter().sum::<usize>(), 3, "{erased:?}");
    assert!(erased.iter().all(|n| *n <= 1), "{erased:?}");
    assert_eq!(through, Some(cutoff));
    assert_eq!(kept(addresses(&app).await), 0);

    // An address that came to a case the walk had passed (by a merge, say)
    // is found by a walk of the whole history, not by one from `through`.
    let give_back = || {
        app.app_state
            .writer
            .run(|conn| -> Result<usize, erratum::db::DbError> {
                Ok(diesel::update(reports::table)
                    .set(reports::reporter_email.eq("back@example.org"))
                    .execute(conn)?)
            })
    };
    assert_eq!(give_back().await.unwrap(), 3);
    let (erased, _) = walk(later, through).await;
    assert_eq!(erased.iter().sum::<usize>(), 0, "{erased:?}");
    let (erased, _) = walk(later, None).await;
    assert_eq!(erased.iter().sum::<usize>(), 3, "{erased:?}");

    // Three cases resolved at one instant: one sweep takes all three.
    give_back().await.unwrap();
    let at_once = now - Duration::hours(1);
    app.app_state
        .writer
        .run(move |conn| -> Result<usize, erratum::db::DbError> {
            Ok(
                diesel::update(cases::table.filter(cases::resolved_at.is_not_null()))
                    .set(cases::resolved_at.eq(at_once))
                    .execute(conn)?,
            )
        })
        .await
        .unwrap();
    let (erased, through) = walk(later, None).await;
    assert!(erased.contains(&3), "{erased:?}");
    assert_eq!(through, Some(cutoff));
    // A sweep from the cut-off, a minute later, finds nothing left.
    let (erased, _) = walk(later + Duration::minutes(1), through).await;
    assert_eq!(erased, vec![0]);
}
