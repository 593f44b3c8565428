//! Articles, their revisions and their sentences' stable ids.

use std::collections::{HashMap, HashSet, VecDeque};

use diesel::prelude::*;

use super::any_of::any_of;
use serde::Serialize;

use super::schema::{article_revisions, articles, cases, revision_sentences, sentences};
use super::{DbConn, new_id, now};
use crate::domain::article::{Language, Locale, NewArticle};
use crate::domain::text::sha256_hex;
use crate::domain::workflow::AnchorState;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles)]
pub struct Article {
    pub id: String,
    pub external_id: String,
    pub url: String,
    pub url_key: String,
    pub title: String,
    pub language: Language,
    pub desk: Option<String>,
    pub current_revision: i32,
    pub published_at: Option<chrono::NaiveDateTime>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    /// The newsroom's tag when it is not just `language` (`es`, `pt-br`);
    /// `None` for articles stored before tags were kept.
    pub locale: Option<String>,
}

impl Article {
    /// The article's language tag (the reader pages' and widget's language).
    pub fn locale(&self) -> Locale {
        self.locale
            .as_deref()
            .and_then(Locale::parse)
            .unwrap_or_else(|| self.language.into())
    }
}

/// One sentence of a revision, as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct SentenceView {
    /// Stable id: unchanged text keeps its id across revisions.
    pub id: String,
    /// Paragraph number; paragraph 0 is the title.
    pub paragraph: i32,
    /// Position of the sentence in its paragraph.
    pub index: i32,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticleView {
    pub external_id: String,
    pub url: String,
    pub title: String,
    /// The article's language tag as ingested (`fr`, `en`, `es`…).
    pub language: Locale,
    pub desk: Option<String>,
    pub revision: i32,
    #[serde(with = "crate::domain::utc::option")]
    pub published_at: Option<chrono::NaiveDateTime>,
    pub sentences: Vec<SentenceView>,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    Created,
    Revised,
    Unchanged,
}

pub fn find_by_external_id(conn: &mut DbConn, external_id: &str) -> QueryResult<Option<Article>> {
    articles::table
        .filter(articles::external_id.eq(external_id))
        .select(Article::as_select())
        .first(conn)
        .optional()
}

/// Some articles by id (the writer's batch of reports checks the revision
/// each was anchored to is still the current one).
pub fn by_ids(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<Article>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    articles::table
        .filter(any_of(articles::id, ids))
        .select(Article::as_select())
        .load(conn)
}

/// The form URLs are matched in: no fragment, no query, no trailing slash.
pub fn url_key(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_fragment(None);
            u.set_query(None);
            u.to_string().trim_end_matches('/').to_string()
        }
        Err(_) => url.trim_end_matches('/').to_string(),
    }
}

/// Find an article by its URL: the exact URL first, then ignoring fragment,
/// query and trailing slash (pages carry tracking parameters).
pub fn find_by_url(conn: &mut DbConn, url: &str) -> QueryResult<Option<Article>> {
    let exact = articles::table
        .filter(articles::url.eq(url))
        .order(articles::updated_at.desc())
        .select(Article::as_select())
        .first(conn)
        .optional()?;
    if exact.is_some() {
        return Ok(exact);
    }
    articles::table
        .filter(articles::url_key.eq(url_key(url)))
        .order(articles::updated_at.desc())
        .select(Article::as_select())
        .first(conn)
        .optional()
}

/// The sentences of one revision, in reading order.
pub fn revision_sentences(
    conn: &mut DbConn,
    article_id: &str,
    revision: i32,
) -> QueryResult<Vec<SentenceView>> {
    let rows: Vec<(String, i32, i32, String)> = revision_sentences::table
        .inner_join(article_revisions::table)
        .inner_join(sentences::table)
        .filter(article_revisions::article_id.eq(article_id))
        .filter(article_revisions::revision.eq(revision))
        .order(revision_sentences::ordinal.asc())
        .select((
            sentences::id,
            revision_sentences::paragraph,
            revision_sentences::position,
            sentences::text,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, paragraph, index, text)| SentenceView {
            id,
            paragraph,
            index,
            text,
        })
        .collect())
}

