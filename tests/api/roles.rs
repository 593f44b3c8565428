//! The whole matrix: every staff endpoint × (anonymous, viewer, editor of
//! another desk, editor of the case's desk, admin), and the public ones.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use erratum::domain::editor::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::staff::{self, Session, Staff, add, login};

backend_tests!(
    every_endpoint_enforces_the_roles,
    every_endpoint_is_documented
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    Anonymous,
    Viewer,
    OtherDesk,
    Editor,
    Admin,
}

const EVERYONE: [Who; 5] = [
    Who::Anonymous,
    Who::Viewer,
    Who::OtherDesk,
    Who::Editor,
    Who::Admin,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ep {
    Me,
    Queue,
    CaseGet,
    Triage,
    Claim,
    Assign,
    Unassign,
    Note,
    Priority,
    Resolve,
    Reopen,
    BulkResolve,
    EditorsList,
    EditorsCreate,
    EditorsUpdate,
    Audit,
    TokensCreate,
    TokensList,
    TokensListAll,
    TokensRevoke,
    Ingest,
    Password,
    Logout,
    CorrectionsList,
    CorrectionsAtom,
    ArticleCorrections,
    ArticleJsonLd,
    PrefsGet,
    PrefsPut,
    OutboxList,
    OutboxRetry,
    OutboxRetryDead,
}

const ENDPOINTS: [Ep; 32] = [
    Ep::Me,
    Ep::Queue,
    Ep::CaseGet,
    Ep::Triage,
    Ep::Claim,
    Ep::Assign,
    Ep::Unassign,
    Ep::Note,
    Ep::Priority,
    Ep::Resolve,
    Ep::Reopen,
    Ep::BulkResolve,
    Ep::EditorsList,
    Ep::EditorsCreate,
    Ep::EditorsUpdate,
    Ep::Audit,
    Ep::TokensCreate,
    Ep::TokensList,
    Ep::TokensListAll,
    Ep::TokensRevoke,
    Ep::Ingest,
    Ep::Password,
    Ep::Logout,
    Ep::CorrectionsList,
    Ep::CorrectionsAtom,
    Ep::ArticleCorrections,
    Ep::ArticleJsonLd,
    Ep::PrefsGet,
    Ep::PrefsPut,
    Ep::OutboxList,
    Ep::OutboxRetry,
    Ep::OutboxRetryDead,
];

/// The rule, written once: what each identity gets from each endpoint.
fn expected(ep: Ep, who: Who) -> u16 {
    use Who::*;
    let anonymous = who == Anonymous;
    match ep {
        Ep::CorrectionsList | Ep::CorrectionsAtom | Ep::ArticleCorrections | Ep::ArticleJsonLd => {
            200
        }
        _ if anonymous => 401,
        Ep::Me | Ep::Queue | Ep::CaseGet | Ep::TokensList => 200,
        // The account list (with addresses) is the admins' (issue 12, item 8).
        Ep::EditorsList => match who {
            Admin => 200,
            _ => 403,
        },
        // Everyone signed in has notification settings of their own.
        Ep::PrefsGet | Ep::PrefsPut => 200,
        // The outbox is the admins'; an unknown row is a 404 once allowed.
        Ep::OutboxList | Ep::OutboxRetryDead => match who {
            Admin => 200,
            _ => 403,
        },
        Ep::OutboxRetry => match who {
            Admin => 404,
            _ => 403,
        },
        Ep::TokensCreate => 201,
        Ep::TokensRevoke | Ep::Logout => 204,
        // Authorised; the current password given is wrong on purpose.
        Ep::Password => 422,
        Ep::Triage
        | Ep::Claim
        | Ep::Assign
        | Ep::Unassign
        | Ep::Note
        | Ep::Priority
        | Ep::Resolve
        | Ep::Reopen => match who {
            Editor | Admin => 200,
            _ => 403,
        },
        // The request is allowed; each case's own desk check shows in its result.
        Ep::BulkResolve | Ep::Ingest => match who {
            Viewer => 403,
            _ if ep == Ep::Ingest => 201,
            _ => 200,
        },
        Ep::EditorsCreate => match who {
            Admin => 201,
            _ => 403,
        },
        Ep::EditorsUpdate | Ep::TokensListAll | Ep::Audit => match who {
            Admin => 200,
            _ => 403,
        },
    }
}

struct World {
    app: TestApp,
    sessions: HashMap<Who, Session>,
    staff: HashMap<Who, Staff>,
    tokens: HashMap<Who, String>,
    admin: Session,
    target_editor: String,
    next: AtomicUsize,
}

const ARTICLE: &str = "matrix";

impl World {
    async fn new(b: Backend) -> World {
        let app = staff::spawn(b).await;
        staff::article(&app, ARTICLE, Some("international"), 120).await;
        let mut sessions = HashMap::new();
        let mut people = HashMap::new();
        let mut tokens = HashMap::new();
        for (who, role, desks) in [
            (Who::Viewer, Role::Viewer, vec![]),
            (Who::OtherDesk, Role::Editor, vec!["sport"]),
            (Who::Editor, Role::Editor, vec!["international"]),
            (Who::Admin, Role::Admin, vec![]),
        ] {
            let s = add(&app, role, &desks).await;
            let session = login(&app, &s).await;
            let (_, t) = session
                .post("/api/v1/tokens", Some(&json!({"name": "matrix"})))
                .await;
            tokens.insert(who, t["token"].as_str().unwrap().to_string());
            sessions.insert(who, session);
            people.insert(who, s);
        }
        let admin = login(&app, &people[&Who::Admin]).await;
        let target_editor = add(&app, Role::Viewer, &[]).await.id;
        World {
            app,
            sessions,
            staff: people,
            tokens,
            admin,
            target_editor,
            next: AtomicUsize::new(0),
        }
    }

    /// A new case on its own sentence of the international desk's article.
    async fn fresh_case(&self) -> String {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        staff::case_on(&self.app, ARTICLE, i, "factual_error").await
    }

    async fn call(
        &self,
        who: Who,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        match self.sessions.get(&who) {
            Some(s) => s.send(method, path, body.as_ref()).await,
            None => {
                let mut req = self.app.client.request(method, self.app.url(path));
                if let Some(b) = &body {
                    req = req.json(b);
                }
                let r = req.send().await.unwrap();
                let status = r.status().as_u16();
                (status, r.json().await.unwrap_or(Value::Null))
            }
        }
    }

    async fn probe(&self, ep: Ep, who: Who) -> u16 {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let case_action = |action: &'static str, body: Option<Value>| async move {
            let id = self.fresh_case().await;
            match action {
                "unassign" => assert_eq!(self.admin.act(&id, "claim", None).await.0, 200),
                "reopen" => assert_eq!(
                    self.admin
                        .act(&id, "resolve", Some(json!({"resolution": "no_change"})))
                        .await
                        .0,
                    200
                ),
                _ => {}
            }
            self.call(
                who,
                Method::POST,
                &format!("/api/v1/cases/{id}/{action}"),
                body,
            )
            .await
            .0
        };
        match ep {
            Ep::Me => self.call(who, Method::GET, "/api/v1/auth/me", None).await.0,
            Ep::Queue => self.call(who, Method::GET, "/api/v1/queue", None).await.0,
            Ep::CaseGet => {
                let id = self.fresh_case().await;
                self.call(who, Method::GET, &format!("/api/v1/cases/{id}"), None)
                    .await
                    .0
            }
            Ep::Triage => case_action("triage", None).await,
            Ep::Claim => case_action("claim", None).await,
            Ep::Assign => {
                let editor_id = self.staff[&Who::Editor].id.clone();
                case_action("assign", Some(json!({"editor_id": editor_id}))).await
            }
            Ep::Unassign => case_action("unassign", None).await,
            Ep::Note => case_action("note", Some(json!({"body": "Vu."}))).await,
            Ep::Priority => case_action("priority", Some(json!({"priority": 80}))).await,
            Ep::Resolve => case_action("resolve", Some(json!({"resolution": "rejected"}))).await,
            Ep::Reopen => case_action("reopen", None).await,
            Ep::BulkResolve => {
                let id = self.fresh_case().await;
                let (status, body) = self
                    .call(
                        who,
                        Method::POST,
                        "/api/v1/cases/resolve",
                        Some(json!({"case_ids": [id], "resolution": "spam"})),
                    )
                    .await;
                if status == 200 {
                    let outcome = body["results"][0]["outcome"].as_str().unwrap();
                    let want = if who == Who::OtherDesk {
                        "forbidden"
                    } else {
                        "resolved"
                    };
                    assert_eq!(outcome, want, "bulk resolve by {who:?}");
                }
                status
            }
            Ep::EditorsList => self.call(who, Method::GET, "/api/v1/editors", None).await.0,
            Ep::EditorsCreate => {
                self.call(
                    who,
                    Method::POST,
                    "/api/v1/editors",
                    Some(
                        json!({"email": format!("new{n}@news.example"), "name": "Nouvelle",
                        "role": "viewer", "password": "une phrase de passe longue"}),
                    ),
                )
                .await
                .0
            }
            Ep::EditorsUpdate => {
                self.call(
                    who,
                    Method::PATCH,
                    &format!("/api/v1/editors/{}", self.target_editor),
                    Some(json!({"name": format!("Renommée {n}")})),
                )
                .await
                .0
            }
            Ep::Audit => {
                self.call(who, Method::GET, "/api/v1/audit?limit=5", None)
                    .await
                    .0
            }
            Ep::TokensCreate => {
                self.call(
                    who,
                    Method::POST,
                    "/api/v1/tokens",
                    Some(json!({"name": "t"})),
                )
                .await
                .0
            }
            Ep::TokensList => self.call(who, Method::GET, "/api/v1/tokens", None).await.0,
            Ep::TokensListAll => {
                self.call(who, Method::GET, "/api/v1/tokens?all=true", None)
                    .await
                    .0
            }
            Ep::TokensRevoke => {
                // One's own token (an anonymous caller tries the admin's).
                let owner = if who == Who::Anonymous {
                    Who::Admin
                } else {
                    who
                };
                let (_, t) = self.sessions[&owner]
                    .post("/api/v1/tokens", Some(&json!({"name": "to revoke"})))
                    .await;
                let id = t["id"].as_str().unwrap().to_string();
                self.call(who, Method::DELETE, &format!("/api/v1/tokens/{id}"), None)
                    .await
                    .0
            }
            Ep::Ingest => {
                let mut req = self
                    .app
                    .client
                    .put(self.app.url(&format!("/api/v1/articles/ingest-{n}")))
                    .json(
                        &json!({"url": format!("https://news.example/i{n}"), "title": "T",
                        "language": "fr", "body_text": "Une phrase."}),
                    );
                if let Some(t) = self.tokens.get(&who) {
                    req = req.bearer_auth(t);
                }
                req.send().await.unwrap().status().as_u16()
            }
            Ep::Password => {
                self.call(
                    who,
                    Method::POST,
                    "/api/v1/auth/password",
                    Some(json!({"current_password": "not the current one",
                        "new_password": "another long passphrase"})),
                )
                .await
                .0
            }
            Ep::Logout => match self.staff.get(&who) {
                // A separate session, so the matrix's own stays usable.
                Some(s) => {
                    login(&self.app, s)
                        .await
                        .post("/api/v1/auth/logout", None)
                        .await
                        .0
                }
                None => {
                    self.call(who, Method::POST, "/api/v1/auth/logout", None)
                        .await
                        .0
                }
            },
            Ep::CorrectionsList => {
                self.call(who, Method::GET, "/api/v1/corrections", None)
                    .await
                    .0
            }
            Ep::CorrectionsAtom => self.app.get("/corrections.atom").await.status().as_u16(),
            Ep::ArticleCorrections => {
                self.call(
                    who,
                    Method::GET,
                    &format!("/api/v1/articles/{ARTICLE}/corrections"),
                    None,
                )
                .await
                .0
            }
            Ep::PrefsGet => {
                self.call(who, Method::GET, "/api/v1/me/notifications", None)
                    .await
                    .0
            }
            Ep::PrefsPut => {
                self.call(
                    who,
                    Method::PUT,
                    "/api/v1/me/notifications",
                    Some(json!({"overdue": "daily"})),
                )
                .await
                .0
            }
            Ep::OutboxList => {
                self.call(who, Method::GET, "/api/v1/admin/outbox", None)
                    .await
                    .0
            }
            Ep::OutboxRetry => {
                let path = format!("/api/v1/admin/outbox/{}/retry", erratum::db::new_id());
                self.call(who, Method::POST, &path, None).await.0
            }
            Ep::OutboxRetryDead => {
                self.call(who, Method::POST, "/api/v1/admin/outbox/retry-dead", None)
                    .await
                    .0
            }
            Ep::ArticleJsonLd => self
                .app
                .get(&format!("/api/v1/articles/{ARTICLE}/corrections.jsonld"))
                .await
                .status()
                .as_u16(),
        }
    }
}

