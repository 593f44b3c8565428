//! Sentence table, real-article fixture, footer, plain text and robustness
//! tests. HTML tests live in tests_html.rs.

use super::rules::{AbbrevKind, RULES, Rules};
use super::*;

use Lang::{En, Fr};

/// (language, paragraph, expected sentences). Each row is a trap a naive
/// splitter falls into.
#[rustfmt::skip]
const CASES: &[(Lang, &str, &[&str])] = &[
    // --- French: titles, initials, abbreviations
    (Fr, "M. Macron a dit.",
        &["M. Macron a dit."]),
    (Fr, "MM. Dupont et Durand sont arrivés. Ils ont parlé.",
        &["MM. Dupont et Durand sont arrivés.", "Ils ont parlé."]),
    (Fr, "Le Pr Lim est venu. Il a parlé.",
        &["Le Pr Lim est venu.", "Il a parlé."]),
    (Fr, "Le Dr. Martin consulte. Le Pr. Lim aussi.",
        &["Le Dr. Martin consulte.", "Le Pr. Lim aussi."]),
    (Fr, "J. R. R. Tolkien a écrit. J.R.R. Tolkien aussi.",
        &["J. R. R. Tolkien a écrit.", "J.R.R. Tolkien aussi."]),
    (Fr, "Mme Dupont et Mlle Martin sont là. M. Durand aussi.",
        &["Mme Dupont et Mlle Martin sont là.", "M. Durand aussi."]),
    (Fr, "Voir l'art. 12 du code (cf. chap. 3). La suite est ailleurs.",
        &["Voir l'art. 12 du code (cf. chap. 3).", "La suite est ailleurs."]),
    (Fr, "Il est cité dans le texte (voir p. 12.) et ailleurs.",
        &["Il est cité dans le texte (voir p. 12.) et ailleurs."]),
    (Fr, "Selon l'art. L. 121-1 du code, c'est interdit. La loi est claire.",
        &["Selon l'art. L. 121-1 du code, c'est interdit.", "La loi est claire."]),
    (Fr, "Cf. Le Monde du 3 mars. Il conclut.",
        &["Cf. Le Monde du 3 mars.", "Il conclut."]),
    (Fr, "Il est né en 63 av. J.-C. Il est mort en 14 apr. J.-C. à Nola.",
        &["Il est né en 63 av. J.-C.", "Il est mort en 14 apr. J.-C. à Nola."]),
    (Fr, "Des pommes, des poires, etc. Ensuite, des légumes.",
        &["Des pommes, des poires, etc.", "Ensuite, des légumes."]),
    (Fr, "Des pommes, des poires, etc. et des légumes.",
        &["Des pommes, des poires, etc. et des légumes."]),
    (Fr, "Il a été victime d'un vol. Il porte plainte.",
        &["Il a été victime d'un vol.", "Il porte plainte."]),
    (Fr, "Lisez le vol. II de la série. Puis le vol. 3.",
        &["Lisez le vol. II de la série.", "Puis le vol. 3."]),
    (Fr, "Ils étaient sept. Le 8 sept. 2024, ils sont partis.",
        &["Ils étaient sept.", "Le 8 sept. 2024, ils sont partis."]),
    (Fr, "Le n° 5 et env. 300 personnes. Fin.",
        &["Le n° 5 et env. 300 personnes.", "Fin."]),
    // --- French: numbers and dates
    (Fr, "Le 8 oct. 2024, il a parlé. Le lendemain, rien.",
        &["Le 8 oct. 2024, il a parlé.", "Le lendemain, rien."]),
    (Fr, "Il y a 3.5 millions d'habitants et 12 000 km². Pi vaut 3,14. La v1.2.3 remplace la 2.0.",
        &["Il y a 3.5 millions d'habitants et 12 000 km².", "Pi vaut 3,14.", "La v1.2.3 remplace la 2.0."]),
    (Fr, "Il avait 12 ans. 300 personnes étaient là.",
        &["Il avait 12 ans.", "300 personnes étaient là."]),
    (Fr, "1. Préparez la pâte. 2. Faites cuire.",
        &["1. Préparez la pâte.", "2. Faites cuire."]),
    (Fr, "La réunion a lieu à 10 h. Il mesure 1,80 m. Il pèse 80 kg.",
        &["La réunion a lieu à 10 h.", "Il mesure 1,80 m.", "Il pèse 80 kg."]),
    // --- French: spacing before ? ! ; : (ASCII, U+00A0, U+202F)
    (Fr, "Vraiment ? Oui.",
        &["Vraiment ?", "Oui."]),
    (Fr, "Vraiment\u{202F}? Oui\u{00A0}! Bon.",
        &["Vraiment ?", "Oui !", "Bon."]),
    (Fr, "Il a trois options ; il hésite : partir ou rester. Il reste.",
        &["Il a trois options ; il hésite : partir ou rester.", "Il reste."]),
    (Fr, "C'est fini !!! Vraiment ?! Oui.",
        &["C'est fini !!!", "Vraiment ?!", "Oui."]),
    // --- French: guillemets, quotes, dialogue
    (Fr, "« Il viendra. » a-t-il dit.",
        &["« Il viendra. » a-t-il dit."]),
    (Fr, "Il a dit : « Je viens. » Puis il est parti.",
        &["Il a dit : « Je viens. »", "Puis il est parti."]),
    (Fr, "Le ministre a dit\u{00A0}: «\u{00A0}Nous agirons.\u{00A0}» Les députés ont applaudi.",
        &["Le ministre a dit : « Nous agirons. »", "Les députés ont applaudi."]),
    (Fr, "« Tu viens ? » demanda-t-il. Elle ne répondit pas.",
        &["« Tu viens ? » demanda-t-il.", "Elle ne répondit pas."]),
    (Fr, "Il dit : « Pourquoi pas ? » Puis il sourit.",
        &["Il dit : « Pourquoi pas ? »", "Puis il sourit."]),
    (Fr, "Il a dit : « Je viens. Tu restes. » Puis il est parti.",
        &["Il a dit : « Je viens.", "Tu restes. »", "Puis il est parti."]),
    (Fr, "« Nous avons gagné (…) Nous repartirons demain », a-t-il dit.",
        &["« Nous avons gagné (…) Nous repartirons demain », a-t-il dit."]),
    (Fr, "— Viens-tu ? — Oui, dit-il.",
        &["— Viens-tu ?", "— Oui, dit-il."]),
    (Fr, "Il évoque une 'relation spéciale formée dans le processus de réunification.'",
        &["Il évoque une 'relation spéciale formée dans le processus de réunification.'"]),
    (Fr, "Il est parti. (Il est revenu le lendemain.) Puis il a dormi.",
        &["Il est parti.", "(Il est revenu le lendemain.)", "Puis il a dormi."]),
    // --- French: ellipses
    (Fr, "Il hésita... puis il partit. Enfin... Il revint.",
        &["Il hésita... puis il partit.", "Enfin...", "Il revint."]),
    (Fr, "Attendez… Il vient. Il hésite… puis entre.",
        &["Attendez…", "Il vient.", "Il hésite… puis entre."]),
    // --- French: URLs, e-mails, titles, normalisation
    (Fr, "Écrivez à jean.dupont@le-monde.fr. Nous répondrons.",
        &["Écrivez à jean.dupont@le-monde.fr.", "Nous répondrons."]),
    (Fr, "Consultez https://exemple.fr/A.b?q=1. Le site example.com/a.b aussi.",
        &["Consultez https://exemple.fr/A.b?q=1.", "Le site example.com/a.b aussi."]),
    (Fr, "La Corée du Nord envoie des troupes",
        &["La Corée du Nord envoie des troupes"]),
    (Fr, "  Une   phrase\n sur deux\tlignes.   Et  une autre. ",
        &["Une phrase sur deux lignes.", "Et une autre."]),
    (Fr, "Cafe\u{301} noir. Oui.",
        &["Caf\u{e9} noir.", "Oui."]),
    // --- English
    (En, "Mr. Smith went to Washington. He met Mrs. Jones.",
        &["Mr. Smith went to Washington.", "He met Mrs. Jones."]),
    (En, "Dr. Brown and Prof. Green met Ms. White at St. Mary's church.",
        &["Dr. Brown and Prof. Green met Ms. White at St. Mary's church."]),
    (En, "The U.S. Army and the U.K. government agreed. Talks resumed.",
        &["The U.S. Army and the U.K. government agreed.", "Talks resumed."]),
    (En, "Bring fruit, e.g. apples, i.e. something sweet. Or not.",
        &["Bring fruit, e.g. apples, i.e. something sweet.", "Or not."]),
    (En, "We met at 9 a.m. The meeting ended at 5 p.m. on Friday.",
        &["We met at 9 a.m.", "The meeting ended at 5 p.m. on Friday."]),
    (En, "He bought apples, pears, etc. Then he went home.",
        &["He bought apples, pears, etc.", "Then he went home."]),
    (En, "He works for Acme Inc. The company is in Ohio. Acme Ltd. is not.",
        &["He works for Acme Inc.", "The company is in Ohio.", "Acme Ltd. is not."]),
    (En, "Martin Luther King Jr. was born in 1929. He died in 1968.",
        &["Martin Luther King Jr. was born in 1929.", "He died in 1968."]),
    (En, "It was No. 5 on the list. No. I don't think so.",
        &["It was No. 5 on the list.", "No.", "I don't think so."]),
    (En, "Apple vs. Microsoft: the battle continues. Who wins?",
        &["Apple vs. Microsoft: the battle continues.", "Who wins?"]),
    (En, "The meeting is on Oct. 8, 2024. Be there.",
        &["The meeting is on Oct. 8, 2024.", "Be there."]),
    (En, "Rome was founded in 753 B.C. The empire came later.",
        &["Rome was founded in 753 B.C.", "The empire came later."]),
    (En, "He said \"Stop.\" Then he left.",
        &["He said \"Stop.\"", "Then he left."]),
    (En, "He said 'Stop.' Then he left.",
        &["He said 'Stop.'", "Then he left."]),
    (En, "\u{201C}Are you coming?\u{201D} he asked. She nodded.",
        &["\u{201C}Are you coming?\u{201D} he asked.", "She nodded."]),
    (En, "He said. \"Then we go.\" She agreed.",
        &["He said.", "\"Then we go.\"", "She agreed."]),
    (En, "Wait... what happened? Nothing...",
        &["Wait... what happened?", "Nothing..."]),
    (En, "Version 2.0 costs $1,234.56 today. Visit example.com/a.b for details.",
        &["Version 2.0 costs $1,234.56 today.", "Visit example.com/a.b for details."]),
    (En, "Email J.Smith@Example.com today. Thanks.",
        &["Email J.Smith@Example.com today.", "Thanks."]),
    (En, "(See p. 12.) The rest follows.",
        &["(See p. 12.)", "The rest follows."]),
    (En, "J. P. Morgan met T. S. Eliot. They talked.",
        &["J. P. Morgan met T. S. Eliot.", "They talked."]),
    (En, "Smith et al. found this. They agree.",
        &["Smith et al. found this.", "They agree."]),
    (En, "Breaking News From Washington",
        &["Breaking News From Washington"]),
];