pub fn view(conn: &mut DbConn, article: Article) -> QueryResult<ArticleView> {
    let sentences = revision_sentences(conn, &article.id, article.current_revision)?;
    let language = article.locale();
    Ok(ArticleView {
        external_id: article.external_id,
        url: article.url,
        language,
        title: article.title,
        desk: article.desk,
        revision: article.current_revision,
        published_at: article.published_at,
        sentences,
    })
}

fn body_hash(paragraphs: &[Vec<String>]) -> String {
    // Paragraph breaks are part of the identity of a body.
    let joined = paragraphs
        .iter()
        .map(|p| p.join("\u{1f}"))
        .collect::<Vec<_>>()
        .join("\u{1e}");
    sha256_hex(joined)
}

/// The open cases a new revision moved off their sentence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Touched {
    /// Their sentence was edited (see the case's successor sentence).
    pub possibly_fixed: Vec<String>,
    /// Their sentence was removed.
    pub orphaned: Vec<String>,
}

/// Create or update an article. A body identical to the current revision's
/// makes no new revision (metadata such as url or desk is still updated),
/// and so does one whose text is unchanged but that newer segmentation rules
/// split differently: sentence ids stay until the text changes (or a resplit).
pub fn upsert(
    conn: &mut DbConn,
    input: &NewArticle,
) -> QueryResult<(Article, UpsertOutcome, Touched)> {
    upsert_split(conn, input, false)
}

