//! The editors' web pages under /editor/: sign-in, CSRF on every form, the
//! security headers, escaping of what readers and staff typed, roles.

use std::sync::atomic::{AtomicU64, Ordering};

use erratum::db::editors::{self as store, NewEditor};
use erratum::domain::actor::Who;
use erratum::domain::editor::{EditorEmail, Password, Role};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};

backend_tests!(
    login_page_renders_with_strict_headers,
    wrong_password_answers_like_unknown_email,
    signing_in_and_out,
    forms_without_their_csrf_token_are_refused,
    pages_need_a_session_and_sessions_expire,
    admins_manage_accounts_and_names_are_escaped,
    static_files_are_served_with_etags,
    queue_lists_cases_with_counts_and_filters,
    queue_counts_stop_at_their_cap,
    case_page_shows_reader_text_as_text,
    claim_and_resolve_from_the_pages,
    refused_actions_explain_themselves,
    viewers_cannot_act_and_see_no_addresses,
    bulk_spam_and_versions,
    assign_to_me_and_switch_language,
    editors_set_their_notifications,
    admins_see_and_retry_failed_emails,
);

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

static N: AtomicU64 = AtomicU64::new(0);

pub struct Account {
    pub id: String,
    pub email: String,
    pub password: String,
}

pub async fn spawn(b: Backend) -> TestApp {
    TestApp::spawn_with(
        b,
        "[auth]\nlogin_per_ip_per_minute = 10000\nlogin_per_account_per_hour = 10000\n",
    )
    .await
}

