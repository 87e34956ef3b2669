//! What the commands answer on failure: the one error shape both front doors share
//! (`{kind, message, fields?}`), so the UI shows the same errors whichever backend it runs on.

use serde::de::DeserializeOwned;
use steward_api::ErrorBody;

pub type Answer<T> = Result<T, ErrorBody>;

/// A command's JSON argument read as the HTTP front door reads a body: every wrong field named,
/// unknown ones included (Tauri's own reading would ignore them and stop at the first error).
pub fn arg<T: DeserializeOwned>(value: &serde_json::Value) -> Answer<T> {
    steward_api::from_value("", value).map_err(ErrorBody::invalid_fields)
}
