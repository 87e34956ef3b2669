//! Helpers for system tests: start Steward binaries as real processes and talk to them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// A binary of this workspace, built by `cargo build --workspace` next to the test executable.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let path = exe.parent().and_then(Path::parent).expect("target dir").join(name);
    assert!(path.is_file(), "{} is not built: run `cargo build --workspace` first", path.display());
    // `cargo test -p steward-system-tests` does not rebuild the binaries: a stale one would test
    // old code and pass or fail for the wrong reason.
    let built = std::fs::metadata(&path).and_then(|m| m.modified()).expect("binary mtime");
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    // The crates each binary is built from (`stewardctl`: all of them).
    let sources: Vec<PathBuf> = match name {
        "stewardd" => ["agent", "telemetry", "core", "proto", "prometheus"].iter().map(|c| crates.join(c)).collect(),
        "steward-example-module" => {
            ["example-module", "module", "core", "proto"].iter().map(|c| crates.join(c)).collect()
        }
        _ => vec![crates],
    };
    if let Some(newer) = sources.iter().find_map(|dir| newer_source(dir, built)) {
        panic!("{} is older than {}: run `cargo build --workspace` first", path.display(), newer.display());
    }
    path
}

/// A Rust source or proto file under `dir` changed after `time`.
fn newer_source(dir: &Path, time: std::time::SystemTime) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(p) = newer_source(&path, time) {
                return Some(p);
            }
        } else if path.extension().is_some_and(|e| e == "rs" || e == "proto")
            && entry.metadata().and_then(|m| m.modified()).is_ok_and(|m| m > time)
        {
            return Some(path);
        }
    }
    None
}

/// A running `stewardctl serve`; killed (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:<port>`, without the token.
    pub url: String,
    pub host: String,
    /// The access token, read from the URL `serve` printed.
    pub token: String,
    /// The token file `serve` was started with (beside the database).
    pub token_file: PathBuf,
}

/// The token file a test server on `db` uses: beside the database, so tests never touch the
/// user's own.
pub fn token_file_for(db: &Path) -> PathBuf {
    db.with_file_name("serve-token")
}

impl Server {
    /// Starts `stewardctl serve` on a free loopback port with `db`, and waits for its URL line.
    pub fn start(db: &Path) -> Result<Server> {
        Server::start_with(db, &[])
    }

