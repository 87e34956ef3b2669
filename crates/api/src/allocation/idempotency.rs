//! Idempotency as payment APIs do it: a request id names one request. Sent again with the same
//! body, it gets the first answer; sent with another body, it is a conflict that names the first
//! field that differs, so a corrected request is never silently answered with the old refusal.

use serde_json::Value;

/// The body as JSON with every object's keys sorted: two bodies that say the same thing in
/// another key order compare equal.
pub(crate) fn canonical(body: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&map[k]))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(body).to_string()
}

/// The first place (a dotted path, `[i]` for array items) where `now` differs from `first`,
/// with both values; `None` when they are the same.
pub(crate) fn first_difference(first: &Value, now: &Value) -> Option<String> {
    fn walk(path: &str, a: &Value, b: &Value) -> Option<String> {
        let at = |p: &str| if p.is_empty() { "the body".to_string() } else { p.to_string() };
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                keys.into_iter().find_map(|k| {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    walk(&p, x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null))
                })
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                x.iter().zip(y).enumerate().find_map(|(i, (a, b))| walk(&format!("{path}[{i}]"), a, b))
            }
            _ if a == b => None,
            _ => Some(format!("{} was {a}, now {b}", at(path))),
        }
    }
    walk("", first, now)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn key_order_does_not_matter_and_the_first_difference_is_named() {
        let a = json!({"id": "x", "allocation_request": {"owner": "ann", "resources": {"gpus": 2, "cores": 4}}});
        let b = json!({"allocation_request": {"resources": {"cores": 4, "gpus": 2}, "owner": "ann"}, "id": "x"});
        assert_eq!(canonical(&a), canonical(&b));
        assert_eq!(first_difference(&a, &b), None);
        let c = json!({"id": "x", "allocation_request": {"owner": "ann", "resources": {"gpus": 3, "cores": 4}}});
        assert_eq!(first_difference(&a, &c).as_deref(), Some("allocation_request.resources.gpus was 2, now 3"));
        let d = json!({"id": "x", "allocation_request": {"owner": "ann", "resources": {"gpus": 2, "cores": 4}, "queue": false}});
        assert_eq!(first_difference(&a, &d).as_deref(), Some("allocation_request.queue was null, now false"));
        assert_eq!(first_difference(&json!([1, 2]), &json!([1, 3])).as_deref(), Some("[1] was 2, now 3"));
        assert_eq!(first_difference(&json!([1]), &json!([1, 3])).as_deref(), Some("the body was [1], now [1,3]"));
    }

    fn json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[a-c]{0,3}".prop_map(Value::from)
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-e]", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Every leaf: its path as `first_difference` writes it, and its JSON pointer.
    fn leaves(v: &Value, at: (String, String), out: &mut Vec<(String, String)>) {
        let (path, pointer) = at;
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, x) in m {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    leaves(x, (p, format!("{pointer}/{k}")), out);
                }
            }
            Value::Array(a) if !a.is_empty() => {
                for (i, x) in a.iter().enumerate() {
                    leaves(x, (format!("{path}[{i}]"), format!("{pointer}/{i}")), out);
                }
            }
            _ => out.push((path, pointer)),
        }
    }

    proptest::proptest! {
        /// A body is a retry of itself, in any key order; changing any one value anywhere is a
        /// conflict whose message names that value's path.
        #[test]
        fn a_change_anywhere_is_a_conflict_naming_its_path(v in json(), pick in 0usize..64) {
            proptest::prop_assert_eq!(first_difference(&v, &v), None);
            let reordered: Value = serde_json::from_str(&canonical(&v)).unwrap();
            proptest::prop_assert_eq!(canonical(&reordered), canonical(&v));
            let mut paths = Vec::new();
            leaves(&v, (String::new(), String::new()), &mut paths);
            let (path, pointer) = &paths[pick % paths.len()];
            let mut changed = v.clone();
            *changed.pointer_mut(pointer).unwrap() = json!("changed!");
            proptest::prop_assert_ne!(canonical(&changed), canonical(&v));
            let said = first_difference(&v, &changed).unwrap_or_default();
            let at = if path.is_empty() { "the body" } else { path.as_str() };
            proptest::prop_assert!(said.starts_with(&format!("{at} was ")), "{} for {}", said, path);
        }
    }
}
