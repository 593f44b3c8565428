//! One table per family of hard cases, in news style, French and English:
//! inline lists, abbreviations and initials before a new sentence, ellipses,
//! citations and quotes after the final stop, glued sentences. Each row is
//! (language, paragraph, expected sentences).

use super::*;

use Lang::{En, Fr};

type Case = (Lang, &'static str, &'static [&'static str]);

fn check(family: &str, cases: &[Case]) {
    let mut failures = Vec::new();
    for (lang, input, expected) in cases {
        let got = split_sentences(input, *lang);
        if got != *expected {
            failures.push(format!(
                "{lang:?} {input:?}\n  expected {expected:?}\n  got      {got:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{family}: {} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[rustfmt::skip]
const LISTS: &[Case] = &[
    (Fr, "Le plan prévoit : a) Une hausse du point d'indice b) Un gel des loyers c) Une prime de fin d'année",
        &["Le plan prévoit : a) Une hausse du point d'indice", "b) Un gel des loyers", "c) Une prime de fin d'année"]),
    (Fr, "1) Les urnes ferment à 20 h 2) Le dépouillement commence 3) Les résultats tombent vers minuit",
        &["1) Les urnes ferment à 20 h", "2) Le dépouillement commence", "3) Les résultats tombent vers minuit"]),
    (Fr, "1.) Inscrivez-vous en mairie. 2.) Votez le 12 juin.",
        &["1.) Inscrivez-vous en mairie.", "2.) Votez le 12 juin."]),
    (Fr, "• Lyon vote dimanche • Marseille attend le second tour • Lille reste incertaine",
        &["• Lyon vote dimanche", "• Marseille attend le second tour", "• Lille reste incertaine"]),
    (En, "1. Polls open at 7 a.m. 2. Counting starts at 9 p.m. 3. Results are due by midnight",
        &["1. Polls open at 7 a.m.", "2. Counting starts at 9 p.m.", "3. Results are due by midnight"]),
    (En, "a. The mayor resigned b. The council met in private c. The vote was delayed",
        &["a. The mayor resigned", "b. The council met in private", "c. The vote was delayed"]),
    (En, "A) Raise taxes B) Cut spending",
        &["A) Raise taxes", "B) Cut spending"]),
    (En, "⁃1. Register online ⁃2. Pick a polling station",
        &["⁃1. Register online", "⁃2. Pick a polling station"]),
    // Enumerations inside a sentence stay whole: items in lowercase, or a
    // number without the previous one.
    (Fr, "Deux options restent : a) partir ; b) rester. Il hésite.",
        &["Deux options restent : a) partir ; b) rester.", "Il hésite."]),
    (En, "The options were 1) raise rates or 2) wait. Markets fell.",
        &["The options were 1) raise rates or 2) wait.", "Markets fell."]),
    (En, "He finished 2) Nobody expected it.",
        &["He finished 2) Nobody expected it."]),
    (Fr, "Il a signé J. Martin. Le texte est clair.",
        &["Il a signé J. Martin.", "Le texte est clair."]),
];

#[rustfmt::skip]
const ABBREVIATION_BEFORE_SENTENCE: &[Case] = &[
    (En, "The summit was held in the U.S. It ended without a deal.",
        &["The summit was held in the U.S.", "It ended without a deal."]),
    (En, "She joined the U.S. Navy in 1990 and the U.N. Security Council staff later.",
        &["She joined the U.S. Navy in 1990 and the U.N. Security Council staff later."]),
    (En, "Britain has left the E.U. Its exports fell.",
        &["Britain has left the E.U.", "Its exports fell."]),
    (En, "He moved to the U.S.A. last year.",
        &["He moved to the U.S.A. last year."]),
    (En, "The firm was run by Pitt & co. They sold it in 2001.",
        &["The firm was run by Pitt & co.", "They sold it in 2001."]),
    (En, "The hearing ended at 6 P.M. Mr. Brown left first.",
        &["The hearing ended at 6 P.M.", "Mr. Brown left first."]),
    (En, "At 9 a.m. Mr. Brown opened the hearing.",
        &["At 9 a.m. Mr. Brown opened the hearing."]),
    (Fr, "Il a vécu dix ans aux É.-U. Il est rentré en 2010.",
        &["Il a vécu dix ans aux É.-U.", "Il est rentré en 2010."]),
    (Fr, "Les É.-U. Trump et Biden s'opposent sur ce point.",
        &["Les É.-U. Trump et Biden s'opposent sur ce point."]),
    (Fr, "Dès 6 h. Les premiers cars partent.",
        &["Dès 6 h.", "Les premiers cars partent."]),
];

#[rustfmt::skip]
const INITIALS_AND_I: &[Case] = &[
    (En, "It was between you and I. Then the bell rang.",
        &["It was between you and I.", "Then the bell rang."]),
    (En, "The memo was signed by George W. Bush in 2003.",
        &["The memo was signed by George W. Bush in 2003."]),
    (En, "She took vitamin C. It did not help.",
        &["She took vitamin C.", "It did not help."]),
    (En, "Did you see Albert I. Jones at the trial?",
        &["Did you see Albert I. Jones at the trial?"]),
    (Fr, "Il prend de la vitamine C. Elle ne l'aide pas.",
        &["Il prend de la vitamine C.", "Elle ne l'aide pas."]),
    (Fr, "L'historien J. Le Goff a écrit sur le Moyen Âge.",
        &["L'historien J. Le Goff a écrit sur le Moyen Âge."]),
    (Fr, "Le prix revient à Anne B. C'est une surprise.",
        &["Le prix revient à Anne B.", "C'est une surprise."]),
];

#[rustfmt::skip]
const ELLIPSES: &[Case] = &[
    (En, "Officials said the plan would . . . Brussels had agreed to it.",
        &["Officials said the plan would . . . Brussels had agreed to it."]),
    (En, "The plan was dropped . . . . Officials declined to comment.",
        &["The plan was dropped . . . .", "Officials declined to comment."]),
    (En, "Voters were tired. . . . The turnout fell to a record low. . . .",
        &["Voters were tired.", ". . . The turnout fell to a record low. . . ."]),
    (En, "He never answered.... The police came later.",
        &["He never answered....", "The police came later."]),
    (En, "Well . . . maybe. We will see.",
        &["Well . . . maybe.", "We will see."]),
    (Fr, "Et puis... ! Plus rien.",
        &["Et puis... !", "Plus rien."]),
    (Fr, "Il attendait… ? Personne ne le sait.",
        &["Il attendait… ?", "Personne ne le sait."]),
    (Fr, "Il a dit : « Nous verrons. . . . » Puis il est parti.",
        &["Il a dit : « Nous verrons. . . . »", "Puis il est parti."]),
    (Fr, "C'est fini.... Vraiment.",
        &["C'est fini....", "Vraiment."]),
];

#[rustfmt::skip]
const CITATIONS_AND_QUOTES: &[Case] = &[
    (Fr, "Le ministre a démissionné. (AFP) Son successeur sera nommé lundi.",
        &["Le ministre a démissionné. (AFP)", "Son successeur sera nommé lundi."]),
    (Fr, "Le texte a été adopté mardi. (Reuters)",
        &["Le texte a été adopté mardi. (Reuters)"]),
    (En, "\"Prices will fall.\" (Smith 2021). Analysts disagree.",
        &["\"Prices will fall.\" (Smith 2021).", "Analysts disagree."]),
    (En, "\"Growth [...] will slow [...]\" (IMF 2024). The outlook is grim.",
        &["\"Growth [...] will slow [...]\" (IMF 2024).", "The outlook is grim."]),
    (En, "He resigned. (The board had asked him to.) A vote follows.",
        &["He resigned.", "(The board had asked him to.)", "A vote follows."]),
    (En, "He said: \"We are ready. We will win.\" Then he left.",
        &["He said: \"We are ready.", "We will win.\"", "Then he left."]),
    (Fr, "Il a lancé : \"Nous partons. Vous restez. \" Puis il est sorti.",
        &["Il a lancé : \"Nous partons.", "Vous restez. \"", "Puis il est sorti."]),
    (Fr, "« Nous partons. Vous restez. » Puis il est sorti.",
        &["« Nous partons.", "Vous restez. »", "Puis il est sorti."]),
    (En, "'We lost. We move on.' The coach left.",
        &["'We lost.", "We move on.'", "The coach left."]),
    (Fr, "Il cite « la fin d'un cycle ». Le débat reste ouvert.",
        &["Il cite « la fin d'un cycle ».", "Le débat reste ouvert."]),
];

#[rustfmt::skip]
const GLUED: &[Case] = &[
    (En, "The vote failed.The mayor resigned.Sales reached 1,000.Profits fell.",
        &["The vote failed.", "The mayor resigned.", "Sales reached 1,000.", "Profits fell."]),
    (Fr, "Le site Le.Monde et jean.Dupont@exemple.fr restent entiers.",
        &["Le site Le.Monde et jean.Dupont@exemple.fr restent entiers."]),
    (Fr, "Voir www.exemple.fr/Dossier.Html pour la suite.",
        &["Voir www.exemple.fr/Dossier.Html pour la suite."]),
];

#[test]
fn inline_lists() {
    check("lists", LISTS);
}

#[test]
fn abbreviation_before_a_new_sentence() {
    check("abbreviations", ABBREVIATION_BEFORE_SENTENCE);
}

#[test]
fn the_pronoun_i_and_initials_at_a_sentence_end() {
    check("initials", INITIALS_AND_I);
}

#[test]
fn spaced_and_unspaced_ellipses() {
    check("ellipses", ELLIPSES);
}

#[test]
fn citations_and_quotes_after_the_final_stop() {
    check("citations and quotes", CITATIONS_AND_QUOTES);
}

#[test]
fn sentences_glued_without_a_space() {
    check("glued", GLUED);
}

#[test]
fn rules_carry_a_version() {
    assert!(rules_version() >= 2);
}
