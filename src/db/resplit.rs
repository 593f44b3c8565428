//! New segmentation rules and stored articles. Every revision records the
//! rules version it was split with (`article_revisions.rules_version`). A
//! stored revision is never split again behind the editors' backs: an update
//! whose text is unchanged keeps the old split (and its sentence ids), a
//! changed text is split with the current rules, and `erratum article
//! resplit` re-splits on purpose, moving open cases to the new sentences.

use std::collections::{BTreeMap, HashSet};

use diesel::prelude::*;
use serde::Serialize;

use super::articles::{self, Article, SentenceView, UpsertOutcome};
use super::schema::{article_revisions, articles as articles_table, cases, reports};
use super::{DbConn, now};
use crate::domain::article::{ExternalId, Language, NewArticle};
use crate::domain::segment::{self, rules_version};
use crate::domain::text::normalize_ws;
use crate::error::Problem;

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
fn paragraph_texts(sentences: &[SentenceView]) -> Vec<String> {
    let mut paragraphs: BTreeMap<i32, Vec<&str>> = BTreeMap::new();
    for s in sentences {
        paragraphs.entry(s.paragraph).or_default().push(&s.text);
    }
    paragraphs.into_values().map(|p| p.join(" ")).collect()
}

/// What a resplit did to one article.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ResplitReport {
    pub external_id: String,
    pub from_rules: i32,
    pub to_rules: i32,
    /// The new revision, or None when the new rules split it the same way.
    pub new_revision: Option<i32>,
    pub sentences: usize,
    /// Open cases moved to the sentence that now holds their quote.
    pub moved: Vec<String>,
    /// Open cases that could not be moved, with the reason.
    pub unmapped: Vec<(String, String)>,
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

/// Split the current revision's text again with the current rules. The
/// title (paragraph 0) and the paragraphs stay as they are. A different
/// split makes a new revision (unchanged sentences keep their ids) and each
/// open case whose sentence is gone moves to the new sentence that holds its
/// reports' quote; the others are listed in `unmapped`. Run it in a
/// transaction.
pub fn resplit(conn: &mut DbConn, external_id: &str) -> Result<ResplitReport, Problem> {
    let article = articles::find_by_external_id(conn, external_id)?.ok_or_else(|| {
        Problem::not_found("article_not_found", format!("no article {external_id}"))
    })?;
    let from_rules = current_rules_version(conn, &article)?;
    let old = articles::revision_sentences(conn, &article.id, article.current_revision)?;
    let language = Language::parse(article.language.as_str())
        .ok_or_else(|| Problem::internal("stored article has an unknown language"))?;
    let texts = paragraph_texts(&old);
    let mut paragraphs: Vec<Vec<String>> = Vec::with_capacity(texts.len());
    for (p, text) in texts.iter().enumerate() {
        if p == 0 {
            paragraphs.push(
                old.iter()
                    .filter(|s| s.paragraph == 0)
                    .map(|s| s.text.clone())
                    .collect(),
            );
            continue;
        }
        let sentences = segment::split_sentences(text, language.segment_lang())
            .iter()
            .map(|s| normalize_ws(s))
            .filter(|s| !s.is_empty())
            .collect();
        paragraphs.push(sentences);
    }
    let mut report = ResplitReport {
        external_id: article.external_id.clone(),
        from_rules,
        to_rules: rules_version(),
        new_revision: None,
        sentences: paragraphs.iter().map(Vec::len).sum(),
        moved: Vec::new(),
        unmapped: Vec::new(),
    };
    let unchanged = old
        .iter()
        .map(|s| (s.paragraph, s.text.as_str()))
        .eq(paragraphs
            .iter()
            .enumerate()
            .flat_map(|(p, ss)| ss.iter().map(move |s| (p as i32, s.as_str()))));
    if unchanged {
        // Same sentences: the revision is what the current rules give.
        diesel::update(
            article_revisions::table
                .filter(article_revisions::article_id.eq(&article.id))
                .filter(article_revisions::revision.eq(article.current_revision)),
        )
        .set(article_revisions::rules_version.eq(rules_version()))
        .execute(conn)?;
        return Ok(report);
    }
    let input = NewArticle {
        external_id: ExternalId::parse(&article.external_id)
            .map_err(|_| Problem::internal("stored article has an invalid external id"))?,
        url: article.url.clone(),
        title: article.title.clone(),
        language,
        desk: article.desk.clone(),
        published_at: article.published_at,
        paragraphs,
    };
    let (updated, outcome, _) = articles::upsert_split(conn, &input, true)?;
    if outcome != UpsertOutcome::Revised {
        return Err(Problem::internal("resplit made no revision"));
    }
    report.new_revision = Some(updated.current_revision);
    let new = articles::revision_sentences(conn, &article.id, updated.current_revision)?;
    move_open_cases(conn, &article.id, &old, &new, &mut report)?;
    Ok(report)
}

