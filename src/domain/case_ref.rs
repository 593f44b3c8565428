//! How a case is named: its id (a UUID) or its short per-installation
//! number (`#1042`, or `1042` where only a case can be meant: URLs, the
//! `duplicate_of` field). Both name the same case everywhere a case id is
//! accepted.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CaseRef {
    Id(String),
    Number(i32),
}

impl CaseRef {
    /// A UUID, or a positive number with or without `#`; `None` otherwise.
    pub fn parse(raw: &str) -> Option<CaseRef> {
        let raw = raw.trim();
        if uuid::Uuid::parse_str(raw).is_ok() && raw.len() == 36 {
            return Some(CaseRef::Id(raw.to_ascii_lowercase()));
        }
        number(raw.strip_prefix('#').unwrap_or(raw)).map(CaseRef::Number)
    }

    /// Only the `#1042` form: in a search box, plain digits are words (a
    /// year, a figure) and stay a text search.
    pub fn parse_hash_number(raw: &str) -> Option<i32> {
        raw.trim().strip_prefix('#').and_then(number)
    }
}

fn number(digits: &str) -> Option<i32> {
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i32>().ok().filter(|n| *n > 0)
}

impl fmt::Display for CaseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaseRef::Id(id) => f.write_str(id),
            CaseRef::Number(n) => write!(f, "#{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_numbers_parse_and_nothing_else() {
        let id = uuid::Uuid::now_v7().to_string();
        assert_eq!(CaseRef::parse(&id), Some(CaseRef::Id(id.clone())));
        assert_eq!(
            CaseRef::parse(&id.to_uppercase()),
            Some(CaseRef::Id(id.clone()))
        );
        assert_eq!(CaseRef::parse("#1042"), Some(CaseRef::Number(1042)));
        assert_eq!(CaseRef::parse(" 1042 "), Some(CaseRef::Number(1042)));
        for bad in [
            "",
            "#",
            "#0",
            "0",
            "-3",
            "#1e3",
            "12a",
            "9999999999",
            "##4",
            "nope",
        ] {
            assert_eq!(CaseRef::parse(bad), None, "{bad:?}");
        }
        assert_eq!(CaseRef::parse_hash_number("#7"), Some(7));
        assert_eq!(CaseRef::parse_hash_number("1953"), None);
        assert_eq!(CaseRef::Number(7).to_string(), "#7");
    }
}