/// [`upsert`]; with `resplit`, unchanged text split anew makes a revision
/// (`erratum article resplit`, in `super::resplit`).
pub(crate) fn upsert_split(
    conn: &mut DbConn,
    input: &NewArticle,
    resplit: bool,
) -> QueryResult<(Article, UpsertOutcome, Touched)> {
    let hash = body_hash(&input.paragraphs);
    let t = now();
    let existing = find_by_external_id(conn, input.external_id.as_str())?;
    let (article_id, revision, outcome, previous) = match existing {
        None => {
            let id = new_id();
            diesel::insert_into(articles::table)
                .values((
                    articles::id.eq(&id),
                    articles::external_id.eq(input.external_id.as_str()),
                    articles::url.eq(&input.url),
                    articles::url_key.eq(url_key(&input.url)),
                    articles::title.eq(&input.title),
                    articles::language.eq(input.language.language()),
                    articles::locale.eq(input.language.as_str()),
                    articles::desk.eq(&input.desk),
                    articles::current_revision.eq(1),
                    articles::published_at.eq(input.published_at.unwrap_or(t)),
                    articles::created_at.eq(t),
                    articles::updated_at.eq(t),
                ))
                .execute(conn)?;
            (id, 1, UpsertOutcome::Created, Vec::new())
        }
        Some(article) => {
            let current_hash: Option<String> = article_revisions::table
                .filter(article_revisions::article_id.eq(&article.id))
                .filter(article_revisions::revision.eq(article.current_revision))
                .select(article_revisions::body_hash)
                .first(conn)
                .optional()?;
            let changed = current_hash.as_deref() != Some(hash.as_str())
                && (resplit || !super::resplit::same_text_older_rules(conn, &article, input)?);
            let metadata_changed = article.url != input.url
                || article.desk != input.desk
                || article.locale() != input.language
                || (input.published_at.is_some() && article.published_at != input.published_at);
            if !changed {
                if metadata_changed {
                    diesel::update(articles::table.find(&article.id))
                        .set((
                            articles::url.eq(&input.url),
                            articles::url_key.eq(url_key(&input.url)),
                            articles::desk.eq(&input.desk),
                            articles::language.eq(input.language.language()),
                            articles::locale.eq(input.language.as_str()),
                            articles::published_at.eq(input.published_at.or(article.published_at)),
                            articles::updated_at.eq(t),
                        ))
                        .execute(conn)?;
                }
                let article = articles::table
                    .find(&article.id)
                    .select(Article::as_select())
                    .first(conn)?;
                return Ok((article, UpsertOutcome::Unchanged, Touched::default()));
            }
            let previous = revision_sentences(conn, &article.id, article.current_revision)?;
            let revision = article.current_revision + 1;
            diesel::update(articles::table.find(&article.id))
                .set((
                    articles::url.eq(&input.url),
                    articles::url_key.eq(url_key(&input.url)),
                    articles::title.eq(&input.title),
                    articles::desk.eq(&input.desk),
                    articles::language.eq(input.language.language()),
                    articles::locale.eq(input.language.as_str()),
                    articles::published_at.eq(input.published_at.or(article.published_at)),
                    articles::current_revision.eq(revision),
                    articles::updated_at.eq(t),
                ))
                .execute(conn)?;
            (article.id, revision, UpsertOutcome::Revised, previous)
        }
    };

    let revision_id = new_id();
    diesel::insert_into(article_revisions::table)
        .values((
            article_revisions::id.eq(&revision_id),
            article_revisions::article_id.eq(&article_id),
            article_revisions::revision.eq(revision),
            article_revisions::title.eq(&input.title),
            article_revisions::body_hash.eq(&hash),
            article_revisions::created_at.eq(t),
            article_revisions::rules_version.eq(crate::domain::segment::rules_version()),
        ))
        .execute(conn)?;

    // Unchanged text keeps its id: match each new sentence against the previous
    // revision's sentences of the same text, in order (repeated texts pair up
    // first with first), wherever they moved.
    let mut by_text: HashMap<&str, VecDeque<&str>> = HashMap::new();
    for s in &previous {
        by_text
            .entry(s.text.as_str())
            .or_default()
            .push_back(s.id.as_str());
    }
    let mut new_sentences = Vec::new();
    let mut placements = Vec::new();
    let mut ordinal = 0;
    for (p, paragraph) in input.paragraphs.iter().enumerate() {
        for (i, text) in paragraph.iter().enumerate() {
            let id = match by_text.get_mut(text.as_str()).and_then(VecDeque::pop_front) {
                Some(id) => id.to_string(),
                None => {
                    let id = new_id();
                    new_sentences.push((
                        sentences::id.eq(id.clone()),
                        sentences::article_id.eq(article_id.clone()),
                        sentences::text.eq(text.clone()),
                        sentences::first_revision.eq(revision),
                        sentences::created_at.eq(t),
                        sentences::lineage_id.eq(id.clone()),
                    ));
                    id
                }
            };
            placements.push((
                revision_sentences::revision_id.eq(revision_id.clone()),
                revision_sentences::ordinal.eq(ordinal),
                revision_sentences::sentence_id.eq(id),
                revision_sentences::paragraph.eq(p as i32),
                revision_sentences::position.eq(i as i32),
            ));
            ordinal += 1;
        }
    }
    // Row by row: multi-row INSERT is not available through diesel's
    // MultiConnection, and inside one transaction this costs little.
    for row in new_sentences {
        diesel::insert_into(sentences::table)
            .values(row)
            .execute(conn)?;
    }
    for row in placements {
        diesel::insert_into(revision_sentences::table)
            .values(row)
            .execute(conn)?;
    }
    let touched = if outcome == UpsertOutcome::Revised {
        link_lineage(conn, &article_id, &previous, revision)?;
        reanchor_cases(conn, &article_id, &previous, revision)?
    } else {
        Touched::default()
    };
    let article = articles::table
        .find(&article_id)
        .select(Article::as_select())
        .first(conn)?;
    Ok((article, outcome, touched))
}

