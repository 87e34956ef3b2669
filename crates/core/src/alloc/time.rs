//! RFC 3339 at the edges, milliseconds inside: records keep `i64` ms (cheap to compare) and
//! serialize them as RFC 3339 UTC strings, the form the API and the UI speak.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serializer};

/// Parses an RFC 3339 timestamp (any offset) into ms since the epoch, UTC.
pub fn parse_rfc3339(s: &str) -> Result<i64, String> {
    s.parse::<Timestamp>().map(Timestamp::as_millisecond).map_err(|e| format!("not an RFC 3339 timestamp ({s:?}): {e}"))
}

/// Formats ms since the epoch as RFC 3339 UTC (`2025-01-02T09:00:00Z`).
pub fn format_rfc3339(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(t) => t.to_string(),
        Err(_) => ms.to_string(),
    }
}

/// `#[serde(with = "rfc3339")]` for an `i64` ms field.
pub mod rfc3339 {
    use super::*;

    pub fn serialize<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_rfc3339(*ms))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let s = String::deserialize(d)?;
        parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with = "rfc3339_opt")]` for an `Option<i64>` ms field (`null` when absent).
pub mod rfc3339_opt {
    use super::*;

    pub fn serialize<S: Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match ms {
            Some(ms) => s.serialize_some(&format_rfc3339(*ms)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Option::<String>::deserialize(d)?.map(|s| parse_rfc3339(&s).map_err(serde::de::Error::custom)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_normalises_offsets_to_utc() {
        let ms = parse_rfc3339("2025-03-30T09:00:00+02:00").unwrap();
        assert_eq!(format_rfc3339(ms), "2025-03-30T07:00:00Z");
        assert!(parse_rfc3339("tomorrow").is_err());
    }
}
