//! Email after a crash: a restarted worker takes back its own claims at
//! once (its identity is stable), leases are short and renewed, every email
//! keeps one `Message-ID` derived from its row so a repeat can be dropped,
//! and dead-lettering needs both the tries and the age, so a short outage
//! never dead-letters mail.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use erratum::db::now;
use erratum::db::outbox as store;
use erratum::db::schema::outbox;
use erratum::notify::worker::Mailer;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::mail::spawn_smtp;
use crate::smtp::{Mode, SmtpServer};

backend_tests!(
    a_restarted_worker_takes_back_its_own_claims_at_once,
    leases_are_renewed_and_released_by_worker,
    every_email_keeps_a_message_id_derived_from_its_row,
    a_short_outage_never_dead_letters_mail,
);

/// A report whose new-case email the email consumer writes to the outbox.
async fn one_email(app: &TestApp, quote: &str) {
    app.report_on(quote, "typo", &format!("Coquille : {quote}."), None)
        .await;
    app.app_state.mailer.consume_events().await.unwrap();
}

async fn claim_as(app: &TestApp, token: &str, limit: i64) -> usize {
    let token = token.to_string();
    app.write(move |conn| {
        let t = now();
        Ok(store::claim(conn, &token, t, t + chrono::Duration::hours(1), limit)?.len())
    })
    .await
}

async fn a_restarted_worker_takes_back_its_own_claims_at_once(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_smtp(b, smtp.port, "").await;
    app.insert_editor("ed@news.example", &[], "fr").await;
    one_email(&app, "Kim Yong-kyun").await;
    one_email(&app, "Vladimir Poutine").await;

    // The worker's identity does not change when it starts again.
    let mailer = &app.app_state.mailer;
    let again = Mailer::new(
        &app.app_state.settings.email,
        app.app_state.settings.retention,
        app.app_state.pool.clone(),
        app.app_state.writer.clone(),
        app.app_state.public_url.clone(),
        app.app_state.settings.ui.time_zone(),
        std::sync::Arc::new(erratum::locales::Catalogs::built_in()),
    )
    .unwrap();
    assert_eq!(again.worker_id(), mailer.worker_id());
    assert!(!mailer.worker_id().is_empty());

    // One row was held by this worker's previous run when it died, one by
    // another worker that is still alive; both leases have an hour to go.
    let mine = format!("{}/previous-run", mailer.worker_id());
    assert_eq!(claim_as(&app, &mine, 1).await, 1);
    // A worker whose id merely starts the same is someone else.
    let other = format!("{}x/live", mailer.worker_id());
    assert_eq!(claim_as(&app, &other, 1).await, 1);
    assert_eq!(app.run_worker_once().await.sent, 0, "both are leased");

    assert_eq!(mailer.take_back_own_claims().await.unwrap(), 1);
    assert_eq!(app.run_worker_once().await.sent, 1, "its own row, at once");
    let rows = app.outbox_rows().await;
    let held: Vec<_> = rows.iter().filter(|r| r.status == "pending").collect();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].locked_by.as_deref(), Some(other.as_str()));
    assert_eq!(smtp.wait_for(1, Duration::from_secs(5)).len(), 1);
}