#[test]
fn sentence_table() {
    let mut failures = Vec::new();
    for (lang, input, expected) in CASES {
        let got = split_sentences(input, *lang);
        if got != *expected {
            failures.push(format!(
                "{lang:?} {input:?}\n  expected {expected:?}\n  got      {got:?}"
            ));
        }
    }
    assert!(CASES.len() >= 40);
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

const ARTICLE: &str = include_str!("../../../tests/fixtures/article-fr-coree-du-nord.txt");

#[test]
fn real_article_fixture() {
    let got = segment(paragraphs_from_text(ARTICLE), Fr);
    let got: Vec<Vec<&str>> = got
        .iter()
        .map(|p| p.sentences.iter().map(String::as_str).collect())
        .collect();
    let expected: Vec<Vec<&str>> = vec![
        vec![
            "La Corée du Nord envoie prétendument des troupes pour soutenir la Russie dans le conflit ukrainien",
        ],
        vec![
            "Le 8 octobre 2024, le ministre de la Défense sud-coréen, Kim Yong-kyun, a déclaré lors d'une audition parlementaire que la Corée du Nord envoyait probablement des soldats en Ukraine pour aider les forces russes, des rapports indiquant que certains avaient déjà été tués au combat.",
            "Cette révélation fait suite à des médias ukrainiens rapportant la mort de six officiers nord-coréens dans une frappe de missile près de Donetsk le 3 octobre.",
        ],
        vec![
            "Kim a souligné la forte probabilité de pertes nord-coréennes en Ukraine, suggérant que d'autres soldats devraient être déployés pour soutenir les opérations militaires de la Russie.",
            "Ce développement fait suite à un accord de coopération militaire signé lors de la visite du président russe Vladimir Poutine à Pyongyang en juin, où les deux nations ont promis un soutien mutuel en cas d'attaques de tiers.",
        ],
        vec![
            "Des combattants étrangers sont présents dans les armées ukrainienne et russe, et des rapports antérieurs ont indiqué que des missiles nord-coréens pourraient avoir été déployés en Ukraine, bien que Moscou et Pyongyang aient nié ces affirmations.",
            "De plus, la Corée du Sud a accusé la Corée du Nord d'avoir fourni des milliers de conteneurs d'armes à la Russie pour une utilisation en Ukraine.",
        ],
        vec![
            "Les experts avertissent que les liens militaires croissants de la Corée du Nord avec Moscou et ses récents essais et productions d'artillerie et de missiles de croisière pourraient indiquer des préparatifs pour envoyer ces armes en Russie.",
            "Le professeur Lim Eul-chul de l'Université de Kyungnam a noté que la fourniture par la Corée du Nord de munitions et de missiles à la Russie est une étape logique vers l'envoi de troupes, car cela permet aux soldats nord-coréens d'acquérir diverses expériences et une formation pratique.",
        ],
        vec![
            "La question clé reste de savoir ce que la Corée du Nord espère obtenir en retour de la Russie.",
            "Malgré les sanctions de l'ONU interdisant à la Corée du Nord d'acquérir des technologies de missiles balistiques, le veto de Moscou au Conseil de sécurité de l'ONU en mars a effectivement mis fin à la surveillance des violations, une décision pour laquelle Pyongyang a exprimé sa gratitude.",
            "Pendant ce temps, la Corée du Nord tient actuellement une réunion de l'Assemblée populaire suprême, avec des spéculations selon lesquelles elle pourrait abolir l'accord de base intercoréen de 1991, qui caractérisait les relations intercoréennes comme une 'relation spéciale formée temporairement dans le processus de réunification.'",
        ],
    ];
    assert_eq!(got, expected);
    let body_sentences: usize = got[1..].iter().map(Vec::len).sum();
    assert_eq!(body_sentences, 11);
}

#[test]
fn footer_is_stripped_only_at_the_end() {
    let p = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let footer_fr = "Avez-vous trouvé une erreur ou une inexactitude ?";
    let footer_fr2 = "Nous étudierons vos commentaires dans les plus brefs délais.";
    // Quoted in the body: kept. At the end: removed, with a trailing blank.
    assert_eq!(
        strip_footer(p(&[
            "Titre", footer_fr, "Corps.", footer_fr, footer_fr2, "  "
        ])),
        p(&["Titre", footer_fr, "Corps."])
    );
    // Case, NBSP/NNBSP, missing space before "?" and joined lines all match.
    assert_eq!(
        strip_footer(p(&[
            "Corps.",
            "AVEZ-VOUS TROUVÉ UNE ERREUR OU UNE INEXACTITUDE\u{202F}?"
        ])),
        p(&["Corps."])
    );
    assert_eq!(
        strip_footer(p(&[
            "Corps.",
            "avez-vous  trouvé une erreur ou une inexactitude?"
        ])),
        p(&["Corps."])
    );
    assert_eq!(
        strip_footer(p(&["Corps.", &format!("{footer_fr}\n{footer_fr2}")])),
        p(&["Corps."])
    );
    assert_eq!(
        strip_footer(p(&[
            "Body.",
            "Did you find an error or inaccuracy?",
            "We will review your comments as soon as possible."
        ])),
        p(&["Body."])
    );
    // A paragraph that merely starts like a footer is not one.
    let longer = "Avez-vous trouvé une erreur ou une inexactitude ? Notre enquête continue.";
    assert_eq!(strip_footer(p(&["Corps.", longer])), p(&["Corps.", longer]));
    assert_eq!(strip_footer(Vec::new()), Vec::<String>::new());
}

#[test]
fn plain_text_paragraphs() {
    let text = "Titre\r\n\r\nLigne une\nligne deux.\n\n\n  \t \nDernier\u{00A0} paragraphe.\n";
    assert_eq!(
        paragraphs_from_text(text),
        vec!["Titre", "Ligne une ligne deux.", "Dernier paragraphe."]
    );
    assert_eq!(paragraphs_from_text(""), Vec::<String>::new());
    assert_eq!(paragraphs_from_text("\n \n\t\n"), Vec::<String>::new());
}

#[test]
fn segment_drops_blank_paragraphs_and_footer() {
    let paragraphs = vec![
        "Un. Deux.".to_string(),
        " ".to_string(),
        "Trois".to_string(),
        "Report an error".to_string(),
    ];
    let expected = vec![
        Paragraph {
            sentences: vec!["Un.".into(), "Deux.".into()],
        },
        Paragraph {
            sentences: vec!["Trois".into()],
        },
    ];
    assert_eq!(segment(paragraphs, Fr), expected);
}

#[test]
fn odd_inputs_do_not_panic_or_yield_empty_sentences() {
    let long = "Une phrase assez longue, avec M. Dupont et 3.5 millions… ".repeat(200);
    let nested_quotes = "\" ' « » ( ) ".repeat(500);
    let inputs: Vec<String> = [
        "",
        " ",
        ".",
        "....",
        "…",
        "?!",
        "« »",
        "« . »",
        "\u{301}",
        "\u{301}\u{301}. \u{301}",
        "\u{00A0}\u{202F}\n\t",
        ". . . A. b. C.",
        "'",
        "\"",
        "M.",
        "etc.",
        "(…)",
        "a\u{0}b. C",
        "🙂. 🙂 ! Ça ?",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        " ".repeat(10_000),
        long,
        nested_quotes,
        "x".repeat(10_000),
        ". ".repeat(5_000),
    ])
    .collect();
    for input in &inputs {
        for lang in [Fr, En] {
            let sentences = split_sentences(input, lang);
            assert!(
                sentences.iter().all(|s| !s.is_empty() && s.trim() == s),
                "{input:?} → {sentences:?}"
            );
        }
        let _ = strip_footer(paragraphs_from_text(input));
        let _ = paragraphs_from_html(input);
    }
    assert_eq!(split_sentences("", Fr), Vec::<String>::new());
    assert_eq!(split_sentences("....", Fr), vec!["...."]);
    assert_eq!(split_sentences("« »", Fr), vec!["« »"]);
    assert_eq!(split_sentences("Oui. ?!", Fr), vec!["Oui. ?!"]);
}

