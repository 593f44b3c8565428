//! Messages after a form (post, redirect, get): the redirect's query says
//! what happened (`done=claimed`, `err=already_claimed`, …) and the page
//! shows it in the editor's language. Only known words travel, never text.

use minijinja::{Value, context};
use serde::Deserialize;

use super::i18n::{self, Lang};

const KEYS: [&str; 6] = ["done", "err", "n", "failed", "case", "bf"];

/// At most this many refused cases are listed after a bulk action (the
/// count says how many there were).
const MAX_FAILURES: usize = 20;

#[derive(Debug, Default, Deserialize)]
pub struct Flash {
    done: Option<String>,
    err: Option<String>,
    n: Option<u32>,
    failed: Option<u32>,
    case: Option<String>,
    /// Cases a bulk action refused: `id~code,id~code` (`failures`).
    bf: Option<String>,
}

fn word(s: &Option<String>) -> Option<&str> {
    s.as_deref()
        .filter(|w| !w.is_empty() && w.len() <= 40)
        .filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
}

impl Flash {
    /// The flash of a page's query; a malformed one is no message.
    pub fn from_request(req: &actix_web::HttpRequest) -> Flash {
        actix_web::web::Query::<Flash>::from_query(req.query_string())
            .map(|f| f.into_inner())
            .unwrap_or_default()
    }

    /// `{kind, text, undo}` for the page, or nothing.
    pub fn message(&self, lang: Lang) -> Option<Value> {
        let undo = self
            .case
            .as_deref()
            .filter(|c| uuid::Uuid::parse_str(c).is_ok())
            .filter(|_| word(&self.done) == Some("spam"));
        if let Some(done) = word(&self.done) {
            let text = i18n::text(lang, &format!("flash.{done}"))
                .replace("{n}", &self.n.unwrap_or(0).to_string())
                .replace("{failed}", &self.failed.unwrap_or(0).to_string());
            let kind = if self.failed.unwrap_or(0) > 0 {
                "warning"
            } else {
                "notice"
            };
            let failures = self.failures(lang);
            return Some(context! { kind, text, undo, failures });
        }
        let err = word(&self.err)?;
        let key = format!("flash_error.{err}");
        let mut text = i18n::text(lang, &key);
        if text == key {
            text = i18n::text(lang, "flash_error.other");
        }
        Some(context! { kind => "error", text, undo => (), failures => Vec::<Value>::new() })
    }

    /// The refused cases of a bulk action, each with the reason in the
    /// interface's language: `{id, text}`.
    fn failures(&self, lang: Lang) -> Vec<Value> {
        let Some(raw) = self.bf.as_deref() else {
            return Vec::new();
        };
        raw.split(',')
            .filter_map(|pair| pair.split_once('~'))
            .filter(|(id, _)| uuid::Uuid::parse_str(id).is_ok())
            .filter_map(|(id, code)| Some((id, word(&Some(code.to_string()))?.to_string())))
            .take(MAX_FAILURES)
            .map(|(id, code)| {
                let key = format!("flash_error.{code}");
                let mut text = i18n::text(lang, &key);
                if text == key {
                    text = i18n::text(lang, "flash_error.other");
                }
                context! { id, text }
            })
            .collect()
    }
}

/// The `bf` parameter for refused cases (`id`, problem code), the first
/// `MAX_FAILURES` of them.
pub fn failures<'a>(refused: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    refused
        .take(MAX_FAILURES)
        .map(|(id, code)| format!("{id}~{code}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Where a form may send the browser back to: a path of these pages only.
pub fn safe_return(to: Option<&str>) -> String {
    match to {
        Some(t) if t.starts_with("/editor/") && !t.starts_with("//") && !t.contains('\\') => {
            t.to_string()
        }
        _ => "/editor/".to_string(),
    }
}

/// `path` with the flash parameters replaced by `params` (a fragment such
/// as `#c-…` goes after).
pub fn with(path: &str, params: &[(&str, &str)]) -> String {
    let (path, fragment) = match path.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (path, None),
    };
    let mut u = match url::Url::parse(&format!("http://x{path}")) {
        Ok(u) => u,
        Err(_) => return "/editor/".to_string(),
    };
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| !KEYS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut q = u.query_pairs_mut();
        q.clear();
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    let mut out = u.path().to_string();
    if let Some(q) = u.query().filter(|q| !q.is_empty()) {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flash_parameters_replace_old_ones() {
        assert_eq!(
            with("/editor/?status=new&done=claimed", &[("done", "spam")]),
            "/editor/?status=new&done=spam"
        );
        assert_eq!(
            with("/editor/cases/1#resolve", &[]),
            "/editor/cases/1#resolve"
        );
        assert_eq!(safe_return(Some("https://evil.example/")), "/editor/");
        assert_eq!(safe_return(Some("//evil.example/editor/")), "/editor/");
    }

    #[test]
    fn only_known_words_are_shown() {
        let f = Flash {
            done: Some("<script>".into()),
            ..Default::default()
        };
        assert!(f.message(Lang::Fr).is_none());
        let f = Flash {
            err: Some("something_new".into()),
            ..Default::default()
        };
        assert!(f.message(Lang::En).is_some());
    }
}
