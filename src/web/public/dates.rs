//! Dates as readers read them, in the page's language (the day itself is
//! `domain::dates::day`, which the public notes use too).

use chrono::{NaiveDateTime, Timelike};

pub use crate::domain::dates::day;

/// "3 octobre 2024 à 14 h 05 UTC" / "3 October 2024, 14:05 UTC". Times are
/// stored in UTC and the page cannot know the reader's zone without script.
pub fn moment(t: NaiveDateTime, lang: &str) -> String {
    if lang == "fr" {
        format!("{} à {} h {:02} UTC", day(t, lang), t.hour(), t.minute())
    } else {
        format!("{}, {:02}:{:02} UTC", day(t, lang), t.hour(), t.minute())
    }
}

/// The machine-readable form for `<time datetime>`.
pub fn iso(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    #[test]
    fn readable_in_both_languages() {
        assert_eq!(day(at(2024, 10, 1, 0, 0), "fr"), "1er octobre 2024");
        assert_eq!(day(at(2024, 8, 15, 0, 0), "fr"), "15 août 2024");
        assert_eq!(day(at(2024, 10, 1, 0, 0), "en"), "1 October 2024");
        assert_eq!(
            moment(at(2024, 2, 3, 9, 5), "fr"),
            "3 février 2024 à 9 h 05 UTC"
        );
        assert_eq!(
            moment(at(2024, 2, 3, 9, 5), "en"),
            "3 February 2024, 09:05 UTC"
        );
        assert_eq!(iso(at(2024, 2, 3, 9, 5)), "2024-02-03T09:05:00Z");
    }
}
