//! The editor's own account page: changing the password, and personal API
//! tokens (created, shown once, used, revoked).

use erratum::domain::editor::Role;

use crate::backend_tests;
use crate::editor_ui::{account, browser, get_page, post_form, sign_in, spawn};
use crate::helpers::{Backend, TestApp};

backend_tests!(
    editors_change_their_password_from_the_page,
    wrong_current_passwords_are_limited_like_logins,
    editors_create_use_and_revoke_their_tokens,
    admins_edit_accounts_and_reset_passwords,
);

const PAGE: &str = "/editor/settings/account";

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

async fn api_login(app: &TestApp, email: &str, password: &str) -> u16 {
    reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn editors_change_their_password_from_the_page(b: Backend) {
    let app = spawn(b).await;
    let ed = account(&app, Role::Editor, "Ed").await;
    let (c, csrf) = sign_in(&app, &ed).await;
    let (other, _) = sign_in(&app, &ed).await;

    let (status, html) = get_page(&app, &c, PAGE).await;
    assert_eq!(status, 200);
    assert!(html.contains("href=\"/editor/settings/account\" aria-current=\"page\""));
    assert!(html.contains("Vous n’avez aucun jeton d’API."), "{html}");

    let new = "a much longer passphrase 42";
    let attempt = |current: &'static str, new: &'static str, confirm: &'static str| {
        let (c, csrf) = (c.clone(), csrf.clone());
        let app = &app;
        async move {
            post_form(
                app,
                &c,
                "/editor/settings/password",
                &[
                    ("csrf_token", &csrf),
                    ("current_password", current),
                    ("new_password", new),
                    ("confirm_password", confirm),
                ],
            )
            .await
        }
    };
    // A wrong current password, a mismatch, a short one: shown on the form,
    // in the editor's language, and nothing changes.
    let r = attempt("not my password", new, new).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Mot de passe actuel</a>: n’est pas correct"),
        "{html}"
    );
    assert!(html.contains("id=\"p-current_password\" name=\"current_password\" type=\"password\" required autocomplete=\"current-password\" aria-invalid=\"true\""));
    let r = attempt("irrelevant", new, "something else entirely").await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("les deux nouveaux mots de passe diffèrent")
    );
    let current: &'static str = Box::leak(ed.password.clone().into_boxed_str());
    let r = attempt(current, "short", "short").await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("doit compter au moins 12 caractères")
    );
    assert_eq!(api_login(&app, &ed.email, &ed.password).await, 200);

    // Without its CSRF token the form is refused.
    let r = post_form(
        &app,
        &c,
        "/editor/settings/password",
        &[
            ("current_password", current),
            ("new_password", new),
            ("confirm_password", new),
        ],
    )
    .await;
    assert_eq!(r.status(), 403);

    let r = attempt(current, new, new).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("{PAGE}?done=password_changed"));
    // This session goes on; the other one is signed out.
    let (status, html) = get_page(&app, &c, &location(&r)).await;
    assert_eq!(status, 200);
    assert!(html.contains("Votre mot de passe a été changé."));
    let r = other.get(app.url("/editor/")).send().await.unwrap();
    assert_eq!(r.status(), 303, "the other session is closed");
    assert!(location(&r).starts_with("/editor/login"));
    assert_eq!(api_login(&app, &ed.email, &ed.password).await, 401);
    assert_eq!(api_login(&app, &ed.email, new).await, 200);
}

