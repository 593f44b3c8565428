//! Time zones for people: the installation's (`[ui] time_zone`) or an
//! editor's own, as IANA names checked against the tz database that
//! `chrono-tz` compiles in. Pages and emails write times in it, labelled
//! with the zone's city ("14:05 (Paris)"); the API stays UTC.

use chrono::{NaiveDateTime, TimeZone};
pub use chrono_tz::Tz;

/// An IANA zone name (`Europe/Paris`, `UTC`), or `None`.
pub fn parse(name: &str) -> Option<Tz> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 {
        return None;
    }
    name.parse::<Tz>().ok()
}

/// The label shown after a time: the zone's city (`Paris`, `New York`),
/// or its abbreviation at `at` for zones without one (`UTC`, `Etc/GMT+3`).
pub fn label(tz: Tz, at: NaiveDateTime) -> String {
    let name = tz.name();
    match name.rsplit_once('/') {
        Some((area, city)) if area != "Etc" => city.replace('_', " "),
        _ => tz.from_utc_datetime(&at).format("%Z").to_string(),
    }
}

/// A stored UTC time in `tz`, formatted with chrono's `pattern`, then the
/// zone's label in parentheses.
pub fn format(utc: NaiveDateTime, tz: Tz, pattern: &str) -> String {
    let local = tz.from_utc_datetime(&utc);
    format!("{} ({})", local.format(pattern), label(tz, utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn times_follow_the_zone_and_its_daylight_saving() {
        let paris = parse("Europe/Paris").unwrap();
        assert_eq!(
            format(t("2026-01-15 12:05"), paris, "%H:%M"),
            "13:05 (Paris)"
        );
        assert_eq!(
            format(t("2026-07-15 12:05"), paris, "%H:%M"),
            "14:05 (Paris)"
        );
        let ny = parse("America/New_York").unwrap();
        assert_eq!(
            format(t("2026-07-15 12:05"), ny, "%H:%M"),
            "08:05 (New York)"
        );
        assert_eq!(
            format(t("2026-07-15 12:05"), parse("UTC").unwrap(), "%H:%M"),
            "12:05 (UTC)"
        );
    }

    #[test]
    fn only_iana_names_parse() {
        assert!(parse("Europe/Atlantis").is_none());
        assert!(parse("").is_none());
        assert!(parse("+02:00").is_none());
        assert!(parse(" Asia/Tokyo ").is_some());
    }
}
