//! Text rules shared by every reader- or CMS-provided string.

use unicode_normalization::UnicodeNormalization;

use crate::error::{FieldError, Problem};

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

/// Characters that render as nothing: soft hyphen, zero-width spaces and
/// joiners, word joiner, BOM.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// A control character no text that enters the service may hold: C0 (NUL,
/// BEL, ESC…), DEL and C1. Tab, LF and CR pass when `newlines` is true, for
/// multi-line fields; `clean` then decides per field. PostgreSQL refuses NUL
/// in text and terminals run escape sequences, so these are refused at the
/// boundary (`routes::extract`), the same way on both backends.
pub fn is_forbidden_control(c: char, newlines: bool) -> bool {
    c.is_control() && !(newlines && matches!(c, '\t' | '\n' | '\r'))
}

/// Whether `s` holds a character `is_forbidden_control` refuses.
pub fn has_forbidden_control(s: &str, newlines: bool) -> bool {
    s.chars().any(|c| is_forbidden_control(c, newlines))
}

/// NFC-normalise and trim; refuse control characters (newlines and tabs are
/// allowed in multi-line fields only) and enforce a length in characters.
/// A text of nothing but whitespace and invisible characters is empty.
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
    if text.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
        return Err(TextError::Empty);
    }
    if text.chars().count() > max_chars {
        return Err(TextError::TooLong { max: max_chars });
    }
    Ok(text)
}

/// Whitespace collapsed to single spaces, NFC, invisible formatting
/// characters (soft hyphen, zero-width spaces and joiners, BOM) and control
/// characters (an HTML `&#7;` or `&#27;` decodes to one) removed: the form
/// sentences and quotes are compared and stored in, whatever the page's
/// markup did.
pub fn normalize_ws(input: &str) -> String {
    input
        .nfc()
        .filter(|c| !is_invisible(*c) && (!c.is_control() || c.is_whitespace()))
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// JSON to place inside an HTML `<script>` element (JSON-LD): `<`, `>` and
/// `&` escaped as `\u003c`, `\u003e`, `\u0026` (still the same JSON), so no
/// text — a title or a public note holding `</script>` or `<!--` — can end
/// the element. The JSON-LD endpoint answers the same bytes, so a page may
/// paste them as they are.
pub fn script_safe_json(value: &serde_json::Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Hex SHA-256, for hashes of bodies, tokens and keys.
pub fn sha256_hex(data: impl AsRef<[u8]>) -> String {
    use sha2::{Digest, Sha256};
    data_encoding::HEXLOWER.encode(&Sha256::digest(data.as_ref()))
}

/// 422 naming the field that holds a control character.
pub fn control_character(field: impl Into<String>) -> Problem {
    let e = TextError::ControlCharacter;
    Problem::validation(vec![FieldError::new(field, e.code(), e.message())])
}

/// The form boundary: every field of an urlencoded body, names and values
/// (tab, LF and CR allowed in values, for text areas).
pub fn refuse_controls_in_form(body: &[u8]) -> Result<(), Problem> {
    for (k, v) in url::form_urlencoded::parse(body) {
        if has_forbidden_control(&k, false) || has_forbidden_control(&v, true) {
            return Err(control_character(k.into_owned()));
        }
    }
    Ok(())
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
        assert_eq!(
            normalize_ws("a\u{0}b\u{7}c\u{1b}[31md\u{7f}\u{85}"),
            "abc[31md"
        );
    }

    #[test]
    fn invisible_only_is_empty() {
        assert_eq!(
            clean("\u{200B}\u{200B} \u{FEFF}\u{2060}", 10, true),
            Err(TextError::Empty)
        );
        assert_eq!(clean("\u{200B}a", 10, true), Ok("\u{200B}a".to_string()));
    }

    #[test]
    fn forbidden_controls() {
        assert!(has_forbidden_control("a\u{0}", true));
        assert!(has_forbidden_control("\u{1b}[2J", true));
        assert!(has_forbidden_control("\u{7f}", true));
        assert!(has_forbidden_control("\u{9b}", true));
        assert!(!has_forbidden_control("a\nb\tc\r", true));
        assert!(has_forbidden_control("a\nb", false));
        assert!(!has_forbidden_control("été « ok »", false));
    }

    #[test]
    fn script_safe_json_cannot_end_a_script() {
        let v = serde_json::json!({"note": "</script><script>alert(1)</script> & <!--"});
        let s = script_safe_json(&v);
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        assert_eq!(serde_json::from_str::<serde_json::Value>(&s).unwrap(), v);
    }
}
