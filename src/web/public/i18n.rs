//! Reader languages. One TOML catalog per language holds every word readers
//! see: the widget's (served as JSON at `/widget/strings/{tag}.json`), the
//! status page's, category names and how dates read. English, French and
//! Spanish are built in (`locales/`); a newsroom adds a language by dropping
//! `<tag>.toml` into `ui.reader_locales_dir` (or rewords a built-in one the
//! same way). English is the reference: keys a file lacks fall back to it,
//! with a warning at start that lists them.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Datelike, NaiveDateTime, Timelike};
use toml::{Table, Value};

use super::assets::Asset;
use crate::domain::locale::Locale;

/// The reference catalog, complete by definition.
pub const REFERENCE: &str = "en";

pub const BUILT_IN: &[(&str, &str)] = &[
    ("en", include_str!("../../../locales/en.toml")),
    ("fr", include_str!("../../../locales/fr.toml")),
    ("es", include_str!("../../../locales/es.toml")),
];

/// One language's words, every key of the reference present.
pub struct Catalog {
    pub tag: String,
    table: Table,
    /// What the widget fetches: `{"lang", "strings", "category"}`.
    pub widget: &'static Asset,
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

    fn build(raw: BTreeMap<String, Table>) -> Catalogs {
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
                let widget = widget_asset(&tag, &table);
                (tag.clone(), Catalog { tag, table, widget })
            })
            .collect();
        Catalogs { by_tag }
    }

    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.by_tag.keys().map(String::as_str)
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
fn complete(reference: &Table, table: &Table, prefix: &str, missing: &mut Vec<String>) -> Table {
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

/// The widget's strings as one cacheable JSON file per language. Catalogs
/// live as long as the process, so the file is leaked into a `'static`
/// asset, served like the widget itself (ETag, gzip).
fn widget_asset(tag: &str, table: &Table) -> &'static Asset {
    let json = serde_json::json!({
        "lang": tag,
        "strings": table.get("widget"),
        "category": table.get("category"),
    });
    let body: &'static str = Box::leak(json.to_string().into_boxed_str());
    let path: &'static str = Box::leak(format!("/widget/strings/{tag}.json").into_boxed_str());
    Box::leak(Box::new(Asset::new(
        path,
        "application/json; charset=utf-8",
        body,
    )))
}

impl Catalog {
    /// The words as a template value: `t.status.heading`.
    pub fn value(&self) -> minijinja::Value {
        minijinja::Value::from_serialize(&self.table)
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

    /// "3 October 2024", "3 de octubre de 2024", "1er octobre 2024".
    pub fn day(&self, t: NaiveDateTime) -> String {
        let months = self
            .table
            .get("dates")
            .and_then(|d| d.get("months"))
            .and_then(Value::as_array);
        let month = months
            .and_then(|m| m.get(t.month0() as usize))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let day = if t.day() == 1 {
            self.text("dates.first")
        } else {
            t.day().to_string()
        };
        self.text("dates.day")
            .replace("{day}", &day)
            .replace("{month}", month)
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
}

/// The widget's words in the language a tag resolves to: its own catalog,
/// its language's (`es-mx` → `es`), else French (English for `en-*`).
/// `lang` says which; `strings` and `category` are the catalog's `[widget]`
/// and `[category]`. Cached an hour and revalidated (ETag) like `/widget.js`.
#[utoipa::path(get, path = "/widget/strings/{tag}.json", tag = "pages",
    params(("tag" = String, Path, description = "A language tag: `fr`, `en`, `es`, `de-AT`…")),
    responses(
        (status = 200, description = "`{\"lang\", \"strings\", \"category\"}`", body = Object, content_type = "application/json"),
        (status = 304, description = "Not modified (If-None-Match)"),
    ))]
pub async fn widget_strings(
    req: actix_web::HttpRequest,
    catalogs: actix_web::web::Data<Catalogs>,
    path: actix_web::web::Path<String>,
) -> actix_web::HttpResponse {
    let catalog = catalogs.resolve(&path);
    super::assets::respond(&req, catalog.widget, super::assets::CACHE_CONTROL)
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
        assert!(de.widget.body.contains("Fehler melden"));
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
    fn dates_read_as_before_in_french_and_english() {
        let c = Catalogs::built_in();
        for (y, m, d, h, min) in [
            (2024, 10, 1, 0, 0),
            (2024, 8, 15, 9, 5),
            (2024, 2, 3, 14, 30),
        ] {
            let t = chrono::NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, min, 0)
                .unwrap();
            for lang in ["fr", "en"] {
                let cat = c.get(lang).unwrap();
                assert_eq!(cat.day(t), super::super::dates::day(t, lang));
                assert_eq!(cat.moment(t), super::super::dates::moment(t, lang));
            }
        }
        let t = chrono::NaiveDate::from_ymd_opt(2024, 10, 3)
            .unwrap()
            .and_hms_opt(9, 5, 0)
            .unwrap();
        assert_eq!(
            c.get("es").unwrap().moment(t),
            "3 de octubre de 2024, 9:05 UTC"
        );
    }
}
