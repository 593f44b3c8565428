//! The memory of corrections: the public note that resolves a report about
//! an error already corrected, in the article's language.

use chrono::NaiveDateTime;

use super::article::Language;
use super::workflow::MAX_PUBLIC_NOTE;

/// The correction text is quoted in the note, clipped to keep the whole
/// note within the public note's limit.
const QUOTE_MAX: usize = 1500;

/// "This error was already corrected on 3 December 2026: «…» <url>".
pub fn already_corrected_note(
    language: Language,
    date: NaiveDateTime,
    correction: &str,
    url: &str,
) -> String {
    let quoted: String = if correction.chars().count() > QUOTE_MAX {
        let mut q: String = correction.chars().take(QUOTE_MAX).collect();
        q.push('…');
        q
    } else {
        correction.to_string()
    };
    let day = super::dates::day(date, language.as_str());
    let note = match language {
        Language::Fr => format!(
            "Merci : cette erreur avait déjà été corrigée le {day}. Correction publiée : « {quoted} » Voir l’article : {url}"
        ),
        Language::En => format!(
            "Thank you: this error had already been corrected on {day}. Published correction: “{quoted}” See the article: {url}"
        ),
    };
    note.chars().take(MAX_PUBLIC_NOTE).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_the_date_the_correction_and_the_article() {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        let fr = already_corrected_note(Language::Fr, date, "Le 4, pas le 3.", "https://x.test/a");
        assert!(fr.contains("1er décembre 2026"), "{fr}");
        assert!(fr.contains("« Le 4, pas le 3. »") && fr.ends_with("https://x.test/a"));
        let en = already_corrected_note(Language::En, date, "The 4th.", "https://x.test/a");
        assert!(
            en.contains("1 December 2026") && en.contains("“The 4th.”"),
            "{en}"
        );
        let long = "x".repeat(5000);
        let clipped = already_corrected_note(Language::En, date, &long, "https://x.test/a");
        assert!(clipped.chars().count() <= MAX_PUBLIC_NOTE);
        assert!(clipped.ends_with("https://x.test/a"));
    }
}
