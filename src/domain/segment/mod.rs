//! Article body → paragraphs → sentences, French first, English too.
//!
//! Readers report errors on one sentence of an article, so the same article
//! must always yield the same sentences, whether it arrives as plain text or
//! HTML. Every function therefore returns cleaned text: NFC, every whitespace
//! run (including U+00A0 / U+202F) replaced by one ASCII space, trimmed.
//!
//! Sentence boundaries start from Unicode UAX#29 and are corrected by the
//! project-owned rules in `rules.toml` (abbreviations, initials, quotes,
//! French spacing, footers, HTML element lists): see `sentences.rs`.
//!
//! Choices callers can observe:
//! - Closing quotes/brackets (» ” ’ › ) ] }, and a straight " or ' that
//!   closes an open one) stay with the sentence they close, even after a
//!   French space: `Il a dit : « Je viens. »` | `Puis il est parti.`
//! - A quotation holding several sentences is split inside it
//!   (`« Je viens.` | `Tu restes. »`): a reader reports one sentence.
//! - A lowercase word after ? ! … never starts a sentence
//!   (`« Tu viens ? » demanda-t-il.` is one sentence).
//! - Single capital initials and dotted capitals (J. / U.S.) never end a
//!   sentence; `etc.`, `a.m.`, `Inc.`, `J.-C.` end one only before a capital.

mod footer;
mod html;
mod lists;
mod rules;
mod sentences;
mod shapes;
mod text;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_families;
#[cfg(test)]
mod tests_html;

pub use footer::strip_footer;
pub use html::{
    MAX_HTML_DEPTH, MAX_HTML_ELEMENTS, TooComplex, check_complexity, paragraphs_from_html,
};
pub use sentences::split_sentences;
pub use text::paragraphs_from_text;

/// Language of the article; selects the abbreviation lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    pub sentences: Vec<String>,
}

/// The `version` of the rules in rules.toml. Each article revision records
/// the version it was split with, so a change of rules is visible and applied
/// on purpose (next revision, or `erratum article resplit`).
pub fn rules_version() -> i32 {
    rules::RULES.version
}

/// Convenience: paragraphs → `Vec<Paragraph>` after [`strip_footer`].
/// Paragraphs that hold no sentence (blank) are dropped, so every returned
/// `Paragraph` has at least one sentence.
pub fn segment(paragraphs: Vec<String>, lang: Lang) -> Vec<Paragraph> {
    strip_footer(paragraphs)
        .iter()
        .map(|p| split_sentences(p, lang))
        .filter(|sentences| !sentences.is_empty())
        .map(|sentences| Paragraph { sentences })
        .collect()
}