/// Every rule check is O(log n) thanks to the per-paragraph index; a
/// quadratic regression would take minutes here, not milliseconds. The bound
/// is generous so a busy shared machine cannot make it flaky.
#[test]
fn hostile_paragraphs_stay_linear() {
    let started = std::time::Instant::now();
    for unit in [". ", "x. » ", "\" . ", "M. ", "« ? » ", "a' . "] {
        let input = unit.repeat(200_000 / unit.len());
        let sentences = split_sentences(&input, Fr);
        assert!(sentences.iter().all(|s| !s.is_empty()));
    }
    let elapsed = started.elapsed();
    assert!(elapsed.as_secs() < 20, "took {elapsed:?}");
}

#[test]
fn embedded_rules_parse_and_cover_the_required_abbreviations() {
    if let Err(error) = Rules::parse(include_str!("rules.toml")) {
        panic!("rules.toml does not parse: {error}");
    }
    let fr = [
        "M", "Mme", "Mlle", "MM", "Dr", "Pr", "Me", "art", "p", "pp", "etc", "cf", "av", "apr",
        "J.-C", "n°", "vol", "chap", "env", "St", "Ste", "oct",
    ];
    let en = [
        "Mr", "Mrs", "Ms", "Dr", "Prof", "St", "U.S", "U.K", "e.g", "i.e", "a.m", "p.m", "etc",
        "vs", "Inc", "Ltd", "Jr", "Sr", "No",
    ];
    for word in fr {
        assert!(RULES.abbreviation(Fr, word).is_some(), "fr {word}");
    }
    for word in en {
        assert!(RULES.abbreviation(En, word).is_some(), "en {word}");
    }
    // Documented behaviours that the table relies on.
    assert_eq!(
        RULES.abbreviation(Fr, "etc"),
        Some(AbbrevKind::FinalBeforeCapital)
    );
    assert_eq!(
        RULES.abbreviation(En, "p.m"),
        Some(AbbrevKind::FinalBeforeCapital)
    );
    assert_eq!(RULES.abbreviation(Fr, "M"), Some(AbbrevKind::NeverFinal));
    assert_eq!(
        RULES.abbreviation(Fr, "m"),
        None,
        "case-sensitive: metre is not Monsieur"
    );
    assert_eq!(
        RULES.abbreviation(Fr, "Cf"),
        Some(AbbrevKind::NeverFinal),
        "sentence-initial capital"
    );
}