/// Where each sentence sits in its paragraph's text: (paragraph, start, end)
/// in bytes, sentences joined by one space.
fn spans(sentences: &[SentenceView]) -> Vec<(i32, usize, usize)> {
    let mut out = Vec::with_capacity(sentences.len());
    let mut paragraph = -1;
    let mut offset = 0;
    for s in sentences {
        if s.paragraph != paragraph {
            paragraph = s.paragraph;
            offset = 0;
        }
        out.push((s.paragraph, offset, offset + s.text.len()));
        offset += s.text.len() + 1;
    }
    out
}

fn move_open_cases(
    conn: &mut DbConn,
    article_id: &str,
    old: &[SentenceView],
    new: &[SentenceView],
    report: &mut ResplitReport,
) -> Result<(), Problem> {
    let open: Vec<(String, String)> = cases::table
        .filter(cases::article_id.eq(article_id))
        .filter(cases::open_key.is_not_null())
        .order(cases::created_at.asc())
        .select((cases::id, cases::sentence_id))
        .load(conn)?;
    let new_ids: HashSet<&str> = new.iter().map(|s| s.id.as_str()).collect();
    let old_spans = spans(old);
    let new_spans = spans(new);
    let t = now();
    for (case_id, sentence_id) in open {
        if new_ids.contains(sentence_id.as_str()) {
            continue;
        }
        let Some(k) = old.iter().position(|s| s.id == sentence_id) else {
            report.unmapped.push((
                case_id,
                "its sentence is not in the revision that was re-split".into(),
            ));
            continue;
        };
        let quotes: Vec<(String, Option<String>)> = reports::table
            .filter(reports::case_id.eq(&case_id))
            .filter(reports::is_spam.eq(false))
            .select((reports::quote_exact, reports::quote_prefix))
            .load(conn)?;
        let (paragraph, start, _) = old_spans[k];
        // The quote's place in the paragraph; every report must land in the
        // same new sentence, or the case cannot follow one sentence.
        let mut targets = HashSet::new();
        let mut lost = false;
        for (exact, prefix) in &quotes {
            match locate(&old[k].text, exact, prefix.as_deref()) {
                Some((from, to)) => {
                    match containing(new, &new_spans, paragraph, start + from, start + to) {
                        Some(j) => {
                            targets.insert(j);
                        }
                        None => lost = true,
                    }
                }
                None => lost = true,
            }
        }
        if quotes.is_empty() {
            // No quote to go by: the sentence that starts where this one did.
            if let Some(j) = containing(new, &new_spans, paragraph, start, start + 1) {
                targets.insert(j);
            }
        }
        let target = match (lost, targets.len()) {
            (false, 1) => targets.into_iter().next().expect("one target"),
            (true, _) | (false, 0) => {
                report.unmapped.push((
                    case_id,
                    "a quote now spans two sentences, or is not in the text".into(),
                ));
                continue;
            }
            _ => {
                report
                    .unmapped
                    .push((case_id, "its quotes are now in different sentences".into()));
                continue;
            }
        };
        let sentence = &new[target];
        let key = format!("{article_id}/{}", sentence.id);
        let taken: Option<String> = cases::table
            .filter(cases::open_key.eq(&key))
            .select(cases::id)
            .first(conn)
            .optional()?;
        if let Some(other) = taken {
            report.unmapped.push((
                case_id,
                format!("case {other} is already open on the new sentence"),
            ));
            continue;
        }
        diesel::update(cases::table.find(&case_id))
            .set((
                cases::sentence_id.eq(&sentence.id),
                cases::open_key.eq(&key),
                cases::sentence_text.eq(&sentence.text),
                cases::anchor_state.eq("current"),
                cases::successor_sentence_id.eq(None::<String>),
                cases::version.eq(cases::version + 1),
                cases::updated_at.eq(t),
            ))
            .execute(conn)?;
        report.moved.push(case_id);
    }
    Ok(())
}

/// Byte range of `exact` in `sentence`: the occurrence right after `prefix`
/// when one is given and found, else the first.
fn locate(sentence: &str, exact: &str, prefix: Option<&str>) -> Option<(usize, usize)> {
    if exact.is_empty() {
        return None;
    }
    let after_prefix = prefix.filter(|p| !p.is_empty()).and_then(|p| {
        sentence
            .match_indices(exact)
            .find(|(i, _)| sentence[..*i].trim_end().ends_with(p.trim_end()))
    });
    let (i, _) = after_prefix.or_else(|| sentence.match_indices(exact).next())?;
    Some((i, i + exact.len()))
}

/// The new sentence of `paragraph` whose span holds `from..to` entirely.
fn containing(
    new: &[SentenceView],
    spans: &[(i32, usize, usize)],
    paragraph: i32,
    from: usize,
    to: usize,
) -> Option<usize> {
    (0..new.len()).find(|&j| {
        let (p, start, end) = spans[j];
        p == paragraph && start <= from && to <= end
    })
}
