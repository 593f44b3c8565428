//! Articles as they come from the CMS, parsed into valid data.

use serde::{Deserialize, Serialize};

pub use super::locale::Locale;
use super::segment::{self, Lang};
use super::text::{clean, normalize_ws};
use crate::error::{ErrorCode, FieldError, Problem};

pub const MAX_EXTERNAL_ID: usize = 200;
pub const MAX_URL: usize = 2048;
pub const MAX_TITLE: usize = 500;
pub const MAX_DESK: usize = 100;
pub const MAX_SENTENCES: usize = 5000;

/// The language of an article, of an editor's interface and of an email.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// French, the newsroom's language and the fallback.
    #[default]
    Fr,
    En,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Fr, Language::En];

    /// A language tag (`en`, `en-GB`, `fr-CA`, …) read leniently: English is
    /// English, anything else (an article in German) French, the newsroom's
    /// language.
    pub fn from_tag(s: &str) -> Language {
        match s.get(..2).map(|p| p.to_ascii_lowercase()).as_deref() {
            Some("en") => Language::En,
            _ => Language::Fr,
        }
    }

    /// The first of `fr`/`en` in an Accept-Language header (before login).
    pub fn from_accept_language(header: Option<&str>) -> Language {
        header
            .unwrap_or_default()
            .split(',')
            .map(|part| part.split(';').next().unwrap_or_default().trim())
            .find_map(|tag| match tag.get(..2).map(|p| p.to_ascii_lowercase()) {
                Some(p) if p == "fr" => Some(Language::Fr),
                Some(p) if p == "en" => Some(Language::En),
                _ => None,
            })
            .unwrap_or_default()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Language> {
        match s {
            "fr" => Some(Language::Fr),
            "en" => Some(Language::En),
            _ => None,
        }
    }

    pub fn segment_lang(self) -> Lang {
        match self {
            Language::Fr => Lang::Fr,
            Language::En => Lang::En,
        }
    }
}

/// The CMS's own id for an article: 1–200 of `A-Z a-z 0-9 . _ - :`, so it is
/// safe in a URL path segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalId(String);

impl ExternalId {
    pub fn parse(s: &str) -> Result<ExternalId, FieldError> {
        if s.is_empty() || s.len() > MAX_EXTERNAL_ID {
            return Err(FieldError::new(
                "external_id",
                "invalid_length",
                "must be 1 to 200 characters",
            ));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'))
        {
            return Err(FieldError::new(
                "external_id",
                "invalid_characters",
                "may contain only letters, digits, '.', '_', '-' and ':'",
            ));
        }
        Ok(ExternalId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An http(s) URL of bounded length.
pub fn parse_http_url(field: &str, s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(FieldError::new(field, "required", "must not be empty"));
    }
    if s.len() > MAX_URL {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("must be at most {MAX_URL} characters"),
        ));
    }
    match url::Url::parse(s) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host().is_some() => {
            Ok(u.to_string())
        }
        Ok(_) => Err(FieldError::new(
            field,
            "invalid_url_scheme",
            "must be an http or https URL",
        )),
        Err(_) => Err(FieldError::new(field, "invalid_url", "is not a valid URL")),
    }
}

/// The body of `PUT /api/v1/articles/{external_id}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleUpsert {
    /// Canonical URL of the article page (http or https).
    #[schema(min_length = 1, max_length = 2048)]
    pub url: String,
    #[schema(min_length = 1, max_length = 500)]
    pub title: String,
    /// A language tag: `fr`, `en`, or any other (`es`, `de`, `pt-BR`…).
    /// Readers see the widget and their status page in it when the server
    /// has its catalog (else in French, or English for `en-*`); the body is
    /// split with the French rules, or the English ones for `en-*`.
    pub language: Locale,
    /// The desk (section) that owns the article, for routing cases to editors.
    #[schema(max_length = 100)]
    pub desk: Option<String>,
    /// Publication time (RFC 3339); defaults to the first import.
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Plain text: paragraphs separated by blank lines. Give this or `body_html`.
    pub body_text: Option<String>,
    /// HTML: paragraph-level blocks; scripts, styles and captions are ignored.
    pub body_html: Option<String>,
}

/// A validated article, segmented into paragraphs of sentences. Paragraph 0
/// is the title, so readers can report errors in it too.
#[derive(Debug, Clone)]
pub struct NewArticle {
    pub external_id: ExternalId,
    pub url: String,
    pub title: String,
    /// Its tag; `language.language()` is what segmentation knows.
    pub language: Locale,
    pub desk: Option<String>,
    pub published_at: Option<chrono::NaiveDateTime>,
    pub paragraphs: Vec<Vec<String>>,
}

