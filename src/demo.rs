//! The demo article: the bundled fixture `tests/fixtures/article-fr-coree-du-nord.txt`,
//! a real French article with the newsroom's feedback footer, compiled into
//! the binary so a new user has something to report on at first start.

use crate::domain::article::{ArticleUpsert, Language, NewArticle, split_text_file};
use crate::error::Problem;
use crate::state::AppState;

pub const DEMO_TEXT: &str = include_str!("../tests/fixtures/article-fr-coree-du-nord.txt");

/// Import the demo article (a no-op when it is already there, unchanged).
pub async fn import(state: &AppState) -> Result<(), Problem> {
    let demo = &state.settings.demo;
    let url = if demo.url.is_empty() {
        format!("{}/demo", state.public_url)
    } else {
        demo.url.clone()
    };
    let (title, body) = split_text_file(DEMO_TEXT, None);
    let input = ArticleUpsert {
        url,
        title,
        language: Language::Fr.into(),
        desk: Some("international".into()),
        published_at: None,
        body_text: Some(body),
        body_html: None,
    };
    let article = NewArticle::parse(&demo.external_id, input)?;
    crate::app::articles::ingest(state, article)
        .await
        .map(|_| ())
}

/// The start-up lines a newcomer needs: where to report as a reader, where
/// the editors' pages are, and, while no account exists, the exact command
/// that creates the first admin (accounts are created from the shell only,
/// so there is no default password to leave behind).
pub async fn welcome(state: &AppState) {
    let url = &state.public_url;
    // The `url` field is what scripts (and tests/api/durability.rs) read.
    tracing::info!(
        url = %url,
        database = state.backend.name(),
        "erratum is listening on {url}"
    );
    if state.settings.demo.enabled {
        tracing::info!("report an error as a reader on the demo article: {url}/demo");
    }
    tracing::info!("the editors' pages: {url}/editor/");
    let editors = state
        .read(|conn| {
            use diesel::prelude::*;
            Ok(crate::db::schema::editors::table
                .count()
                .get_result::<i64>(conn)?)
        })
        .await;
    if let Ok(0) = editors {
        tracing::warn!(
            "no editor account yet: create the first admin (it asks for a password), then sign in at {url}/editor/login: {}",
            first_admin_command()
        );
    }
    // Passwords off: the first admin comes through the identity provider
    // (`auth.oidc.bootstrap_admin_email`), never a password setup link.
    let oidc = &state.settings.auth.oidc;
    if !oidc.passwords_allowed() {
        if !oidc.bootstrap_admin_email.is_empty() {
            tracing::info!(
                "single sign-on: while no admin exists, the first sign-in with auth.oidc.bootstrap_admin_email creates one at {url}/editor/login"
            );
        }
    } else {
        // No admin yet: a one-time link to create one from the browser.
        match crate::app::recovery::setup_link(state).await {
            Ok(Some(link)) => tracing::warn!(
                setup_url = %link,
                "no admin account yet: open this one-time link (valid 24 hours, until used) to create the first admin: {link}"
            ),
            Ok(None) => {}
            Err(p) => tracing::warn!(error = %p, "cannot make the first admin's setup link"),
        }
    }
    if matches!(
        state.settings.email.transport,
        crate::config::EmailTransport::File
    ) {
        tracing::info!(
            "emails are written as .eml files to {}/ (email.transport = \"file\")",
            state.settings.email.file.dir.display()
        );
    }
}

/// `cargo run -- editor add …` when started by cargo (cargo sets
/// CARGO_MANIFEST_DIR for the program it runs), `erratum editor add …`
/// otherwise.
pub fn first_admin_command() -> String {
    let program = if std::env::var_os("CARGO_MANIFEST_DIR").is_some() {
        "cargo run --"
    } else {
        "erratum"
    };
    format!(
        "{program} editor add --email you@example.org --name \"Your Name\" --role admin --language en"
    )
}