/// An account made directly in the database, as the command line makes them.
pub async fn account(app: &TestApp, role: Role, name: &str) -> Account {
    let n = N.fetch_add(1, Ordering::Relaxed);
    let email = format!("ui-{}{n}@news.example", role.as_str());
    let password = format!("correct horse battery {n}");
    let hash = erratum::auth::password::hash(&Password::parse(&password).unwrap()).unwrap();
    let new = NewEditor {
        email: EditorEmail::parse(&email).unwrap(),
        name: name.to_string(),
        role,
        desks: vec![],
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
    Account {
        id: row.id,
        email,
        password,
    }
}

/// A browser: a cookie jar, no automatic redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the first hidden `csrf_token` field of a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("the page has a CSRF field") + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

pub async fn get_page(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, String) {
    let r = c.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

pub async fn post_form(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    c.post(app.url(path)).form(form).send().await.unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Sign in through the login page; answers the browser and the CSRF token.
pub async fn sign_in(app: &TestApp, who: &Account) -> (reqwest::Client, String) {
    let c = browser();
    let (_, html) = get_page(app, &c, "/editor/login").await;
    let r = post_form(
        app,
        &c,
        "/editor/login",
        &[
            ("csrf_token", &csrf_of(&html)),
            ("email", &who.email),
            ("password", &who.password),
            ("next", "/editor/"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "signed in");
    let (_, html) = get_page(app, &c, "/editor/admin/editors").await;
    // Any signed-in page carries the token; the accounts page may be a 403
    // page for non-admins, which still has the header's forms.
    let token = csrf_of(&html);
    (c, token)
}

async fn login_page_renders_with_strict_headers(b: Backend) {
    let app = spawn(b).await;
    let r = app.get("/editor/login").await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-security-policy"], CSP);
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-store");
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    let set_cookie = h["set-cookie"].to_str().unwrap();
    assert!(set_cookie.contains("erratum_login_csrf="), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict") && set_cookie.contains("HttpOnly"));
    let html = r.text().await.unwrap();
    assert!(html.contains("<html lang=\"fr\">"));
    assert!(html.contains("Connexion de la rédaction"));
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "no inline script or style"
    );
    assert!(!csrf_of(&html).is_empty());

    let r = app
        .client
        .get(app.url("/editor/login"))
        .header("Accept-Language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Newsroom sign-in"));
}

async fn wrong_password_answers_like_unknown_email(b: Backend) {
    let app = spawn(b).await;
    let ana = account(&app, Role::Editor, "Ana").await;
    let attempt = |email: String, password: &'static str| {
        let app = &app;
        async move {
            let c = browser();
            let (_, html) = get_page(app, &c, "/editor/login").await;
            let r = post_form(
                app,
                &c,
                "/editor/login",
                &[
                    ("csrf_token", &csrf_of(&html)),
                    ("email", &email),
                    ("password", password),
                ],
            )
            .await;
            let status = r.status().as_u16();
            let sets_session = r
                .headers()
                .get_all("set-cookie")
                .iter()
                .any(|v| v.to_str().unwrap().starts_with("erratum_session="));
            let body = r.text().await.unwrap();
            // Only the address typed in is echoed back; and the form token.
            let body = body
                .replace(&email, "EMAIL")
                .replace(&csrf_of(&body), "TOKEN");
            (status, sets_session, body)
        }
    };
    let wrong = attempt(ana.email.clone(), "not the password at all").await;
    let unknown = attempt("nobody@news.example".into(), "not the password at all").await;
    assert_eq!(wrong.0, 401);
    assert!(!wrong.1 && !unknown.1, "no session either way");
    assert_eq!(wrong, unknown);
    assert!(
        wrong
            .2
            .contains("L’adresse e-mail ou le mot de passe est incorrect.")
    );
}

async fn signing_in_and_out(b: Backend) {
    let app = spawn(b).await;
    let ana = account(&app, Role::Admin, "Ana").await;
    let c = browser();
    let (_, html) = get_page(&app, &c, "/editor/login?next=/editor/admin/editors").await;
    let r = post_form(
        &app,
        &c,
        "/editor/login",
        &[
            ("csrf_token", &csrf_of(&html)),
            ("email", &ana.email.to_uppercase()),
            ("password", &ana.password),
            ("next", "/editor/admin/editors"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/editor/admin/editors");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("erratum_session="))
        .expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let (status, html) = get_page(&app, &c, "/editor/admin/editors").await;
    assert_eq!(status, 200);
    assert!(html.contains("Ana") && html.contains(&ana.email));

    // Never redirected off these pages after signing in.
    let (_, login) = get_page(&app, &c, "/editor/login").await;
    let r = post_form(
        &app,
        &c,
        "/editor/login",
        &[
            ("csrf_token", &csrf_of(&login)),
            ("email", &ana.email),
            ("password", &ana.password),
            ("next", "//evil.example/"),
        ],
    )
    .await;
    assert_eq!(location(&r), "/editor/");

    // The second sign-in replaced the session, and so its token.
    let (_, html) = get_page(&app, &c, "/editor/admin/editors").await;
    let r = post_form(
        &app,
        &c,
        "/editor/logout",
        &[("csrf_token", &csrf_of(&html))],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/editor/login?bye=1"));
    // The session is revoked on the server, not only forgotten by the browser.
    let (status, _) = get_page(&app, &c, "/editor/admin/editors").await;
    assert_eq!(status, 303);
}

async fn forms_without_their_csrf_token_are_refused(b: Backend) {
    let app = spawn(b).await;
    let ana = account(&app, Role::Admin, "Ana").await;
    let (c, csrf) = sign_in(&app, &ana).await;

    for form in [vec![], vec![("csrf_token", "forged")]] {
        let mut fields = form.clone();
        fields.extend([
            ("email", "mallory@news.example"),
            ("name", "Mallory"),
            ("role", "admin"),
            ("language", "fr"),
            ("password", "correct horse battery staple"),
        ]);
        let r = post_form(&app, &c, "/editor/admin/editors", &fields).await;
        assert_eq!(r.status(), 403);
        assert_eq!(r.headers()["content-security-policy"], CSP);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Formulaire refusé"),
            "a readable page: {html}"
        );
    }
    let (_, html) = get_page(&app, &c, "/editor/admin/editors").await;
    assert!(!html.contains("Mallory"), "nothing was created");

    // The login form has its own token (no session yet).
    let r = post_form(
        &app,
        &browser(),
        "/editor/login",
        &[("email", &ana.email), ("password", &ana.password)],
    )
    .await;
    assert_eq!(r.status(), 403);

    // With the token, the same form works.
    let r = post_form(
        &app,
        &c,
        "/editor/admin/editors",
        &[
            ("csrf_token", &csrf),
            ("email", "bea@news.example"),
            ("name", "Béa"),
            ("role", "editor"),
            ("language", "en"),
            ("password", "correct horse battery staple"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, html) = get_page(&app, &c, "/editor/admin/editors").await;
    assert!(html.contains("Béa"));
}

async fn pages_need_a_session_and_sessions_expire(b: Backend) {
    let app = spawn(b).await;
    let r = app.get("/editor/admin/editors?x=1").await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r),
        "/editor/login?next=%2Feditor%2Fadmin%2Feditors%3Fx%3D1"
    );
    let r = app.get("/editor").await;
    assert_eq!(location(&r), "/editor/");
    let r = app.get("/editor/no-such-page").await;
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("Page introuvable"));

    let ana = account(&app, Role::Admin, "Ana").await;
    let (c, _) = sign_in(&app, &ana).await;
    // The session's end passes.
    app.app_state
        .write(|conn| {
            use diesel::prelude::*;
            use erratum::db::schema::editor_sessions::dsl::*;
            diesel::update(editor_sessions)
                .set(expires_at.eq(erratum::db::now() - chrono::Duration::minutes(1)))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let r = c
        .get(app.url("/editor/admin/editors"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(location(&r).contains("expired=1"), "{}", location(&r));
    let (_, html) = get_page(&app, &c, &location(&r)).await;
    assert!(html.contains("Votre session a expiré"));
}

async fn admins_manage_accounts_and_names_are_escaped(b: Backend) {
    let app = spawn(b).await;
    let admin = account(&app, Role::Admin, "Ana").await;
    let viewer = account(&app, Role::Viewer, "<img src=x onerror=alert(1)>").await;

    let (c, csrf) = sign_in(&app, &admin).await;
    let (status, html) = get_page(&app, &c, "/editor/admin/editors").await;
    assert_eq!(status, 200);
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!html.contains("<img src=x"), "the name is text, not markup");

    // Disable the viewer: its session ends.
    let (vc, vcsrf) = sign_in(&app, &viewer).await;
    let r = post_form(
        &app,
        &c,
        &format!("/editor/admin/editors/{}/status", viewer.id),
        &[("csrf_token", &csrf), ("disabled", "true")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (status, _) = get_page(&app, &vc, "/editor/admin/editors").await;
    assert_eq!(status, 303, "signed out");
    // An admin cannot lock themselves out.
    let r = post_form(
        &app,
        &c,
        &format!("/editor/admin/editors/{}/status", admin.id),
        &[("csrf_token", &csrf), ("disabled", "true")],
    )
    .await;
    assert_eq!(r.status(), 409);

    // Invalid fields come back with the form filled in.
    let r = post_form(
        &app,
        &c,
        "/editor/admin/editors",
        &[
            ("csrf_token", &csrf),
            ("email", "not-an-address"),
            ("name", "Chloé"),
            ("role", "editor"),
            ("language", "fr"),
            ("password", "short"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("value=\"Chloé\"") && html.contains("href=\"#f-password\""));

    // Non-admins get a readable 403.
    let editor = account(&app, Role::Editor, "Ed").await;
    let (ec, _) = sign_in(&app, &editor).await;
    let (status, html) = get_page(&app, &ec, "/editor/admin/editors").await;
    assert_eq!(status, 403);
    assert!(html.contains("Action non autorisée"));
    let _ = vcsrf;
}

async fn static_files_are_served_with_etags(b: Backend) {
    let app = spawn(b).await;
    for (file, kind) in [("editor.css", "text/css"), ("editor.js", "text/javascript")] {
        let r = app.get(&format!("/editor/static/{file}")).await;
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        let r = app
            .client
            .get(app.url(&format!("/editor/static/{file}")))
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304);
    }
    assert_eq!(app.get("/editor/static/nope.js").await.status(), 404);
}

// ---- the queue and the case page --------------------------------------------

/// File a report on the demo article; answers its case id.
async fn report(app: &TestApp, body: serde_json::Value) -> (String, serde_json::Value) {
    let r = app.post_report(crate::helpers::DEMO, &body).await;
    assert_eq!(r.status(), 201, "report filed");
    let answer: serde_json::Value = r.json().await.unwrap();
    (answer["case_id"].as_str().unwrap().to_string(), answer)
}

/// A report on the demo article's n-th body sentence.
async fn report_on(app: &TestApp, n: usize, comment: &str) -> (String, serde_json::Value, String) {
    let article = app.demo_article().await;
    let s = article["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["paragraph"].as_i64().unwrap() > 0)
        .nth(n)
        .unwrap()
        .clone();
    let (case, answer) = report(
        app,
        serde_json::json!({
            "sentence_id": s["id"], "quote": {"exact": s["text"]},
            "category": "factual_error", "comment": comment,
            "reporter": {"email": "lectrice@example.org", "notify": true},
            "sources": ["https://example.org/source?a=1&b=2"],
        }),
    )
    .await;
    (case, answer, s["text"].as_str().unwrap().to_string())
}

fn status_token(answer: &serde_json::Value) -> String {
    answer["status_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string()
}

async fn queue_lists_cases_with_counts_and_filters(b: Backend) {
    let app = spawn(b).await;
    let ana = account(&app, Role::Editor, "Ana").await;
    let (first, _, text1) = report_on(&app, 0, "La date est fausse.").await;
    let (second, _, text2) = report_on(&app, 1, "Le chiffre est faux.").await;
    let (c, _) = sign_in(&app, &ana).await;
    let (status, html) = get_page(&app, &c, "/editor/").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("id=\"c-{first}\"")) && html.contains(&format!("id=\"c-{second}\""))
    );
    assert!(
        html.contains("data-status=\"new\">Nouveaux <b>2</b>"),
        "counts per status"
    );
    assert!(html.contains("data-status=\"open\" aria-current=\"true\">Ouverts <b>2</b>"));
    let escaped = |t: &str| t.replace('\'', "&#x27;").replace('"', "&quot;");
    assert!(html.contains(&escaped(&text1)) || html.contains(&text1));

    // A search keeps only the matching case; the form shows the filter.
    let (_, html) = get_page(&app, &c, "/editor/?q=chiffre&sort=oldest").await;
    assert!(html.contains(&format!("id=\"c-{second}\"")));
    assert!(!html.contains(&format!("id=\"c-{first}\"")));
    assert!(
        html.contains("value=\"chiffre\"") && html.contains("<option value=\"oldest\" selected>")
    );
    let _ = text2;

    // Another status: nothing resolved yet.
    let (_, html) = get_page(&app, &c, "/editor/?status=resolved").await;
    assert!(
        html.contains("Aucun dossier ne correspond") || html.contains("Aucun dossier en attente")
    );
    // Invalid parameters get a readable page, not JSON.
    let (status, html) = get_page(&app, &c, "/editor/?sort=sideways").await;
    assert_eq!(status, 422);
    assert!(html.contains("Formulaire incomplet") && html.contains("sort"));
}

/// Past `[queue] count_cap` a status's count says "N+" (and so do the sums
/// it is part of), so the page's cost does not follow the history.
async fn queue_counts_stop_at_their_cap(b: Backend) {
    let app = TestApp::spawn_with(
        b,
        "[auth]\nlogin_per_ip_per_minute = 10000\n[queue]\ncount_cap = 2\n",
    )
    .await;
    let ana = account(&app, Role::Editor, "Ana").await;
    for (n, comment) in [
        "La date est fausse.",
        "Le chiffre est faux.",
        "Le nom est faux.",
    ]
    .iter()
    .enumerate()
    {
        report_on(&app, n, comment).await;
    }
    let (c, _) = sign_in(&app, &ana).await;
    let (status, html) = get_page(&app, &c, "/editor/").await;
    assert_eq!(status, 200);
    let capped = r#"<b title="D’autres dossiers correspondent ; le décompte s’arrête ici">2+</b>"#;
    assert!(
        html.contains(&format!("data-status=\"new\">Nouveaux {capped}")),
        "three new cases past a cap of two"
    );
    assert!(html.contains(&format!(
        "data-status=\"open\" aria-current=\"true\">Ouverts {capped}"
    )));
    assert!(html.contains("data-status=\"resolved\">Clos <b>0</b>"));
    // A filter that matches fewer than the cap counts exactly.
    let (_, html) = get_page(&app, &c, "/editor/?q=chiffre").await;
    assert!(html.contains("data-status=\"new\">Nouveaux <b>1</b>"));
}

async fn case_page_shows_reader_text_as_text(b: Backend) {
    let app = spawn(b).await;
    let ana = account(&app, Role::Editor, "Ana").await;
    let payload = "<img src=x onerror=alert(1)>";
    let (case, _, text) = report_on(&app, 2, payload).await;
    // A second report on the sentence, without an address: same case.
    let mut anonymous = app.valid_report();
    anonymous["quote"] = serde_json::json!({"exact": text});
    let (same, _) = report(&app, anonymous).await;
    assert_eq!(same, case);
    let (c, _) = sign_in(&app, &ana).await;
    let r = c
        .get(app.url(&format!("/editor/cases/{case}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-security-policy"], CSP);
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    let html = r.text().await.unwrap();
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "the comment shows as text"
    );
    assert!(!html.contains("<img src=x"), "and is never markup");
    // The sentence is highlighted within its paragraph.
    let mark_start = html.find("<mark>").expect("the sentence is marked");
    let mark = &html[mark_start..mark_start + html[mark_start..].find("</mark>").unwrap()];
    let first_words: String = text
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        mark.contains(&first_words.replace('\'', "&#x27;")) || mark.contains(&first_words),
        "{mark}"
    );
    assert!(html.contains("class=\"other\""), "with its neighbours");
    // Sources are safe links; editors see the reporter's address.
    assert!(html.contains("href=\"https:&#x2f;&#x2f;example.org&#x2f;source?a=1&amp;b=2\" rel=\"noopener noreferrer nofollow\""));
    assert!(html.contains("lectrice@example.org"));
    // Resolution templates in the article's language.
    assert!(html.contains("data-template=\"Une version précédente de cet article indiquait"));
    // Unknown and malformed case ids are pages too.
    let (status, html) = get_page(&app, &c, "/editor/cases/not-a-case").await;
    assert_eq!(status, 404);
    assert!(html.contains("Page introuvable"));
    let (status, _) = get_page(&app, &c, &format!("/editor/cases/{}", uuid::Uuid::now_v7())).await;
    assert_eq!(status, 404);
}

async fn claim_and_resolve_from_the_pages(b: Backend) {
    let app = spawn(b).await;
    let ana = account(&app, Role::Editor, "Ana").await;
    let (case, answer, _) = report_on(&app, 0, "La frappe a eu lieu le 4 octobre.").await;
    let (c, csrf) = sign_in(&app, &ana).await;

    let r = post_form(
        &app,
        &c,
        &format!("/editor/cases/{case}/claim"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r),
        format!("/editor/cases/{case}?done=claimed&case={case}")
    );
    let (_, html) = get_page(&app, &c, &location(&r)).await;
    assert!(html.contains("Le dossier vous est attribué"));
    assert!(html.contains("data-field=\"status\">En cours d’examen"));
    assert!(html.contains("data-field=\"assignee\">Ana"));

    let note = "Une version précédente de cet article indiquait que la frappe avait eu lieu le 3 octobre. Elle a eu lieu le 4 octobre.";
    let r = post_form(
        &app,
        &c,
        &format!("/editor/cases/{case}/resolve"),
        &[
            ("csrf_token", &csrf),
            ("resolution", "corrected"),
            ("public_note", note),
            ("duplicate_of", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, html) = get_page(&app, &c, &location(&r)).await;
    assert!(html.contains("data-field=\"status\">Clos"));
    assert!(html.contains("Corrections publiées"));

    // Published, and the reader's status changed.
    let (_, list) = get_page(&app, &c, "/editor/corrections").await;
    assert!(list.contains("Elle a eu lieu le 4 octobre."));
    // The article link leads to the corrected sentence (a text fragment).
    assert!(list.contains("#:~:text="), "a text-fragment link: {list}");
    let (status, body) = app
        .get_json(&format!("/api/v1/reports/status/{}", status_token(&answer)))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "resolved");
    assert_eq!(body["resolution"], "corrected");

    // The history tells who did what.
    let (_, html) = get_page(&app, &c, &format!("/editor/cases/{case}")).await;
    assert!(html.contains("a pris le dossier") && html.contains("a clos le dossier"));

    // A note, and a reopen.
    let r = post_form(
        &app,
        &c,
        &format!("/editor/cases/{case}/note"),
        &[
            ("csrf_token", &csrf),
            ("body", "Vérifié avec le service photo <b>ok</b>."),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = post_form(
        &app,
        &c,
        &format!("/editor/cases/{case}/reopen"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, html) = get_page(&app, &c, &format!("/editor/cases/{case}")).await;
    assert!(html.contains("Vérifié avec le service photo &lt;b&gt;ok&lt;&#x2f;b&gt;."));
    assert!(html.contains("data-field=\"status\">Trié"));
}

async fn refused_actions_explain_themselves(b: Backend) {
    let app = spawn(b).await;
    let ana = account(&app, Role::Editor, "Ana").await;
    let bea = account(&app, Role::Editor, "Béa").await;
    let (case, _, _) = report_on(&app, 0, "Date fausse.").await;
    let (c, csrf) = sign_in(&app, &ana).await;

    // A correction needs its public text: the form comes back, filled in.
    let r = post_form(
        &app,
        &c,
        &format!("/editor/cases/{case}/resolve"),
        &[
            ("csrf_token", &csrf),
            ("resolution", "corrected"),
            ("public_note", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("role=\"alert\"") && html.contains("Note publique"));
    assert!(html.contains("<option value=\"corrected\"") && html.contains("selected>Corrigé"));

    // Without the token: refused, and the case is untouched.
    let r = post_form(&app, &c, &format!("/editor/cases/{case}/claim"), &[]).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Formulaire refusé"));

    // Claimed by someone else meanwhile: a conflict, said in words.
    let (bc, bcsrf) = sign_in(&app, &bea).await;
    let r = post_form(
        &app,
        &bc,
        &format!("/editor/cases/{case}/claim"),
        &[("csrf_token", &bcsrf)],
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = post_form(
        &app,
        &c,
        &format!("/editor/cases/{case}/claim"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(r.status(), 409);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Un autre éditeur a déjà pris ce dossier.")
    );
    // From the queue (the keyboard), the refusal comes back as a message.
    let r = post_form(
        &app,
        &c,
        &format!("/editor/cases/{case}/claim"),
        &[("csrf_token", &csrf), ("return_to", "/editor/?sort=oldest")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r),
        format!("/editor/?sort=oldest&err=already_claimed#c-{case}")
    );
    let (_, html) = get_page(&app, &c, &location(&r)).await;
    assert!(html.contains("Un autre éditeur a déjà pris ce dossier."));
    // Never sent elsewhere.
    let r = post_form(
        &app,
        &c,
        &format!("/editor/cases/{case}/note"),
        &[
            ("csrf_token", &csrf),
            ("body", "x"),
            ("return_to", "https://evil.example/"),
        ],
    )
    .await;
    assert!(location(&r).starts_with("/editor/"), "{}", location(&r));
}

async fn viewers_cannot_act_and_see_no_addresses(b: Backend) {
    let app = spawn(b).await;
    let viewer = account(&app, Role::Viewer, "Vic").await;
    let (case, _, _) = report_on(&app, 0, "Date fausse.").await;
    let (c, csrf) = sign_in(&app, &viewer).await;
    let (status, html) = get_page(&app, &c, &format!("/editor/cases/{case}")).await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("lectrice@example.org"),
        "no reporter address for viewers"
    );
    assert!(!html.contains("data-action=\"claim\""), "no action offered");
    let r = post_form(
        &app,
        &c,
        &format!("/editor/cases/{case}/claim"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Action non autorisée"));
    let (_, html) = get_page(&app, &c, &format!("/editor/cases/{case}")).await;
    assert!(html.contains("data-field=\"status\">Nouveau"), "unchanged");
    let r = post_form(
        &app,
        &c,
        "/editor/cases/bulk",
        &[
            ("csrf_token", &csrf),
            ("ids", &case),
            ("resolution", "spam"),
        ],
    )
    .await;
    assert_eq!(r.status(), 403);
}

async fn bulk_spam_and_versions(b: Backend) {
    let app = spawn(b).await;
    let ana = account(&app, Role::Editor, "Ana").await;
    let (one, _, _) = report_on(&app, 0, "Spam un.").await;
    let (two, _, _) = report_on(&app, 1, "Spam deux.").await;
    let (keep, _, _) = report_on(&app, 2, "Vrai signalement.").await;
    let (c, csrf) = sign_in(&app, &ana).await;

    let versions = |c: reqwest::Client| {
        let url = app.url(&format!("/editor/queue/versions?ids={one},{keep},junk"));
        async move {
            let r = c
                .get(url)
                .header("Accept", "application/json")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let v: serde_json::Value = r.json().await.unwrap();
            v["cases"].as_array().unwrap().clone()
        }
    };
    let before = versions(c.clone()).await;
    assert_eq!(before.len(), 2);

    let r = post_form(
        &app,
        &c,
        "/editor/cases/bulk",
        &[
            ("csrf_token", &csrf),
            ("ids", &one),
            ("ids", &two),
            ("resolution", "spam"),
            ("return_to", "/editor/"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/editor/?done=bulk&n=2&failed=0");
    let (_, html) = get_page(&app, &c, &location(&r)).await;
    assert!(html.contains("2 dossier(s) clos ; 0 refusé(s)."));
    assert!(
        !html.contains(&format!("id=\"c-{one}\"")) && html.contains(&format!("id=\"c-{keep}\""))
    );
    let after = versions(c.clone()).await;
    let v = |list: &[serde_json::Value], id: &str| {
        list.iter().find(|x| x["id"] == id).unwrap()["version"]
            .as_i64()
            .unwrap()
    };
    assert!(
        v(&after, &one) > v(&before, &one),
        "a changed case has a new version"
    );
    assert_eq!(v(&after, &keep), v(&before, &keep));

    // Nothing selected: said so.
    let r = post_form(
        &app,
        &c,
        "/editor/cases/bulk",
        &[("csrf_token", &csrf), ("resolution", "spam")],
    )
    .await;
    assert_eq!(location(&r), "/editor/?err=none_selected");
    // The versions endpoint needs a session, and answers JSON problems.
    let r = app
        .client
        .get(app.url("/editor/queue/versions?ids=x"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
}

async fn assign_to_me_and_switch_language(b: Backend) {
    let app = spawn(b).await;
    let ana = account(&app, Role::Editor, "Ana").await;
    let (case, _, _) = report_on(&app, 0, "Date fausse.").await;
    let (c, csrf) = sign_in(&app, &ana).await;
    // `a` on the queue posts this form.
    let r = post_form(
        &app,
        &c,
        &format!("/editor/cases/{case}/assign"),
        &[
            ("csrf_token", &csrf),
            ("assignee", &ana.id),
            ("return_to", "/editor/"),
        ],
    )
    .await;
    assert_eq!(
        location(&r),
        format!("/editor/?done=assigned&case={case}#c-{case}")
    );
    let (_, html) = get_page(&app, &c, &format!("/editor/?done=assigned&case={case}")).await;
    assert!(html.contains("Le dossier a été attribué."));
    let (_, html) = get_page(&app, &c, "/editor/?assignee=me").await;
    assert!(html.contains(&format!("id=\"c-{case}\"")), "assigned to me");

    // The switch stores the language on the account; back where we were.
    let r = c
        .post(app.url("/editor/language"))
        .header("Referer", app.url("/editor/?assignee=me"))
        .form(&[("csrf_token", csrf.as_str()), ("language", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/editor/?assignee=me");
    let (_, html) = get_page(&app, &c, "/editor/?assignee=me").await;
    assert!(html.contains("<html lang=\"en\">") && html.contains("<h1>Queue</h1>"));
    let (_, html) = get_page(&app, &c, &format!("/editor/cases/{case}")).await;
    assert!(html.contains("Assigned to") && html.contains("data-field=\"status\">Triaged"));
    // Templates stay in the article's language, and say so.
    assert!(html.contains("data-template=\"Une version précédente"));
    assert!(
        html.contains("Write it in the article&#x27;s language")
            || html.contains("Write it in the article's language")
    );
}

async fn editors_set_their_notifications(b: Backend) {
    use erratum::notify::prefs::{self, Delivery};
    let app = spawn(b).await;
    let ed = account(&app, Role::Editor, "Ed").await;
    let (c, csrf) = sign_in(&app, &ed).await;
    let path = "/editor/settings/notifications";

    // The defaults show as selected.
    let (status, html) = get_page(&app, &c, path).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<option value=\"hourly\" selected>"),
        "{html}"
    );
    assert_eq!(html.matches(" selected>").count(), 4, "one choice per kind");
    assert!(html.contains("href=\"/editor/settings/notifications\" aria-current=\"page\""));

    let r = post_form(
        &app,
        &c,
        path,
        &[
            ("csrf_token", &csrf),
            ("new_case", "daily"),
            ("escalation", "immediate"),
            ("assigned", "off"),
            ("overdue", "daily"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("{path}?done=prefs_saved"));
    let id = ed.id.clone();
    let p = app
        .app_state
        .read(move |conn| prefs::get(conn, &id))
        .await
        .unwrap();
    assert_eq!(
        (p.new_case, p.escalation, p.assigned, p.overdue),
        (
            Delivery::Daily,
            Delivery::Immediate,
            Delivery::Off,
            Delivery::Daily
        )
    );
    let (_, html) = get_page(&app, &c, &location(&r)).await;
    assert!(html.contains("Vos réglages de notification ont été enregistrés."));
    assert!(html.contains("<option value=\"off\" selected>"));

    // Without the token nothing changes.
    let r = post_form(&app, &c, path, &[("assigned", "immediate")]).await;
    assert_eq!(r.status(), 403);
    // Nor with a value the form does not offer.
    let r = post_form(
        &app,
        &c,
        path,
        &[("csrf_token", &csrf), ("assigned", "weekly")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let id = ed.id.clone();
    let p = app
        .app_state
        .read(move |conn| prefs::get(conn, &id))
        .await
        .unwrap();
    assert_eq!(p.assigned, Delivery::Off);
}

/// An email to an editor, failed for good.
async fn dead_email(app: &TestApp, to: &str, editor_id: &str) -> String {
    use erratum::db::outbox::{NewEmail, enqueue, mark_failed};
    use erratum::notify::content::{Content, Payload};
    let cfg = app.app_state.mailer.config.clone();
    let (to, editor_id) = (to.to_string(), editor_id.to_string());
    app.app_state
        .write(move |conn| {
            let email = NewEmail {
                kind: erratum::notify::EmailKind::ReaderReceipt,
                recipient: &to,
                editor_id: Some(&editor_id),
                case_id: None,
                language: "fr",
                payload: Payload {
                    recipient_name: None,
                    content: Content::ReaderReceipt {
                        reference: "ERR-0001-XX".into(),
                        article_title: "Titre".into(),
                        article_url: "https://news.example/a".into(),
                        sentence: "Une phrase.".into(),
                    },
                },
                id: None,
            };
            let t = erratum::db::now();
            let id = enqueue(conn, &cfg.outbox(), email, t)?.expect("queued");
            mark_failed(conn, &id, "550 <mailbox> unavailable", None, t)?;
            Ok(id)
        })
        .await
        .unwrap()
}

async fn outbox_status(app: &TestApp, id: &str) -> String {
    use diesel::prelude::*;
    use erratum::db::schema::outbox;
    let id = id.to_string();
    app.app_state
        .read(move |conn| {
            Ok(outbox::table
                .find(&id)
                .select(outbox::status)
                .first::<String>(conn)?)
        })
        .await
        .unwrap()
}

async fn admins_see_and_retry_failed_emails(b: Backend) {
    let app = spawn(b).await;
    let admin = account(&app, Role::Admin, "Ana").await;
    let ed = account(&app, Role::Editor, "Ed").await;
    let first = dead_email(&app, "jeanne.lecteur@example.org", &ed.id).await;
    let second = dead_email(&app, "paul@example.org", &ed.id).await;

    // Editors may not look.
    let (ec, ecsrf) = sign_in(&app, &ed).await;
    let (status, html) = get_page(&app, &ec, "/editor/admin/outbox").await;
    assert_eq!(status, 403);
    assert!(!html.contains("jeanne"));
    let r = post_form(
        &app,
        &ec,
        &format!("/editor/admin/outbox/{first}/retry"),
        &[("csrf_token", &ecsrf)],
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(outbox_status(&app, &first).await, "dead");

    let (c, csrf) = sign_in(&app, &admin).await;
    let (status, html) = get_page(&app, &c, "/editor/admin/outbox").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("data-outbox-id=\"{first}\"")));
    assert!(html.contains("j•••@example.org"), "masked as the API masks");
    assert!(!html.contains("jeanne.lecteur"), "never the whole address");
    assert!(html.contains("550 &lt;mailbox&gt; unavailable"), "escaped");
    assert!(html.contains("href=\"/editor/admin/outbox\" aria-current=\"page\""));

    // Without the token: refused.
    let retry = format!("/editor/admin/outbox/{first}/retry");
    let r = post_form(&app, &c, &retry, &[]).await;
    assert_eq!(r.status(), 403);
    assert_eq!(outbox_status(&app, &first).await, "dead");

    let r = post_form(&app, &c, &retry, &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/editor/admin/outbox?done=email_retried");
    assert_eq!(outbox_status(&app, &first).await, "pending");
    assert_eq!(outbox_status(&app, &second).await, "dead");
    let (_, html) = get_page(&app, &c, &location(&r)).await;
    assert!(!html.contains(&format!("data-outbox-id=\"{first}\"")));
    assert!(html.contains(&format!("data-outbox-id=\"{second}\"")));

    // An unknown id comes back as a message.
    let r = post_form(
        &app,
        &c,
        "/editor/admin/outbox/nope/retry",
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(
        location(&r),
        "/editor/admin/outbox?err=outbox_entry_not_found"
    );

    let r = post_form(
        &app,
        &c,
        "/editor/admin/outbox/retry-dead",
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(location(&r), "/editor/admin/outbox?done=emails_retried&n=1");
    assert_eq!(outbox_status(&app, &second).await, "pending");
    let (_, html) = get_page(&app, &c, &location(&r)).await;
    assert!(
        html.contains("1 courriel(s) en échec remis en file."),
        "{html}"
    );
    assert!(!html.contains("data-outbox-id"));
}
