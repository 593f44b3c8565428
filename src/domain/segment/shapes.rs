//! Shapes of text around a candidate boundary that the rules look at beyond
//! single words: sentences glued without a space, spaced ellipses, and a
//! parenthetical citation after a final stop.

use super::rules::Rules;

/// Byte offsets just after a "." that ends a sentence glued to the next one
/// ("world.Today", "Tuesday.Mr.", "1,000.That"): the word before has at least
/// three letters and ends in lowercase, or is a number; the word after is
/// capitalised and goes on in lowercase. Tokens that look like addresses
/// (holding "@", "/" or "www.") never break.
pub(crate) fn glued_breaks(text: &str) -> Vec<usize> {
    let mut breaks = Vec::new();
    let mut token_start = 0;
    for token in text.split(' ') {
        let offset = token_start;
        token_start += token.len() + 1;
        if !token.contains('.') || token.contains(['@', '/']) || token.contains("www.") {
            continue;
        }
        for (i, _) in token.match_indices('.') {
            let mut next = token[i + 1..].chars();
            let capitalised = next.next().is_some_and(char::is_uppercase)
                && next.next().is_some_and(char::is_lowercase);
            if capitalised && word_can_end(&token[..i]) {
                breaks.push(offset + i + 1);
            }
        }
    }
    breaks
}

fn word_can_end(before: &str) -> bool {
    let Some(last) = before.chars().next_back() else {
        return false;
    };
    if last.is_ascii_digit() {
        return true;
    }
    let letters = before
        .chars()
        .rev()
        .take(3)
        .take_while(|c| c.is_alphabetic())
        .count();
    last.is_lowercase() && letters >= 3
}

/// The run of dots ending `core`, where dots are written "..." or ". . .".
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Dots {
    pub count: usize,
    /// Dots separated by single spaces (". . .").
    pub spaced: bool,
    /// The first dot touches the word before it ("compounds. . . .").
    pub attached: bool,
}

pub(crate) fn trailing_dots(core: &str) -> Dots {
    // Four dots tell every case apart; counting further would make a
    // hostile run of ". . . ." quadratic.
    const ENOUGH: usize = 4;
    let bytes = core.as_bytes();
    let mut count = 0;
    let mut spaced = false;
    let mut i = bytes.len();
    while i > 0 && bytes[i - 1] == b'.' && count < ENOUGH {
        count += 1;
        i -= 1;
        if i >= 2 && bytes[i - 1] == b' ' && bytes[i - 2] == b'.' {
            spaced = true;
            i -= 1;
        }
    }
    let attached = i > 0 && bytes[i - 1] != b' ';
    Dots {
        count,
        spaced,
        attached,
    }
}

/// `rest` starts with a spaced ellipsis of exactly three dots, then a
/// capitalised word: ". . . The practice".
pub(crate) fn starts_with_spaced_ellipsis_then_capital(rest: &str, rules: &Rules) -> bool {
    let Some(after) = rest.trim_start_matches(' ').strip_prefix(". . . ") else {
        return false;
    };
    after
        .trim_start_matches(|c| c == ' ' || rules.is_opener(c))
        .chars()
        .next()
        .is_some_and(char::is_uppercase)
}

/// What follows a parenthetical citation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterCitation {
    /// End of the paragraph, or a stop: "(Smith 55)." belongs to the sentence.
    EndOrStop,
    /// A new sentence: "(AFP) Le lendemain".
    Text,
}

/// A short parenthetical right at `rest` (after spaces) that carries no
/// sentence of its own: no "!", "?", "…", no ". " before a capital.
/// Returns its length in bytes (spaces before it included) and what follows.
/// `(AFP)`, `(Smith 55)`, `(p. 12)` qualify; `(Il est revenu le lendemain.)`
/// does not.
pub(crate) fn citation(rest: &str, rules: &Rules) -> Option<(usize, AfterCitation, bool)> {
    const MAX_CITATION: usize = 120;
    let trimmed = rest.trim_start_matches(' ');
    let inner = trimmed.strip_prefix('(')?;
    // Bounded search: a hostile run of "(" must stay linear.
    let (close, _) = inner
        .char_indices()
        .take_while(|&(i, _)| i <= MAX_CITATION)
        .find(|&(_, c)| c == ')')?;
    let content = &inner[..close];
    if content.trim().is_empty()
        || content.contains('(')
        || content.chars().any(|c| c != '.' && rules.is_terminator(c))
        || content.ends_with('.')
        || content
            .split(". ")
            .skip(1)
            .any(|s| s.starts_with(char::is_uppercase))
    {
        return None;
    }
    let len = (rest.len() - trimmed.len()) + 1 + close + 1;
    let following = rest[len..].trim_start_matches(' ');
    let after = match following.chars().next() {
        None => AfterCitation::EndOrStop,
        Some(c) if rules.is_terminator(c) => AfterCitation::EndOrStop,
        Some(_) => AfterCitation::Text,
    };
    // A source or reference: a number or an all-capitals word (AFP, AP).
    let looks_like_source = content.chars().any(|c| c.is_ascii_digit())
        || content
            .split([' ', ',', '/'])
            .any(|w| w.chars().count() >= 2 && w.chars().all(|c| c.is_uppercase() || c == '-'));
    Some((len, after, looks_like_source))
}
