//! Helpers for the newsroom side: accounts made directly in the database,
//! logged-in sessions (a cookie jar and the CSRF token), and reports.

use std::sync::atomic::{AtomicU64, Ordering};

use erratum::db::editors::{self as store, NewEditor};
use erratum::domain::actor::Who;
use erratum::domain::editor::{EditorEmail, Password, Role};
use serde_json::{Value, json};

use crate::helpers::{Backend, DEMO, TestApp};

static N: AtomicU64 = AtomicU64::new(0);

/// An app whose login limits do not get in the way of tests that log in a lot.
pub async fn spawn(b: Backend) -> TestApp {
    spawn_with(b, "").await
}

pub async fn spawn_with(b: Backend, extra: &str) -> TestApp {
    let base = "[auth]\nlogin_per_ip_per_minute = 10000\nlogin_per_account_per_hour = 10000\n";
    let mut doc: toml::Table = base.parse().unwrap();
    for (k, v) in extra.parse::<toml::Table>().unwrap() {
        match (doc.get_mut(&k), v) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => a.extend(b),
            (_, v) => {
                doc.insert(k, v);
            }
        }
    }
    TestApp::spawn_with(b, &toml::to_string(&doc).unwrap()).await
}

#[derive(Debug, Clone)]
pub struct Staff {
    pub id: String,
    pub email: String,
    pub password: String,
}

/// Create an account directly (as the command line would).
pub async fn add(app: &TestApp, role: Role, desks: &[&str]) -> Staff {
    let n = N.fetch_add(1, Ordering::Relaxed);
    let email = format!("{}{n}@news.example", role.as_str());
    let password = format!("correct horse battery {n}");
    let hash = erratum::auth::password::hash(&Password::parse(&password).unwrap()).unwrap();
    let new = NewEditor {
        email: EditorEmail::parse(&email).unwrap(),
        name: format!("{} {n}", role.as_str()),
        role,
        desks: desks.iter().map(|d| d.to_string()).collect(),
        language: erratum::domain::article::Language::Fr,
        password_hash: hash,
    };
    let row = app
        .app_state
        .write(move |conn| -> Result<_, erratum::error::Problem> {
            Ok(store::create(conn, &Who::Cli, &new)?.expect("a new address"))
        })
        .await
        .unwrap();
    Staff {
        id: row.id,
        email,
        password,
    }
}

/// A logged-in browser: its own cookie jar, and the CSRF token.
pub struct Session {
    pub client: reqwest::Client,
    pub csrf: String,
    pub editor: Value,
    base: String,
}

pub async fn login(app: &TestApp, who: &Staff) -> Session {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": who.email, "password": who.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "login of {}", who.email);
    let body: Value = r.json().await.unwrap();
    Session {
        client,
        csrf: body["csrf_token"].as_str().unwrap().to_string(),
        editor: body["editor"].clone(),
        base: app.address.clone(),
    }
}

impl Session {
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A request with the CSRF header, and a JSON body when given.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("X-CSRF-Token", &self.csrf);
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    /// `POST /api/v1/cases/{id}/{action}`.
    pub async fn act(&self, case_id: &str, action: &str, body: Option<Value>) -> (u16, Value) {
        self.post(&format!("/api/v1/cases/{case_id}/{action}"), body.as_ref())
            .await
    }
}

/// File a report on the demo article's sentence containing `quote`; answers
/// the case id.
pub async fn report(app: &TestApp, quote: &str, category: &str, email: Option<&str>) -> String {
    let n = N.fetch_add(1, Ordering::Relaxed);
    let mut body = json!({
        "quote": {"exact": quote},
        "category": category,
        "comment": format!("Remarque numéro {n} sur « {quote} »."),
    });
    if let Some(e) = email {
        body["reporter"] = json!({"email": e, "notify": true});
    }
    let r = app.post_report(DEMO, &body).await;
    assert_eq!(r.status(), 201);
    let receipt: Value = r.json().await.unwrap();
    receipt["case_id"].as_str().unwrap().to_string()
}

/// Like `report`, answering the whole receipt (with its status link).
pub async fn report_receipt(app: &TestApp, quote: &str, category: &str) -> Value {
    let n = N.fetch_add(1, Ordering::Relaxed);
    let r = app
        .post_report(
            DEMO,
            &json!({
                "quote": {"exact": quote},
                "category": category,
                "comment": format!("Remarque numéro {n}."),
                "reporter": {"email": format!("lectrice{n}@example.org"), "notify": true},
            }),
        )
        .await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

/// Every audit entry about a case, oldest first: (action, before, after).
pub async fn audit_of(app: &TestApp, case_id: &str) -> Vec<(String, Option<Value>, Option<Value>)> {
    let id = case_id.to_string();
    app.app_state
        .read(move |conn| {
            use diesel::prelude::*;
            use erratum::db::schema::audit_log;
            let rows: Vec<(String, Option<String>, Option<String>)> = audit_log::table
                .filter(audit_log::subject_type.eq("case"))
                .filter(audit_log::subject_id.eq(&id))
                .order((audit_log::created_at.asc(), audit_log::id.asc()))
                .select((
                    audit_log::action,
                    audit_log::before_state,
                    audit_log::after_state,
                ))
                .load(conn)?;
            Ok(rows
                .into_iter()
                .map(|(a, b, c)| {
                    let parse = |s: Option<String>| s.map(|s| serde_json::from_str(&s).unwrap());
                    (a, parse(b), parse(c))
                })
                .collect())
        })
        .await
        .unwrap()
}

/// Distinct sentences of the demo article to report on (one case each).
pub const QUOTES: [&str; 8] = [
    "le 3 octobre",
    "Kim Yong-kyun",
    "forte probabilité de pertes",
    "Vladimir Poutine à Pyongyang en juin",
    "Des combattants étrangers",
    "des milliers de conteneurs d'armes",
    "Lim Eul-chul",
    "veto de Moscou",
];

/// An article of `n` sentences, sentence `i` containing the marker `k{i}x`.
pub async fn article(app: &TestApp, external_id: &str, desk: Option<&str>, n: usize) {
    let body: Vec<String> = (0..n)
        .map(|i| format!("Le dossier k{i}x avance lentement."))
        .collect();
    let r = app
        .put_article(
            external_id,
            &json!({"url": format!("https://news.example/{external_id}"),
                "title": format!("Article {external_id}"), "language": "fr", "desk": desk,
                "body_text": body.join("\n\n")}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
}

/// A report on sentence `i` of an article made by `article`; answers the case id.
pub async fn case_on(app: &TestApp, external_id: &str, i: usize, category: &str) -> String {
    let n = N.fetch_add(1, Ordering::Relaxed);
    let r = app
        .post_report(
            external_id,
            &json!({"quote": {"exact": format!("k{i}x")}, "category": category,
                "comment": format!("Remarque {n} sur le dossier.")}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let receipt: Value = r.json().await.unwrap();
    receipt["case_id"].as_str().unwrap().to_string()
}