/// 422 `html_too_complex`: the body nests deeper or holds more elements than
/// an article can, or took too long to read.
pub fn html_too_complex(detail: impl Into<String>) -> Problem {
    Problem::field(
        ErrorCode::HtmlTooComplex,
        "HTML too complex",
        "body_html",
        detail.into(),
    )
    .with("max_depth", segment::MAX_HTML_DEPTH)
    .with("max_elements", segment::MAX_HTML_ELEMENTS)
}

impl NewArticle {
    /// Validate and segment. The work is linear in the body's size: HTML
    /// that nests too deeply or has too many elements is refused by a
    /// pre-scan (`segment::check_complexity`) before it reaches the parser.
    pub fn parse(external_id: &str, input: ArticleUpsert) -> Result<NewArticle, Problem> {
        if let Some(html) = &input.body_html {
            match segment::check_complexity(html) {
                Ok(()) => {}
                Err(segment::TooComplex::Depth { max }) => {
                    return Err(html_too_complex(format!(
                        "elements nest more than {max} deep"
                    )));
                }
                Err(segment::TooComplex::Elements { max }) => {
                    return Err(html_too_complex(format!(
                        "the body has more than {max} elements"
                    )));
                }
            }
        }
        let mut errors = Vec::new();
        let external_id = ExternalId::parse(external_id)
            .map_err(|e| errors.push(e))
            .ok();
        let url = parse_http_url("url", &input.url)
            .map_err(|e| errors.push(e))
            .ok();
        let title = clean(&input.title, MAX_TITLE, false)
            .map(|t| normalize_ws(&t))
            .map_err(|e| errors.push(FieldError::new("title", e.code(), e.message())))
            .ok();
        let desk = match input.desk.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => clean(d, MAX_DESK, false)
                .map_err(|e| errors.push(FieldError::new("desk", e.code(), e.message())))
                .ok(),
        };
        let body_paragraphs = match (&input.body_text, &input.body_html) {
            (Some(t), None) => Some(segment::paragraphs_from_text(t)),
            (None, Some(h)) => Some(segment::paragraphs_from_html(h)),
            (Some(_), Some(_)) => {
                errors.push(FieldError::new(
                    "body_text",
                    "conflict",
                    "give body_text or body_html, not both",
                ));
                None
            }
            (None, None) => {
                errors.push(FieldError::new(
                    "body_text",
                    "required",
                    "give body_text or body_html",
                ));
                None
            }
        };
        let (Some(external_id), Some(url), Some(title), Some(body)) =
            (external_id, url, title, body_paragraphs)
        else {
            return Err(Problem::validation(errors));
        };
        if !errors.is_empty() {
            return Err(Problem::validation(errors));
        }
        let paragraphs = build_paragraphs(&title, body, input.language.language());
        let body_field = if input.body_html.is_some() {
            "body_html"
        } else {
            "body_text"
        };
        let count: usize = paragraphs.iter().map(Vec::len).sum();
        if paragraphs.len() < 2 {
            return Err(Problem::validation(vec![FieldError::new(
                body_field,
                "empty_body",
                "the body has no text",
            )]));
        }
        if count > MAX_SENTENCES {
            return Err(Problem::validation(vec![FieldError::new(
                body_field,
                "too_many_sentences",
                format!("the body has more than {MAX_SENTENCES} sentences"),
            )]));
        }
        Ok(NewArticle {
            external_id,
            url,
            title,
            language: input.language,
            desk,
            published_at: input.published_at.map(|t| t.naive_utc()),
            paragraphs,
        })
    }
}

/// Title first, then the body's paragraphs (a body that repeats the title as
/// its first paragraph does not get it twice), footer lines removed.
pub fn build_paragraphs(title: &str, body: Vec<String>, language: Language) -> Vec<Vec<String>> {
    let mut body = body;
    if body.first().map(|p| normalize_ws(p)) == Some(normalize_ws(title)) {
        body.remove(0);
    }
    let mut paragraphs = vec![vec![normalize_ws(title)]];
    for p in segment::segment(body, language.segment_lang()) {
        // Sentences are stored in the form quotes are compared in.
        let sentences: Vec<String> = p
            .sentences
            .iter()
            .map(|s| normalize_ws(s))
            .filter(|s| !s.is_empty())
            .collect();
        if !sentences.is_empty() {
            paragraphs.push(sentences);
        }
    }
    paragraphs
}

/// A plain-text file as `erratum article import` reads it: the first paragraph
/// is the title unless one is given.
pub fn split_text_file(text: &str, title: Option<&str>) -> (String, String) {
    match title {
        Some(t) => (t.to_string(), text.to_string()),
        None => {
            let mut paragraphs = segment::paragraphs_from_text(text).into_iter();
            let title = paragraphs.next().unwrap_or_default();
            (title, paragraphs.collect::<Vec<_>>().join("\n\n"))
        }
    }
}
