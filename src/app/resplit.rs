//! Re-splitting stored articles with new segmentation rules (`erratum
//! article resplit`). A stored revision is never split again behind the
//! editors' backs; this is the deliberate way: the current revision's text,
//! split with the current rules, becomes a new revision (unchanged sentences
//! keep their ids), and each open case whose sentence is gone follows its
//! readers' quote to the new sentence that holds it, or is listed as not
//! moved, with the reason.

use std::collections::HashSet;

use serde::Serialize;

use crate::db::articles::{self as store, SentenceView, UpsertOutcome};
use crate::db::{DbConn, resplit as storage};
use crate::domain::article::{ExternalId, Language, NewArticle};
use crate::domain::segment::{self, rules_version};
use crate::domain::text::normalize_ws;
use crate::error::{ErrorCode, Problem};

pub use crate::db::resplit::outdated_articles;

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

/// Split the current revision's text again with the current rules. The
/// title (paragraph 0) and the paragraphs stay as they are. Run it in a
/// transaction: a case moves only with the revision that moves it.
pub fn resplit_in(conn: &mut DbConn, external_id: &str) -> Result<ResplitReport, Problem> {
    let article = store::find_by_external_id(conn, external_id)?.ok_or_else(|| {
        Problem::not_found(
            ErrorCode::ArticleNotFound,
            format!("no article {external_id}"),
        )
    })?;
    let from_rules = storage::current_rules_version(conn, &article)?;
    let old = store::revision_sentences(conn, &article.id, article.current_revision)?;
    let language = Language::parse(article.language.as_str())
        .ok_or_else(|| Problem::internal("stored article has an unknown language"))?;
    let texts = storage::paragraph_texts(&old);
    let mut paragraphs: Vec<Vec<String>> = Vec::with_capacity(texts.len());
    for (p, text) in texts.iter().enumerate() {
        if p == 0 {
            // The title is one line, never split.
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
        storage::mark_current_rules(conn, &article)?;
        return Ok(report);
    }
    let input = NewArticle {
        external_id: ExternalId::parse(&article.external_id)
            .map_err(|_| Problem::internal("stored article has an invalid external id"))?,
        url: article.url.clone(),
        title: article.title.clone(),
        language: article.locale(),
        desk: article.desk.clone(),
        published_at: article.published_at,
        paragraphs,
    };
    let (updated, outcome, _) = store::upsert_split(conn, &input, true)?;
    if outcome != UpsertOutcome::Revised {
        return Err(Problem::internal("resplit made no revision"));
    }
    report.new_revision = Some(updated.current_revision);
    let new = store::revision_sentences(conn, &article.id, updated.current_revision)?;
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
    let open = storage::open_cases(conn, article_id)?;
    let new_ids: HashSet<&str> = new.iter().map(|s| s.id.as_str()).collect();
    let old_spans = spans(old);
    let new_spans = spans(new);
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
        let quotes = storage::case_quotes(conn, &case_id)?;
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
        let key = crate::db::cases::open_key(article_id, &sentence.id);
        if let Some(other) = storage::open_case_with_key(conn, &key)? {
            report.unmapped.push((
                case_id,
                format!("case {other} is already open on the new sentence"),
            ));
            continue;
        }
        storage::move_case(conn, &case_id, article_id, sentence)?;
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

#[cfg(test)]
mod tests {
    use super::locate;

    #[test]
    fn a_quote_is_found_after_its_prefix() {
        let s = "Le chat dort. Le chat mange.";
        assert_eq!(locate(s, "Le chat", None), Some((0, 7)));
        assert_eq!(locate(s, "Le chat", Some("dort.")), Some((14, 21)));
        assert_eq!(locate(s, "", None), None);
        assert_eq!(locate(s, "chien", None), None);
    }
}
