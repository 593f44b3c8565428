//! Text normalisation shared by every entry point, and plain-text paragraphs.

use unicode_normalization::UnicodeNormalization;

/// NFC, then every run of Unicode whitespace (including U+00A0 and U+202F,
/// which French typography puts before ? ! : ; and inside « ») becomes one
/// ASCII space, and the ends are trimmed. Sentences are compared and located
/// by their text, so all entry points must produce the same spelling of it.
pub(crate) fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfc() {
        if c.is_whitespace() {
            pending_space = true;
        } else {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        }
    }
    out
}

/// Plain text: paragraphs are separated by one or more blank (or
/// whitespace-only) lines; single newlines inside a paragraph are spaces.
/// Paragraphs come back cleaned (see [`clean`]).
pub fn paragraphs_from_text(text: &str) -> Vec<String> {
    let mut paragraphs = Vec::new();
    let mut current = String::new();
    // `lines` also strips the "\r" of CRLF files.
    for line in text.lines() {
        if line.trim().is_empty() {
            push_cleaned(&mut paragraphs, &current);
            current.clear();
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    push_cleaned(&mut paragraphs, &current);
    paragraphs
}

pub(crate) fn push_cleaned(paragraphs: &mut Vec<String>, raw: &str) {
    let cleaned = clean(raw);
    if !cleaned.is_empty() {
        paragraphs.push(cleaned);
    }
}