async fn every_endpoint_enforces_the_roles(b: Backend) {
    let w = World::new(b).await;
    let mut wrong = Vec::new();
    let mut table = String::from("endpoint            anon viewer other editor admin\n");
    for ep in ENDPOINTS {
        table.push_str(&format!("{:<20}", format!("{ep:?}")));
        for who in EVERYONE {
            let got = w.probe(ep, who).await;
            let want = expected(ep, who);
            table.push_str(&format!(" {got:>4}{}", if got == want { " " } else { "!" }));
            if got != want {
                wrong.push(format!("{ep:?} as {who:?}: got {got}, expected {want}"));
            }
        }
        table.push('\n');
    }
    assert!(wrong.is_empty(), "{}\n{table}", wrong.join("\n"));
    // Every action of the matrix that was allowed left its audit entry.
    let entries = w
        .app
        .app_state
        .read(|conn| {
            use diesel::prelude::*;
            use erratum::db::schema::audit_log;
            Ok(audit_log::table
                .filter(audit_log::subject_type.eq("case"))
                .count()
                .get_result::<i64>(conn)?)
        })
        .await
        .unwrap();
    // 8 single actions × 2 allowed identities, + the setup claims and
    // resolutions (unassign, reopen: 2 × 5), + 2 bulk resolutions (the
    // editor of another desk was refused).
    assert_eq!(entries, 8 * 2 + 2 * 5 + 2);
}

