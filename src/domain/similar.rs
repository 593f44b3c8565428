//! Near-duplicate reports: trigram Jaccard similarity of what readers wrote
//! (comment and suggested correction together).
//!
//! The text is folded (`domain::search::fold`: lower case, no diacritics),
//! cut into words of letters and digits, and each word padded the way
//! PostgreSQL's pg_trgm does (two spaces before, one after) before taking
//! its three-character windows. Two reports are near-duplicates when
//! |A ∩ B| / |A ∪ B| of their trigram sets reaches [`THRESHOLD`]. Padding
//! makes short words count and word order not matter; punctuation, case and
//! accents never count. Texts of fewer than [`MIN_CHARS`] letters and digits
//! ("wrong", "faux !") say too little to compare and never match.

use std::collections::HashSet;

/// The similarity from which two reports are near-duplicates. Chosen on the
/// table of pairs in the tests below and in `tests/api/cases_memory.rs`:
/// rephrasings of one complaint score 0.45–0.9, different complaints on the
/// same article under 0.25.
pub const THRESHOLD: f64 = 0.4;

/// Fewer letters and digits than this: not compared.
pub const MIN_CHARS: usize = 12;

/// The trigram set of one report's text, computed once and compared many
/// times.
#[derive(Debug, Clone, Default)]
pub struct Signature {
    grams: HashSet<[char; 3]>,
}

impl Signature {
    /// The signature of a comment and its suggested correction; `None` when
    /// the text is too short to compare.
    pub fn of(comment: &str, suggestion: Option<&str>) -> Option<Signature> {
        let mut text = crate::domain::search::fold(comment);
        if let Some(s) = suggestion {
            text.push(' ');
            text.push_str(&crate::domain::search::fold(s));
        }
        let words: Vec<Vec<char>> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| w.chars().collect())
            .collect();
        if words.iter().map(Vec::len).sum::<usize>() < MIN_CHARS {
            return None;
        }
        let mut grams = HashSet::new();
        for w in words {
            let padded: Vec<char> = [' ', ' '].into_iter().chain(w).chain([' ']).collect();
            for win in padded.windows(3) {
                grams.insert([win[0], win[1], win[2]]);
            }
        }
        Some(Signature { grams })
    }

    /// Jaccard similarity of the two trigram sets, 0–1.
    pub fn similarity(&self, other: &Signature) -> f64 {
        let inter = self.grams.intersection(&other.grams).count();
        let union = self.grams.len() + other.grams.len() - inter;
        if union == 0 {
            0.0
        } else {
            inter as f64 / union as f64
        }
    }

    pub fn near_duplicate(&self, other: &Signature) -> bool {
        self.similarity(other) >= THRESHOLD
    }
}

/// The best similarity between any report of one case and any of another.
pub fn best(a: &[Signature], b: &[Signature]) -> f64 {
    a.iter()
        .flat_map(|x| b.iter().map(move |y| x.similarity(y)))
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(comment: &str, suggestion: Option<&str>) -> Signature {
        Signature::of(comment, suggestion).expect("long enough")
    }

    /// Pairs a desk would call the same complaint, and pairs it would not.
    const NEAR: &[(&str, &str)] = &[
        (
            "The armistice was signed in 1953, not 1952.",
            "Armistice signed in 1953 not in 1952!",
        ),
        (
            "L'armistice a été signé en 1953 et non en 1952.",
            "l’armistice a ete signe en 1953, pas en 1952",
        ),
        (
            "Le ministre s'appelle Jean Dupont, pas Jean Dupond.",
            "Erreur de nom : le ministre s'appelle Jean Dupont et non Dupond.",
        ),
        (
            "The population figure is wrong: it is 51 million.",
            "Wrong population figure, it's 51 million people",
        ),
    ];

    const FAR: &[(&str, &str)] = &[
        (
            "The armistice was signed in 1953, not 1952.",
            "The photo caption names the wrong city.",
        ),
        (
            "Le ministre s'appelle Jean Dupont, pas Jean Dupond.",
            "Le lien vers le rapport ne fonctionne plus.",
        ),
        (
            "Typo: 'goverment' should be 'government'.",
            "The population figure is wrong: it is 51 million.",
        ),
    ];

    #[test]
    fn near_duplicates_match_and_unrelated_reports_do_not() {
        for (a, b) in NEAR {
            let s = sig(a, None).similarity(&sig(b, None));
            assert!(s >= THRESHOLD, "{a:?} / {b:?}: {s:.2}");
        }
        for (a, b) in FAR {
            let s = sig(a, None).similarity(&sig(b, None));
            assert!(s < THRESHOLD, "{a:?} / {b:?}: {s:.2}");
        }
    }

    #[test]
    fn similarity_is_symmetric_and_one_for_the_same_text() {
        let (a, b) = (sig(NEAR[0].0, None), sig(FAR[0].1, None));
        assert_eq!(a.similarity(&b), b.similarity(&a));
        assert_eq!(a.similarity(&a), 1.0);
    }

    #[test]
    fn short_texts_are_not_compared_and_suggestions_count() {
        assert!(Signature::of("faux !", None).is_none());
        assert!(Signature::of("wrong", Some("right")).is_none());
        let with = sig("Date is wrong here", Some("signed in 1953"));
        let other = sig("signed in 1953 actually", None);
        assert!(with.similarity(&other) > sig("Date is wrong here", None).similarity(&other));
    }

    #[test]
    fn best_takes_the_closest_pair() {
        let a = [sig(FAR[0].1, None), sig(NEAR[0].0, None)];
        let b = [sig(NEAR[0].1, None)];
        assert!(best(&a, &b) >= THRESHOLD);
        assert_eq!(best(&a, &[]), 0.0);
    }
}
