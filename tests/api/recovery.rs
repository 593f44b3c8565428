//! Password resets by email and the first admin's one-time setup link.

use diesel::prelude::*;
use erratum::db::schema::{outbox, password_resets, setup_tokens};
use erratum::domain::editor::Role;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::editor_ui::{browser, csrf_of, get_page, post_form};
use crate::helpers::{Backend, TestApp};
use crate::mail::{emails, raw_header, token_after};
use crate::staff::{self, add, login};

backend_tests!(
    a_reset_link_sets_the_password_once_and_ends_every_session,
    known_unknown_and_disabled_addresses_get_the_same_answer,
    reset_requests_are_rate_limited_per_client_and_per_address,
    expired_reset_links_are_refused,
    the_pages_reset_a_password_with_csrf,
    the_setup_link_creates_the_first_admin_once,
    expired_or_stale_setup_links_are_refused,
    serve_prints_the_setup_link_on_a_new_installation,
);

async fn ask_reset(app: &TestApp, email: &str) -> (u16, String) {
    let r = app
        .client
        .post(app.url("/api/v1/auth/password-reset"))
        .json(&json!({ "email": email }))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> (u16, Value) {
    let r = app
        .client
        .post(app.url("/api/v1/auth/password-reset/confirm"))
        .json(&json!({ "token": token, "new_password": password }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn login_status(app: &TestApp, email: &str, password: &str) -> u16 {
    reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The reset token of an email's link (from its text part).
fn reset_token(raw: &str) -> String {
    token_after(raw, "/editor/password/reset?token=")
}

async fn send_emails(app: &TestApp) -> Vec<String> {
    // Resets are written after the answer, queued before it: a later write
    // through the same writer commits after them.
    app.write(|_| Ok(())).await;
    app.run_worker_once().await;
    emails(app)
}

async fn a_reset_link_sets_the_password_once_and_ends_every_session(b: Backend) {
    let app = staff::spawn(b).await;
    let ed = add(&app, Role::Editor, &[]).await;
    let s1 = login(&app, &ed).await;
    let s2 = login(&app, &ed).await;

    let (status, body) = ask_reset(&app, &ed.email.to_uppercase()).await;
    assert_eq!(status, 202, "{body}");
    assert!(body.is_empty());
    let sent = send_emails(&app).await;
    assert_eq!(sent.len(), 1);
    let raw = &sent[0];
    assert!(raw_header(raw, "To").unwrap().contains(&ed.email), "{raw}");
    // A request of one's own: no unsubscribe link.
    assert_eq!(raw_header(raw, "List-Unsubscribe"), None);
    assert!(raw.contains("mot de passe"), "French account, French email");
    let token = reset_token(raw);
    assert_eq!(token.len(), 43, "{token}");

    // Neither the token nor the link is stored: the reset row has its hash,
    // the outbox row the reset's id.
    let stored = app
        .write(|conn| {
            let hashes: Vec<String> = password_resets::table
                .select(password_resets::token_hash)
                .load(conn)?;
            let payloads: Vec<String> = outbox::table.select(outbox::payload).load(conn)?;
            Ok((hashes, payloads))
        })
        .await;
    assert_eq!(
        stored.0,
        vec![erratum::domain::text::sha256_hex(&token)],
        "only the hash"
    );
    assert!(
        stored.1.iter().all(|p| !p.contains(&token)),
        "{:?}",
        stored.1
    );

    let (status, body) = confirm(&app, &token, "short").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "new_password");
    let new = "a brand new passphrase 77";
    let (status, body) = confirm(&app, &token, new).await;
    assert_eq!(status, 204, "{body}");

    // Every session ended; the old password no longer works, the new one does.
    for s in [&s1, &s2] {
        assert_eq!(s.get("/api/v1/auth/me").await.0, 401);
    }
    assert_eq!(login_status(&app, &ed.email, &ed.password).await, 401);
    assert_eq!(login_status(&app, &ed.email, new).await, 200);

    // Once only.
    let (status, body) = confirm(&app, &token, "yet another passphrase").await;
    assert_eq!(status, 422);
    assert_eq!(body["code"], "reset_token_invalid");
    assert_eq!(login_status(&app, &ed.email, new).await, 200);
    // A made-up token is refused the same way.
    let (status, body) = confirm(&app, &"x".repeat(43), "yet another passphrase").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("reset_token_invalid"))
    );
}

async fn known_unknown_and_disabled_addresses_get_the_same_answer(b: Backend) {
    let app = staff::spawn(b).await;
    let admin = add(&app, Role::Admin, &[]).await;
    let known = add(&app, Role::Viewer, &[]).await;
    let disabled = add(&app, Role::Editor, &[]).await;
    let s = login(&app, &admin).await;
    let (status, _) = s
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/editors/{}", disabled.id),
            Some(&json!({"disabled": true})),
        )
        .await;
    assert_eq!(status, 200);

    let answers = [
        ask_reset(&app, &known.email).await,
        ask_reset(&app, "nobody@news.example").await,
        ask_reset(&app, &disabled.email).await,
    ];
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, 202);
    // A malformed address is a 422 whoever asks.
    assert_eq!(ask_reset(&app, "not an address").await.0, 422);

    let sent = send_emails(&app).await;
    assert_eq!(sent.len(), 1, "only the enabled account gets a link");
    assert!(raw_header(&sent[0], "To").unwrap().contains(&known.email));
}

