//! slurmrestd over HTTP with a JWT (`X-SLURM-USER-NAME`, `X-SLURM-USER-TOKEN`).
//!
//! The token is read from its file on every call, so a rotated token is used at once, and it is
//! never kept in a field: nothing that prints this client can print the credential.

use std::path::PathBuf;

use serde_json::Value;

use crate::{SlurmError, version};

#[derive(Debug, Clone)]
pub struct RestClient {
    pub url: String,
    pub user: String,
    pub token_file: PathBuf,
    /// The OpenAPI plugin version in use, e.g. "v0.0.38".
    pub version: &'static str,
    /// Slurm's release, e.g. "22.05.8".
    pub release: Option<String>,
}

impl RestClient {
    /// Reaches slurmrestd, checks the credential and picks the plugin version.
    pub fn connect(url: &str, user: &str, token_file: PathBuf) -> Result<Self, SlurmError> {
        let mut client = Self {
            url: url.trim_end_matches('/').to_string(),
            user: user.to_string(),
            token_file,
            version: version::SPOKEN[0],
            release: None,
        };
        let doc = client.call("GET", "/openapi/v3", None)?;
        client.version = version::choose(&doc)?;
        let ping = client.get("ping")?;
        client.release = version::release(&ping);
        Ok(client)
    }

    /// `GET /slurm/<version>/<path>`.
    pub fn get(&self, path: &str) -> Result<Value, SlurmError> {
        self.call("GET", &self.slurm_path(path), None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value, SlurmError> {
        self.call("POST", &self.slurm_path(path), Some(body))
    }

    pub fn delete(&self, path: &str) -> Result<Value, SlurmError> {
        self.call("DELETE", &self.slurm_path(path), None)
    }

    fn slurm_path(&self, path: &str) -> String {
        format!("/slurm/{}/{}", self.version, path.trim_start_matches('/'))
    }

    fn token(&self) -> Result<String, SlurmError> {
        let text = std::fs::read_to_string(&self.token_file)
            .map_err(|e| SlurmError::Token { path: self.token_file.display().to_string(), cause: e.to_string() })?;
        Ok(text.trim().trim_start_matches("SLURM_JWT=").to_string())
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, SlurmError> {
        let url = format!("{}{path}", self.url);
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
        let token = self.token()?;
        let sent = match (method, body) {
            ("POST", Some(b)) => {
                with_auth(agent.post(&url), &self.user, &token).content_type("application/json").send(b.to_string())
            }
            ("DELETE", _) => with_auth(agent.delete(&url), &self.user, &token).call(),
            _ => with_auth(agent.get(&url), &self.user, &token).call(),
        };
        let mut res = sent.map_err(|e| SlurmError::Unreachable { url: self.url.clone(), cause: e.to_string() })?;
        let status = res.status().as_u16();
        let text = res.body_mut().read_to_string().unwrap_or_default();
        if status == 401 || status == 403 {
            return Err(SlurmError::Unauthorized { status });
        }
        let json: Value = serde_json::from_str(&text).map_err(|_| {
            SlurmError::Malformed(format!("HTTP {status}: {}", text.chars().take(200).collect::<String>()))
        })?;
        if let Some(said) = refusal(&json) {
            return Err(SlurmError::Refused(said));
        }
        if status >= 400 {
            return Err(SlurmError::Refused(format!("HTTP {status}")));
        }
        Ok(json)
    }
}

fn with_auth<B>(req: ureq::RequestBuilder<B>, user: &str, token: &str) -> ureq::RequestBuilder<B> {
    req.header("X-SLURM-USER-NAME", user).header("X-SLURM-USER-TOKEN", token)
}

/// Slurm's own words from the `errors` list of an answer, if it holds any.
pub fn refusal(answer: &Value) -> Option<String> {
    let errors = answer.get("errors")?.as_array()?;
    let said: Vec<String> = errors
        .iter()
        .filter_map(|e| {
            let text = ["error", "description"].iter().filter_map(|k| e.get(*k)?.as_str()).find(|s| !s.is_empty());
            text.map(str::to_string)
        })
        .collect();
    (!said.is_empty()).then(|| said.join("; "))
}
