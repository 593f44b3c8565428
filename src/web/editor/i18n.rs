//! The interface's words, one file per language (`strings/fr.toml`,
//! `strings/en.toml`, the same keys in both; a test checks it). Templates get
//! the whole table as `t` (`{{ t.queue.title }}`); Rust code looks a key up
//! with `text`. Resolution templates are looked up in the *article's*
//! language, not the editor's: they are published to readers.

use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The interface speaks the articles' languages: one type for both.
pub use crate::domain::article::Language as Lang;

static TABLES: LazyLock<BTreeMap<&'static str, toml::Table>> = LazyLock::new(|| {
    [
        ("fr", include_str!("strings/fr.toml")),
        ("en", include_str!("strings/en.toml")),
    ]
    .into_iter()
    .map(|(lang, src)| {
        let table: toml::Table = src.parse().expect("the embedded strings are TOML");
        (lang, table)
    })
    .collect()
});

static VALUES: LazyLock<BTreeMap<&'static str, minijinja::Value>> = LazyLock::new(|| {
    TABLES
        .iter()
        .map(|(lang, table)| (*lang, minijinja::Value::from_serialize(table)))
        .collect()
});

fn table(lang: Lang) -> &'static toml::Table {
    &TABLES[lang.as_str()]
}

/// Every string of a language, for templates.
pub fn strings(lang: Lang) -> minijinja::Value {
    VALUES[lang.as_str()].clone()
}

/// One string by its dotted key (`flash.claimed`); the key itself when it is
/// missing, so a gap shows on the page instead of failing it.
pub fn text(lang: Lang, key: &str) -> String {
    let mut node: Option<&toml::Value> = None;
    let mut current = table(lang);
    for (i, part) in key.split('.').enumerate() {
        let Some(v) = current.get(part) else {
            return key.to_string();
        };
        if i + 1 < key.split('.').count() {
            match v.as_table() {
                Some(t) => current = t,
                None => return key.to_string(),
            }
        }
        node = Some(v);
    }
    node.and_then(|v| v.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| key.to_string())
}

/// The public note a resolution starts from, in the article's language
/// (`{sentence}` is replaced by the sentence as reported).
pub fn resolution_template(article_lang: Lang, resolution: &str, sentence: &str) -> String {
    let key = format!("resolution_template.{resolution}");
    let t = text(article_lang, &key);
    if t == key {
        return String::new();
    }
    t.replace("{sentence}", sentence)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(t: &toml::Table, prefix: &str, out: &mut Vec<String>) {
        for (k, v) in t {
            let path = format!("{prefix}{k}");
            match v {
                toml::Value::Table(inner) => keys(inner, &format!("{path}."), out),
                _ => out.push(path),
            }
        }
    }

    #[test]
    fn both_languages_have_the_same_keys() {
        let (mut fr, mut en) = (Vec::new(), Vec::new());
        keys(table(Lang::Fr), "", &mut fr);
        keys(table(Lang::En), "", &mut en);
        let only_fr: Vec<_> = fr.iter().filter(|k| !en.contains(k)).collect();
        let only_en: Vec<_> = en.iter().filter(|k| !fr.contains(k)).collect();
        assert!(
            only_fr.is_empty() && only_en.is_empty(),
            "only in fr: {only_fr:?}; only in en: {only_en:?}"
        );
    }

    #[test]
    fn languages_come_from_tags_and_headers() {
        assert_eq!(Lang::from_tag("en"), Lang::En);
        assert_eq!(Lang::from_tag("en-GB"), Lang::En);
        assert_eq!(Lang::from_tag("de"), Lang::Fr);
        assert_eq!(
            Lang::from_accept_language(Some("de-DE, en-US;q=0.8, fr;q=0.5")),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language(None), Lang::Fr);
    }

    #[test]
    fn lookups_and_templates() {
        assert_eq!(text(Lang::En, "nope.nothing"), "nope.nothing");
        assert!(
            resolution_template(Lang::Fr, "corrected", "Il pleut.")
                .starts_with("Une version précédente de cet article indiquait")
        );
        assert!(
            resolution_template(Lang::En, "corrected", "It rains.")
                .starts_with("An earlier version of this article stated")
        );
        assert_eq!(resolution_template(Lang::En, "spam", "x"), "");
    }
}
