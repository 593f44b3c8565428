//! An article's language as its newsroom tags it (`fr`, `en`, `es`,
//! `pt-br`…): the language readers see the widget and their status page in.
//! It is open, unlike `Language` (French or English), which stays what
//! segmentation, dates in public notes and editors' emails know: an article
//! in another language is split with the nearest rules (`Language::from_tag`:
//! English for `en-*`, French for everything else).

use serde::{Deserialize, Serialize};

use super::article::Language;

/// Longest tag kept: `xx-yyyy-zz` and the like fit well within it.
pub const MAX_TAG: usize = 35;

/// A well-formed language tag, lowercased: a primary subtag of 2–3 letters,
/// then subtags of 2–8 letters or digits, joined by `-` (`_` is read as `-`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "es")]
pub struct Locale(String);

impl Locale {
    pub fn parse(s: &str) -> Option<Locale> {
        let tag = s.trim().replace('_', "-").to_ascii_lowercase();
        if tag.is_empty() || tag.len() > MAX_TAG {
            return None;
        }
        let mut parts = tag.split('-');
        let primary = parts.next()?;
        let primary_ok =
            (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
        let rest_ok = parts
            .all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        (primary_ok && rest_ok).then_some(Locale(tag))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary subtag: `pt` of `pt-br`.
    pub fn primary(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }

    /// French or English, for segmentation and what else knows only those.
    pub fn language(&self) -> Language {
        Language::from_tag(&self.0)
    }
}

impl From<Language> for Locale {
    fn from(l: Language) -> Locale {
        Locale(l.as_str().to_string())
    }
}

impl TryFrom<String> for Locale {
    type Error = String;
    fn try_from(s: String) -> Result<Locale, String> {
        Locale::parse(&s).ok_or_else(|| {
            format!("{s:?} is not a language tag (such as \"fr\", \"en\" or \"es\")")
        })
    }
}

impl From<Locale> for String {
    fn from(l: Locale) -> String {
        l.0
    }
}

impl std::fmt::Display for Locale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_checked_and_lowercased() {
        for (raw, tag) in [
            ("fr", "fr"),
            ("EN", "en"),
            ("es", "es"),
            ("pt_BR", "pt-br"),
            (" de-CH ", "de-ch"),
            ("zh-hant-tw", "zh-hant-tw"),
            ("ast", "ast"),
        ] {
            assert_eq!(Locale::parse(raw).unwrap().as_str(), tag, "{raw}");
        }
        for bad in [
            "", "e", "english", "fr-", "-fr", "f1", "fr-x", "../fr", "fr/es", "fr.toml",
        ] {
            assert!(Locale::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn other_languages_segment_with_the_nearest_rules() {
        assert_eq!(Locale::parse("en-gb").unwrap().language(), Language::En);
        assert_eq!(Locale::parse("es").unwrap().language(), Language::Fr);
        assert_eq!(Locale::parse("pt-br").unwrap().primary(), "pt");
        assert_eq!(Locale::from(Language::En).as_str(), "en");
    }
}
