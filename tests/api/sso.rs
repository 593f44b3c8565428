//! Single sign-on against a real OpenID provider: `oidc-provider` run by
//! Node from `tests/oidc/provider.mjs` (installed with `npm ci` on first
//! use). Without Node these tests are skipped, unless
//! `ERRATUM_REQUIRE_BROWSER=1`, where that is a failure.

use std::process::Stdio;
use std::sync::Mutex;

use diesel::prelude::*;
use erratum::db::schema::{audit_log, editors};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::backend_tests;
use crate::editor_ui::browser;
use crate::helpers::{Backend, TestApp};
use crate::staff;

backend_tests!(
    a_mapped_user_is_created_once_and_lands_in_the_queue,
    group_mapping_sets_role_and_desks,
    disallowed_domain_unmapped_and_disabled_users_are_refused,
    the_bootstrap_address_becomes_the_first_admin_only_without_one,
    a_wrong_or_missing_state_is_refused,
    bad_id_tokens_are_refused,
    a_rotated_signing_key_is_fetched_again,
    local_passwords_can_be_turned_off,
);

// ---- the provider -----------------------------------------------------------

static INSTALL: Mutex<bool> = Mutex::new(false);

fn provider_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// Whether Node is here (skip without it, unless it is required).
fn node_available() -> bool {
    let ok = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("ERRATUM_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("ERRATUM_REQUIRE_BROWSER=1 but Node.js is not installed");
        }
        eprintln!("skipped: Node.js is not installed (needed for the OpenID provider)");
    }
    ok
}

/// `npm ci` once per test process, when the packages are not there yet.
fn install() {
    let mut done = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if *done || provider_dir().join("node_modules/oidc-provider").is_dir() {
        *done = true;
        return;
    }
    let status = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(provider_dir())
        .status()
        .expect("npm runs");
    assert!(status.success(), "npm ci in tests/oidc failed");
    *done = true;
}

struct Idp {
    issuer: String,
    http: reqwest::Client,
    _child: tokio::process::Child,
}

impl Idp {
    async fn start() -> Option<Idp> {
        if !node_available() {
            return None;
        }
        tokio::task::spawn_blocking(install).await.unwrap();
        let mut child = tokio::process::Command::new("node")
            .arg("provider.mjs")
            .current_dir(provider_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(std::time::Duration::from_secs(120), lines.next_line())
            .await
            .expect("the provider starts within two minutes")
            .unwrap()
            .expect("the provider prints its issuer");
        // Keep reading, so that the provider never writes into a closed pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let v: Value = serde_json::from_str(&line).unwrap();
        Some(Idp {
            issuer: v["issuer"].as_str().unwrap().to_string(),
            http: reqwest::Client::new(),
            _child: child,
        })
    }

    async fn control(&self, path: &str, body: Value) {
        let r = self
            .http
            .post(format!("{}/_test/{path}", self.issuer))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "provider control {path}");
    }

    /// The app's settings for this provider, with `extra` TOML lines in
    /// `[auth.oidc]`.
    fn settings(&self, extra: &str) -> String {
        format!(
            r#"
[auth.oidc]
enabled = true
issuer = "{}"
client_id = "erratum"
client_secret = "erratum-test-secret-0123456789abcdef"
scopes = ["openid", "email", "profile", "groups"]
display_name = "Newsroom ID"
allowed_domains = ["news.example"]
{extra}

[[auth.oidc.groups]]
group = "erratum-readers"
role = "viewer"

[[auth.oidc.groups]]
group = "politics"
role = "editor"
desks = ["politique"]

[[auth.oidc.groups]]
group = "world"
role = "editor"
desks = ["monde"]

[[auth.oidc.groups]]
group = "chiefs"
role = "admin"
"#,
            self.issuer
        )
    }

    /// Point the client at the app and register users.
    async fn serve(&self, app: &TestApp, users: Value) {
        self.control(
            "setup",
            json!({
                "redirect_uris": [app.url("/editor/login/oidc/callback")],
                "users": users,
            }),
        )
        .await;
    }
}

/// The app and the provider, or `None` when Node is absent.
async fn start(backend: Backend, extra: &str, users: Value) -> Option<(TestApp, Idp)> {
    let idp = Idp::start().await?;
    let app = TestApp::spawn_with(backend, &idp.settings(extra)).await;
    idp.serve(&app, users).await;
    Some((app, idp))
}