    /// Like [`Server::start`], with more `serve` arguments (e.g. `--config <file>`).
    pub fn start_with(db: &Path, extra: &[&std::ffi::OsStr]) -> Result<Server> {
        let token_file = token_file_for(db);
        let mut child = Command::new(binary("stewardctl"))
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(db)
            .arg("--token-file")
            .arg(&token_file)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().context("stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(i) = line.find("http://") {
                    let _ = tx.send(line[i..].to_string());
                }
            }
        });
        let Ok(printed) = rx.recv_timeout(Duration::from_secs(30)) else {
            let _ = child.kill();
            let out = child.wait_with_output()?;
            bail!("stewardctl serve did not start: {}", String::from_utf8_lossy(&out.stderr));
        };
        let (url, token) = printed.split_once("/?token=").context("the printed URL carries no token")?;
        let host = url.trim_start_matches("http://").to_string();
        Ok(Server { child, url: url.to_string(), host, token: token.trim().to_string(), token_file })
    }

    /// `Authorization: Bearer <token>`, as every request needs.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// GET a JSON route (with the right Host header, as a browser on this machine would send).
    pub fn get(&self, path: &str) -> Result<(u16, serde_json::Value)> {
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
        let mut res = agent.get(format!("{}{path}", self.url)).header("authorization", &self.bearer()).call()?;
        let status = res.status().as_u16();
        let body = res.body_mut().read_to_string()?;
        Ok((status, serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body))))
    }

    pub fn post(&self, path: &str, body: &str) -> Result<(u16, serde_json::Value)> {
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
        let mut res = agent
            .post(format!("{}{path}", self.url))
            .header("authorization", &self.bearer())
            .content_type("application/json")
            .send(body)?;
        let status = res.status().as_u16();
        let text = res.body_mut().read_to_string()?;
        Ok((status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))))
    }

    pub fn kill9(mut self) -> Result<()> {
        self.child.kill()?; // SIGKILL on Unix
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `stewardctl serve` on `db` expecting it to refuse to start; returns what it said.
pub fn serve_refusal(db: &Path) -> String {
    let out = Command::new(binary("stewardctl"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .arg("--token-file")
        .arg(token_file_for(db))
        .output()
        .expect("run stewardctl");
    assert!(!out.status.success(), "stewardctl serve started on {}", db.display());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Polls `probe` until it returns `Some`, up to `timeout`.
pub fn wait_for<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if let Some(v) = probe() {
            return Some(v);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

/// A `stewardd` child on a free loopback port (TLS unless `--no-tls` is passed in `extra`);
/// continued and killed when dropped.
pub struct Agent {
    pub child: Child,
    pub address: String,
    pub token: String,
    /// `None` for a plain-text agent.
    pub fingerprint: Option<String>,
    /// Where it serves `/metrics` (`http://…/metrics`), as it printed; `None` when it serves none.
    pub metrics_url: Option<String>,
}

impl Agent {
    /// Starts `stewardd --token <token> --state-dir <state> <extra>` and reads what it prints.
    pub fn start(state: &Path, token: &str, extra: &[&str]) -> Result<Agent> {
        Agent::start_with_env(state, token, extra, &[])
    }

    /// Like [`Agent::start`], with environment variables (e.g. the fake NVML's, see
    /// [`fake_nvml_env`]).
    pub fn start_with_env(state: &Path, token: &str, extra: &[&str], env: &[(String, String)]) -> Result<Agent> {
        let mut child = Command::new(binary("stewardd"))
            .args(["--listen", "127.0.0.1:0", "--no-adapters", "--token", token, "--state-dir"])
            .arg(state)
            .args(extra)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let (mut address, mut fingerprint, mut metrics_url) = (None, None, None);
        for line in lines.by_ref() {
            let line = line?;
            if let Some(a) = line.strip_prefix("stewardd listening on ") {
                address = Some(a.trim().to_string());
            }
            if let Some(f) = line.strip_prefix("fingerprint: ") {
                fingerprint = Some(f.trim().to_string());
            }
            // The last line it prints at start.
            if let Some(m) = line.strip_prefix("metrics: ") {
                metrics_url = m.split_whitespace().next().filter(|u| u.starts_with("http")).map(str::to_string);
                break;
            }
        }
        // Keep reading: a closed pipe would end the agent at its next line.
        std::thread::spawn(move || lines.for_each(drop));
        let fingerprint = fingerprint.context("stewardd printed no fingerprint line")?;
        Ok(Agent {
            child,
            address: address.context("stewardd printed no address")?,
            token: token.to_string(),
            fingerprint: fingerprint.starts_with("sha256:").then_some(fingerprint),
            metrics_url,
        })
    }

    /// Sends `sig` (e.g. `STOP`, `CONT`, `KILL`) to the agent.
    pub fn signal(&self, sig: &str) {
        let status =
            Command::new("kill").arg(format!("-{sig}")).arg(self.child.id().to_string()).status().expect("kill");
        assert!(status.success(), "kill -{sig} failed");
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-CONT", &self.child.id().to_string()]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds the fake `libnvidia-ml.so.1` into `dir` (crates/telemetry/tests/fake_nvml/build.sh)
/// and returns the environment that makes a Steward process load it with `gpus` GPUs.
pub fn fake_nvml_env(dir: &Path, gpus: u32) -> Result<Vec<(String, String)>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/telemetry/tests/fake_nvml/build.sh");
    let out = Command::new("sh").arg(script).arg(dir).output()?;
    if !out.status.success() {
        bail!("building the fake NVML failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let lib = String::from_utf8(out.stdout)?.lines().last().context("build.sh printed no path")?.to_string();
    Ok(vec![("STEWARD_NVML_LIB".into(), lib), ("FAKE_NVML_GPU_COUNT".into(), gpus.to_string())])
}