async fn leases_are_renewed_and_released_by_worker(b: Backend) {
    let app = spawn_smtp(b, crate::smtp::free_port(), "").await;
    app.insert_editor("ed@news.example", &[], "fr").await;
    one_email(&app, "Kim Yong-kyun").await;
    assert_eq!(claim_as(&app, "w-1/a", 5).await, 1);
    let until = |app: &TestApp| {
        let app_state = app.app_state.clone();
        async move {
            app_state
                .read(|conn| {
                    Ok(outbox::table
                        .select(outbox::locked_until)
                        .first::<Option<NaiveDateTime>>(conn)?)
                })
                .await
                .unwrap()
        }
    };
    let later = now() + chrono::Duration::hours(3);
    let renewed = app
        .write(move |conn| Ok(store::renew_lease(conn, "w-1/a", later)?))
        .await;
    assert_eq!(renewed, 1);
    let got = until(&app).await.unwrap();
    assert!((got - later).num_seconds().abs() <= 1, "{got} {later}");
    // Another claim's token renews nothing; `_` and `%` are no wildcards.
    let renewed = app
        .write(move |conn| Ok(store::renew_lease(conn, "w-1/b", later)?))
        .await;
    assert_eq!(renewed, 0);
    let released = app
        .write(|conn| Ok(store::release_claims_of(conn, "w_1", now())?))
        .await;
    assert_eq!(released, 0);
    let released = app
        .write(|conn| Ok(store::release_claims_of(conn, "w-%", now())?))
        .await;
    assert_eq!(released, 0);
    let released = app
        .write(|conn| Ok(store::release_claims_of(conn, "w-1", now())?))
        .await;
    assert_eq!(released, 1);
    assert_eq!(until(&app).await, None);

    // The defaults: bounded claims (a worker holds at most two), short
    // leases.
    let s = &app.app_state.settings.email;
    assert!(s.worker.batch_size <= 32 && s.worker.lease_secs <= 60);
    assert_eq!(s.dead_after_hours, 24);
}

async fn every_email_keeps_a_message_id_derived_from_its_row(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_smtp(b, smtp.port, "").await;
    app.insert_editor("ed@news.example", &[], "fr").await;
    one_email(&app, "Kim Yong-kyun").await;
    assert_eq!(app.run_worker_once().await.sent, 1);
    let row = app.outbox_rows().await.remove(0);
    let expected = format!("{}@news.example", row.id);
    let first = smtp.wait_for(1, Duration::from_secs(5));
    assert_eq!(first[0].parse().message_id(), Some(expected.as_str()));

    // Sent again (a crash before it was marked, replayed here by a
    // requeue): the same Message-ID, so the receiver can drop the repeat.
    let id = row.id.clone();
    app.write(move |conn| {
        diesel::update(outbox::table.find(&id))
            .set(outbox::status.eq("pending"))
            .execute(conn)?;
        Ok(store::requeue(conn, &id, now())?)
    })
    .await;
    assert_eq!(app.run_worker_once().await.sent, 1);
    let both = smtp.wait_for(2, Duration::from_secs(5));
    assert_eq!(both.len(), 2);
    assert_eq!(both[1].parse().message_id(), Some(expected.as_str()));
}

async fn a_short_outage_never_dead_letters_mail(b: Backend) {
    let smtp = SmtpServer::start();
    smtp.set_mode(Mode::TempFail);
    let app = spawn_smtp(
        b,
        smtp.port,
        "[email]\nmax_attempts = 2\nretry_base_secs = 0\nretry_max_secs = 0\n",
    )
    .await;
    app.insert_editor("ed@news.example", &[], "fr").await;
    one_email(&app, "Kim Yong-kyun").await;
    // Far more tries than max_attempts, all within the first hours: the
    // email waits.
    for _ in 0..4 {
        let stats = app.run_worker_once().await;
        assert_eq!(stats.dead, 0, "{stats:?}");
    }
    let row = app.outbox_rows().await.remove(0);
    assert_eq!(row.status, "pending");
    assert!(row.attempts >= 4, "{}", row.attempts);

    // A day old and out of tries: now it is dead.
    let id = row.id.clone();
    app.write(move |conn| {
        diesel::update(outbox::table.find(&id))
            .set(outbox::created_at.eq(now() - chrono::Duration::hours(25)))
            .execute(conn)?;
        Ok(())
    })
    .await;
    assert_eq!(app.run_worker_once().await.dead, 1);

    // The mail server comes back before the day is over: it goes out.
    one_email(&app, "Vladimir Poutine").await;
    for _ in 0..3 {
        app.run_worker_once().await;
    }
    smtp.set_mode(Mode::Accept);
    assert_eq!(app.run_worker_once().await.sent, 1);
}
