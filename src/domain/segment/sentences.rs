//! Sentence splitting: UAX#29 proposes boundaries, the rules in rules.toml
//! decide which ones are real.
//!
//! 1. The paragraph is cleaned (NFC, one ASCII space per whitespace run).
//! 2. Candidates = UAX#29 sentence boundaries, plus every "terminator,
//!    closers, space" position UAX#29 does not propose (it treats "…" as
//!    ordinary punctuation and never breaks before a dash: "— Oui."), plus
//!    the starts of inline list items (lists.rs) and sentences glued without
//!    a space (shapes.rs).
//! 3. Each candidate is first moved past closing quotes/brackets that French
//!    spacing separated from their sentence ("Je viens. » Puis" → the cut goes
//!    after "»") and past a source in parentheses ("… fin. (AFP) Puis"), then
//!    kept only if no rule says "not a sentence end".
//! 4. A letterless tail (say a lone "?!") joins the previous sentence.

use unicode_segmentation::UnicodeSegmentation;

use super::Lang;
use super::lists::ListItems;
use super::rules::{AbbrevKind, RULES, Rules};
use super::shapes::{self, AfterCitation};
use super::text::clean;

/// Split one paragraph into sentences (trimmed, internal whitespace collapsed
/// to single ASCII spaces, NFC). Never returns empty strings.
pub fn split_sentences(paragraph: &str, lang: Lang) -> Vec<String> {
    let text = clean(paragraph);
    let splitter = Splitter::new(&text, lang, &RULES);
    let mut cuts: Vec<usize> = Vec::new();
    let mut start = 0;
    // Every candidate up to here has been judged; a candidate inside an
    // absorbed closer run would reach the same cut and the same verdict.
    let mut judged_until = 0;
    for candidate in splitter.candidates() {
        if candidate <= judged_until {
            continue;
        }
        if splitter.lists.is_start(candidate) {
            // The marker itself decides: no punctuation ends an inline item.
            judged_until = candidate;
            if splitter.has_letter(start, candidate) && !splitter.is_marker_piece(start, candidate)
            {
                cuts.push(candidate);
                start = candidate;
            }
            continue;
        }
        let cut = splitter.absorb_closers(start, candidate);
        judged_until = cut;
        if cut < text.len() && splitter.is_sentence_end(start, candidate, cut) {
            cuts.push(cut);
            start = cut;
        }
    }
    if splitter.rules.behaviour.merge_letterless && !splitter.has_letter(start, text.len()) {
        cuts.pop();
    }

    let mut sentences = Vec::with_capacity(cuts.len() + 1);
    let mut from = 0;
    for to in cuts.into_iter().chain([text.len()]) {
        let sentence = text[from..to].trim();
        if !sentence.is_empty() {
            sentences.push(sentence.to_string());
        }
        from = to;
    }
    sentences
}

/// One cleaned paragraph plus facts computed in a single forward pass, so
/// that judging a candidate never rescans the sentence so far: a hostile
/// 1 MB paragraph of ". . . ." stays linear, not quadratic.
struct Splitter<'a> {
    text: &'a str,
    lang: Lang,
    rules: &'a Rules,
    /// Byte offsets of alphabetic characters.
    letters: Vec<usize>,
    /// For each straight quote, byte offsets of its quote-like uses. An
    /// apostrophe between two letters or digits (l'accord) is not one.
    quotes: Vec<(char, Vec<usize>)>,
    /// `terminated[i]`: `text[..i]`, ignoring trailing spaces, closers and
    /// straight quotes, ends with a terminator ("fin.", "fin. »", "(…)").
    terminated: Vec<bool>,
    lists: ListItems,
    /// Sorted offsets after a "." glued to the next sentence ("world.Today").
    glued: Vec<usize>,
}

