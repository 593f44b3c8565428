//! Articles: the CMS sends revisions; the widget and pages read them.

use diesel::Connection;

use super::AppState;
use crate::db::articles as store;
pub use crate::db::articles::{Article, ArticleView, SentenceView, Touched, UpsertOutcome};
pub use crate::db::corrections::CorrectionView;
use crate::db::dialect::is_unique_violation;
use crate::db::{DbConn, events, now};
use crate::domain::article::{ExternalId, Language, Locale, NewArticle};
use crate::domain::event::Event;
use crate::error::{ErrorCode, Problem};

pub fn not_found(external_id: &ExternalId) -> Problem {
    Problem::not_found(
        ErrorCode::ArticleNotFound,
        format!("No article {:?}.", external_id.as_str()),
    )
}

/// What storing a revision did.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub view: ArticleView,
    pub outcome: UpsertOutcome,
    /// Open cases the revision moved off their sentence.
    pub touched: Touched,
}

/// What `PUT /api/v1/articles/{id}` answers: the article, and the open
/// cases the revision touched, so the CMS can tell its editor "this edit may
/// fix 2 reported errors".
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct IngestAnswer {
    #[serde(flatten)]
    pub article: ArticleView,
    /// Open cases whose sentence this revision changed (`possibly_fixed`)
    /// or removed (`orphaned`); both empty for a new or unchanged article.
    pub touched: Touched,
}

impl Ingested {
    pub fn answer(self) -> IngestAnswer {
        IngestAnswer {
            article: self.view,
            touched: self.touched,
        }
    }
}

/// Store an article sent by the CMS: a new article, a new revision (open
/// cases follow their sentences; those whose sentence changed or vanished are
/// flagged), or nothing when the body is unchanged.
pub async fn ingest(state: &AppState, article: NewArticle) -> Result<Ingested, Problem> {
    let ingested = state.write(move |conn| ingest_in(conn, &article)).await?;
    if ingested.outcome != UpsertOutcome::Unchanged {
        tracing::info!(external_id = %ingested.view.external_id, revision = ingested.view.revision, "article stored");
        state.committed();
    }
    Ok(ingested)
}

/// The ingest's write, inside the caller's transaction (the writer's, or
/// the command line's own).
pub fn ingest_in(conn: &mut DbConn, article: &NewArticle) -> Result<Ingested, Problem> {
    // Two instances creating the same new article race on its external id:
    // the loser stores its body as a revision of the winner's, as if the
    // requests had come one after the other.
    let first = conn.transaction(|c| store::upsert(c, article));
    let (a, outcome, touched) = match first {
        Err(e) if is_unique_violation(&e) => store::upsert(conn, article)?,
        other => other?,
    };
    if outcome == UpsertOutcome::Revised {
        events::record(
            conn,
            &Event::ArticleRevised {
                article_id: a.id.clone(),
                revision: a.current_revision,
                possibly_fixed: touched.possibly_fixed.clone(),
                orphaned: touched.orphaned.clone(),
            },
            now(),
        )?;
    }
    Ok(Ingested {
        view: store::view(conn, a)?,
        outcome,
        touched,
    })
}

/// An article's current revision, by the CMS's id.
pub async fn get(state: &AppState, external_id: ExternalId) -> Result<ArticleView, Problem> {
    state
        .read(move |conn| {
            let article = store::find_by_external_id(conn, external_id.as_str())?
                .ok_or_else(|| not_found(&external_id))?;
            Ok(store::view(conn, article)?)
        })
        .await
}

/// An article's current revision, by its public URL (already parsed).
pub async fn by_url(state: &AppState, url: String) -> Result<ArticleView, Problem> {
    state
        .read(move |conn| {
            let article = store::find_by_url(conn, &url)?.ok_or_else(|| {
                Problem::not_found(ErrorCode::ArticleNotFound, "No article has this URL.")
            })?;
            Ok(store::view(conn, article)?)
        })
        .await
}

/// What the article page shows: the article, its current sentences and its
/// published corrections.
/// An article's language tag, for the reader pages; `fallback` (the
/// language the caller already knows) when the article is gone.
pub async fn locale(
    state: &AppState,
    external_id: String,
    fallback: Language,
) -> Result<Locale, Problem> {
    state
        .read(move |conn| {
            Ok(store::find_by_external_id(conn, &external_id)?
                .map(|a| a.locale())
                .unwrap_or_else(|| fallback.into()))
        })
        .await
}

pub struct ArticlePage {
    pub article: Article,
    pub sentences: Vec<SentenceView>,
    pub corrections: Vec<CorrectionView>,
}

pub async fn page(state: &AppState, external_id: ExternalId) -> Result<ArticlePage, Problem> {
    state
        .read(move |conn| {
            let article =
                store::find_by_external_id(conn, external_id.as_str())?.ok_or_else(|| {
                    Problem::not_found(ErrorCode::ArticleNotFound, "No such article.")
                })?;
            let sentences = store::revision_sentences(conn, &article.id, article.current_revision)?;
            let corrections = crate::db::corrections::for_article(conn, &article.id)?;
            Ok(ArticlePage {
                article,
                sentences,
                corrections,
            })
        })
        .await
}
