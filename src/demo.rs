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
        language: Language::Fr,
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
