//! Data-subject requests (GDPR arts. 15 and 17): what a reader may ask for
//! from their status link, and the address an admin types to answer it.

use crate::error::{FieldError, Problem};

/// What a reader asks for: a copy of what is held (`export`, art. 15) or
/// its erasure (`erase`, art. 17). Stored as that text.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    Export,
    Erase,
}

impl RequestKind {
    pub const ALL: [RequestKind; 2] = [RequestKind::Export, RequestKind::Erase];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Export => "export",
            RequestKind::Erase => "erase",
        }
    }

    pub fn parse(s: &str) -> Option<RequestKind> {
        RequestKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The `kind` field of a reader's request, or the 422 that names it.
    pub fn from_field(raw: &str) -> Result<RequestKind, Problem> {
        RequestKind::parse(raw.trim()).ok_or_else(|| {
            Problem::validation(vec![FieldError::new(
                "kind",
                "invalid_value",
                "must be export or erase",
            )])
        })
    }
}

/// The longest address accepted (RFC 5321's limit, as the intake's).
const MAX_EMAIL: usize = 254;

/// A reader's address as an admin typed it: trimmed, bounded, with an `@`.
/// Any such string is looked up (an address the intake would refuse finds
/// nothing, which is the right answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectEmail(String);

impl SubjectEmail {
    pub fn parse(raw: &str) -> Result<SubjectEmail, Problem> {
        let email = raw.trim();
        let error = |code, message: &str| {
            Problem::validation(vec![FieldError::new("email", code, message)])
        };
        if email.is_empty() {
            return Err(error("required", "must not be empty"));
        }
        if email.chars().count() > MAX_EMAIL || !email.contains('@') || email.contains(['\r', '\n'])
        {
            return Err(error("invalid_email", "is not an email address"));
        }
        Ok(SubjectEmail(email.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_addresses_parse_at_the_boundary() {
        assert_eq!(
            RequestKind::from_field("erase").unwrap(),
            RequestKind::Erase
        );
        assert_eq!(
            RequestKind::from_field("delete").unwrap_err().errors[0].field,
            "kind"
        );
        assert_eq!(
            SubjectEmail::parse(" a@b.org ").unwrap().as_str(),
            "a@b.org"
        );
        assert_eq!(
            SubjectEmail::parse("").unwrap_err().errors[0].code,
            "required"
        );
        assert_eq!(
            SubjectEmail::parse("nobody").unwrap_err().errors[0].code,
            "invalid_email"
        );
        assert!(SubjectEmail::parse("a@b.org\r\nBcc: x").is_err());
    }
}