async fn reset_requests_are_rate_limited_per_client_and_per_address(b: Backend) {
    let app = staff::spawn_with(
        b,
        "[auth]\nreset_per_ip_per_hour = 3\nreset_per_account_per_hour = 1\n",
    )
    .await;
    let ed = add(&app, Role::Editor, &[]).await;
    // The address's limit: the same answer, no second email.
    assert_eq!(ask_reset(&app, &ed.email).await.0, 202);
    assert_eq!(ask_reset(&app, &ed.email).await.0, 202);
    assert_eq!(send_emails(&app).await.len(), 1);
    // The client's limit: a 429 with Retry-After, whatever the address.
    assert_eq!(ask_reset(&app, "nobody@news.example").await.0, 202);
    let r = app
        .client
        .post(app.url("/api/v1/auth/password-reset"))
        .json(&json!({ "email": "someone@news.example" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
}

async fn expired_reset_links_are_refused(b: Backend) {
    let app = staff::spawn(b).await;
    let ed = add(&app, Role::Editor, &[]).await;
    assert_eq!(ask_reset(&app, &ed.email).await.0, 202);
    let token = reset_token(&send_emails(&app).await[0]);
    // 30 minutes and a second later.
    app.write(|conn| {
        let created: chrono::NaiveDateTime = password_resets::table
            .select(password_resets::created_at)
            .first(conn)?;
        diesel::update(password_resets::table)
            .set((
                password_resets::created_at.eq(created - chrono::Duration::seconds(1801)),
                password_resets::expires_at.eq(created - chrono::Duration::seconds(1)),
            ))
            .execute(conn)?;
        Ok(())
    })
    .await;
    let (status, body) = confirm(&app, &token, "a brand new passphrase 77").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("reset_token_invalid"))
    );
    assert_eq!(login_status(&app, &ed.email, &ed.password).await, 200);
    let (status, html) = get_page(
        &app,
        &browser(),
        &format!("/editor/password/reset?token={token}"),
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"link-invalid\""), "{html}");
}

