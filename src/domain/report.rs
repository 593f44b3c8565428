//! A reader's report, parsed at the boundary into `NewReport`.

use serde::{Deserialize, Serialize};

use super::article::{Language, parse_http_url};
use super::text::{clean, normalize_ws};
use crate::config::DueHours;
use crate::error::{FieldError, Problem};

pub const MAX_COMMENT: usize = 2000;
pub const MAX_SUGGESTION: usize = 1000;
pub const MAX_SOURCES: usize = 5;
pub const MAX_QUOTE: usize = 5000;
pub const MAX_CONTEXT: usize = 200;
pub const MAX_EMAIL: usize = 254;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    FactualError,
    Typo,
    Outdated,
    Misleading,
    MissingContext,
    Translation,
    BrokenLink,
    Other,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::FactualError,
        Category::Typo,
        Category::Outdated,
        Category::Misleading,
        Category::MissingContext,
        Category::Translation,
        Category::BrokenLink,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::FactualError => "factual_error",
            Category::Typo => "typo",
            Category::Outdated => "outdated",
            Category::Misleading => "misleading",
            Category::MissingContext => "missing_context",
            Category::Translation => "translation",
            Category::BrokenLink => "broken_link",
            Category::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn due_hours(self, targets: &DueHours) -> u32 {
        match self {
            Category::FactualError => targets.factual_error,
            Category::Typo => targets.typo,
            Category::Outdated => targets.outdated,
            Category::Misleading => targets.misleading,
            Category::MissingContext => targets.missing_context,
            Category::Translation => targets.translation,
            Category::BrokenLink => targets.broken_link,
            Category::Other => targets.other,
        }
    }
}

/// A reporter's address: trimmed, validated, at most 254 characters.
/// Never logged (it is personal data).
#[derive(Clone, PartialEq, Eq)]
pub struct ReporterEmail(String);

impl std::fmt::Debug for ReporterEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReporterEmail(<redacted>)")
    }
}

impl ReporterEmail {
    pub fn parse(s: &str) -> Result<ReporterEmail, FieldError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(FieldError::new(
                "reporter.email",
                "required",
                "must not be empty",
            ));
        }
        if s.chars().count() > MAX_EMAIL {
            return Err(FieldError::new(
                "reporter.email",
                "too_long",
                "must be at most 254 characters",
            ));
        }
        match s.parse::<email_address::EmailAddress>() {
            // Header injection is impossible: the parser refuses CR, LF and
            // anything outside an address.
            Ok(addr) if addr.domain().contains('.') && !s.contains(['\r', '\n', '<', '>', ',']) => {
                Ok(ReporterEmail(addr.to_string()))
            }
            _ => Err(FieldError::new(
                "reporter.email",
                "invalid_email",
                "is not a valid email address",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteInput {
    /// The selected text, as it appears in the article.
    #[schema(example = "le 3 octobre", min_length = 1, max_length = 5000)]
    pub exact: String,
    /// Up to 200 characters just before the selection (disambiguates repeats).
    #[schema(max_length = 200)]
    pub prefix: Option<String>,
    /// Up to 200 characters just after the selection.
    #[schema(max_length = 200)]
    pub suffix: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReporterInput {
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    /// Consent to be told the outcome by email.
    #[serde(default)]
    pub notify: bool,
}

/// The body of `POST /api/v1/articles/{external_id}/reports`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "quote": {"exact": "le 3 octobre"},
    "category": "factual_error",
    "comment": "La frappe a eu lieu le 4 octobre selon le communiqué ukrainien.",
    "suggested_correction": "le 4 octobre",
    "sources": ["https://example.org/communique"],
    "reporter": {"email": "lectrice@example.org", "notify": true}
}))]
pub struct ReportSubmission {
    /// A sentence id of the article's current revision; found from the quote when absent.
    pub sentence_id: Option<String>,
    pub quote: QuoteInput,
    pub category: Category,
    /// What is wrong: 1 to 2000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    pub comment: String,
    #[schema(max_length = 1000)]
    pub suggested_correction: Option<String>,
    /// Up to 5 http(s) URLs.
    #[schema(max_items = 5)]
    pub sources: Option<Vec<String>>,
    pub reporter: Option<ReporterInput>,
    /// Leave empty. (A honeypot for bots.)
    pub website: Option<String>,
    /// "Me too": join the open case on this sentence. The comment may then
    /// be empty; a sentence without an open case is refused (`409`).
    #[serde(default)]
    pub me_too: bool,
}

#[derive(Debug, Clone)]
pub struct Quote {
    pub exact: String,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

/// A valid report, before it is anchored to a sentence.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub sentence_id: Option<String>,
    pub quote: Quote,
    pub category: Category,
    pub comment: String,
    pub suggested_correction: Option<String>,
    pub sources: Vec<String>,
    pub reporter: Option<(ReporterEmail, bool)>,
    /// The honeypot was filled: store as spam, answer as usual, never notify.
    pub is_spam: bool,
    /// Joins the sentence's open case; `comment` may be empty.
    pub me_too: bool,
}

