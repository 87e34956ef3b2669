use serde::Deserialize;
use serde_json::json;
use steward_core::alloc::{AllocationRequest, FieldError};

use super::*;

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Inner {
    n: u32,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Outer {
    name: String,
    #[serde(default)]
    count: Option<u16>,
    inner: Inner,
    #[serde(default)]
    flag: bool,
}

fn fields(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.field.as_str()).collect()
}

#[test]
fn a_valid_body_reads() {
    let v = json!({"name": "a", "inner": {"n": 3}});
    let o: Outer = from_value("", &v).unwrap();
    assert_eq!(o.inner.n, 3);
}

#[test]
fn every_wrong_field_is_listed_not_only_the_first() {
    let v = json!({"name": 5, "count": -1, "inner": {"n": "x", "tags": [1]}, "flag": "yes"});
    let errors = from_value::<Outer>("body", &v).unwrap_err();
    let mut got = fields(&errors);
    got.sort();
    assert_eq!(got, ["body.count", "body.flag", "body.inner.n", "body.inner.tags[0]", "body.name"], "{errors:?}");
}

#[test]
fn unknown_fields_are_named_all_of_them() {
    let v = json!({"name": "a", "inner": {"n": 1, "m": 2}, "start": 1, "zzz": null});
    let errors = from_value::<Outer>("", &v).unwrap_err();
    assert_eq!(fields(&errors), ["inner.m", "start", "zzz"], "{errors:?}");
    assert!(errors.iter().all(|e| e.message == "is not a field of this request"));
}

#[test]
fn missing_fields_are_named_themselves() {
    let errors = from_value::<Outer>("", &json!({"inner": {"n": 1}})).unwrap_err();
    assert_eq!(errors, [FieldError::new("name", "is required")]);
}

#[test]
fn messages_are_plain_words() {
    let errors = from_value::<Outer>("", &json!({"name": "a", "count": 70000, "inner": {"n": "two"}})).unwrap_err();
    let said: Vec<_> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
    assert!(said.contains(&"count: must be a whole number from 0 to 65535 (got 70000)".to_string()), "{said:?}");
    assert!(said.contains(&"inner.n: must be a whole number from 0 to 4294967295 (got the text \"two\")".to_string()));

    let v = json!({"owner": "a", "priority": {"x": 1}, "resources": {"gpus": 1}});
    let errors = from_value::<AllocationRequest>("allocation_request", &v).unwrap_err();
    let priority = errors.iter().find(|e| e.field == "allocation_request.priority").expect("priority named");
    assert!(!priority.message.contains("untagged"), "{priority:?}");
    assert!(priority.message.contains("\"critical\""), "{priority:?}");
}

#[test]
fn long_strings_are_refused_before_the_type_sees_them() {
    let v = json!({"name": "x".repeat(MAX_STRING_BYTES + 1), "inner": {"n": 1}});
    let errors = from_value::<Outer>("", &v).unwrap_err();
    assert_eq!(fields(&errors), ["name"]);
    assert!(errors[0].message.contains("at most 65536"), "{errors:?}");
}

#[test]
fn huge_unknown_keys_are_cut_when_named() {
    let v = json!({"name": "a", "inner": {"n": 1}, "k".repeat(10_000): 1});
    let errors = from_value::<Outer>("", &v).unwrap_err();
    assert!(errors.iter().all(|e| e.field.len() < 100), "{errors:?}");
}

#[test]
fn malformed_json_says_where() {
    let e = parse_body::<Outer>(b"{\"name\": ").unwrap_err();
    assert_eq!(e.kind, crate::ErrorKind::InvalidRequest);
    assert!(e.message.contains("malformed JSON"), "{e:?}");
    let e = parse_body::<Outer>(b"{\"name\" 1}").unwrap_err();
    assert!(e.message.contains("line 1 column"), "{e:?}");
}
