//! Text rules shared by every reader- or CMS-provided string.

use unicode_normalization::UnicodeNormalization;

/// Why a text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    Empty,
    TooLong { max: usize },
    ControlCharacter,
}

impl TextError {
    pub fn code(&self) -> &'static str {
        match self {
            TextError::Empty => "required",
            TextError::TooLong { .. } => "too_long",
            TextError::ControlCharacter => "control_character",
        }
    }

    pub fn message(&self) -> String {
        match self {
            TextError::Empty => "must not be empty".into(),
            TextError::TooLong { max } => format!("must be at most {max} characters"),
            TextError::ControlCharacter => "must not contain control characters".into(),
        }
    }
}

/// NFC-normalise and trim; refuse control characters (newlines and tabs are
/// allowed in multi-line fields only) and enforce a length in characters.
pub fn clean(input: &str, max_chars: usize, multiline: bool) -> Result<String, TextError> {
    let refused = |c: char| {
        if multiline && (c == '\n' || c == '\t' || c == '\r') {
            return false;
        }
        c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    if input.chars().any(refused) {
        return Err(TextError::ControlCharacter);
    }
    let text: String = input.nfc().collect::<String>().replace("\r\n", "\n");
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    if text.chars().count() > max_chars {
        return Err(TextError::TooLong { max: max_chars });
    }
    Ok(text)
}

/// Whitespace collapsed to single spaces, NFC, invisible formatting
/// characters (soft hyphen, zero-width spaces and joiners, BOM) removed: the
/// form sentences and quotes are compared in, whatever the page's markup did.
pub fn normalize_ws(input: &str) -> String {
    input
        .nfc()
        .filter(|c| {
            !matches!(
                c,
                '\u{AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
            )
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Hex SHA-256, for hashes of bodies, tokens and keys.
pub fn sha256_hex(data: impl AsRef<[u8]>) -> String {
    use sha2::{Digest, Sha256};
    data_encoding::HEXLOWER.encode(&Sha256::digest(data.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_normalises_and_limits() {
        assert_eq!(clean("  e\u{301}té  ", 10, false), Ok("été".to_string()));
        assert_eq!(clean("   ", 10, false), Err(TextError::Empty));
        assert_eq!(clean("abc", 2, false), Err(TextError::TooLong { max: 2 }));
        assert_eq!(
            clean("a\u{0007}b", 10, true),
            Err(TextError::ControlCharacter)
        );
        assert_eq!(clean("a\nb", 10, false), Err(TextError::ControlCharacter));
        assert_eq!(clean("a\r\nb", 10, true), Ok("a\nb".to_string()));
        assert_eq!(
            clean("a\u{202E}b", 10, true),
            Err(TextError::ControlCharacter)
        );
    }

    #[test]
    fn normalize_ws_collapses() {
        assert_eq!(normalize_ws(" a \n\t b  "), "a b");
        assert_eq!(normalize_ws("dé\u{AD}cla\u{200B}ré"), "déclaré");
    }
}
