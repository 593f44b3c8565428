//! The memory of corrections: the public note that resolves a report about
//! an error already corrected, in the article's language.

use super::workflow::MAX_PUBLIC_NOTE;

/// The correction text is quoted in the note, clipped to keep the whole
/// note within the public note's limit.
const QUOTE_MAX: usize = 1500;

/// "This error was already corrected on 3 December 2026: «…» <url>", from
/// the article's catalog: `words` fills `[memory] already_corrected` with
/// the quote (clipped here) and answers the note, which is cut to the
/// public note's limit.
pub fn already_corrected_note(correction: &str, words: impl FnOnce(&str) -> String) -> String {
    let quoted: String = if correction.chars().count() > QUOTE_MAX {
        let mut q: String = correction.chars().take(QUOTE_MAX).collect();
        q.push('…');
        q
    } else {
        correction.to_string()
    };
    words(&quoted).chars().take(MAX_PUBLIC_NOTE).collect()
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
        let catalogs = crate::locales::Catalogs::built_in();
        let note = |tag: &str, text: &str| {
            let c = catalogs.resolve(tag);
            already_corrected_note(text, |quote| {
                c.fill(
                    "memory.already_corrected",
                    &[
                        ("day", &c.day(date)),
                        ("url", "https://x.test/a"),
                        ("quote", quote),
                    ],
                )
            })
        };
        let fr = note("fr", "Le 4, pas le 3.");
        assert!(fr.contains("1er décembre 2026"), "{fr}");
        assert!(fr.contains("« Le 4, pas le 3. »") && fr.ends_with("https://x.test/a"));
        let en = note("en", "The 4th.");
        assert!(
            en.contains("1 December 2026") && en.contains("“The 4th.”"),
            "{en}"
        );
        let es = note("es", "El 4.");
        assert!(
            es.contains("1 de diciembre de 2026") && es.contains("El 4."),
            "{es}"
        );
        // The quote is filled last: its braces stay as the editor wrote them.
        assert!(note("en", "{url}").contains("“{url}”"));
        let clipped = note("en", &"x".repeat(5000));
        assert!(clipped.chars().count() <= MAX_PUBLIC_NOTE);
        assert!(clipped.ends_with("https://x.test/a"));
    }
}
