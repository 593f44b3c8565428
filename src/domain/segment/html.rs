//! Paragraphs from an HTML article body, using html5ever (via scraper) so that
//! broken markup, entities and implied end tags are handled like a browser.

use scraper::{Html, Node};

use super::rules::RULES;
use super::text::push_cleaned;

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