async fn the_pages_reset_a_password_with_csrf(b: Backend) {
    let app = staff::spawn(b).await;
    let ed = add(&app, Role::Editor, &[]).await;
    let c = browser();
    let (status, html) = get_page(&app, &c, "/editor/login?lang=en").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("href=\"/editor/password/forgot?lang=en\""),
        "{html}"
    );
    let (status, html) = get_page(&app, &c, "/editor/password/forgot?lang=en").await;
    assert_eq!(status, 200);
    let csrf = csrf_of(&html);

    // Without the page's token (another site's form): refused.
    let r = post_form(
        &app,
        &browser(),
        "/editor/password/forgot",
        &[("csrf_token", &csrf), ("email", &ed.email)],
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(send_emails(&app).await.is_empty());

    for email in [ed.email.as_str(), "nobody@news.example"] {
        let r = post_form(
            &app,
            &c,
            "/editor/password/forgot",
            &[("csrf_token", &csrf), ("email", email), ("lang", "en")],
        )
        .await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"reset-sent\""), "{html}");
        assert!(html.contains("If an account has this address"), "{html}");
    }
    let token = reset_token(&send_emails(&app).await[0]);

    let path = format!("/editor/password/reset?token={token}");
    let (status, html) = get_page(&app, &c, &path).await;
    assert_eq!(status, 200);
    let csrf = csrf_of(&html);
    assert!(html.contains(&format!("name=\"token\" value=\"{token}\"")));
    let new = "a brand new passphrase 77";
    let r = post_form(
        &app,
        &c,
        "/editor/password/reset",
        &[
            ("csrf_token", &csrf),
            ("token", &token),
            ("new_password", new),
            ("confirm_password", "something else entirely"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let r = post_form(
        &app,
        &c,
        "/editor/password/reset",
        &[
            ("csrf_token", &csrf),
            ("token", &token),
            ("new_password", new),
            ("confirm_password", new),
            ("lang", "en"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        "/editor/login?reset=1&lang=en"
    );
    assert_eq!(login_status(&app, &ed.email, new).await, 200);
    let (status, html) = get_page(&app, &c, &path).await;
    assert_eq!(status, 422, "used");
    assert!(html.contains("id=\"link-invalid\""));
}

async fn setup_rows(app: &TestApp) -> Vec<String> {
    app.write(|conn| {
        Ok(setup_tokens::table
            .select(setup_tokens::token_hash)
            .load::<String>(conn)?)
    })
    .await
}

async fn the_setup_link_creates_the_first_admin_once(b: Backend) {
    let app = staff::spawn(b).await;
    let link = erratum::app::recovery::setup_link(&app.app_state)
        .await
        .unwrap()
        .expect("no admin yet: a link");
    let token = link.split("token=").nth(1).unwrap().to_string();
    assert!(link.starts_with(&app.url("/editor/setup?token=")), "{link}");
    assert_eq!(
        setup_rows(&app).await,
        vec![erratum::domain::text::sha256_hex(&token)],
        "only the hash is stored"
    );

    let c = browser();
    let path = format!("/editor/setup?token={token}");
    let (status, html) = get_page(&app, &c, &path).await;
    assert_eq!(status, 200, "{html}");
    let csrf = csrf_of(&html);
    let password = "the first admin's passphrase";
    let form = |csrf: &str, confirm: &str| {
        vec![
            ("csrf_token".to_string(), csrf.to_string()),
            ("token".into(), token.clone()),
            ("email".into(), "Chief@News.example".into()),
            ("name".into(), "Chief".into()),
            ("language".into(), "en".into()),
            ("password".into(), password.into()),
            ("confirm_password".into(), confirm.into()),
        ]
    };
    // Another site's form, without the cookie: refused.
    let r = browser()
        .post(app.url("/editor/setup"))
        .form(&form(&csrf, password))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .post(app.url("/editor/setup"))
        .form(&form(&csrf, "not the same one"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = c
        .post(app.url("/editor/setup"))
        .form(&form(&csrf, password))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        "/editor/login?setup=1&lang=en"
    );

    // The admin signs in with the chosen password, hashed with Argon2id.
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "chief@news.example", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["editor"]["role"], "admin");
    assert_eq!(body["editor"]["language"], "en");
    let hash: String = app
        .write(|conn| {
            use erratum::db::schema::editors;
            Ok(editors::table.select(editors::password_hash).first(conn)?)
        })
        .await;
    assert!(hash.starts_with("$argon2id$"));

    // Used: the page and the form refuse it, and no new link is made.
    let (status, html) = get_page(&app, &c, &path).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"link-invalid\""));
    let r = c
        .post(app.url("/editor/setup"))
        .form(&form(&csrf, password))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        erratum::app::recovery::setup_link(&app.app_state)
            .await
            .unwrap()
            .is_none()
    );
}

async fn expired_or_stale_setup_links_are_refused(b: Backend) {
    let app = staff::spawn(b).await;
    let first = erratum::app::recovery::setup_link(&app.app_state)
        .await
        .unwrap()
        .unwrap();
    let second = erratum::app::recovery::setup_link(&app.app_state)
        .await
        .unwrap()
        .unwrap();
    let c = browser();
    let path = |link: &str| {
        format!(
            "/editor/setup?token={}",
            link.split("token=").nth(1).unwrap()
        )
    };
    // Only the link printed last works.
    assert_eq!(get_page(&app, &c, &path(&first)).await.0, 422);
    assert_eq!(get_page(&app, &c, &path(&second)).await.0, 200);
    // 24 hours later it no longer does.
    app.write(|conn| {
        diesel::update(setup_tokens::table)
            .set(setup_tokens::expires_at.eq(erratum::db::now() - chrono::Duration::seconds(1)))
            .execute(conn)?;
        Ok(())
    })
    .await;
    assert_eq!(get_page(&app, &c, &path(&second)).await.0, 422);
    // Once an admin exists (made from the shell), no link is made.
    add(&app, Role::Admin, &[]).await;
    assert!(
        erratum::app::recovery::setup_link(&app.app_state)
            .await
            .unwrap()
            .is_none()
    );
}

/// `erratum serve` on a new installation prints the link, which works.
async fn serve_prints_the_setup_link_on_a_new_installation(b: Backend) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let (database_url, pg) = match b {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("erratum.db").display()),
            None,
        ),
        Backend::Postgres => {
            let admin = crate::helpers::postgres_admin_url().unwrap();
            let (url, name) = crate::helpers::create_pg_database(&admin);
            (url, Some((admin, name)))
        }
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_erratum"))
        .arg("serve")
        .current_dir(dir.path())
        .env("ERRATUM__DATABASE__URL", &database_url)
        .env("ERRATUM__SERVER__PORT", "0")
        .env("ERRATUM__LOG__FORMAT", "json")
        .env("ERRATUM__LOG__LEVEL", "info")
        .env("ERRATUM__EMAIL__FILE__DIR", dir.path().join("mail"))
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let link = loop {
        let line = lines
            .next()
            .expect("the server prints a setup link")
            .unwrap();
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && let Some(url) = v["setup_url"].as_str()
        {
            break url.to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let c = browser();
    let r = c.get(&link).send().await.unwrap();
    let status = r.status().as_u16();
    let html = r.text().await.unwrap();
    let base = link.split("/editor/").next().unwrap().to_string();
    let password = "the first admin's passphrase";
    let r = c
        .post(format!("{base}/editor/setup"))
        .form(&[
            ("csrf_token", csrf_of(&html).as_str()),
            ("token", link.split("token=").nth(1).unwrap()),
            ("email", "chief@news.example"),
            ("name", "Chief"),
            ("language", "fr"),
            ("password", password),
            ("confirm_password", password),
        ])
        .send()
        .await
        .unwrap();
    let created = r.status().as_u16();
    let login = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "chief@news.example", "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    let _ = child.kill();
    let _ = child.wait();
    if let Some((admin, name)) = pg {
        crate::helpers::drop_pg_database(&admin, &name);
    }
    assert_eq!((status, created, login), (200, 303, 200), "{html}");
}