/// After a revision, each new sentence that took a gone sentence's place
/// (an edit, as `successor_of` pairs them) joins that sentence's lineage:
/// similar cases and the memory of corrections follow a sentence across
/// revisions, whether or not a case was open on it.
fn link_lineage(
    conn: &mut DbConn,
    article_id: &str,
    previous: &[SentenceView],
    revision: i32,
) -> QueryResult<()> {
    let current = revision_sentences(conn, article_id, revision)?;
    let current_ids: HashSet<&str> = current.iter().map(|s| s.id.as_str()).collect();
    let previous_ids: HashSet<&str> = previous.iter().map(|s| s.id.as_str()).collect();
    for gone in previous
        .iter()
        .filter(|s| !current_ids.contains(s.id.as_str()))
    {
        let Some(next) = successor_of(&gone.id, previous, &current, &previous_ids) else {
            continue;
        };
        let lineage: String = sentences::table
            .find(&gone.id)
            .select(sentences::lineage_id)
            .first(conn)?;
        diesel::update(sentences::table.find(&next))
            .set(sentences::lineage_id.eq(lineage))
            .execute(conn)?;
    }
    Ok(())
}

/// After a revision, open cases follow their sentence. A case whose sentence
/// is gone becomes `possibly_fixed` when new text took its place between the
/// same neighbours (an edit), or `orphaned` when the passage was removed.
fn reanchor_cases(
    conn: &mut DbConn,
    article_id: &str,
    previous: &[SentenceView],
    revision: i32,
) -> QueryResult<Touched> {
    let mut touched = Touched::default();
    let open: Vec<(String, String)> = cases::table
        .filter(cases::article_id.eq(article_id))
        .filter(cases::open_key.is_not_null())
        .select((cases::id, cases::sentence_id))
        .load(conn)?;
    if open.is_empty() {
        return Ok(touched);
    }
    let current = revision_sentences(conn, article_id, revision)?;
    let current_ids: HashSet<&str> = current.iter().map(|s| s.id.as_str()).collect();
    let previous_ids: HashSet<&str> = previous.iter().map(|s| s.id.as_str()).collect();
    let t = now();
    for (case_id, sentence_id) in open {
        let (state, successor) = if current_ids.contains(sentence_id.as_str()) {
            (AnchorState::Current, None)
        } else {
            match successor_of(&sentence_id, previous, &current, &previous_ids) {
                Some(id) => {
                    touched.possibly_fixed.push(case_id.clone());
                    (AnchorState::PossiblyFixed, Some(id))
                }
                None => {
                    touched.orphaned.push(case_id.clone());
                    (AnchorState::Orphaned, None)
                }
            }
        };
        diesel::update(cases::table.find(&case_id))
            .set((
                cases::anchor_state.eq(state),
                cases::successor_sentence_id.eq(successor),
                cases::updated_at.eq(t),
            ))
            .execute(conn)?;
    }
    Ok(touched)
}

/// The new sentence standing where `gone` stood. Gone sentences and new ones
/// between the same two surviving neighbours pair up in order (an edit); a
/// gone sentence with no new partner has no successor (removed text).
fn successor_of(
    gone: &str,
    previous: &[SentenceView],
    current: &[SentenceView],
    previous_ids: &HashSet<&str>,
) -> Option<String> {
    let pos = previous.iter().position(|s| s.id == gone)?;
    let current_ids: HashSet<&str> = current.iter().map(|s| s.id.as_str()).collect();
    let anchor = previous[..pos]
        .iter()
        .rposition(|s| current_ids.contains(s.id.as_str()));
    // Everything between the anchor and `gone` is gone too (the anchor is the
    // nearest survivor), so `gone` is the k-th missing sentence of its gap.
    let k = pos - anchor.map_or(0, |i| i + 1);
    let start = match anchor {
        Some(i) => current.iter().position(|s| s.id == previous[i].id)? + 1,
        None => 0,
    };
    let gap = current.get(start..=start + k)?;
    if gap.iter().all(|s| !previous_ids.contains(s.id.as_str())) {
        gap.last().map(|s| s.id.clone())
    } else {
        None
    }
}
