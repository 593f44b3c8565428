//! Dates as readers read them, in their language: the reader pages and the
//! public notes Erratum writes. chrono's locales would pull in a large table
//! for two languages; twelve month names suffice.

use chrono::{Datelike, NaiveDateTime};

const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// "3 octobre 2024" / "3 October 2024" (French writes the first day "1er").
pub fn day(t: NaiveDateTime, lang: &str) -> String {
    let m = t.month0() as usize;
    if lang == "fr" {
        let d = if t.day() == 1 {
            "1er".to_string()
        } else {
            t.day().to_string()
        };
        format!("{d} {} {}", MONTHS_FR[m], t.year())
    } else {
        format!("{} {} {}", t.day(), MONTHS_EN[m], t.year())
    }
}
