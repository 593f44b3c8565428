//! Reader languages. One TOML catalog per language holds every word readers
//! see: the widget's (served as JSON at `/widget/strings/{tag}.json`), the
//! status page's, readers' emails, the answer to a report, the unsubscribe
//! page, the corrections log and the transparency page, category names and
//! how dates read. English, French and Spanish are built in (`locales/`); a
//! newsroom adds a language by dropping `<tag>.toml` into
//! `ui.reader_locales_dir` (or rewords a built-in one the same way). English
//! is the reference: keys a file lacks fall back to it, with a warning at
//! start that lists them.
//!
//! The catalogs live here, outside the edges, because the pages (`web`), the
//! intake's answer (`app`) and the readers' emails (`notify`) all speak them.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Datelike, NaiveDateTime, Timelike};
use minijinja::value::{Kwargs, Value as Jinja};
use minijinja::{AutoEscape, State};
use toml::{Table, Value};

use crate::domain::locale::Locale;

/// The reference catalog, complete by definition.
pub const REFERENCE: &str = "en";

pub const BUILT_IN: &[(&str, &str)] = &[
    ("en", include_str!("../locales/en.toml")),
    ("fr", include_str!("../locales/fr.toml")),
    ("es", include_str!("../locales/es.toml")),
];

/// One language's words, every key of the reference present.
pub struct Catalog {
    pub tag: String,
    table: Table,
}

/// Every catalog loaded at start, by tag.
pub struct Catalogs {
    by_tag: BTreeMap<String, Catalog>,
}

impl Catalogs {
    /// The built-in catalogs, then every `<tag>.toml` of `dir` over them. A
    /// file that does not parse, or is named after no language tag, stops the
    /// start: a newsroom that dropped a file wants to hear it was not read.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Catalogs> {
        let mut raw: BTreeMap<String, Table> = BTreeMap::new();
        for (tag, source) in BUILT_IN {
            raw.insert(tag.to_string(), source.parse()?);
        }
        if let Some(dir) = dir {
            let entries = std::fs::read_dir(dir)
                .map_err(|e| anyhow::anyhow!("ui.reader_locales_dir {}: {e}", dir.display()))?;
            let mut paths: Vec<_> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            paths.sort();
            for path in paths {
                let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
                let tag = Locale::parse(stem).ok_or_else(|| {
                    anyhow::anyhow!("{}: not named after a language tag", path.display())
                })?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                let table: Table = text
                    .parse()
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                // A file for a built-in language rewords it.
                let entry = raw.entry(tag.to_string()).or_default();
                overlay(entry, table);
            }
        }
        Ok(Catalogs::build(raw))
    }

    /// The built-in catalogs alone.
    pub fn built_in() -> Catalogs {
        Catalogs::load(None).expect("the built-in catalogs parse")
    }

    pub(crate) fn build(raw: BTreeMap<String, Table>) -> Catalogs {
        let reference = raw.get(REFERENCE).cloned().unwrap_or_default();
        let by_tag = raw
            .into_iter()
            .map(|(tag, table)| {
                let mut missing = Vec::new();
                let table = complete(&reference, &table, "", &mut missing);
                if !missing.is_empty() {
                    tracing::warn!(
                        language = %tag,
                        missing = %missing.join(", "),
                        "reader catalog lacks keys: they read in English"
                    );
                }
                (tag.clone(), Catalog { tag, table })
            })
            .collect();
        Catalogs { by_tag }
    }

    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.by_tag.keys().map(String::as_str)
    }

    pub fn all(&self) -> impl Iterator<Item = &Catalog> {
        self.by_tag.values()
    }

    pub fn get(&self, tag: &str) -> Option<&Catalog> {
        self.by_tag.get(tag)
    }

    /// The catalog for a tag: its own, its primary language's (`pt` for
    /// `pt-br`), else French or English as `Language::from_tag` reads it (what
    /// readers got before catalogs).
    pub fn resolve(&self, tag: &str) -> &Catalog {
        let locale = Locale::parse(tag);
        locale
            .as_ref()
            .and_then(|l| self.by_tag.get(l.as_str()).or(self.by_tag.get(l.primary())))
            .or_else(|| {
                let fallback = crate::domain::article::Language::from_tag(tag);
                self.by_tag.get(fallback.as_str())
            })
            .or_else(|| self.by_tag.get(REFERENCE))
            .or_else(|| self.by_tag.values().next())
            .expect("the built-in catalogs are loaded")
    }
}

