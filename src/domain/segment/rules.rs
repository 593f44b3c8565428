//! The project-owned rules, kept as data in `rules.toml` so that linguists and
//! editors can extend lists without touching the algorithm. The file is
//! compiled into the binary and parsed once, on first use.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use serde::Deserialize;

use super::Lang;
use super::footer::match_key;

/// Parsed and indexed rules. `expect` is acceptable here: the TOML is embedded
/// at compile time and a unit test parses it, so a bad edit fails CI, never a
/// request.
pub(crate) static RULES: LazyLock<Rules> = LazyLock::new(|| {
    Rules::parse(include_str!("rules.toml")).expect("segment/rules.toml is invalid")
});

/// What an abbreviation does to a following sentence boundary.
/// See the `[abbreviations]` comment in rules.toml for the exact semantics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AbbrevKind {
    NeverFinal,
    FinalBeforeCapital,
    BeforeNumber,
    FinalBeforeStarter,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    version: i32,
    behaviour: Behaviour,
    punctuation: Punctuation,
    lists: Lists,
    starters: PerLang,
    introductory: PerLang,
    abbreviations: AbbreviationFile,
    footer: FooterFile,
    html: HtmlRules,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Behaviour {
    pub merge_before_lowercase: bool,
    pub merge_after_initials: bool,
    pub break_requires_space: bool,
    pub merge_letterless: bool,
    pub break_glued_sentences: bool,
    pub spaced_ellipsis_ends_sentence: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Lists {
    pub bullets: Vec<char>,
    pub number_suffixes: Vec<String>,
    pub letter_suffixes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PerLang {
    en: HashSet<String>,
    fr: HashSet<String>,
}

impl PerLang {
    fn get(&self, lang: Lang) -> &HashSet<String> {
        match lang {
            Lang::Fr => &self.fr,
            Lang::En => &self.en,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Punctuation {
    pub terminators: Vec<char>,
    pub closers: Vec<char>,
    pub symmetric_quotes: Vec<char>,
    pub openers: Vec<char>,
    pub elision_markers: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct AbbrevLists {
    never_final: Vec<String>,
    final_before_capital: Vec<String>,
    before_number: Vec<String>,
    final_before_starter: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AbbreviationFile {
    shared: AbbrevLists,
    fr: AbbrevLists,
    en: AbbrevLists,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FooterFile {
    fr: Vec<String>,
    en: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HtmlRules {
    pub block_elements: HashSet<String>,
    pub ignored_elements: HashSet<String>,
}

pub(crate) struct Rules {
    pub version: i32,
    pub behaviour: Behaviour,
    pub lists: Lists,
    starters: PerLang,
    introductory: PerLang,
    pub punctuation: Punctuation,
    pub html: HtmlRules,
    fr: HashMap<String, AbbrevKind>,
    en: HashMap<String, AbbrevKind>,
    /// Footer sentences, already turned into match keys.
    footers: HashSet<String>,
}

impl Rules {
    pub(crate) fn parse(source: &str) -> Result<Self, toml::de::Error> {
        let file: RulesFile = toml::from_str(source)?;
        let abbr = &file.abbreviations;
        let footers = file.footer.fr.iter().chain(&file.footer.en);
        Ok(Rules {
            fr: index(&[&abbr.shared, &abbr.fr]),
            en: index(&[&abbr.shared, &abbr.en]),
            footers: footers.map(|f| match_key(f)).collect(),
            version: file.version,
            behaviour: file.behaviour,
            lists: file.lists,
            starters: file.starters,
            introductory: file.introductory,
            punctuation: file.punctuation,
            html: file.html,
        })
    }

    /// `word` is the word before a final "." with that "." removed.
    pub(crate) fn abbreviation(&self, lang: Lang, word: &str) -> Option<AbbrevKind> {
        let table = match lang {
            Lang::Fr => &self.fr,
            Lang::En => &self.en,
        };
        // A lowercase entry also matches its sentence-initial capitalised
        // form ("Cf." for "cf."); uppercase entries stay case-sensitive so
        // "M." (Monsieur) never matches "m." (metre). A lone capital is an
        // initial ("P. Smith"), never the capitalised "p." (page).
        let capitalised = word.chars().nth(1).is_some();
        table
            .get(word)
            .or_else(|| {
                capitalised
                    .then(|| table.get(&decapitalise(word)))
                    .flatten()
            })
            .copied()
    }

    /// `word` as it starts the next sentence; an elided word ("C'est",
    /// "L’accord") is given with its apostrophe, straight.
    pub(crate) fn is_starter(&self, lang: Lang, word: &str) -> bool {
        self.starters.get(lang).contains(word)
    }

    pub(crate) fn is_introductory(&self, lang: Lang, word: &str) -> bool {
        self.introductory.get(lang).contains(word)
    }

    pub(crate) fn is_bullet(&self, c: char) -> bool {
        self.lists.bullets.contains(&c)
    }

    pub(crate) fn is_footer_key(&self, key: &str) -> bool {
        self.footers.contains(key)
    }

    pub(crate) fn is_terminator(&self, c: char) -> bool {
        self.punctuation.terminators.contains(&c)
    }

    pub(crate) fn is_closer(&self, c: char) -> bool {
        self.punctuation.closers.contains(&c)
    }

    pub(crate) fn is_symmetric_quote(&self, c: char) -> bool {
        self.punctuation.symmetric_quotes.contains(&c)
    }

    pub(crate) fn is_opener(&self, c: char) -> bool {
        self.punctuation.openers.contains(&c)
    }
}

/// Entries are stored without their final "." so that "M." and "M" are one
/// entry. Later lists override earlier ones, giving the precedence
/// never_final > final_before_starter > before_number > final_before_capital
/// when a word is listed twice (e.g. shared "fig" vs a language list).
fn index(lists: &[&AbbrevLists]) -> HashMap<String, AbbrevKind> {
    let mut map = HashMap::new();
    let mut add = |entries: &[String], kind: AbbrevKind| {
        for entry in entries {
            map.insert(entry.trim_end_matches('.').to_string(), kind);
        }
    };
    for list in lists {
        add(&list.final_before_capital, AbbrevKind::FinalBeforeCapital);
    }
    for list in lists {
        add(&list.before_number, AbbrevKind::BeforeNumber);
    }
    for list in lists {
        add(&list.final_before_starter, AbbrevKind::FinalBeforeStarter);
    }
    for list in lists {
        add(&list.never_final, AbbrevKind::NeverFinal);
    }
    map
}

fn decapitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
