//! Removal of the newsroom's "found an error?" footer at the end of a body.

use super::Lang;
use super::rules::RULES;
use super::sentences::split_sentences;
use super::text::clean;

/// Remove trailing "feedback footer" paragraphs (patterns in rules.toml,
/// both languages). Only paragraphs at the very end are removed: the same
/// words quoted inside an article are kept. Trailing blank paragraphs go too.
pub fn strip_footer(mut paragraphs: Vec<String>) -> Vec<String> {
    while paragraphs.last().is_some_and(|last| is_footer(last)) {
        paragraphs.pop();
    }
    paragraphs
}

fn is_footer(paragraph: &str) -> bool {
    let key = match_key(paragraph);
    if key.is_empty() || RULES.is_footer_key(&key) {
        return true;
    }
    // The footer lines may arrive joined in one paragraph (single newline in
    // the source, or one HTML block): every sentence must then be a footer.
    let sentences = split_sentences(paragraph, Lang::Fr);
    sentences.len() > 1 && sentences.iter().all(|s| RULES.is_footer_key(&match_key(s)))
}

/// Comparison key: lowercase, cleaned whitespace, typographic apostrophe made
/// straight, no space before ? ! : ; » or after «, no final punctuation. So
/// "Did you find an error or inaccuracy" matches "…inaccuracy ?" and
/// "…inexactitude\u{202F}?" matches "…inexactitude ?".
pub(crate) fn match_key(text: &str) -> String {
    let lowered = clean(text).to_lowercase().replace('’', "'");
    let mut key = String::with_capacity(lowered.len());
    let mut chars = lowered.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let space_before_tight = c == ' ' && matches!(next, Some('?' | '!' | ':' | ';' | '»'));
        let space_after_open = c == ' ' && key.ends_with('«');
        if !space_before_tight && !space_after_open {
            key.push(c);
        }
    }
    key.trim_end_matches(['.', '!', '?', '…', ' ']).to_string()
}
