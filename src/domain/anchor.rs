//! Anchoring a quote to the sentences of the article's current revision.

use crate::db::articles::SentenceView;
use crate::domain::report::Quote;
use crate::error::{ErrorCode, Problem};

/// Where a report points: its first sentence and every sentence it spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub sentence_id: String,
    pub sentence_text: String,
    pub span: Vec<String>,
}

/// Resolve a quote (and optional sentence id) against the sentences, read in
/// order as one text with single spaces between sentences.
///
/// With a sentence id, the quote must start in that sentence. Without one,
/// every occurrence is a candidate; prefix and suffix pick among repeats, and
/// a repeat they cannot tell apart is refused rather than guessed.
pub fn resolve(
    sentences: &[SentenceView],
    sentence_id: Option<&str>,
    quote: &Quote,
) -> Result<Anchor, Problem> {
    let mut text = String::new();
    let mut starts = Vec::with_capacity(sentences.len());
    for s in sentences {
        if !text.is_empty() {
            text.push(' ');
        }
        starts.push(text.len());
        text.push_str(&s.text);
    }
    let sentence_at = |offset: usize| starts.partition_point(|&s| s <= offset).saturating_sub(1);

    if let Some(id) = sentence_id {
        let Some(index) = sentences.iter().position(|s| s.id == id) else {
            return Err(Problem::field(
                ErrorCode::UnknownSentence,
                "Unknown sentence",
                "sentence_id",
                "is not a sentence of this article's current revision",
            ));
        };
        let (from, to) = (starts[index], starts[index] + sentences[index].text.len());
        let hit = occurrences(&text, &quote.exact).find(|&o| o >= from && o < to);
        return match hit {
            Some(o) => Ok(anchor(
                sentences,
                index,
                sentence_at(o + quote.exact.len() - 1),
            )),
            None => Err(Problem::field(
                ErrorCode::QuoteNotInSentence,
                "Quote not in sentence",
                "quote.exact",
                "does not occur in the sentence given by sentence_id",
            )),
        };
    }

    let found: Vec<usize> = occurrences(&text, &quote.exact).collect();
    if found.is_empty() {
        return Err(Problem::field(
            ErrorCode::QuoteNotFound,
            "Quote not found",
            "quote.exact",
            "does not occur in the article's current text",
        ));
    }
    let score = |o: usize| {
        let before = text[..o].trim_end();
        let after = text[o + quote.exact.len()..].trim_start();
        let p = quote
            .prefix
            .as_deref()
            .map(str::trim)
            .is_some_and(|p| !p.is_empty() && before.ends_with(p));
        let s = quote
            .suffix
            .as_deref()
            .map(str::trim)
            .is_some_and(|s| !s.is_empty() && after.starts_with(s));
        p as u8 + s as u8
    };
    let best = found.iter().map(|&o| score(o)).max().unwrap_or(0);
    let winners: Vec<usize> = found.into_iter().filter(|&o| score(o) == best).collect();
    let first_sentences: std::collections::BTreeSet<usize> =
        winners.iter().map(|&o| sentence_at(o)).collect();
    if first_sentences.len() > 1 {
        return Err(Problem::field(
            ErrorCode::AmbiguousQuote,
            "Ambiguous quote",
            "quote.exact",
            "occurs in several sentences; give a longer quote, a prefix/suffix, or a sentence_id",
        ));
    }
    let o = winners[0];
    Ok(anchor(
        sentences,
        sentence_at(o),
        sentence_at(o + quote.exact.len() - 1),
    ))
}

fn anchor(sentences: &[SentenceView], first: usize, last: usize) -> Anchor {
    Anchor {
        sentence_id: sentences[first].id.clone(),
        sentence_text: sentences[first].text.clone(),
        span: sentences[first..=last.max(first)]
            .iter()
            .map(|s| s.id.clone())
            .collect(),
    }
}

fn occurrences<'a>(text: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    text.match_indices(needle).map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: &str, text: &str) -> SentenceView {
        SentenceView {
            id: id.into(),
            paragraph: 0,
            index: 0,
            text: text.into(),
        }
    }

    fn q(exact: &str, prefix: Option<&str>, suffix: Option<&str>) -> Quote {
        Quote {
            exact: exact.into(),
            prefix: prefix.map(Into::into),
            suffix: suffix.map(Into::into),
        }
    }

    fn article() -> Vec<SentenceView> {
        vec![
            s("a", "Le chat dort."),
            s("b", "Le chien aboie."),
            s("c", "Le chat mange."),
        ]
    }

    #[test]
    fn by_id_and_by_quote() {
        let a = resolve(&article(), Some("b"), &q("chien", None, None)).unwrap();
        assert_eq!((a.sentence_id.as_str(), a.span.len()), ("b", 1));
        let a = resolve(&article(), None, &q("aboie", None, None)).unwrap();
        assert_eq!(a.sentence_id, "b");
    }

    #[test]
    fn repeats_need_context() {
        let err = resolve(&article(), None, &q("Le chat", None, None)).unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::AmbiguousQuote);
        let a = resolve(&article(), None, &q("Le chat", Some("aboie."), None)).unwrap();
        assert_eq!(a.sentence_id, "c");
        let a = resolve(&article(), None, &q("Le chat", None, Some("dort"))).unwrap();
        assert_eq!(a.sentence_id, "a");
    }

    #[test]
    fn spans_anchor_to_first() {
        let a = resolve(&article(), None, &q("dort. Le chien", None, None)).unwrap();
        assert_eq!(a.sentence_id, "a");
        assert_eq!(a.span, vec!["a".to_string(), "b".to_string()]);
    }

    #[test]
    fn refusals() {
        assert_eq!(
            resolve(&article(), Some("zz"), &q("chat", None, None))
                .unwrap_err()
                .code,
            crate::error::ErrorCode::UnknownSentence
        );
        assert_eq!(
            resolve(&article(), Some("b"), &q("chat", None, None))
                .unwrap_err()
                .code,
            crate::error::ErrorCode::QuoteNotInSentence
        );
        assert_eq!(
            resolve(&article(), None, &q("licorne", None, None))
                .unwrap_err()
                .code,
            crate::error::ErrorCode::QuoteNotFound
        );
    }
}
