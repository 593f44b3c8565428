//! Readers without accounts: how an editor regards one (its standing), and
//! what may be asked of it.

use crate::error::{FieldError, Problem};

/// How the newsroom regards a reader. Stored as that text; `none` is the
/// absence of a row, never stored.
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
pub enum Standing {
    /// Their reports rise in priority (`priority::TRUSTED_BONUS`).
    Trusted,
    /// Their reports are accepted as usual but filed straight into spam:
    /// no case in the queue, no email, no webhook.
    Blocked,
}

impl Standing {
    pub const ALL: [Standing; 2] = [Standing::Trusted, Standing::Blocked];

    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Trusted => "trusted",
            Standing::Blocked => "blocked",
        }
    }

    pub fn parse(s: &str) -> Option<Standing> {
        Standing::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The `standing` field of a request: `trusted`, `blocked`, or `none`
    /// (back to an ordinary reader).
    pub fn from_field(raw: &str) -> Result<Option<Standing>, Problem> {
        match raw {
            "none" => Ok(None),
            other => Standing::parse(other).map(Some).ok_or_else(|| {
                Problem::validation(vec![FieldError::new(
                    "standing",
                    "invalid_standing",
                    "must be trusted, blocked or none",
                )])
            }),
        }
    }
}

/// Whether a key names a reader whose reports can be grouped: an erased
/// reader's key is fresh per case and links nothing.
pub fn is_linkable(reader_key: &str) -> bool {
    !reader_key.starts_with("erased:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standings_parse_from_the_field_and_refuse_the_rest() {
        assert_eq!(
            Standing::from_field("trusted").unwrap(),
            Some(Standing::Trusted)
        );
        assert_eq!(
            Standing::from_field("blocked").unwrap(),
            Some(Standing::Blocked)
        );
        assert_eq!(Standing::from_field("none").unwrap(), None);
        assert!(Standing::from_field("Trusted").is_err());
        assert!(Standing::from_field("").is_err());
    }
}
