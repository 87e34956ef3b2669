//! The one HTTP helper the subcommands that speak to a running Steward share.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::Value;

#[derive(Args)]
pub struct Target {
    /// The running Steward to ask.
    #[arg(long, env = "STEWARD_URL", default_value = "http://127.0.0.1:7878")]
    pub url: String,
    #[command(flatten)]
    pub access: Access,
}

/// Where the access token comes from: given, or read from the file `serve` created on this
/// machine.
#[derive(Args)]
pub struct Access {
    /// The access token of the running Steward (default: read from --token-file).
    #[arg(long, env = "STEWARD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The file `stewardctl serve` keeps its access token in (default:
    /// <platform data dir>/steward/serve-token).
    #[arg(long, env = "STEWARD_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
}

impl Access {
    pub fn token_file(&self) -> PathBuf {
        self.token_file.clone().unwrap_or_else(steward_server::serve_token::default_path)
    }

    /// The token to send: the given one, or the one in the token file.
    pub fn token(&self) -> Result<String> {
        match &self.token {
            Some(t) => Ok(t.trim().to_string()),
            None => Ok(steward_server::serve_token::read(&self.token_file())?),
        }
    }
}

/// How a list is printed.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Aligned columns for people.
    Table,
    /// The server's JSON answer, for scripts.
    Json,
}

/// The arguments of a `list` subcommand.
#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub target: Target,
    /// How to print the list.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// Same as `--output json` (kept for scripts written before `--output`).
    #[arg(long, hide = true)]
    pub json: bool,
}

impl ListArgs {
    pub fn wants_json(&self) -> bool {
        self.json || self.output == Output::Json
    }
}

/// `method` on `path` of the Steward at `target`: the status and the JSON answer (`null` when
/// empty). An error status becomes an error saying the server's message and every wrong field.
pub(crate) fn call(target: &Target, method: &str, path: &str, body: Option<Value>) -> Result<(u16, Value)> {
    let url = format!("{}{path}", target.url.trim_end_matches('/'));
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let reach = || format!("cannot reach Steward at {} (is `stewardctl serve` running?)", target.url);
    let bearer = format!("Bearer {}", target.access.token()?);
    let json = "application/json";
    let mut res = match (method, body) {
        ("POST", Some(b)) => agent.post(&url).header("authorization", &bearer).content_type(json).send(b.to_string()),
        ("PUT", Some(b)) => agent.put(&url).header("authorization", &bearer).content_type(json).send(b.to_string()),
        ("DELETE", _) => agent.delete(&url).header("authorization", &bearer).call(),
        _ => agent.get(&url).header("authorization", &bearer).call(),
    }
    .with_context(reach)?;
    let status = res.status().as_u16();
    let text = res.body_mut().read_to_string()?;
    let json = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    if status >= 400 {
        bail!("{} (HTTP {status})", describe_error(&json));
    }
    Ok((status, json))
}

/// The server's error (`{kind, message, fields?}`) as one line per wrong field.
fn describe_error(body: &Value) -> String {
    let message = body.get("message").and_then(Value::as_str).or(body.as_str()).unwrap_or("request failed");
    let fields = body.get("fields").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    if fields.is_empty() {
        return message.to_string();
    }
    let lines: Vec<String> = fields
        .iter()
        .map(|f| {
            let field = f["field"].as_str().unwrap_or_default();
            let said = f["message"].as_str().unwrap_or_default();
            if field.is_empty() { format!("  {said}") } else { format!("  {field}: {said}") }
        })
        .collect();
    format!("invalid request:\n{}", lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::describe_error;

    #[test]
    fn errors_are_said_field_by_field() {
        let body = json!({"kind": "invalid_request", "message": "invalid request: a: x; b: y",
            "fields": [{"field": "a", "message": "x"}, {"field": "b", "message": "y"}]});
        assert_eq!(describe_error(&body), "invalid request:\n  a: x\n  b: y");
        assert_eq!(describe_error(&json!({"kind": "not_found", "message": "no node"})), "no node");
        assert_eq!(describe_error(&json!("plain text")), "plain text");
    }
}