async fn every_endpoint_is_documented(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (status, doc) = app.get_json("/api/openapi.json").await;
    assert_eq!(status, 200);
    let paths = &doc["paths"];
    for (method, path) in [
        ("post", "/api/v1/auth/login"),
        ("get", "/api/v1/me/notifications"),
        ("put", "/api/v1/me/notifications"),
        ("get", "/api/v1/admin/outbox"),
        ("post", "/api/v1/admin/outbox/{id}/retry"),
        ("post", "/api/v1/admin/outbox/retry-dead"),
        ("post", "/api/v1/auth/logout"),
        ("get", "/api/v1/auth/me"),
        ("post", "/api/v1/auth/password"),
        ("post", "/api/v1/tokens"),
        ("get", "/api/v1/tokens"),
        ("delete", "/api/v1/tokens/{id}"),
        ("get", "/api/v1/editors"),
        ("post", "/api/v1/editors"),
        ("patch", "/api/v1/editors/{id}"),
        ("get", "/api/v1/audit"),
        ("get", "/api/v1/queue"),
        ("get", "/api/v1/cases/{id}"),
        ("post", "/api/v1/cases/{id}/triage"),
        ("post", "/api/v1/cases/{id}/claim"),
        ("post", "/api/v1/cases/{id}/assign"),
        ("post", "/api/v1/cases/{id}/unassign"),
        ("post", "/api/v1/cases/{id}/note"),
        ("post", "/api/v1/cases/{id}/priority"),
        ("post", "/api/v1/cases/{id}/resolve"),
        ("post", "/api/v1/cases/{id}/reopen"),
        ("post", "/api/v1/cases/resolve"),
        ("get", "/api/v1/corrections"),
        ("get", "/corrections.atom"),
        ("get", "/api/v1/articles/{external_id}/corrections"),
        ("get", "/api/v1/articles/{external_id}/corrections.jsonld"),
    ] {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} is not documented");
        let responses = op["responses"].as_object().unwrap();
        // Every staff endpoint documents its refusals as problem+json.
        if path != "/corrections.atom" && !path.contains("corrections") {
            let unauthorized = &responses["401"]["content"]["application/problem+json"];
            assert!(
                unauthorized.is_object(),
                "{method} {path}: 401 undocumented"
            );
        }
    }
    assert!(doc["components"]["securitySchemes"]["session"].is_object());
}
