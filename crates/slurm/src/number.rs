//! Numbers as the OpenAPI plugins write them: a plain number (v0.0.38), or from v0.0.39 on an
//! object `{"set": bool, "infinite": bool, "number": n}`. Absent, unset and infinite are `None`.

use serde_json::Value;

pub fn number(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::Object(o) => {
            let set = o.get("set").and_then(Value::as_bool).unwrap_or(true);
            let infinite = o.get("infinite").and_then(Value::as_bool).unwrap_or(false);
            if set && !infinite { o.get("number").and_then(number) } else { None }
        }
        _ => None,
    }
}

/// Slurm's 32-bit "no value" sentinel (`NO_VAL`); `INFINITE` is the one above it.
const NO_VAL: i64 = 0xffff_fffe;

/// A non-negative count; Slurm writes "unlimited" as -1 or as NO_VAL/INFINITE.
pub fn count(v: &Value) -> Option<u64> {
    number(v).filter(|n| (0..NO_VAL).contains(n)).map(|n| n as u64)
}

/// A state as a list of words, whether Slurm wrote a string ("idle") or a list (["IDLE", "DRAIN"]).
pub fn words(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => s.split(['+', ',']).filter(|w| !w.is_empty()).map(str::to_ascii_lowercase).collect(),
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_ascii_lowercase).collect(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_both_plugin_shapes() {
        assert_eq!(number(&json!(5)), Some(5));
        assert_eq!(number(&json!({"set": true, "infinite": false, "number": 7})), Some(7));
        assert_eq!(number(&json!({"set": false, "infinite": false, "number": 0})), None);
        assert_eq!(number(&json!({"set": true, "infinite": true, "number": 0})), None);
        assert_eq!(number(&json!(null)), None);
        assert_eq!(count(&json!(-1)), None);
        assert_eq!(count(&json!(4294967294u64)), None);
        assert_eq!(words(&json!("idle+drain")), ["idle", "drain"]);
        assert_eq!(words(&json!(["MIXED", "DRAIN"])), ["mixed", "drain"]);
    }
}
