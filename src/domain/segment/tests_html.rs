//! HTML extraction tests.

use super::*;

fn html(body: &str) -> Vec<String> {
    paragraphs_from_html(body)
}

#[test]
fn ignores_non_prose_elements() {
    let input = r#"<html><head><title>T</title><style>p { color: red }</style></head><body>
        <nav><a href="/">Accueil</a></nav>
        <script>var x = "Ne pas lire.";</script>
        <noscript>Activez JavaScript.</noscript>
        <template><p>Modèle</p></template>
        <p>Premier paragraphe.</p>
        <figure><img src="a.jpg" alt="Photo"><figcaption>Légende de la photo.</figcaption></figure>
        <aside>Lire aussi</aside><iframe src="x"></iframe>
        <form><label>Email</label><input value="x"><button>Envoyer</button></form>
        <p hidden>Caché.</p>
        <p>Second paragraphe.</p>
    </body></html>"#;
    assert_eq!(
        html(input),
        vec!["Premier paragraphe.", "Second paragraphe."]
    );
}

#[test]
fn flattens_inline_markup_and_br() {
    let input = "<p>Le <a href='#'><em>président</em> <strong>de la <span>Répu</span>blique</strong></a> a parlé.<br>Il est parti.<br/>Fin</p>";
    assert_eq!(
        html(input),
        vec!["Le président de la République a parlé. Il est parti. Fin"]
    );
    let sentences = split_sentences(&html(input)[0], Lang::Fr);
    assert_eq!(
        sentences,
        vec![
            "Le président de la République a parlé.",
            "Il est parti.",
            "Fin"
        ]
    );
}

#[test]
fn decodes_entities_and_collapses_whitespace() {
    let input = "<p>Caf&eacute; &amp; th&eacute;\n\n   &laquo;&nbsp;bio&#8239;&raquo; &#8230; &lt;ok&gt; l&rsquo;&eacute;t&eacute;</p>";
    assert_eq!(html(input), vec!["Café & thé « bio » … <ok> l’été"]);
}

#[test]
fn blocks_become_paragraphs_in_document_order() {
    let input = "<h1>Titre</h1><div>Intro directe <p>Dans un p.</p> suite directe</div>\
        <ul><li>Un</li><li>Deux <b>gras</b><ol><li>Sous-point</li></ol></li></ul>\
        <blockquote>Citation.</blockquote><pre>  code   brut </pre>\
        <dl><dt>Terme</dt><dd>Définition.</dd></dl>\
        <table><tr><td>A1</td><td>B1</td></tr></table><h2>Intertitre</h2>";
    let expected = [
        "Titre",
        "Intro directe",
        "Dans un p.",
        "suite directe",
        "Un",
        "Deux gras",
        "Sous-point",
        "Citation.",
        "code brut",
        "Terme",
        "Définition.",
        "A1",
        "B1",
        "Intertitre",
    ];
    assert_eq!(html(input), expected);
}

#[test]
fn tolerates_broken_markup_and_comments() {
    assert_eq!(
        html("<p>Un<!-- commentaire --> deux<p>Trois <b>quatre"),
        vec!["Un deux", "Trois quatre"]
    );
    assert_eq!(html(""), Vec::<String>::new());
    assert_eq!(html("Texte nu."), vec!["Texte nu."]);
    let deep = format!(
        "{}Profond.{}",
        "<div><span>".repeat(1_000),
        "</span></div>".repeat(1_000)
    );
    assert_eq!(html(&deep), vec!["Profond."]);
}

/// The fixture rendered as a CMS would: title in h1, inline links, entities,
/// a figure, a script and the footer. It must segment exactly like the text.
#[test]
fn html_article_matches_text_article() {
    let text = include_str!("../../../tests/fixtures/article-fr-coree-du-nord.txt");
    let paragraphs = paragraphs_from_text(text);
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('\'', "&#39;")
    };
    let mut page =
        String::from("<!DOCTYPE html><html><head><script>track()</script></head><body><article>");
    page.push_str(&format!(
        "<header><h1>{}</h1></header>",
        escape(&paragraphs[0])
    ));
    page.push_str(
        "<figure><img src='k.jpg'><figcaption>Kim Yong-kyun. Photo AFP.</figcaption></figure>",
    );
    for (i, paragraph) in paragraphs[1..].iter().enumerate() {
        let marked = escape(paragraph)
            .replacen(
                "Vladimir Poutine",
                "<a href='/p'>Vladimir\n  <strong>Poutine</strong></a>",
                1,
            )
            .replacen("Corée", "Cor&eacute;e", 1)
            .replacen(", ", ",&nbsp;", 1);
        page.push_str(&format!("<p class='p{i}'>{marked}</p>\n"));
        if i == 1 {
            page.push_str("<aside><p>Lire aussi : autre chose.</p></aside><style>.x{}</style>");
        }
    }
    page.push_str("</article></body></html>");

    let from_html = segment(paragraphs_from_html(&page), Lang::Fr);
    let from_text = segment(paragraphs_from_text(text), Lang::Fr);
    assert_eq!(from_html.len(), 6);
    assert_eq!(from_html, from_text);
}
