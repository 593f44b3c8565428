//! New segmentation rules and stored articles. Every revision records the
//! rules version it was split with (`article_revisions.rules_version`). A
//! stored revision is never split again behind the editors' backs: an update
//! whose text is unchanged keeps the old split (and its sentence ids), a
//! changed text is split with the current rules, and `erratum article
//! resplit` re-splits on purpose, moving open cases to the new sentences
//! (the decisions are `app::articles::resplit`'s; this is their storage).

use std::collections::BTreeMap;

use super::articles::{self, Article, SentenceView};
use super::schema::{article_revisions, articles as articles_table, cases, reports};
use super::{DbConn, now};
use crate::domain::article::NewArticle;
use crate::domain::segment::rules_version;
use crate::domain::workflow::AnchorState;
use diesel::prelude::*;

/// The rules version the article's current revision was split with.
pub fn current_rules_version(conn: &mut DbConn, article: &Article) -> QueryResult<i32> {
    article_revisions::table
        .filter(article_revisions::article_id.eq(&article.id))
        .filter(article_revisions::revision.eq(article.current_revision))
        .select(article_revisions::rules_version)
        .first(conn)
}

/// True when the current revision was split with older rules and `input`
/// holds the same text, only split differently: not a new revision.
pub(crate) fn same_text_older_rules(
    conn: &mut DbConn,
    article: &Article,
    input: &NewArticle,
) -> QueryResult<bool> {
    if current_rules_version(conn, article)? >= rules_version() {
        return Ok(false);
    }
    let stored = articles::revision_sentences(conn, &article.id, article.current_revision)?;
    let stored = paragraph_texts(&stored);
    let given: Vec<String> = input.paragraphs.iter().map(|p| p.join(" ")).collect();
    Ok(stored == given)
}

/// Each paragraph's text: its sentences joined by one space, the form the
/// splitter produced them from (sentences are cut at spaces).
pub fn paragraph_texts(sentences: &[SentenceView]) -> Vec<String> {
    let mut paragraphs: BTreeMap<i32, Vec<&str>> = BTreeMap::new();
    for s in sentences {
        paragraphs.entry(s.paragraph).or_default().push(&s.text);
    }
    paragraphs.into_values().map(|p| p.join(" ")).collect()
}

/// External ids of the articles whose current revision was split with
/// other rules than the current ones.
pub fn outdated_articles(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    articles_table::table
        .inner_join(
            article_revisions::table.on(article_revisions::article_id
                .eq(articles_table::id)
                .and(article_revisions::revision.eq(articles_table::current_revision))),
        )
        .filter(article_revisions::rules_version.ne(rules_version()))
        .order(articles_table::external_id.asc())
        .select(articles_table::external_id)
        .load(conn)
}

/// Mark the article's current revision as split with the current rules
/// (a resplit that found the same sentences).
pub fn mark_current_rules(conn: &mut DbConn, article: &Article) -> QueryResult<usize> {
    diesel::update(
        article_revisions::table
            .filter(article_revisions::article_id.eq(&article.id))
            .filter(article_revisions::revision.eq(article.current_revision)),
    )
    .set(article_revisions::rules_version.eq(rules_version()))
    .execute(conn)
}

/// The article's open cases, oldest first: (case id, sentence id).
pub fn open_cases(conn: &mut DbConn, article_id: &str) -> QueryResult<Vec<(String, String)>> {
    cases::table
        .filter(cases::article_id.eq(article_id))
        .filter(cases::open_key.is_not_null())
        .order(cases::created_at.asc())
        .select((cases::id, cases::sentence_id))
        .load(conn)
}

/// The quotes (exact, prefix) of a case's reports that are not spam.
pub fn case_quotes(conn: &mut DbConn, case_id: &str) -> QueryResult<Vec<(String, Option<String>)>> {
    reports::table
        .filter(reports::case_id.eq(case_id))
        .filter(reports::is_spam.eq(false))
        .select((reports::quote_exact, reports::quote_prefix))
        .load(conn)
}

/// The open case on a sentence, by its open key (`article/sentence`).
pub fn open_case_with_key(conn: &mut DbConn, key: &str) -> QueryResult<Option<String>> {
    cases::table
        .filter(cases::open_key.eq(key))
        .select(cases::id)
        .first(conn)
        .optional()
}

/// Move an open case to another sentence of its article's new revision.
pub fn move_case(
    conn: &mut DbConn,
    case_id: &str,
    article_id: &str,
    sentence: &SentenceView,
) -> QueryResult<usize> {
    diesel::update(cases::table.find(case_id))
        .set((
            cases::sentence_id.eq(&sentence.id),
            cases::open_key.eq(super::cases::open_key(article_id, &sentence.id)),
            cases::sentence_text.eq(&sentence.text),
            cases::anchor_state.eq(AnchorState::Current),
            cases::successor_sentence_id.eq(None::<String>),
            cases::version.eq(cases::version + 1),
            cases::updated_at.eq(now()),
        ))
        .execute(conn)
}
