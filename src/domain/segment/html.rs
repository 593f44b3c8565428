//! Paragraphs from an HTML article body, using html5ever (via scraper) so that
//! broken markup, entities and implied end tags are handled like a browser.

use scraper::{Html, Node};

use super::rules::RULES;
use super::text::push_cleaned;

/// Deepest element nesting an article body may have. Articles nest a few
/// levels; html5ever's work grows with the square of the depth (100,000
/// nested `<div>` take half a minute), so depth is refused before parsing.
pub const MAX_HTML_DEPTH: usize = 256;
/// Most elements (start tags) an article body may have.
pub const MAX_HTML_ELEMENTS: usize = 100_000;

/// Why an HTML body was refused before parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooComplex {
    Depth { max: usize },
    Elements { max: usize },
}

/// Elements that never hold children.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "keygen",
];
/// Elements whose end tag may be left out and that a sibling start closes
/// (`<p>a<p>b` are siblings): counting them as nesting would refuse
/// ordinary sloppy markup.
const IMPLIED_END: &[&str] = &[
    "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot",
    "colgroup", "caption", "rb", "rt", "rtc", "rp",
];
/// Elements whose content is raw text: tags inside are not tags.
const RAW_TEXT: &[&str] = &[
    "script",
    "style",
    "textarea",
    "title",
    "xmp",
    "iframe",
    "noembed",
    "noframes",
    "plaintext",
];

/// A linear scan of the markup that estimates nesting depth and counts
/// start tags, so a hostile body is refused in microseconds instead of
/// being handed to the parser. It over-estimates rather than misses:
/// unclosed elements count as open until the end.
pub fn check_complexity(html: &str) -> Result<(), TooComplex> {
    check_complexity_with(html, MAX_HTML_DEPTH, MAX_HTML_ELEMENTS)
}

pub fn check_complexity_with(
    html: &str,
    max_depth: usize,
    max_elements: usize,
) -> Result<(), TooComplex> {
    let bytes = html.as_bytes();
    let (mut depth, mut elements, mut i) = (0usize, 0usize, 0usize);
    while let Some(off) = memchr_lt(&bytes[i..]) {
        i += off + 1;
        let rest = &bytes[i..];
        if rest.starts_with(b"!--") {
            i = find(bytes, i + 3, b"-->").map_or(bytes.len(), |e| e + 3);
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let start = i + usize::from(closing);
        let name_len = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b':')
            .count();
        if name_len == 0 || !bytes[start].is_ascii_alphabetic() {
            continue; // "<" as text, "<!doctype", "<?…"
        }
        let name = html[start..start + name_len].to_ascii_lowercase();
        let end = bytes[start..]
            .iter()
            .position(|b| *b == b'>')
            .map_or(bytes.len(), |p| start + p);
        let self_closing = end > start && bytes[end - 1] == b'/';
        i = (end + 1).min(bytes.len());
        let name = name.as_str();
        if closing {
            if !VOID.contains(&name) && !IMPLIED_END.contains(&name) {
                depth = depth.saturating_sub(1);
            }
            continue;
        }
        elements += 1;
        if elements > max_elements {
            return Err(TooComplex::Elements { max: max_elements });
        }
        if RAW_TEXT.contains(&name) {
            let close = format!("</{name}");
            i = find_ci(bytes, i, close.as_bytes()).unwrap_or(bytes.len());
            continue;
        }
        if self_closing || VOID.contains(&name) || IMPLIED_END.contains(&name) {
            continue;
        }
        depth += 1;
        if depth > max_depth {
            return Err(TooComplex::Depth { max: max_depth });
        }
    }
    Ok(())
}

fn memchr_lt(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|b| *b == b'<')
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

fn find_ci(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}

/// HTML: paragraph-level blocks in document order. Block elements listed in
/// rules.toml `[html]` start and end a paragraph (so text directly inside a
/// div is a paragraph of its own); inline markup is flattened; `<br>` is a
/// space; ignored elements (script, style, figcaption, nav, media, forms…)
/// and elements with a `hidden` attribute are skipped with their content.
/// Paragraphs come back cleaned (NFC, whitespace collapsed, trimmed).
pub fn paragraphs_from_html(html: &str) -> Vec<String> {
    let document = Html::parse_document(html);
    let mut paragraphs = Vec::new();
    let mut buffer = String::new();
    let mut flush = |buffer: &mut String| {
        push_cleaned(&mut paragraphs, buffer);
        buffer.clear();
    };

    // Iterative pre-order walk instead of recursion: a hostile document with
    // thousands of nested tags must not overflow the stack.
    let mut next = document.tree.root().first_child();
    while let Some(node) = next {
        let mut enter = true;
        match node.value() {
            Node::Text(text) => buffer.push_str(text),
            Node::Element(element) => {
                let name = element.name();
                if RULES.html.ignored_elements.contains(name) || element.attr("hidden").is_some() {
                    enter = false;
                } else if name == "br" {
                    buffer.push(' ');
                } else if RULES.html.block_elements.contains(name) {
                    flush(&mut buffer);
                }
            }
            // Comments, doctype, processing instructions carry no prose.
            _ => enter = false,
        }
        if enter && let Some(child) = node.first_child() {
            next = Some(child);
            continue;
        }
        // Leave `node` and every ancestor that has no further sibling,
        // closing the paragraph of each block element we step out of.
        let mut current = node;
        next = loop {
            if let Node::Element(element) = current.value()
                && RULES.html.block_elements.contains(element.name())
            {
                flush(&mut buffer);
            }
            if let Some(sibling) = current.next_sibling() {
                break Some(sibling);
            }
            match current.parent() {
                Some(parent) => current = parent,
                None => break None,
            }
        };
    }
    flush(&mut buffer);
    paragraphs
}

#[cfg(test)]
mod complexity_tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused_and_sloppy_markup_is_not() {
        let deep = "<div>".repeat(300);
        assert_eq!(
            check_complexity(&deep),
            Err(TooComplex::Depth {
                max: MAX_HTML_DEPTH
            })
        );
        let closed = "<div>a</div>".repeat(10_000);
        assert_eq!(check_complexity(&closed), Ok(()));
        // Unclosed paragraphs and list items are siblings, not nesting.
        let sloppy = format!("<ul>{}</ul>{}", "<li>x".repeat(2000), "<p>y".repeat(2000));
        assert_eq!(check_complexity(&sloppy), Ok(()));
        // Void and self-closing elements do not nest.
        assert_eq!(
            check_complexity(&"<br><img src=x><span/>".repeat(1000)),
            Ok(())
        );
        // Tags inside comments and scripts are text.
        let hidden = format!(
            "<!-- {} --><script>{}</script><p>ok",
            "<div>".repeat(1000),
            "'<div>'".repeat(1000)
        );
        assert_eq!(check_complexity(&hidden), Ok(()));
    }

    #[test]
    fn too_many_elements_are_refused() {
        let many = "<b>x</b>".repeat(50);
        assert_eq!(
            check_complexity_with(&many, 10, 49),
            Err(TooComplex::Elements { max: 49 })
        );
        assert_eq!(check_complexity_with(&many, 10, 50), Ok(()));
    }
}
