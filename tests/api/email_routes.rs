//! The settings and admin routes, behind the editors' real authentication
//! (a personal API token per account).

use erratum::auth::secret;
use erratum::domain::actor::Who;
use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::smtp::{Mode, SmtpServer};

backend_tests!(settings_and_outbox_routes_behind_authentication);

/// A personal API token for an account inserted by the test.
async fn token_for(app: &TestApp, editor_id: &str) -> String {
    let token = secret::new_api_token();
    let (digest, id) = (secret::digest(&token), editor_id.to_string());
    app.write(move |conn| {
        Ok(erratum::db::editors::create_token(
            conn,
            &Who::Cli,
            &id,
            "test",
            &digest,
            "ert_",
            None,
        )?)
    })
    .await;
    token
}

/// A request: its method, path, bearer token (none: anonymous) and JSON body.
struct Call {
    method: Method,
    path: String,
    token: Option<String>,
    json: Option<Value>,
}

impl Call {
    fn get(path: &str) -> Self {
        Call {
            method: Method::GET,
            path: path.into(),
            token: None,
            json: None,
        }
    }
    fn put(path: &str) -> Self {
        Call {
            method: Method::PUT,
            ..Call::get(path)
        }
    }
    fn post(path: &str) -> Self {
        Call {
            method: Method::POST,
            ..Call::get(path)
        }
    }
    fn by(mut self, token: &str) -> Self {
        self.token = Some(token.to_string());
        self
    }
    fn set_json(mut self, v: Value) -> Self {
        self.json = Some(v);
        self
    }
}

async fn settings_and_outbox_routes_behind_authentication(b: Backend) {
    let smtp = SmtpServer::start();
    smtp.set_mode(Mode::TempFail);
    let app: TestApp = crate::mail::spawn_smtp(
        b,
        smtp.port,
        "[email]\nmax_attempts = 1\ndead_after_hours = 0\n",
    )
    .await;
    let ed = app.insert_editor("ed@news.example", &[], "fr").await;
    let admin = app
        .insert_staff("boss@news.example", &[], "fr", "admin")
        .await;
    let (ed, admin) = (token_for(&app, &ed).await, token_for(&app, &admin).await);
    let call = |req: Call| {
        let app = &app;
        async move {
            let mut r = app.client.request(req.method, app.url(&req.path));
            if let Some(t) = req.token {
                r = r.bearer_auth(t);
            }
            if let Some(j) = req.json {
                r = r.json(&j);
            }
            let resp = r.send().await.unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            (status, body)
        }
    };

    let (s, _) = call(Call::get("/api/v1/me/notifications")).await;
    assert_eq!(s, 401);
    let (s, body) = call(Call::get("/api/v1/me/notifications").by(&ed)).await;
    assert_eq!(
        (s, &body["new_case"], &body["overdue"]),
        (200, &json!("immediate"), &json!("hourly"))
    );
    let (s, body) = call(
        Call::put("/api/v1/me/notifications")
            .by(&ed)
            .set_json(json!({"new_case": "daily"})),
    )
    .await;
    assert_eq!(
        (s, &body["new_case"], &body["escalation"]),
        (200, &json!("daily"), &json!("immediate"))
    );
    let (s, body) = call(
        Call::put("/api/v1/me/notifications")
            .by(&ed)
            .set_json(json!({"new_case": "weekly"})),
    )
    .await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("new_case"))
    );

    // An email that fails once is dead (max_attempts = 1); admins see and retry it.
    app.report_on("Kim Yong-kyun", "typo", "Coquille.", None)
        .await;
    app.run_worker_once().await;
    let (s, _) = call(Call::get("/api/v1/admin/outbox?status=dead").by(&ed)).await;
    assert_eq!(s, 403, "editors are not admins");
    let as_admin = |req: Call| req.by(&admin);
    let (s, body) = call(as_admin(Call::get("/api/v1/admin/outbox?status=dead"))).await;
    assert_eq!((s, &body["counts"]["dead"]), (200, &json!(1)), "{body}");
    let id = body["entries"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(body["entries"][0]["recipient"], "b•••@news.example");
    let (s, _) = call(as_admin(Call::get("/api/v1/admin/outbox?status=lost"))).await;
    assert_eq!(s, 422);
    let (s, body) = call(as_admin(Call::post(&format!(
        "/api/v1/admin/outbox/{id}/retry"
    ))))
    .await;
    assert_eq!((s, &body["status"]), (200, &json!("pending")));
    let (s, body) = call(as_admin(Call::post("/api/v1/admin/outbox/nope/retry"))).await;
    assert_eq!((s, &body["code"]), (404, &json!("outbox_entry_not_found")));
    smtp.set_mode(Mode::Accept);
    assert_eq!(app.run_worker_once().await.sent, 1);
    let (s, body) = call(as_admin(Call::post(&format!(
        "/api/v1/admin/outbox/{id}/retry"
    ))))
    .await;
    assert_eq!((s, &body["code"]), (409, &json!("outbox_entry_final")));
    let (s, body) = call(as_admin(Call::post("/api/v1/admin/outbox/retry-dead"))).await;
    assert_eq!((s, &body["retried"]), (200, &json!(0)));
}
