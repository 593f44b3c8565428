//! Rate limits hold across instances (issue 12): two instances on one
//! database (in-process, each with its own pool, writer and in-memory
//! limiters) share one allowance per client, per account, per article.

use chrono::{Timelike, Utc};
use erratum::domain::editor::Role;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, DEMO, TestApp};
use crate::staff::{self, add};

backend_tests!(
    report_limits_hold_across_instances,
    login_limits_hold_across_instances,
);

async fn report_limits_hold_across_instances(b: Backend) {
    let extra = "[intake.rate_limit]\nper_ip_per_day = 3\n";
    // A window can end while the test runs (at midnight UTC): run again then.
    for _ in 0..2 {
        let day = Utc::now().date_naive();
        let a = TestApp::spawn_with(b, extra).await;
        let other = a.spawn_beside(extra).await;
        let mut statuses = Vec::new();
        for app in [&a, &other, &a] {
            statuses.push(
                app.post_report(DEMO, &a.valid_report())
                    .await
                    .status()
                    .as_u16(),
            );
        }
        // Each instance alone has seen at most two: only the shared count
        // refuses the fourth and fifth.
        let fourth = other.post_report(DEMO, &a.valid_report()).await;
        let fourth_status = fourth.status().as_u16();
        let retry_after = fourth.headers().get("retry-after").cloned();
        let fourth_body: Value = fourth.json().await.unwrap_or(Value::Null);
        let fifth = a
            .post_report(DEMO, &a.valid_report())
            .await
            .status()
            .as_u16();
        if Utc::now().date_naive() != day {
            continue;
        }
        assert_eq!(statuses, [201, 201, 201]);
        assert_eq!(fourth_status, 429, "{fourth_body}");
        assert_eq!(fourth_body["code"], "rate_limited");
        assert!(retry_after.is_some(), "Retry-After on the refusal");
        assert_eq!(fifth, 429);
        // A refusal is not counted: the database holds three hits.
        let hits = a
            .app_state
            .read(|conn| -> Result<i64, erratum::error::Problem> {
                use diesel::prelude::*;
                use erratum::db::schema::rate_windows;
                Ok(rate_windows::table
                    .filter(rate_windows::bucket.like("%:report-ip-day"))
                    .select(diesel::dsl::sum(rate_windows::hits))
                    .first::<Option<i64>>(conn)?
                    .unwrap_or(0))
            })
            .await
            .unwrap();
        assert_eq!(hits, 3);
        // Nothing raw is stored as a key: no address, no article id.
        let buckets: Vec<String> = a
            .app_state
            .read(|conn| -> Result<Vec<String>, erratum::error::Problem> {
                use diesel::prelude::*;
                use erratum::db::schema::rate_windows;
                Ok(rate_windows::table
                    .select(rate_windows::bucket)
                    .load(conn)?)
            })
            .await
            .unwrap();
        assert!(
            buckets.iter().all(|k| !k.contains("127.0.0.1")),
            "{buckets:?}"
        );
        return;
    }
    panic!("two windows ended during the test");
}

async fn login_limits_hold_across_instances(b: Backend) {
    let extra = "[auth]\nlogin_per_ip_per_minute = 10000\nlogin_per_account_per_hour = 2\n";
    for _ in 0..2 {
        let hour = Utc::now().hour();
        let a = staff::spawn_with(b, extra).await;
        let other = a.spawn_beside(extra).await;
        let ed = add(&a, Role::Editor, &[]).await;
        let login = |app: &TestApp, password: &str| {
            app.client
                .post(app.url("/api/v1/auth/login"))
                .json(&json!({"email": ed.email, "password": password}))
                .send()
        };
        let first = login(&a, "wrong password here")
            .await
            .unwrap()
            .status()
            .as_u16();
        let second = login(&other, "wrong password here")
            .await
            .unwrap()
            .status()
            .as_u16();
        // Each instance has seen one attempt; the account's allowance is
        // spent on the two together, so even the right password waits.
        let third = login(&a, &ed.password).await.unwrap();
        let third_status = third.status().as_u16();
        let retry_after = third.headers().get("retry-after").cloned();
        if Utc::now().hour() != hour {
            continue;
        }
        assert_eq!([first, second], [401, 401]);
        assert_eq!(third_status, 429);
        assert!(retry_after.is_some());
        return;
    }
    panic!("two windows ended during the test");
}