fn text_field(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: &str,
    max: usize,
    multiline: bool,
) -> Option<String> {
    clean(value, max, multiline)
        .map_err(|e| errors.push(FieldError::new(field, e.code(), e.message())))
        .ok()
}

fn optional_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<&str>,
    max: usize,
    multiline: bool,
) -> Option<String> {
    match value {
        Some(v) if !v.trim().is_empty() => text_field(errors, field, v, max, multiline),
        _ => None,
    }
}

impl NewReport {
    pub fn parse(input: ReportSubmission) -> Result<NewReport, Problem> {
        let mut errors = Vec::new();
        let sentence_id = match input.sentence_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(id) if uuid::Uuid::parse_str(id).is_ok() => Some(id.to_ascii_lowercase()),
            Some(_) => {
                errors.push(FieldError::new(
                    "sentence_id",
                    "invalid_sentence_id",
                    "is not a sentence id",
                ));
                None
            }
        };
        let exact = text_field(
            &mut errors,
            "quote.exact",
            &input.quote.exact,
            MAX_QUOTE,
            true,
        )
        .map(|q| normalize_ws(&q));
        // Context may be cut mid-word and start or end with spaces: keep it as is, bounded.
        let context = |errors: &mut Vec<FieldError>, field: &str, v: Option<&str>| match v {
            Some(v) if !v.trim().is_empty() => {
                text_field(errors, field, v, MAX_CONTEXT, true).map(|v| normalize_ws(&v))
            }
            _ => None,
        };
        let prefix = context(&mut errors, "quote.prefix", input.quote.prefix.as_deref());
        let suffix = context(&mut errors, "quote.suffix", input.quote.suffix.as_deref());
        let comment = if input.me_too && input.comment.trim().is_empty() {
            Some(String::new())
        } else {
            text_field(&mut errors, "comment", &input.comment, MAX_COMMENT, true)
        };
        let suggested_correction = optional_text(
            &mut errors,
            "suggested_correction",
            input.suggested_correction.as_deref(),
            MAX_SUGGESTION,
            true,
        );
        let raw_sources = input.sources.unwrap_or_default();
        if raw_sources.len() > MAX_SOURCES {
            errors.push(FieldError::new(
                "sources",
                "too_many",
                format!("at most {MAX_SOURCES} sources"),
            ));
        }
        let mut sources = Vec::new();
        for (i, s) in raw_sources.iter().take(MAX_SOURCES).enumerate() {
            let field = format!("sources[{i}]");
            if s.chars().any(char::is_control) {
                errors.push(FieldError::new(
                    field,
                    "control_character",
                    "must not contain control characters",
                ));
                continue;
            }
            match parse_http_url(&field, s) {
                Ok(u) => sources.push(u),
                Err(e) => errors.push(e),
            }
        }
        let reporter = match input.reporter {
            None => None,
            Some(r) if r.email.trim().is_empty() && !r.notify => None,
            Some(r) => ReporterEmail::parse(&r.email)
                .map(|e| (e, r.notify))
                .map_err(|e| errors.push(e))
                .ok(),
        };
        let is_spam = input
            .website
            .as_deref()
            .is_some_and(|w| !w.trim().is_empty());
        match (exact, comment) {
            (Some(exact), Some(comment)) if errors.is_empty() => Ok(NewReport {
                sentence_id,
                quote: Quote {
                    exact,
                    prefix,
                    suffix,
                },
                category: input.category,
                comment,
                suggested_correction,
                sources,
                reporter,
                is_spam,
                me_too: input.me_too,
            }),
            _ => Err(Problem::validation(errors)),
        }
    }
}

/// The comment stored for a "me too" that came without one.
pub fn me_too_comment(language: Language) -> &'static str {
    match language {
        Language::En => "Me too: I am reporting the same error.",
        Language::Fr => "Moi aussi : je signale la même erreur.",
    }
}

/// A short human reference such as `ERR-7KQ2-MX`, from an alphabet without
/// look-alike characters (no 0/O, 1/I/L).
pub fn new_reference() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut rng = rand::rng();
    let mut pick = |n: usize| -> String {
        (0..n)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect()
    };
    format!("ERR-{}-{}", pick(4), pick(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_format() {
        for _ in 0..100 {
            let r = new_reference();
            assert_eq!(r.len(), 11);
            assert!(r.starts_with("ERR-") && r.as_bytes()[8] == b'-', "{r}");
            assert!(!r[4..].contains(['0', 'O', '1', 'I', 'L']), "{r}");
        }
    }

    #[test]
    fn email_parsing() {
        assert_eq!(
            ReporterEmail::parse("  a.b@example.org ").unwrap().as_str(),
            "a.b@example.org"
        );
        for bad in [
            "",
            "nope",
            "a@b",
            "a@example.org\r\nBcc: x@y.z",
            "<a@example.org>",
            &format!("{}@example.org", "a".repeat(250)),
        ] {
            assert!(ReporterEmail::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn category_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
        }
    }
}
