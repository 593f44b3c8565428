//! URL text fragments (`#:~:text=`): a link that makes the browser scroll to
//! a sentence and highlight it. The one place such links are written; the
//! corrections log, the Atom feed, the status page and the emails call it.
//!
//! When the quoted text occurs more than once in the article, the words
//! just before and after it are added as `prefix-,` and `,-suffix` so the
//! browser picks the right occurrence. Browsers without the feature ignore
//! the fragment and open the page at its top.

/// How many words of context go into a prefix or a suffix.
const CONTEXT_WORDS: usize = 3;

/// Percent-encode a fragment term: everything but ASCII letters, digits and
/// `._~` (the directive's own `-`, `,` and `&` must never appear raw).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~') {
            out.push(*b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

fn squeeze(s: &str) -> String {
    words(s).join(" ")
}

/// `url` with a text fragment for `exact`, with `prefix`/`suffix` context
/// when given (each trimmed to its last/first few words). An empty quote
/// leaves the URL as it is.
pub fn link(url: &str, exact: &str, prefix: Option<&str>, suffix: Option<&str>) -> String {
    let exact = squeeze(exact);
    if exact.is_empty() {
        return url.to_string();
    }
    let mut directive = String::from(":~:text=");
    if let Some(p) = prefix {
        let w = words(p);
        let p = w[w.len().saturating_sub(CONTEXT_WORDS)..].join(" ");
        if !p.is_empty() {
            directive.push_str(&encode(&p));
            directive.push_str("-,");
        }
    }
    directive.push_str(&encode(&exact));
    if let Some(s) = suffix {
        let w = words(s);
        let s = w[..w.len().min(CONTEXT_WORDS)].join(" ");
        if !s.is_empty() {
            directive.push_str(",-");
            directive.push_str(&encode(&s));
        }
    }
    // A fragment directive follows the URL's own fragment if it has one.
    if url.contains('#') {
        format!("{url}{directive}")
    } else {
        format!("{url}#{directive}")
    }
}

/// `url` with a text fragment for the sentence `index` of `sentences` (an
/// article's text in order): context is added only when that sentence's
/// text occurs more than once in the article.
pub fn for_sentence(url: &str, sentences: &[String], index: usize) -> String {
    let Some(exact) = sentences.get(index) else {
        return url.to_string();
    };
    let needle = squeeze(exact);
    let whole = squeeze(&sentences.join(" "));
    let repeats = !needle.is_empty() && whole.matches(needle.as_str()).count() > 1;
    if !repeats {
        return link(url, exact, None, None);
    }
    let before = index.checked_sub(1).and_then(|i| sentences.get(i));
    let after = sentences.get(index + 1);
    link(
        url,
        exact,
        before.map(String::as_str),
        after.map(String::as_str),
    )
}

/// `url` with a text fragment for a reader's quote and the text the reader
/// selected around it, the context added when the quote occurs more than
/// once in `sentence` (or when the caller cannot tell: `sentence` = None).
pub fn for_quote(
    url: &str,
    exact: &str,
    prefix: Option<&str>,
    suffix: Option<&str>,
    sentence: Option<&str>,
) -> String {
    let repeats = match sentence {
        Some(s) => squeeze(s).matches(squeeze(exact).as_str()).count() > 1,
        None => true,
    };
    if repeats {
        link(url, exact, prefix, suffix)
    } else {
        link(url, exact, None, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_quote_is_encoded() {
        assert_eq!(
            link(
                "https://n.example/a",
                "Le 3 octobre, à Paris-Nord.",
                None,
                None
            ),
            "https://n.example/a#:~:text=Le%203%20octobre%2C%20%C3%A0%20Paris%2DNord."
        );
    }

    #[test]
    fn an_existing_fragment_is_kept() {
        assert_eq!(
            link("https://n.example/a#top", "x y", None, None),
            "https://n.example/a#top:~:text=x%20y"
        );
    }

    #[test]
    fn context_only_when_the_sentence_repeats() {
        let s: Vec<String> = [
            "Il pleut.",
            "Rien de neuf ici.",
            "Il pleut.",
            "Fin du texte ici.",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            for_sentence("u", &s, 1),
            "u#:~:text=Rien%20de%20neuf%20ici."
        );
        assert_eq!(
            for_sentence("u", &s, 2),
            "u#:~:text=de%20neuf%20ici.-,Il%20pleut.,-Fin%20du%20texte"
        );
        assert_eq!(
            for_sentence("u", &s, 0),
            "u#:~:text=Il%20pleut.,-Rien%20de%20neuf"
        );
    }

    #[test]
    fn quotes_take_the_readers_context_when_repeated() {
        assert_eq!(
            for_quote(
                "u",
                "le 3",
                Some("a b c d"),
                Some("e f g h"),
                Some("le 3 et le 3")
            ),
            "u#:~:text=b%20c%20d-,le%203,-e%20f%20g"
        );
        assert_eq!(
            for_quote("u", "le 3", Some("a"), Some("b"), Some("le 3 et le 4")),
            "u#:~:text=le%203"
        );
        assert_eq!(link("u", "  ", None, None), "u");
    }
}
