//! Request bodies as both front doors read them: every wrong field at once, in plain words.
//!
//! serde stops at the first error, so a body is read from its JSON value again after each
//! error with the offending field taken out, until it reads or nothing more can be taken out.
//! Fields the type does not know are errors too (a misspelt field silently ignored would make
//! the request do something else than asked). Strings over [`MAX_STRING_BYTES`] are refused
//! before the type sees them.

mod json_path;
mod plain_words;

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use serde_json::Value;
use steward_core::alloc::FieldError;

use crate::ErrorBody;
use json_path::Step;

/// The longest string any request field may hold; fields with their own limits are shorter.
pub const MAX_STRING_BYTES: usize = 64 * 1024;

/// Enough rounds for any real body; a body with more wrong fields hears about these first.
const MAX_ROUNDS: usize = 64;

/// A whole request body: malformed JSON, then every wrong field, as one 400.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ErrorBody> {
    let value = parse_json(bytes)?;
    from_value("", &value).map_err(ErrorBody::invalid_fields)
}

/// The JSON value of a body, or a 400 saying where it stops being JSON.
pub fn parse_json(bytes: &[u8]) -> Result<Value, ErrorBody> {
    serde_json::from_slice(bytes).map_err(|e| ErrorBody::invalid_fields(vec![FieldError::new("", malformed(&e))]))
}

fn malformed(e: &serde_json::Error) -> String {
    if bytes_missing(e) {
        return "malformed JSON: the body is empty or ends too soon".into();
    }
    let what = e.to_string();
    let what = what.split(" at line ").next().unwrap_or(&what).to_string();
    format!("malformed JSON at line {} column {}: {what}", e.line(), e.column())
}

fn bytes_missing(e: &serde_json::Error) -> bool {
    e.classify() == serde_json::error::Category::Eof
}

/// `value` read as a `T`, or every wrong field, each named with `prefix` (e.g.
/// `allocation_request`) in front of its path.
pub fn from_value<T: DeserializeOwned>(prefix: &str, value: &Value) -> Result<T, Vec<FieldError>> {
    let too_long = too_long_strings(value);
    let mut unknown = BTreeSet::new();
    // The common case, a valid body, is read once without a copy.
    if too_long.is_empty()
        && let Ok(t) = read_once::<T>(value, &mut unknown)
        && unknown.is_empty()
    {
        return Ok(t);
    }
    Err(every_error::<T>(value.clone(), too_long, unknown)
        .into_iter()
        .map(|(path, m)| FieldError::new(json_path::render(prefix, &path), m))
        .collect())
}

/// Reads `value` again and again, each wrong field taken out, collecting what was wrong.
fn every_error<T: DeserializeOwned>(
    mut value: Value,
    mut errors: Vec<(Vec<Step>, String)>,
    mut unknown: BTreeSet<Vec<Step>>,
) -> Vec<(Vec<Step>, String)> {
    for (path, _) in &errors {
        json_path::remove(&mut value, path);
    }
    for _ in 0..MAX_ROUNDS {
        match read_once::<T>(&value, &mut unknown) {
            Ok(_) => break,
            Err((path, message)) => {
                // A field already said wrong (or inside one) comes back as missing once taken out.
                if !errors.iter().any(|(p, _)| p.starts_with(&path)) {
                    errors.push((path.clone(), message));
                }
                if !take_out(&mut value, &path) {
                    break;
                }
            }
        }
    }
    for path in unknown {
        if !errors.iter().any(|(p, _)| *p == path) {
            errors.push((path, "is not a field of this request".into()));
        }
    }
    errors
}

/// Takes out the field `path` points into, or the nearest enclosing field still there (a
/// required field taken out leaves its object unreadable). False when only the root is left.
fn take_out(value: &mut Value, path: &[Step]) -> bool {
    let mut target = json_path::field_of(path);
    while !target.is_empty() {
        if json_path::remove(value, &target) {
            return true;
        }
        target.pop();
        target = json_path::field_of(&target);
    }
    false
}

/// One attempt: the value read, or the first error's path and plain message. Unknown fields
/// met on the way are added to `unknown`.
fn read_once<T: DeserializeOwned>(value: &Value, unknown: &mut BTreeSet<Vec<Step>>) -> Result<T, (Vec<Step>, String)> {
    let mut note = |path: serde_ignored::Path| {
        unknown.insert(json_path::from_ignored(&path));
    };
    let ignored = serde_ignored::Deserializer::new(value, &mut note);
    serde_path_to_error::deserialize(ignored).map_err(|e| {
        let path = json_path::from_error_path(e.path());
        plain_words::explain(path, &e.into_inner().to_string())
    })
}

/// The keys of an envelope object that are not among `known`, each as a field error.
pub(crate) fn unknown_keys(obj: &serde_json::Map<String, Value>, known: &[&str]) -> Vec<FieldError> {
    obj.keys()
        .filter(|k| !known.contains(&k.as_str()))
        .map(|k| FieldError::new(json_path::render("", &[Step::Key(k.clone())]), "is not a field of this request"))
        .collect()
}

/// An envelope's optional request `id`: a string of 1–128 characters.
pub(crate) fn envelope_id(obj: &serde_json::Map<String, Value>) -> Result<Option<String>, Vec<FieldError>> {
    match obj.get("id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 128 => Ok(Some(s.clone())),
        Some(_) => Err(vec![FieldError::new("id", "must be a string of 1–128 characters")]),
    }
}

/// `parsed` when neither it nor the envelope had a problem, else all the problems.
pub(crate) fn with_envelope_errors<T>(
    parsed: Result<T, Vec<FieldError>>,
    mut envelope: Vec<FieldError>,
) -> Result<T, Vec<FieldError>> {
    match parsed {
        Ok(t) if envelope.is_empty() => Ok(t),
        Ok(_) => Err(envelope),
        Err(mut errors) => {
            errors.append(&mut envelope);
            Err(errors)
        }
    }
}

fn too_long_strings(value: &Value) -> Vec<(Vec<Step>, String)> {
    let mut found = Vec::new();
    json_path::walk_strings(value, &mut Vec::new(), &mut |path, s| {
        if s.len() > MAX_STRING_BYTES {
            found.push((path.to_vec(), format!("is {} bytes long; at most {MAX_STRING_BYTES} are accepted", s.len())));
        }
    });
    found
}

#[cfg(test)]
mod tests;