/// `over`'s keys replace `base`'s, table by table.
fn overlay(base: &mut Table, over: Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(Value::Table(b)), Value::Table(o)) => overlay(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// `table` with every key of `reference` it lacks (or holds in another
/// shape) taken from the reference; those keys are pushed on `missing`.
pub(crate) fn complete(
    reference: &Table,
    table: &Table,
    prefix: &str,
    missing: &mut Vec<String>,
) -> Table {
    let mut out = Table::new();
    for (k, rv) in reference {
        let path = format!("{prefix}{k}");
        let v = match (rv, table.get(k)) {
            (Value::Table(rt), Some(Value::Table(t))) => {
                Value::Table(complete(rt, t, &format!("{path}."), missing))
            }
            (Value::Array(ra), Some(Value::Array(a))) if a.len() == ra.len() => {
                Value::Array(a.clone())
            }
            (Value::String(_), Some(Value::String(s))) => Value::String(s.clone()),
            _ => {
                missing.push(path);
                rv.clone()
            }
        };
        out.insert(k.clone(), v);
    }
    out
}

impl Catalog {
    /// The words as a template value: `t.status.heading`.
    pub fn value(&self) -> Jinja {
        Jinja::from_serialize(&self.table)
    }

    /// A top-level section (`widget`, `category`), for the widget's JSON.
    pub fn section(&self, name: &str) -> Option<&Value> {
        self.table.get(name)
    }

    /// The language's own name (`[meta] name`).
    pub fn name(&self) -> String {
        self.text("meta.name")
    }

    /// A string by its dotted key (`status.step.received`); the key itself
    /// if there is none (every catalog holds every reference key).
    pub fn text(&self, key: &str) -> String {
        let mut at: Option<&Value> = None;
        let mut table = &self.table;
        for part in key.split('.') {
            at = table.get(part);
            if let Some(Value::Table(t)) = at {
                table = t;
            }
        }
        match at {
            Some(Value::String(s)) => s.clone(),
            _ => key.to_string(),
        }
    }

    /// A string with its `{name}` placeholders filled in (plain text).
    pub fn fill(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.text(key);
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// A month's name, `month0` counted from 0 (January).
    pub fn month(&self, month0: usize) -> String {
        self.table
            .get("dates")
            .and_then(|d| d.get("months"))
            .and_then(Value::as_array)
            .and_then(|m| m.get(month0))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    /// "3 October 2024", "3 de octubre de 2024", "1er octobre 2024".
    pub fn day(&self, t: NaiveDateTime) -> String {
        let day = if t.day() == 1 {
            self.text("dates.first")
        } else {
            t.day().to_string()
        };
        self.text("dates.day")
            .replace("{day}", &day)
            .replace("{month}", &self.month(t.month0() as usize))
            .replace("{year}", &t.year().to_string())
    }

    /// A day and a time, UTC.
    pub fn moment(&self, t: NaiveDateTime) -> String {
        self.text("dates.moment")
            .replace("{date}", &self.day(t))
            .replace("{hh}", &format!("{:02}", t.hour()))
            .replace("{h}", &t.hour().to_string())
            .replace("{mm}", &format!("{:02}", t.minute()))
    }

    /// A month of the transparency figures (`2026-11`): "November 2026",
    /// "novembre 2026" (`[dates] month_year`); the key itself when it is not
    /// a month.
    pub fn month_year(&self, key: &str) -> String {
        let parsed = key.split_once('-').and_then(|(y, m)| {
            let m: usize = m.parse().ok().filter(|m| (1..=12).contains(m))?;
            Some((y, m))
        });
        match parsed {
            Some((year, m)) => self
                .text("dates.month_year")
                .replace("{month}", &self.month(m - 1))
                .replace("{year}", year),
            None => key.to_string(),
        }
    }
}

/// HTML escaping of `& < > " '`: what text and quoted attributes need.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The `fill` template filter: `{{ t.email.receipt.thanks | fill(reference=
/// reference, article=link) }}` puts values in a catalog string's `{name}`
/// placeholders. In an HTML template the catalog's words are escaped, and so
/// is every value but markup the template built itself (a `{% set %}` block,
/// which minijinja marks safe): a translation can neither inject markup nor
/// lift the escaping of reader text. In a text template nothing is escaped.
pub fn fill_filter(state: &State, text: &str, args: Kwargs) -> Result<Jinja, minijinja::Error> {
    let html = !matches!(state.auto_escape(), AutoEscape::None);
    let mut out = if html {
        escape_html(text)
    } else {
        text.to_string()
    };
    for name in args.args() {
        let value: Jinja = args.get(name)?;
        let shown = match value.as_str() {
            Some(s) if html && !value.is_safe() => escape_html(s),
            Some(s) => s.to_string(),
            None if html => escape_html(&value.to_string()),
            None => value.to_string(),
        };
        // Braces are not escaped, so the placeholder survives escaping.
        out = out.replace(&format!("{{{name}}}"), &shown);
    }
    Ok(if html {
        Jinja::from_safe_string(out)
    } else {
        Jinja::from(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(t: &Table, prefix: &str, out: &mut Vec<String>) {
        for (k, v) in t {
            match v {
                Value::Table(t) => keys(t, &format!("{prefix}{k}."), out),
                _ => out.push(format!("{prefix}{k}")),
            }
        }
    }

    #[test]
    fn every_shipped_catalog_has_every_english_key() {
        let reference: Table = BUILT_IN[0].1.parse().unwrap();
        let mut want = Vec::new();
        keys(&reference, "", &mut want);
        assert!(want.len() > 100, "{}", want.len());
        for (tag, source) in BUILT_IN {
            let table: Table = source.parse().unwrap();
            let mut missing = Vec::new();
            complete(&reference, &table, "", &mut missing);
            assert!(missing.is_empty(), "{tag}.toml lacks {missing:?}");
            // No stray key either: it would be a typo of a real one.
            let mut have = Vec::new();
            keys(&table, "", &mut have);
            have.retain(|k| !want.contains(k));
            assert!(have.is_empty(), "{tag}.toml has unknown keys {have:?}");
        }
    }

    #[test]
    fn missing_keys_read_in_english() {
        let mut raw = BTreeMap::new();
        raw.insert("en".to_string(), BUILT_IN[0].1.parse::<Table>().unwrap());
        raw.insert(
            "de".to_string(),
            "[widget]\nreport = \"Fehler melden\"\n[dates]\nmonths = [\"Januar\"]\n"
                .parse::<Table>()
                .unwrap(),
        );
        let c = Catalogs::build(raw);
        let de = c.get("de").unwrap();
        assert_eq!(de.text("widget.report"), "Fehler melden");
        assert_eq!(de.text("widget.close"), "Close");
        // Twelve months or none: a short list is English's.
        assert_eq!(
            de.day(chrono::NaiveDate::from_ymd_opt(2024, 3, 5).unwrap().into()),
            "5 March 2024"
        );
    }

    #[test]
    fn tags_resolve_to_their_language_or_the_old_fallback() {
        let c = Catalogs::built_in();
        assert_eq!(c.resolve("es").tag, "es");
        assert_eq!(c.resolve("es-MX").tag, "es");
        assert_eq!(c.resolve("en-GB").tag, "en");
        assert_eq!(c.resolve("de").tag, "fr");
        assert_eq!(c.resolve("nonsense!").tag, "fr");
    }

    #[test]
    fn months_of_the_figures_read_in_words() {
        let c = Catalogs::built_in();
        assert_eq!(c.get("en").unwrap().month_year("2026-11"), "November 2026");
        assert_eq!(c.get("fr").unwrap().month_year("2026-02"), "février 2026");
        assert_eq!(
            c.get("es").unwrap().month_year("2026-10"),
            "octubre de 2026"
        );
        assert_eq!(c.get("en").unwrap().month_year("2026-13"), "2026-13");
    }

    #[test]
    fn fill_escapes_the_words_and_reader_values_but_not_template_markup() {
        let mut env = minijinja::Environment::new();
        env.add_filter("fill", fill_filter);
        let words = "Tom's <report> {reference} on {article}";
        let ctx = minijinja::context! { words, reference => "<b>R</b>", title => "<i>T</i>" };
        env.add_template(
            "a.html",
            "{% set article %}<a href=\"x\">{{ title }}</a>{% endset %}{{ words | fill(reference=reference, article=article) }}",
        )
        .unwrap();
        env.add_template(
            "a.txt",
            "{{ words | fill(reference=reference, article=title) }}",
        )
        .unwrap();
        assert_eq!(
            env.get_template("a.html").unwrap().render(&ctx).unwrap(),
            "Tom&#39;s &lt;report&gt; &lt;b&gt;R&lt;/b&gt; on <a href=\"x\">&lt;i&gt;T&lt;&#x2f;i&gt;</a>"
        );
        assert_eq!(
            env.get_template("a.txt").unwrap().render(&ctx).unwrap(),
            "Tom's <report> <b>R</b> on <i>T</i>"
        );
    }
}
