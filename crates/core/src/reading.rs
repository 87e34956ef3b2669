//! A measurement or the honest reason there is none.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What a collector returns: a value it measured, or why it could not.
///
/// There is deliberately no "default" value: a missing source is never shown as a number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "status", rename_all = "snake_case")]
#[ts(export)]
pub enum Reading<T> {
    Available { value: T },
    Unavailable { reason: String },
}

impl<T> Reading<T> {
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Reading::Unavailable { reason: reason.into() }
    }

    pub fn value(&self) -> Option<&T> {
        match self {
            Reading::Available { value } => Some(value),
            Reading::Unavailable { .. } => None,
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Reading::Available { .. } => None,
            Reading::Unavailable { reason } => Some(reason),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Reading<U> {
        match self {
            Reading::Available { value } => Reading::Available { value: f(value) },
            Reading::Unavailable { reason } => Reading::Unavailable { reason },
        }
    }
}

impl<T> From<T> for Reading<T> {
    fn from(value: T) -> Self {
        Reading::Available { value }
    }
}

impl<T, E: std::fmt::Display> From<Result<T, E>> for Reading<T> {
    fn from(r: Result<T, E>) -> Self {
        match r {
            Ok(value) => Reading::Available { value },
            Err(e) => Reading::unavailable(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_with_a_status_tag() {
        let r: Reading<u32> = Reading::unavailable("no RAPL");
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"status":"unavailable","reason":"no RAPL"}"#);
        let r: Reading<u32> = 7.into();
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"status":"available","value":7}"#);
    }
}
