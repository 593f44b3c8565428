//! Search folding: "Elysee" finds "Élysée", "l'armee" finds "l’armée".
//!
//! Queue searches compare `erratum_fold(column)` with the folded words. The
//! function is the same on both backends: on SQLite the application
//! registers [`fold`] on each connection; on PostgreSQL a migration defines
//! it in SQL (`lower(translate(…))` with the same table, so no extension such
//! as `unaccent` is needed). A test checks that the two agree on every
//! character of the table.

use std::collections::HashMap;
use std::sync::LazyLock;

/// Letters with diacritics (Latin-1 and Latin Extended-A: French, Spanish,
/// Portuguese, German, Nordic, Polish, Czech, Romanian, Turkish…), the
/// typographic apostrophes, and the non-breaking spaces French typography puts
/// before `; : ! ?`. The PostgreSQL migration holds the same two strings.
pub const FROM: &str = "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžØøĐđŁłıÐðĦħŦŧ’‘ʼ\u{a0}\u{202f}\u{2009}";
/// What each character of [`FROM`] becomes, one for one.
pub const TO: &str = "aaaaaaceeeeiiiinooooouuuuyaaaaaaceeeeiiiinooooouuuuyyaaaaaaccccccccddeeeeeeeeeegggggggghhiiiiiiiiijjkkllllllnnnnnnoooooorrrrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzzzooddlliddhhtt'''   ";
/// Ligatures, which become two letters (applied first).
pub const LIGATURES: [(char, &str); 5] = [
    ('Œ', "oe"),
    ('œ', "oe"),
    ('Æ', "ae"),
    ('æ', "ae"),
    ('ß', "ss"),
];

/// [`FROM`] to [`TO`], built once: SQLite calls [`fold`] on every row a
/// search reads, so a character must not cost a walk through the table.
static TABLE: LazyLock<HashMap<char, char>> =
    LazyLock::new(|| FROM.chars().zip(TO.chars()).collect());

/// Lower case, without diacritics, with plain apostrophes and spaces.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if let Some((_, two)) = LIGATURES.iter().find(|(l, _)| *l == c) {
            out.push_str(two);
        } else if let Some(&plain) = TABLE.get(&c) {
            out.push(plain);
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_ligatures_apostrophes_and_spaces() {
        assert_eq!(fold("ÉLYSÉE"), "elysee");
        assert_eq!(fold("Œuvre à Noël, Straße"), "oeuvre a noel, strasse");
        assert_eq!(fold("l’armée"), "l'armee");
        assert_eq!(fold("Pyongyang\u{202f}?"), "pyongyang ?");
        assert_eq!(fold("Łódź, São Paulo, Kraków"), "lodz, sao paulo, krakow");
        assert_eq!(FROM.chars().count(), TO.chars().count());
        assert!(TO.is_ascii());
    }

    #[test]
    fn the_postgres_migration_holds_the_same_table() {
        let sql = include_str!("../../migrations/postgres/2026-11-26-000001_search_fold/up.sql");
        assert!(sql.contains(&format!("'{}'", FROM.replace('\'', "''"))));
        assert!(sql.contains(&format!("'{}'", TO.replace('\'', "''"))));
        for (l, two) in LIGATURES {
            assert!(sql.contains(&format!("'{l}', '{two}'")), "{l}");
        }
    }
}
