//! serde's messages said for people: `invalid type: string "two", expected u32` becomes
//! `must be a whole number from 0 to 4294967295 (got the text "two")`.

use super::json_path::Step;

/// The path the error belongs to and what to say about it. A missing or unknown field is
/// reported by serde at its parent; it is named itself here.
pub(super) fn explain(mut path: Vec<Step>, serde_message: &str) -> (Vec<Step>, String) {
    let m = serde_message;
    if let Some(name) = between(m, "missing field `", "`") {
        path.push(Step::Key(name.to_string()));
        return (path, "is required".into());
    }
    if let Some(name) = between(m, "unknown field `", "`") {
        path.push(Step::Key(name.to_string()));
        return (path, "is not a field of this request".into());
    }
    (path, sentence(m))
}

fn sentence(m: &str) -> String {
    if let Some(name) = m.strip_prefix("data did not match any variant of untagged enum ") {
        return format!("must be {}", untagged_forms(name));
    }
    if let Some(rest) = m.strip_prefix("unknown variant `") {
        let (got, expected) = rest.split_once("`, expected ").unwrap_or((rest, ""));
        return format!("must be {} (got \"{got}\")", one_of(expected));
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some((got, expected)) = m.strip_prefix(prefix).and_then(|r| r.rsplit_once(", expected ")) {
            return format!("must be {} (got {})", expected_words(expected), got_words(got));
        }
    }
    if let Some((n, expected)) = m.strip_prefix("invalid length ").and_then(|r| r.split_once(", expected ")) {
        return format!("must have {expected} (got {n})");
    }
    m.to_string()
}

/// The accepted forms of the untagged enums requests use.
fn untagged_forms(name: &str) -> String {
    match name {
        "Priority" => "a whole number or one of \"critical\", \"high\", \"normal\", \"low\", \"scavenger\"".into(),
        other => format!("a valid {}", other.to_lowercase()),
    }
}

/// `` `a`, `b` or `c` `` (or `one of ...`) as `one of "a", "b", "c"`.
fn one_of(expected: &str) -> String {
    let names: Vec<String> = expected.split('`').skip(1).step_by(2).map(|n| format!("\"{n}\"")).collect();
    match names.len() {
        0 => "nothing of the kind".into(),
        1 => names[0].clone(),
        _ => format!("one of {}", names.join(", ")),
    }
}

fn expected_words(expected: &str) -> String {
    let integer = |min: String, max: String| format!("a whole number from {min} to {max}");
    match expected {
        "u8" => integer("0".into(), u8::MAX.to_string()),
        "u16" => integer("0".into(), u16::MAX.to_string()),
        "u32" => integer("0".into(), u32::MAX.to_string()),
        "u64" | "usize" => integer("0".into(), u64::MAX.to_string()),
        "i8" => integer(i8::MIN.to_string(), i8::MAX.to_string()),
        "i16" => integer(i16::MIN.to_string(), i16::MAX.to_string()),
        "i32" => integer(i32::MIN.to_string(), i32::MAX.to_string()),
        "i64" | "isize" => integer(i64::MIN.to_string(), i64::MAX.to_string()),
        "f32" | "f64" => "a number".into(),
        "a sequence" => "a list".into(),
        "a map" => "an object".into(),
        "a borrowed string" => "a string".into(),
        e if e.starts_with("struct ") || e.starts_with("a map") => "an object".into(),
        e if e.starts_with("enum ") => "one of the accepted values".into(),
        e if e.contains('`') => one_of(e),
        e => e.to_string(),
    }
}

fn got_words(got: &str) -> String {
    if let Some(text) = got.strip_prefix("string ") {
        return format!("the text {text}");
    }
    for prefix in ["integer ", "floating point ", "boolean "] {
        if let Some(v) = got.strip_prefix(prefix) {
            return v.trim_matches('`').to_string();
        }
    }
    match got {
        "map" => "an object".into(),
        "sequence" => "a list".into(),
        "unit value" => "null".into(),
        other => other.to_string(),
    }
}

fn between<'a>(m: &'a str, start: &str, end: &str) -> Option<&'a str> {
    m.strip_prefix(start)?.split(end).next()
}