async fn wrong_current_passwords_are_limited_like_logins(b: Backend) {
    let app = TestApp::spawn_with(
        b,
        "[auth]\nlogin_per_ip_per_minute = 10000\nlogin_per_account_per_hour = 3\n",
    )
    .await;
    let ed = account(&app, Role::Viewer, "Vi").await;
    let (c, csrf) = sign_in(&app, &ed).await; // one attempt counted
    let form = |current: &str| {
        vec![
            ("csrf_token".to_string(), csrf.clone()),
            ("current_password".to_string(), current.to_string()),
            (
                "new_password".to_string(),
                "a much longer passphrase 42".to_string(),
            ),
            (
                "confirm_password".to_string(),
                "a much longer passphrase 42".to_string(),
            ),
        ]
    };
    for _ in 0..2 {
        let r = c
            .post(app.url("/editor/settings/password"))
            .form(&form("guess guess guess"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
    }
    // Now even the right password waits, and the page says for how long.
    let r = c
        .post(app.url("/editor/settings/password"))
        .form(&form(&ed.password))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Trop de tentatives ; réessayez dans"),
        "{html}"
    );
    assert_eq!(api_login(&app, &ed.email, &ed.password).await, 429);
}

async fn editors_create_use_and_revoke_their_tokens(b: Backend) {
    let app = spawn(b).await;
    let ed = account(&app, Role::Editor, "Ed").await;
    let other = account(&app, Role::Editor, "Other").await;
    let (c, csrf) = sign_in(&app, &ed).await;

    // Bad input is shown on the form, and keeps what was typed.
    let r = post_form(
        &app,
        &c,
        "/editor/settings/tokens",
        &[
            ("csrf_token", &csrf),
            ("name", "CMS"),
            ("expires_in_days", "soon"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Valable (jours)</a>: doit être un nombre entier de jours"),
        "{html}"
    );
    assert!(html.contains("value=\"CMS\""));
    let r = post_form(
        &app,
        &c,
        "/editor/settings/tokens",
        &[
            ("csrf_token", &csrf),
            ("name", "  "),
            ("expires_in_days", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Nom</a>: est obligatoire"));

    // Created: the secret is on this answer only; the name is escaped.
    let r = post_form(
        &app,
        &c,
        "/editor/settings/tokens",
        &[
            ("csrf_token", &csrf),
            ("name", "CMS <b>import</b>"),
            ("expires_in_days", "30"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(html.contains("<td>CMS &lt;b&gt;import&lt;"), "{html}");
    assert!(!html.contains("<b>import</b>"));
    let marker = "id=\"new-token\" class=\"secret\" readonly value=\"";
    let start = html.find(marker).expect("the token is shown") + marker.len();
    let token = html[start..start + html[start..].find('"').unwrap()].to_string();
    assert!(token.starts_with("ert_"), "{token}");

    let me = |token: String| {
        let app = &app;
        async move {
            reqwest::Client::new()
                .get(app.url("/api/v1/auth/me"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let r = me(token.clone()).await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["via"], "token");
    assert_eq!(body["editor"]["id"], ed.id.as_str());

    // Listed afterwards, used, without its secret.
    let (_, html) = get_page(&app, &c, PAGE).await;
    assert!(!html.contains(&token));
    let prefix: String = token
        .chars()
        .take(erratum::auth::secret::SHOWN_PREFIX_LEN)
        .collect();
    assert!(html.contains(&format!("<code>{prefix}…</code>")), "{html}");
    assert!(!html.contains("Vous n’avez aucun jeton d’API."));
    let id_marker = "data-token-id=\"";
    let start = html.find(id_marker).unwrap() + id_marker.len();
    let token_id = html[start..start + html[start..].find('"').unwrap()].to_string();

    // A colleague cannot revoke it, even with their own valid form.
    let (oc, ocsrf) = sign_in(&app, &other).await;
    let r = post_form(
        &app,
        &oc,
        &format!("/editor/settings/tokens/{token_id}/revoke"),
        &[("csrf_token", &ocsrf)],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("{PAGE}?err=token_not_found"));
    assert_eq!(me(token.clone()).await.status(), 200);
    // Nor without the CSRF token.
    let path = format!("/editor/settings/tokens/{token_id}/revoke");
    assert_eq!(post_form(&app, &c, &path, &[]).await.status(), 403);

    let r = post_form(&app, &c, &path, &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("{PAGE}?done=token_revoked"));
    assert_eq!(me(token.clone()).await.status(), 401);
    let (_, html) = get_page(&app, &c, &location(&r)).await;
    assert!(html.contains("Le jeton a été révoqué"));
    assert!(html.contains("<td>révoqué</td>"), "{html}");
    // Signed out, the page is the login page.
    let r = browser().get(app.url(PAGE)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/editor/login"));
}

async fn admins_edit_accounts_and_reset_passwords(b: Backend) {
    let app = spawn(b).await;
    let admin = account(&app, Role::Admin, "Admin").await;
    let ed = account(&app, Role::Editor, "Ed").await;
    let (c, csrf) = sign_in(&app, &admin).await;
    let (ed_browser, _) = sign_in(&app, &ed).await;
    let path = format!("/editor/admin/editors/{}", ed.id);

    let (_, html) = get_page(&app, &c, "/editor/admin/editors").await;
    assert!(html.contains(&format!("href=\"{path}\"")), "{html}");
    let (status, html) = get_page(&app, &c, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains("value=\"Ed\""));
    assert!(html.contains("<option value=\"editor\" selected>"));
    // One's own account has no role to pick: admins cannot demote themselves.
    let (_, own) = get_page(&app, &c, &format!("/editor/admin/editors/{}", admin.id)).await;
    assert!(!own.contains("id=\"f-role\""));

    let row = |id: String| {
        let app = &app;
        async move {
            app.app_state
                .read(move |conn| Ok(erratum::db::editors::find(conn, &id)?.unwrap()))
                .await
                .unwrap()
        }
    };
    let form = |role: &'static str, password: &'static str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("name", "<b>Ed</b> Martin".to_string()),
            ("role", role.to_string()),
            ("desks", "sport, culture".to_string()),
            ("language", "en".to_string()),
            ("password", password.to_string()),
        ]
    };
    let post = |form: Vec<(&'static str, String)>, path: String| {
        let (app, c) = (&app, c.clone());
        async move { c.post(app.url(&path)).form(&form).send().await.unwrap() }
    };

    // Bad input is shown on the form and changes nothing.
    let r = post(form("viewer", "short"), path.clone()).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Mot de passe</a>: doit compter au moins 12 caractères"),
        "{html}"
    );
    assert_eq!(row(ed.id.clone()).await.role().as_str(), "editor");
    // Without the CSRF token, refused.
    let mut forged = form("viewer", "");
    forged.remove(0);
    assert_eq!(post(forged, path.clone()).await.status(), 403);

    // Saved without a password: the account's sessions go on.
    let r = post(form("viewer", ""), path.clone()).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/editor/admin/editors?done=editor_updated");
    let after = row(ed.id.clone()).await;
    assert_eq!(after.role().as_str(), "viewer");
    assert_eq!(
        after.desks(),
        vec!["sport".to_string(), "culture".to_string()]
    );
    assert_eq!(
        (after.name.as_str(), after.language.as_str()),
        ("<b>Ed</b> Martin", "en")
    );
    let r = ed_browser.get(app.url("/editor/")).send().await.unwrap();
    assert_eq!(r.status(), 200, "still signed in");
    let (_, html) = get_page(&app, &c, "/editor/admin/editors?done=editor_updated").await;
    assert!(html.contains("&lt;b&gt;Ed&lt;"), "escaped");
    assert!(html.contains("Le compte a été enregistré."));
    // Now a viewer, Ed cannot open the page.
    let r = ed_browser.get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 403);

    // A new password: every session of the account ends; it signs in anew.
    let r = post(form("viewer", "a brand new passphrase"), path.clone()).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r),
        "/editor/admin/editors?done=editor_password_reset"
    );
    let r = ed_browser.get(app.url("/editor/")).send().await.unwrap();
    assert_eq!(r.status(), 303, "signed out");
    assert_eq!(api_login(&app, &ed.email, &ed.password).await, 401);
    assert_eq!(
        api_login(&app, &ed.email, "a brand new passphrase").await,
        200
    );

    // A forged demotion of oneself is refused.
    let own_path = format!("/editor/admin/editors/{}", admin.id);
    let r = post(form("viewer", ""), own_path).await;
    assert_eq!(r.status(), 409);
    assert_eq!(row(admin.id.clone()).await.role().as_str(), "admin");
}