impl<'a> Splitter<'a> {
    fn new(text: &'a str, lang: Lang, rules: &'a Rules) -> Self {
        let mut letters = Vec::new();
        let mut quotes: Vec<(char, Vec<usize>)> = rules
            .punctuation
            .symmetric_quotes
            .iter()
            .map(|&q| (q, Vec::new()))
            .collect();
        let mut terminated = vec![false; text.len() + 1];
        let mut ends_with_terminator = false;
        let mut previous: Option<char> = None;
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            terminated[i] = ends_with_terminator;
            if c.is_alphabetic() {
                letters.push(i);
            }
            if let Some((_, offsets)) = quotes.iter_mut().find(|(q, _)| *q == c) {
                let next = chars.peek().map(|&(_, n)| n);
                let inside_word = previous.is_some_and(char::is_alphanumeric)
                    && next.is_some_and(char::is_alphanumeric);
                if !inside_word {
                    offsets.push(i);
                }
            }
            if !(c == ' ' || rules.is_closer(c) || rules.is_symmetric_quote(c)) {
                ends_with_terminator = rules.is_terminator(c);
            }
            previous = Some(c);
        }
        terminated[text.len()] = ends_with_terminator;
        let glued = if rules.behaviour.break_glued_sentences {
            shapes::glued_breaks(text)
        } else {
            Vec::new()
        };
        Splitter {
            text,
            lang,
            rules,
            letters,
            quotes,
            terminated,
            lists: ListItems::find(text, rules),
            glued,
        }
    }

    /// Sorted, deduplicated byte offsets (all on char boundaries) where a
    /// sentence may start: UAX#29's, plus "terminator [closers] space".
    fn candidates(&self) -> Vec<usize> {
        let text = self.text;
        let mut found: Vec<usize> = text
            .split_sentence_bound_indices()
            .map(|(i, _)| i)
            .collect();
        for (i, c) in text.char_indices() {
            if c == ' ' && self.terminated[i] {
                found.push(i + 1);
            }
        }
        found.extend(&self.lists.starts);
        found.extend(&self.glued);
        found.retain(|&i| i > 0 && i < text.len());
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Move a cut forward over closing quotes/brackets (and the spaces
    /// around them) that belong to the sentence before it, and over a source
    /// in parentheses before a new sentence ("(AFP) Le lendemain"). A
    /// straight quote closes when the sentence so far has an unmatched one,
    /// or when the paragraph so far has one and this quote stands before a
    /// space or the end: a quotation that spans sentences ("« Je viens.
    /// Tu restes. » Puis", written with straight quotes) closes after the
    /// last of them.
    fn absorb_closers(&self, start: usize, candidate: usize) -> usize {
        let mut cut = candidate;
        loop {
            let rest = &self.text[cut..];
            let after_spaces = rest.trim_start_matches(' ');
            let Some(c) = after_spaces.chars().next() else {
                return cut;
            };
            if c == '('
                && let Some((len, AfterCitation::Text, true)) = shapes::citation(rest, self.rules)
            {
                let following = &self.text[cut + len..];
                cut += len + (following.len() - following.trim_start_matches(' ').len());
                continue;
            }
            let quote_closes = || {
                let after_quote = after_spaces[c.len_utf8()..].chars().next();
                self.quote_is_open(c, start, cut)
                    || (self.quote_is_open(c, 0, cut) && after_quote.is_none_or(|n| n == ' '))
            };
            let closes =
                self.rules.is_closer(c) || (self.rules.is_symmetric_quote(c) && quote_closes());
            if !closes {
                return cut;
            }
            let closer_end = cut + (rest.len() - after_spaces.len()) + c.len_utf8();
            let following = &self.text[closer_end..];
            cut = closer_end + (following.len() - following.trim_start_matches(' ').len());
        }
    }

    /// The rules of rules.toml, applied to a candidate boundary at `cut`
    /// (`candidate` moved past closers and a citation) for the sentence that
    /// started at `start`.
    fn is_sentence_end(&self, start: usize, candidate: usize, cut: usize) -> bool {
        let (rules, behaviour) = (self.rules, &self.rules.behaviour);
        let left = &self.text[start..cut];
        let core = left.trim_end_matches(' ');
        let glued = self.glued.binary_search(&cut).is_ok();
        if behaviour.break_requires_space && core.len() == left.len() && !glued {
            return false;
        }
        // UAX#29 also knows terminators outside our list; we only end on ours.
        if !self.terminated[candidate] {
            return false;
        }
        if behaviour.merge_letterless && !self.has_letter(start, cut) {
            return false;
        }
        if self.is_marker_piece(start, cut) {
            return false;
        }
        let rest = &self.text[cut..];
        let next = NextWord::of(rest, self.lang, rules);
        if behaviour.merge_before_lowercase && next.lowercase {
            return false;
        }
        let markers = &rules.punctuation.elision_markers;
        if markers.iter().any(|m| core.ends_with(m.as_str())) {
            return false;
        }
        let dots = shapes::trailing_dots(core);
        // "… compounds. . . . The practice": the period ends the sentence and
        // the ellipsis opens the next one.
        if dots.count == 1
            && dots.attached
            && shapes::starts_with_spaced_ellipsis_then_capital(rest, rules)
        {
            return true;
        }
        // More punctuation follows ("... !", ". . . ."): the end comes after it.
        if rest
            .trim_start_matches(' ')
            .starts_with(|c| rules.is_terminator(c))
        {
            return false;
        }
        if !behaviour.spaced_ellipsis_ends_sentence
            && dots.count == 3
            && dots.spaced
            && !dots.attached
        {
            return false;
        }
        // "(Smith 55)." and a final "(AFP)" belong to this sentence.
        if let Some((_, AfterCitation::EndOrStop, _)) = shapes::citation(rest, rules) {
            return false;
        }
        let Some(word) = word_before_period(core, rules) else {
            return true;
        };
        let kind = lookup(word, self.lang, rules);
        if kind.is_some() && self.is_introductory_phrase(core) {
            return false;
        }
        match kind {
            Some(AbbrevKind::NeverFinal) => false,
            Some(AbbrevKind::FinalBeforeCapital) => next.uppercase,
            Some(AbbrevKind::BeforeNumber) => next.uppercase && !next.number,
            Some(AbbrevKind::FinalBeforeStarter) => next.starter,
            None => !(behaviour.merge_after_initials && is_initials(word)) || next.starter,
        }
    }

    /// At most three words, the first one introductory ("At 5 a.m.").
    fn is_introductory_phrase(&self, core: &str) -> bool {
        let mut words = core.split(' ');
        let first = words
            .next()
            .unwrap_or_default()
            .trim_start_matches(|c| self.rules.is_opener(c));
        words.take(3).count() < 3 && self.rules.is_introductory(self.lang, first)
    }

    /// The piece `start..end` is only an inline list marker ("1.", "b)").
    fn is_marker_piece(&self, start: usize, end: usize) -> bool {
        let piece = &self.text[start..end];
        let from = start + (piece.len() - piece.trim_start_matches(' ').len());
        let to = start + piece.trim_end_matches(' ').len();
        self.lists.is_marker(from, to)
    }

    fn has_letter(&self, start: usize, end: usize) -> bool {
        count_between(&self.letters, start, end) > 0
    }

    fn quote_is_open(&self, quote: char, start: usize, end: usize) -> bool {
        self.quotes
            .iter()
            .find(|(q, _)| *q == quote)
            .is_some_and(|(_, offsets)| count_between(offsets, start, end) % 2 == 1)
    }
}

/// How many of the sorted `offsets` fall in `start..end`.
fn count_between(offsets: &[usize], start: usize, end: usize) -> usize {
    offsets.partition_point(|&o| o < end) - offsets.partition_point(|&o| o < start)
}

/// The word before a sentence-final bare "." with that "." removed, e.g.
/// "M" in "… à M." or "J.-C" in "(av. J.-C.". None when the sentence ends
/// otherwise: "?", a closing quote, or an ellipsis "...".
fn word_before_period<'a>(core: &'a str, rules: &Rules) -> Option<&'a str> {
    let body = core.strip_suffix('.')?;
    if body.ends_with('.') {
        return None;
    }
    let word = body.rsplit(' ').next()?;
    let word = word.trim_start_matches(|c| rules.is_opener(c) || rules.is_closer(c));
    (!word.is_empty()).then_some(word)
}

