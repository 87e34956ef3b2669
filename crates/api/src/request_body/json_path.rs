//! Paths into a JSON value: built from serde's error and ignored-field paths, rendered as
//! `a.b[2].c` for people, and used to take a wrong field out of the value.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Step {
    Key(String),
    Index(usize),
}

pub(super) fn from_error_path(path: &serde_path_to_error::Path) -> Vec<Step> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(Step::Index(*index)),
            Segment::Map { key } => Some(Step::Key(key.clone())),
            Segment::Enum { variant } => Some(Step::Key(variant.clone())),
            Segment::Unknown => None,
        })
        .collect()
}

pub(super) fn from_ignored(path: &serde_ignored::Path) -> Vec<Step> {
    use serde_ignored::Path;
    let (parent, step) = match path {
        Path::Root => return Vec::new(),
        Path::Seq { parent, index } => (parent, Some(Step::Index(*index))),
        Path::Map { parent, key } => (parent, Some(Step::Key(key.clone()))),
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => (parent, None),
    };
    let mut steps = from_ignored(parent);
    steps.extend(step);
    steps
}

/// Keys longer than this are cut when named: an error must not echo a megabyte back.
const SHOWN_KEY_CHARS: usize = 64;

/// `prefix.a.b[2]`, or `prefix` alone for the value itself.
pub(super) fn render(prefix: &str, path: &[Step]) -> String {
    let mut out = prefix.to_string();
    for step in path {
        match step {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.extend(k.chars().take(SHOWN_KEY_CHARS));
                if k.chars().nth(SHOWN_KEY_CHARS).is_some() {
                    out.push('…');
                }
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The field a path points into: up to its last key, so taking it out of a list's element
/// does not renumber the elements after it.
pub(super) fn field_of(path: &[Step]) -> Vec<Step> {
    let end = path.iter().rposition(|s| matches!(s, Step::Key(_))).map_or(0, |i| i + 1);
    path[..end].to_vec()
}

/// Takes out what `path` points at; false when there is nothing (or only the root) to take.
pub(super) fn remove(value: &mut Value, path: &[Step]) -> bool {
    let Some((last, parents)) = path.split_last() else { return false };
    let mut here = value;
    for step in parents {
        let next = match (step, here) {
            (Step::Key(k), Value::Object(map)) => map.get_mut(k),
            (Step::Index(i), Value::Array(items)) => items.get_mut(*i),
            _ => None,
        };
        let Some(next) = next else { return false };
        here = next;
    }
    match (last, here) {
        (Step::Key(k), Value::Object(map)) => map.remove(k).is_some(),
        (Step::Index(i), Value::Array(items)) if *i < items.len() => {
            items.remove(*i);
            true
        }
        _ => false,
    }
}

/// Calls `f` with the path and text of every string in `value`, keys included (at the key's path).
pub(super) fn walk_strings(value: &Value, path: &mut Vec<Step>, f: &mut impl FnMut(&[Step], &str)) {
    match value {
        Value::String(s) => f(path, s),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i));
                walk_strings(item, path, f);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                path.push(Step::Key(k.clone()));
                f(path, k);
                walk_strings(item, path, f);
                path.pop();
            }
        }
        _ => {}
    }
}
