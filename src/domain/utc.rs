//! Times in the JSON API: RFC 3339 with the offset, `2026-12-01T21:55:17.693Z`.
//!
//! Times are stored and handled as naive UTC (`db::now`); chrono serialises
//! a `NaiveDateTime` without an offset, which the OpenAPI `date-time` format
//! does not allow and JavaScript reads as local time. The API's view fields
//! keep their type and take `#[serde(with = "crate::domain::utc")]` (or
//! `utc::option` for an `Option`), so nothing else changes. Reading accepts
//! any offset (converted to UTC) and, for older clients, no offset (UTC).

use chrono::{DateTime, NaiveDateTime, SecondsFormat};
use serde::{Deserialize, Deserializer, Serializer};

/// `2026-12-01T21:55:17.693421Z`: as many fraction digits as stored (none,
/// milli or microseconds), always `Z`.
pub fn format(t: &NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// An RFC 3339 time with any offset, or one without (taken as UTC).
pub fn parse(s: &str) -> Option<NaiveDateTime> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.naive_utc())
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok())
}

pub fn serialize<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(t))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
    let s = String::deserialize(d)?;
    parse(&s).ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 date-time"))
}

/// The same for an optional time (`null` stays `null`).
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&super::format(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDateTime>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => super::parse(&s)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 date-time")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_carry_the_utc_offset_and_read_back() {
        let t = NaiveDateTime::parse_from_str("2026-12-01T21:55:17.693", "%Y-%m-%dT%H:%M:%S%.f")
            .unwrap();
        assert_eq!(format(&t), "2026-12-01T21:55:17.693Z");
        let whole = t.with_nanosecond(0).unwrap();
        assert_eq!(format(&whole), "2026-12-01T21:55:17Z");
        assert_eq!(parse("2026-12-01T21:55:17.693Z"), Some(t));
        assert_eq!(parse("2026-12-01T22:55:17.693+01:00"), Some(t));
        assert_eq!(parse("2026-12-01T21:55:17.693"), Some(t));
        assert_eq!(parse("yesterday"), None);
    }

    use chrono::Timelike;
}
