//! The envelope the `/resources/*` endpoints share: an optional request `id` (generated when
//! absent) and an `operation` (or `allocation_type`) naming what to do; the answer carries
//! `request_id`, `timestamp` and the operation back.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};
use steward_core::alloc::FieldError;

/// A fresh id for a request that brought none: unique in this process and across restarts.
pub(crate) fn generated_id(now_ms: i64) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("req-{now_ms:x}-{}-{n}", std::process::id())
}

/// The value of `field` when it is one of `names`, else an error listing them.
pub(crate) fn operation<'a>(obj: &'a Map<String, Value>, field: &str, names: &[&str]) -> Result<&'a str, FieldError> {
    match obj.get(field).and_then(Value::as_str) {
        Some(op) if names.contains(&op) => Ok(op),
        other => {
            let got = match other {
                None => "nothing".to_string(),
                Some(s) if s.len() > 40 => format!("a string of {} bytes", s.len()),
                Some(s) => format!("{s:?}"),
            };
            let names: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
            Err(FieldError::new(field, format!("must be one of {}, got {got}", names.join(", "))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn operations_are_checked_and_ids_generated_unique() {
        assert_eq!(operation(&obj(json!({"operation": "list"})), "operation", &["list"]).unwrap(), "list");
        let e = operation(&obj(json!({"operation": "boom"})), "operation", &["list", "register"]).unwrap_err();
        assert_eq!(e.message, "must be one of \"list\", \"register\", got \"boom\"");
        assert_ne!(generated_id(1), generated_id(1));
    }
}