/// Look the word up as written, then without an elided article or
/// preposition ("l'art" → "art", "d’env" → "env").
fn lookup(word: &str, lang: Lang, rules: &Rules) -> Option<AbbrevKind> {
    rules.abbreviation(lang, word).or_else(|| {
        let (_, after) = word.rsplit_once(['\'', '’'])?;
        rules.abbreviation(lang, after)
    })
}

/// "J", "É", "J.R.R", "U.S", "J.-P": only single uppercase letters between
/// dots and hyphens.
fn is_initials(word: &str) -> bool {
    let mut parts = word.split(['.', '-']).filter(|p| !p.is_empty()).peekable();
    parts.peek().is_some()
        && parts.all(|p| {
            let mut chars = p.chars();
            chars.next().is_some_and(char::is_uppercase) && chars.next().is_none()
        })
}

/// How the text after a candidate boundary starts, ignoring spaces and
/// opening punctuation (« “ ( — …).
struct NextWord {
    uppercase: bool,
    lowercase: bool,
    /// Digits, or a Roman numeral (II, XIV, L before "."), for "vol. II".
    number: bool,
    /// One of the `[starters]` of rules.toml ("The", "Il", "C'est").
    starter: bool,
}

impl NextWord {
    fn of(text: &str, lang: Lang, rules: &Rules) -> Self {
        let rest = text.trim_start_matches(|c| c == ' ' || rules.is_opener(c));
        let first = rest.chars().next();
        let word_len = rest
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(rest.len());
        let word = &rest[..word_len];
        // "C'est" is not the numeral C; English "I" is the pronoun.
        let elided = rest[word_len..].starts_with(['\'', '’']);
        let pronoun = lang == Lang::En && word == "I";
        let roman =
            !word.is_empty() && word.chars().all(|c| "IVXLCDM".contains(c)) && !elided && !pronoun;
        let token = rest.split(' ').next().unwrap_or_default().replace('’', "'");
        let token = token.trim_end_matches(|c: char| !c.is_alphanumeric());
        let starter = if elided {
            rules.is_starter(lang, &format!("{word}'"))
        } else {
            rules.is_starter(lang, word)
        } || rules.is_starter(lang, token);
        NextWord {
            uppercase: first.is_some_and(char::is_uppercase),
            lowercase: first.is_some_and(char::is_lowercase),
            number: first.is_some_and(char::is_numeric) || roman,
            starter,
        }
    }
}