fn user(email: &str, groups: &[&str]) -> Value {
    json!({ "email": email, "groups": groups, "name": format!("Name of {email}") })
}

// ---- the browser's part -----------------------------------------------------

/// Follow redirects (any host) until a page answers, or until the next hop
/// is the app's callback, which is returned unfetched.
async fn follow(
    c: &reqwest::Client,
    app: &TestApp,
    mut r: reqwest::Response,
) -> Result<String, reqwest::Response> {
    let callback = app.url("/editor/login/oidc/callback");
    for _ in 0..20 {
        if !r.status().is_redirection() {
            return Err(r);
        }
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        let next = r.url().join(&loc).unwrap().to_string();
        if next.starts_with(&callback) {
            return Ok(next);
        }
        r = c.get(&next).send().await.unwrap();
    }
    panic!("too many redirects");
}

/// Start at "Sign in with", log in at the provider as `login`, and stop at
/// the redirect back to the app: (the browser, the callback URL).
async fn to_callback(app: &TestApp, login: &str) -> (reqwest::Client, String) {
    let c = browser();
    let r = c
        .get(app.url("/editor/login/oidc?next=/editor/&lang=en"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let page = match follow(&c, app, r).await {
        Err(page) => page,
        Ok(url) => panic!("no login form, straight to {url}"),
    };
    let form_url = page.url().clone();
    let html = page.text().await.unwrap();
    let marker = "action=\"";
    let start = html.find(marker).expect("the provider's login form") + marker.len();
    let action = &html[start..start + html[start..].find('"').unwrap()];
    let r = c
        .post(form_url.join(action).unwrap())
        .form(&[
            ("prompt", "login"),
            ("login", login),
            ("password", "anything"),
        ])
        .send()
        .await
        .unwrap();
    match follow(&c, app, r).await {
        Ok(callback) => (c, callback),
        Err(r) => panic!("the provider did not send the browser back: {}", r.status()),
    }
}

/// The whole sign-in: (status of the callback, its Location or page text, the browser).
async fn sign_in(app: &TestApp, login: &str) -> (u16, String, reqwest::Client) {
    let (c, callback) = to_callback(app, login).await;
    let r = c.get(&callback).send().await.unwrap();
    let status = r.status().as_u16();
    let out = match r.headers().get("location") {
        Some(l) => l.to_str().unwrap().to_string(),
        None => r.text().await.unwrap(),
    };
    (status, out, c)
}

fn reason(page: &str) -> &str {
    let marker = "data-reason=\"";
    let start = page.find(marker).expect("a refusal page") + marker.len();
    &page[start..start + page[start..].find('"').unwrap()]
}

async fn account(app: &TestApp, email: &str) -> Option<(String, String, bool)> {
    let email = email.to_string();
    app.app_state
        .read(move |conn| {
            Ok(editors::table
                .filter(editors::email.eq(&email))
                .select((editors::id, editors::desks, editors::disabled))
                .first(conn)
                .optional()?)
        })
        .await
        .unwrap()
}

async fn creations_by(app: &TestApp, kind: &str, id: &str) -> i64 {
    let (kind, id) = (kind.to_string(), id.to_string());
    app.app_state
        .read(move |conn| {
            Ok(audit_log::table
                .filter(audit_log::actor_kind.eq(&kind))
                .filter(audit_log::action.eq("create"))
                .filter(audit_log::subject_id.eq(&id))
                .count()
                .get_result(conn)?)
        })
        .await
        .unwrap()
}

async fn me(app: &TestApp, c: &reqwest::Client) -> Value {
    let r = c.get(app.url("/api/v1/auth/me")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.json().await.unwrap()
}

// ---- the tests --------------------------------------------------------------

async fn a_mapped_user_is_created_once_and_lands_in_the_queue(backend: Backend) {
    let users = json!({ "ana": user("Ana@News.Example", &["politics"]) });
    let Some((app, _idp)) = start(backend, "", users).await else {
        return;
    };
    let (status, location, c) = sign_in(&app, "ana").await;
    assert_eq!(status, 303, "{location}");
    assert_eq!(location, "/editor/");
    let queue = c.get(app.url("/editor/")).send().await.unwrap();
    assert_eq!(queue.status().as_u16(), 200);
    let me1 = me(&app, &c).await;
    assert_eq!(me1["editor"]["email"], "ana@news.example");
    assert_eq!(me1["editor"]["name"], "Name of Ana@News.Example");
    let (id, _, _) = account(&app, "ana@news.example").await.expect("created");
    assert_eq!(creations_by(&app, "sso", &id).await, 1);

    // The second sign-in finds the account: no second one, no second entry.
    let (status, _, c2) = sign_in(&app, "ana").await;
    assert_eq!(status, 303);
    assert_eq!(me(&app, &c2).await["editor"]["id"], id.as_str());
    assert_eq!(creations_by(&app, "sso", &id).await, 1);
    let n = app
        .app_state
        .read(|conn| {
            Ok(editors::table
                .filter(editors::email.eq("ana@news.example"))
                .count()
                .get_result::<i64>(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(n, 1);
}

async fn group_mapping_sets_role_and_desks(backend: Backend) {
    let users = json!({
        "reader": user("reader@news.example", &["erratum-readers", "unrelated"]),
        "both": user("both@news.example", &["politics", "world", "erratum-readers"]),
        "chief": user("chief@news.example", &["politics", "chiefs"]),
    });
    let Some((app, _idp)) = start(backend, "", users).await else {
        return;
    };
    for (login, role, desks) in [
        ("reader", "viewer", json!([])),
        ("both", "editor", json!(["politique", "monde"])),
        ("chief", "admin", json!([])),
    ] {
        let (status, _, c) = sign_in(&app, login).await;
        assert_eq!(status, 303, "{login}");
        let me = me(&app, &c).await;
        assert_eq!(me["editor"]["role"], role, "{login}");
        assert_eq!(me["editor"]["desks"], desks, "{login}");
    }
}

async fn disallowed_domain_unmapped_and_disabled_users_are_refused(backend: Backend) {
    let users = json!({
        "outsider": user("eve@elsewhere.example", &["chiefs"]),
        "nogroup": user("bob@news.example", &["marketing"]),
        "unverified": { "email": "unv@news.example", "email_verified": false, "groups": ["chiefs"] },
    });
    let Some((app, idp)) = start(backend, "", users).await else {
        return;
    };
    for (login, why) in [
        ("outsider", "domain_not_allowed"),
        ("nogroup", "not_mapped"),
        ("unverified", "email_not_verified"),
    ] {
        let (status, page, c) = sign_in(&app, login).await;
        assert_eq!(status, 403, "{login}");
        assert_eq!(reason(&page), why, "{login}");
        let r = c.get(app.url("/api/v1/auth/me")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "{login} has no session");
    }
    assert!(account(&app, "eve@elsewhere.example").await.is_none());
    assert!(account(&app, "bob@news.example").await.is_none());

    // A disabled account stays disabled, whatever the groups say.
    let s = staff::add(&app, erratum::domain::editor::Role::Editor, &[]).await;
    let admin = staff::add(&app, erratum::domain::editor::Role::Admin, &[]).await;
    let admin = staff::login(&app, &admin).await;
    let (status, _) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/editors/{}", s.id),
            Some(&json!({"disabled": true})),
        )
        .await;
    assert_eq!(status, 200);
    idp.control(
        "setup",
        json!({ "users": { "gone": user(&s.email, &["chiefs"]) } }),
    )
    .await;
    let (status, page, _) = sign_in(&app, "gone").await;
    assert_eq!(status, 403);
    assert_eq!(reason(&page), "disabled");
    assert!(account(&app, &s.email).await.unwrap().2);
}

async fn the_bootstrap_address_becomes_the_first_admin_only_without_one(backend: Backend) {
    let users = json!({
        "boss": user("boss@news.example", &[]),
        "late": user("late@news.example", &[]),
    });
    let extra = r#"bootstrap_admin_email = "Boss@news.example""#;
    let Some((app, idp)) = start(backend, extra, users).await else {
        return;
    };
    let (status, _, c) = sign_in(&app, "boss").await;
    assert_eq!(status, 303);
    let me = me(&app, &c).await;
    assert_eq!(me["editor"]["role"], "admin");
    let id = me["editor"]["id"].as_str().unwrap().to_string();
    assert_eq!(creations_by(&app, "setup", &id).await, 1);
    // Without groups, the bootstrap account keeps its way in.
    let (status, _, _) = sign_in(&app, "boss").await;
    assert_eq!(status, 303);

    // Once an admin exists, the address is nothing special for a newcomer:
    // another app on the same provider whose admin exists already.
    let app2 = TestApp::spawn_with(backend, &idp.settings(extra)).await;
    staff::add(&app2, erratum::domain::editor::Role::Admin, &[]).await;
    idp.serve(&app2, json!({})).await;
    let (status, page, _) = sign_in(&app2, "boss").await;
    assert_eq!(status, 403);
    assert_eq!(reason(&page), "not_mapped");
    assert!(account(&app2, "boss@news.example").await.is_none());
    // An address that is not the bootstrap one never becomes admin.
    let (status, page, _) = sign_in(&app, "late").await;
    assert_eq!((status, reason(&page)), (403, "not_mapped"));
}

async fn a_wrong_or_missing_state_is_refused(backend: Backend) {
    let users = json!({ "ana": user("ana@news.example", &["chiefs"]) });
    let Some((app, _idp)) = start(backend, "", users).await else {
        return;
    };
    // The state is swapped for another value.
    let (c, callback) = to_callback(&app, "ana").await;
    let mut url = url::Url::parse(&callback).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                "forged-state".to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let r = c.get(url.as_str()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(reason(&r.text().await.unwrap()), "state");

    // The right callback in another browser (no pending cookie).
    let (_, callback) = to_callback(&app, "ana").await;
    let r = browser().get(&callback).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(reason(&r.text().await.unwrap()), "state");

    // A tampered cookie signature.
    let (c, callback) = to_callback(&app, "ana").await;
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(&callback)
        .header("cookie", "erratum_oidc=e30.0000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    drop(c);
    assert!(account(&app, "ana@news.example").await.is_none());
}

async fn bad_id_tokens_are_refused(backend: Backend) {
    let users = json!({ "ana": user("ana@news.example", &["chiefs"]) });
    let Some((app, idp)) = start(backend, "", users).await else {
        return;
    };
    for mode in ["expired", "wrong_nonce", "unknown_key"] {
        idp.control("mode", json!({ "mode": mode })).await;
        idp.serve(&app, json!({})).await;
        let (status, page, c) = sign_in(&app, "ana").await;
        assert_eq!(status, 403, "{mode}");
        assert_eq!(reason(&page), "token", "{mode}");
        let r = c.get(app.url("/api/v1/auth/me")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "{mode}");
    }
    assert!(account(&app, "ana@news.example").await.is_none());
    // The same provider, behaving: signed in.
    idp.control("mode", json!({ "mode": null })).await;
    let (status, _, _) = sign_in(&app, "ana").await;
    assert_eq!(status, 303);
}

async fn a_rotated_signing_key_is_fetched_again(backend: Backend) {
    let users = json!({ "ana": user("ana@news.example", &["chiefs"]) });
    // Keys cached for an hour: only the unknown key makes the app read them.
    let Some((app, idp)) = start(backend, "cache_secs = 3600", users).await else {
        return;
    };
    let (status, _, _) = sign_in(&app, "ana").await;
    assert_eq!(status, 303);
    idp.control("rotate", json!({})).await;
    let (status, location, c) = sign_in(&app, "ana").await;
    assert_eq!(status, 303, "{location}");
    assert_eq!(me(&app, &c).await["editor"]["email"], "ana@news.example");
}

async fn local_passwords_can_be_turned_off(backend: Backend) {
    let Some((app, _idp)) = start(backend, "local_passwords = false", json!({})).await else {
        return;
    };
    let s = staff::add(&app, erratum::domain::editor::Role::Editor, &[]).await;
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": s.email, "password": s.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "password_login_disabled");
    let r = app
        .client
        .post(app.url("/api/v1/auth/password-reset"))
        .json(&json!({"email": s.email}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // The login page offers the provider only.
    let page = app
        .client
        .get(app.url("/editor/login?lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Sign in with Newsroom ID"), "{page}");
    assert!(!page.contains("name=\"password\""));
}
