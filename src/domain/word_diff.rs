//! A reader's suggestion shown as a change to the sentence: the sentence as
//! reported, the same sentence with the quoted words replaced by the
//! suggestion, and the word-level difference of the two (the `similar`
//! crate's Myers diff over words). Parts are plain text: pages escape them
//! like any reader text.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

/// Longest text diffed: a sentence is far shorter; beyond, the diff is
/// left out rather than computed on something that is not a sentence.
const MAX_CHARS: usize = 4000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DiffOp {
    /// Kept as it is.
    Equal,
    /// Removed by the suggestion.
    Delete,
    /// Added by the suggestion.
    Insert,
}

/// A run of words with the same fate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DiffPart {
    pub op: DiffOp,
    pub text: String,
}

/// The sentence with the suggestion in place of the quote: the quote's
/// first occurrence after its prefix (or anywhere when the prefix is not
/// found). `None` when the quote is not in the sentence (a report spanning
/// sentences): then the quote itself is what the suggestion replaces.
pub fn apply(
    sentence: &str,
    quote: &str,
    prefix: Option<&str>,
    suggestion: &str,
) -> Option<String> {
    if quote.is_empty() {
        return None;
    }
    let from = prefix
        .filter(|p| !p.is_empty())
        .and_then(|p| sentence.find(p).map(|i| i + p.len()))
        .filter(|i| sentence[*i..].contains(quote))
        .unwrap_or(0);
    let at = from + sentence[from..].find(quote)?;
    Some(format!(
        "{}{}{}",
        &sentence[..at],
        suggestion,
        &sentence[at + quote.len()..]
    ))
}

/// The word-level diff of `old` into `new`, adjacent parts of the same
/// kind merged. `None` when either is too long or nothing changes.
pub fn words(old: &str, new: &str) -> Option<Vec<DiffPart>> {
    if old == new || old.chars().count() > MAX_CHARS || new.chars().count() > MAX_CHARS {
        return None;
    }
    let diff = TextDiff::from_words(old, new);
    let mut parts: Vec<DiffPart> = Vec::new();
    for change in diff.iter_all_changes() {
        let op = match change.tag() {
            ChangeTag::Equal => DiffOp::Equal,
            ChangeTag::Delete => DiffOp::Delete,
            ChangeTag::Insert => DiffOp::Insert,
        };
        match parts.last_mut() {
            Some(last) if last.op == op => last.text.push_str(change.value()),
            _ => parts.push(DiffPart {
                op,
                text: change.value().to_string(),
            }),
        }
    }
    Some(parts)
}

/// The suggestion as a change to the sentence (or to the quote, when the
/// quote is not found in the sentence).
pub fn suggestion(
    sentence: &str,
    quote: &str,
    prefix: Option<&str>,
    suggestion: &str,
) -> Option<Vec<DiffPart>> {
    match apply(sentence, quote, prefix, suggestion) {
        Some(changed) => words(sentence, &changed),
        None => words(quote, suggestion),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(parts: &[DiffPart]) -> String {
        parts
            .iter()
            .map(|p| match p.op {
                DiffOp::Equal => p.text.clone(),
                DiffOp::Delete => format!("[-{}-]", p.text),
                DiffOp::Insert => format!("{{+{}+}}", p.text),
            })
            .collect()
    }

    #[test]
    fn the_suggestion_replaces_the_quote_word_by_word() {
        let parts = suggestion(
            "La frappe a eu lieu le 3 octobre à Kharkiv.",
            "le 3 octobre",
            None,
            "le 4 octobre",
        )
        .unwrap();
        assert_eq!(
            render(&parts),
            "La frappe a eu lieu le [-3-]{+4+} octobre à Kharkiv."
        );
    }

    #[test]
    fn the_prefix_picks_the_right_occurrence() {
        let s = "Le chat et le chat.";
        assert_eq!(
            apply(s, "chat", Some("et le "), "chien").as_deref(),
            Some("Le chat et le chien.")
        );
        assert_eq!(
            apply(s, "chat", None, "chien").as_deref(),
            Some("Le chien et le chat.")
        );
        // A prefix not found: the first occurrence.
        assert_eq!(
            apply(s, "chat", Some("zzz"), "chien").as_deref(),
            Some("Le chien et le chat.")
        );
    }

    #[test]
    fn a_quote_outside_the_sentence_diffs_the_quote() {
        let parts = suggestion("Une phrase.", "autre chose", None, "autre truc").unwrap();
        assert_eq!(render(&parts), "autre [-chose-]{+truc+}");
        assert!(suggestion("Même.", "Même.", None, "Même.").is_none());
    }

    #[test]
    fn markup_is_kept_as_text() {
        let parts = suggestion("A b c.", "b", None, "<script>x</script>").unwrap();
        assert!(
            parts
                .iter()
                .any(|p| p.op == DiffOp::Insert && p.text.contains("<script>"))
        );
    }
}
