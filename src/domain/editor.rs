//! Newsroom staff as the API and the command line accept them: roles, desks,
//! addresses and passwords, parsed at the boundary.

use serde::{Deserialize, Serialize};

use super::article::MAX_DESK;
use super::text::clean;
use crate::error::FieldError;

pub const MAX_NAME: usize = 200;
pub const MAX_DESKS: usize = 50;
/// NIST SP 800-63B asks for at least 8; staff accounts that reach readers'
/// addresses deserve more.
pub const MIN_PASSWORD: usize = 12;
/// Bounds the work a login costs (Argon2 hashes whatever it is given).
pub const MAX_PASSWORD: usize = 1024;
/// How long a password-reset link works.
pub const RESET_MINUTES: i64 = 30;
/// How long the first admin's setup link works (unless used before).
pub const SETUP_HOURS: i64 = 24;

/// What an account may do. Ordered: each role can do what the ones before it can.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    clap::ValueEnum,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads the queue, cases and corrections.
    Viewer,
    /// Triages the cases of its desks (every desk when it has none).
    Editor,
    /// Manages editors and everything else.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A staff address, trimmed and lower-cased so that logins ignore case.
#[derive(Clone, PartialEq, Eq)]
pub struct EditorEmail(String);

impl std::fmt::Debug for EditorEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EditorEmail(<redacted>)")
    }
}

impl EditorEmail {
    pub fn parse(s: &str) -> Result<EditorEmail, FieldError> {
        let s = s.trim().to_lowercase();
        let bad = || FieldError::new("email", "invalid_email", "must be an email address");
        if s.is_empty() || s.len() > 254 || s.contains(['\r', '\n', '<', '>', ',', ' ']) {
            return Err(bad());
        }
        match s.parse::<email_address::EmailAddress>() {
            Ok(a) if a.domain().contains('.') || a.domain() == "localhost" => Ok(EditorEmail(s)),
            _ => Err(bad()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: 1–200 characters, no control characters.
pub fn parse_name(s: &str) -> Result<String, FieldError> {
    clean(s, MAX_NAME, false).map_err(|e| FieldError::new("name", e.code(), e.message()))
}

/// Desk names as articles carry them; an empty list means every desk.
pub fn parse_desks(desks: &[String]) -> Result<Vec<String>, FieldError> {
    if desks.len() > MAX_DESKS {
        return Err(FieldError::new(
            "desks",
            "too_many",
            format!("at most {MAX_DESKS} desks"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(desks.len());
    for (i, d) in desks.iter().enumerate() {
        let d = clean(d, MAX_DESK, false)
            .map_err(|e| FieldError::new(format!("desks[{i}]"), e.code(), e.message()))?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// A new password: long enough to resist guessing, short enough to hash cheaply.
/// Never logged: it has no Debug.
pub struct Password(String);

impl Password {
    pub fn parse(s: &str) -> Result<Password, FieldError> {
        let n = s.chars().count();
        if n < MIN_PASSWORD {
            return Err(FieldError::new(
                "password",
                "too_short",
                format!("must be at least {MIN_PASSWORD} characters"),
            ));
        }
        if n > MAX_PASSWORD {
            return Err(FieldError::new(
                "password",
                "too_long",
                format!("must be at most {MAX_PASSWORD} characters"),
            ));
        }
        Ok(Password(s.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Role::Viewer < Role::Editor && Role::Editor < Role::Admin);
        for r in [Role::Viewer, Role::Editor, Role::Admin] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            EditorEmail::parse("  Ana@News.Example ").unwrap().as_str(),
            "ana@news.example"
        );
        for bad in ["", "ana", "ana@", "a b@x.org", "ana@x.org\r\nBcc: y@z.org"] {
            assert!(EditorEmail::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn desks_are_cleaned_and_deduplicated() {
        let d = parse_desks(&[" politique ".into(), "politique".into(), "monde".into()]).unwrap();
        assert_eq!(d, ["politique", "monde"]);
        assert_eq!(parse_desks(&["".into()]).unwrap_err().field, "desks[0]");
    }

    #[test]
    fn passwords_have_bounds() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("correct horse battery").is_ok());
        assert!(Password::parse(&"x".repeat(MAX_PASSWORD + 1)).is_err());
    }
}
