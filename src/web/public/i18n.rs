//! The widget's words: each reader catalog's `[widget]` and `[category]`
//! (`crate::locales`) as one cacheable JSON file per language, served at
//! `/widget/strings/{tag}.json`, so the widget carries no word of its own.

use std::collections::BTreeMap;

use super::assets::Asset;
pub use crate::locales::{Catalog, Catalogs};

/// Every catalog's widget file, built once at start.
pub struct WidgetStrings {
    by_tag: BTreeMap<String, &'static Asset>,
}

impl WidgetStrings {
    /// Catalogs live as long as the process, so each file is leaked into a
    /// `'static` asset, served like the widget itself (ETag, gzip).
    pub fn new(catalogs: &Catalogs) -> WidgetStrings {
        let by_tag = catalogs
            .all()
            .map(|c| {
                let json = serde_json::json!({
                    "lang": c.tag,
                    "strings": c.section("widget"),
                    "category": c.section("category"),
                });
                let body: &'static str = Box::leak(json.to_string().into_boxed_str());
                let path: &'static str =
                    Box::leak(format!("/widget/strings/{}.json", c.tag).into_boxed_str());
                let asset: &'static Asset = Box::leak(Box::new(Asset::new(
                    path,
                    "application/json; charset=utf-8",
                    body,
                )));
                (c.tag.clone(), asset)
            })
            .collect();
        WidgetStrings { by_tag }
    }

    /// The file of a catalog (every loaded catalog has one).
    pub fn of(&self, catalog: &Catalog) -> Option<&'static Asset> {
        self.by_tag.get(&catalog.tag).copied()
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
    widgets: actix_web::web::Data<WidgetStrings>,
    path: actix_web::web::Path<String>,
) -> actix_web::HttpResponse {
    match widgets.of(catalogs.resolve(&path)) {
        Some(asset) => super::assets::respond(&req, asset, super::assets::CACHE_CONTROL),
        None => actix_web::HttpResponse::NotFound().finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_catalog_has_its_widget_file() {
        let c = Catalogs::built_in();
        let w = WidgetStrings::new(&c);
        let es = w.of(c.resolve("es-MX")).unwrap();
        assert_eq!(es.path, "/widget/strings/es.json");
        assert!(es.body.contains("Informar de un error"), "{}", es.body);
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
