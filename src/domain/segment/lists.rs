//! Lists written inline, inside one paragraph: "1. … 2. …", "1) … 2) …",
//! "a) … b) …", "• … • …" (see `[lists]` in rules.toml). A CMS that flattens
//! a list into a paragraph leaves items without a final stop, so their
//! boundaries are the markers, not punctuation.

use std::collections::HashSet;

use super::rules::Rules;

/// Where the inline list items of one paragraph are.
#[derive(Debug, Default)]
pub(crate) struct ListItems {
    /// Byte offsets where an item starts a new sentence, sorted.
    pub starts: Vec<usize>,
    /// `(start, end)` of every marker ("1.", "b)", "•"), sorted: a piece made
    /// of a marker alone is never a sentence.
    pub markers: Vec<(usize, usize)>,
}

/// How a marker is written, so that "1)" is followed by "2)", not by "2.".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Style {
    letter: bool,
    uppercase: bool,
    suffix: String,
}

impl ListItems {
    pub(crate) fn find(text: &str, rules: &Rules) -> ListItems {
        let mut items = ListItems::default();
        // (style, value) of the markers seen so far; few per paragraph.
        let mut seen: HashSet<(Style, u32)> = HashSet::new();
        let mut previous: Option<char> = None;
        for (i, c) in text.char_indices() {
            let at_word_start = previous.is_none_or(|p| p == ' ');
            previous = Some(c);
            if !at_word_start {
                continue;
            }
            if rules.is_bullet(c) {
                items.markers.push((i, i + c.len_utf8()));
                if i > 0 {
                    items.starts.push(i);
                }
                continue;
            }
            let Some((style, value, end)) = marker_at(&text[i..], rules) else {
                continue;
            };
            let item_is_capitalised = starts_capitalised(&text[i + end..], rules);
            let follows_previous = value > 0 && seen.contains(&(style.clone(), value - 1));
            if i > 0 && item_is_capitalised && follows_previous {
                items.starts.push(i);
            }
            items.markers.push((i, i + end));
            seen.insert((style, value));
        }
        items
    }

    pub(crate) fn is_start(&self, offset: usize) -> bool {
        self.starts.binary_search(&offset).is_ok()
    }

    /// `text[start..end]`, spaces trimmed, is exactly one marker.
    pub(crate) fn is_marker(&self, start: usize, end: usize) -> bool {
        self.markers
            .binary_search_by_key(&start, |&(s, _)| s)
            .is_ok_and(|k| self.markers[k].1 == end)
    }
}

/// "12." / "3)" / "4.)" / "b)" / "c." / "B)" at the start of `rest`, followed
/// by a space: its style, its value (1 → 0, "a" → 0) and its byte length.
/// Uppercase letters only with ")": "J. Smith" is an initial, not an item.
fn marker_at(rest: &str, rules: &Rules) -> Option<(Style, u32, usize)> {
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (letter, uppercase, value, head) = if (1..=2).contains(&digits) {
        let n: u32 = rest[..digits].parse().ok()?;
        (false, false, n.checked_sub(1)?, digits)
    } else if digits == 0 {
        let c = rest.chars().next().filter(char::is_ascii_alphabetic)?;
        let lower = c.to_ascii_lowercase();
        (
            true,
            c.is_ascii_uppercase(),
            u32::from(lower) - u32::from('a'),
            1,
        )
    } else {
        return None;
    };
    let suffixes = if letter {
        &rules.lists.letter_suffixes
    } else {
        &rules.lists.number_suffixes
    };
    // Longest suffix first, so "1.)" is not read as "1." followed by ")".
    let suffix = suffixes
        .iter()
        .filter(|s| rest[head..].starts_with(s.as_str()))
        .max_by_key(|s| s.len())?;
    if letter && uppercase && suffix != ")" {
        return None;
    }
    let end = head + suffix.len();
    if !rest[end..].starts_with(' ') {
        return None;
    }
    let style = Style {
        letter,
        uppercase,
        suffix: suffix.clone(),
    };
    Some((style, value, end))
}

/// The item text starts with a capital, after spaces and opening quotes.
fn starts_capitalised(item: &str, rules: &Rules) -> bool {
    item.trim_start_matches(|c| c == ' ' || rules.is_opener(c))
        .chars()
        .next()
        .is_some_and(char::is_uppercase)
}
