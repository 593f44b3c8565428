//! The settings and admin routes, mounted as the integration will mount
//! them, behind a stand-in for the editors' authentication extractor.

use actix_web::dev::Payload;
use actix_web::{App, FromRequest, HttpRequest, test};
use erratum::error::Problem;
use erratum::routes::notifications::{EditorIdentity, configure};
use futures_util::future::{Ready, ready};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::smtp::{Mode, SmtpServer};

backend_tests!(settings_and_outbox_routes_behind_authentication);

/// Who is calling: `x-editor` names them, `x-admin: 1` makes them an admin.
struct StandIn {
    id: String,
    admin: bool,
}

impl EditorIdentity for StandIn {
    fn editor_id(&self) -> &str {
        &self.id
    }
    fn is_admin(&self) -> bool {
        self.admin
    }
}

impl FromRequest for StandIn {
    type Error = Problem;
    type Future = Ready<Result<StandIn, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let header = |n: &str| {
            req.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        ready(match header("x-editor") {
            Some(id) => Ok(StandIn {
                id,
                admin: header("x-admin").as_deref() == Some("1"),
            }),
            None => Err(Problem::unauthorized("Log in first.")),
        })
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
    let svc = test::init_service(
        App::new()
            .app_data(app.app_state.clone())
            .configure(configure::<StandIn>),
    )
    .await;
    let call = |req: test::TestRequest| {
        let svc = &svc;
        async move {
            let resp = test::call_service(svc, req.to_request()).await;
            let status = resp.status().as_u16();
            let body: Value =
                serde_json::from_slice(&test::read_body(resp).await).unwrap_or(Value::Null);
            (status, body)
        }
    };

    let (s, _) = call(test::TestRequest::get().uri("/api/v1/me/notifications")).await;
    assert_eq!(s, 401);
    let (s, body) = call(
        test::TestRequest::get()
            .uri("/api/v1/me/notifications")
            .insert_header(("x-editor", ed.as_str())),
    )
    .await;
    assert_eq!(
        (s, &body["new_case"], &body["overdue"]),
        (200, &json!("immediate"), &json!("hourly"))
    );
    let (s, body) = call(
        test::TestRequest::put()
            .uri("/api/v1/me/notifications")
            .insert_header(("x-editor", ed.as_str()))
            .set_json(json!({"new_case": "daily"})),
    )
    .await;
    assert_eq!(
        (s, &body["new_case"], &body["escalation"]),
        (200, &json!("daily"), &json!("immediate"))
    );
    let (s, body) = call(
        test::TestRequest::put()
            .uri("/api/v1/me/notifications")
            .insert_header(("x-editor", ed.as_str()))
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
    let (s, _) = call(
        test::TestRequest::get()
            .uri("/api/v1/admin/outbox?status=dead")
            .insert_header(("x-editor", ed.as_str())),
    )
    .await;
    assert_eq!(s, 403, "editors are not admins");
    let as_admin = |req: test::TestRequest| {
        req.insert_header(("x-editor", admin.as_str()))
            .insert_header(("x-admin", "1"))
    };
    let (s, body) = call(as_admin(
        test::TestRequest::get().uri("/api/v1/admin/outbox?status=dead"),
    ))
    .await;
    assert_eq!((s, &body["counts"]["dead"]), (200, &json!(1)), "{body}");
    let id = body["entries"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(body["entries"][0]["recipient"], "b•••@news.example");
    let (s, _) = call(as_admin(
        test::TestRequest::get().uri("/api/v1/admin/outbox?status=lost"),
    ))
    .await;
    assert_eq!(s, 422);
    let (s, body) = call(as_admin(
        test::TestRequest::post().uri(&format!("/api/v1/admin/outbox/{id}/retry")),
    ))
    .await;
    assert_eq!((s, &body["status"]), (200, &json!("pending")));
    let (s, body) = call(as_admin(
        test::TestRequest::post().uri("/api/v1/admin/outbox/nope/retry"),
    ))
    .await;
    assert_eq!((s, &body["code"]), (404, &json!("outbox_entry_not_found")));
    smtp.set_mode(Mode::Accept);
    assert_eq!(app.run_worker_once().await.sent, 1);
    let (s, body) = call(as_admin(
        test::TestRequest::post().uri(&format!("/api/v1/admin/outbox/{id}/retry")),
    ))
    .await;
    assert_eq!((s, &body["code"]), (409, &json!("outbox_entry_final")));
    let (s, body) = call(as_admin(
        test::TestRequest::post().uri("/api/v1/admin/outbox/retry-dead"),
    ))
    .await;
    assert_eq!((s, &body["retried"]), (200, &json!(0)));
}
