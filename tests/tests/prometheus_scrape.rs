//! A real Prometheus scrapes both `/metrics` endpoints — the control center's with its token
//! from a credentials file, the agent's on loopback — and a PromQL query through its HTTP API
//! returns this machine's CPU from each.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;
use steward_system_tests::{Agent, Server};

/// Kills the Prometheus server when the test ends, however it ends.
struct Prometheus {
    child: Child,
    url: String,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_prometheus(dir: &Path, server: &Server, agent_metrics: &str) -> Result<Prometheus> {
    let agent_target = agent_metrics.trim_start_matches("http://").trim_end_matches("/metrics");
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
         scrape_configs:\n\
         \x20 - job_name: steward\n\
         \x20   authorization:\n\
         \x20     credentials_file: {token}\n\
         \x20   static_configs:\n\
         \x20     - targets: ['{serve}']\n\
         \x20 - job_name: stewardd\n\
         \x20   static_configs:\n\
         \x20     - targets: ['{agent_target}']\n",
        token = server.token_file.display(),
        serve = server.host,
    );
    let config_file = dir.join("prometheus.yml");
    std::fs::write(&config_file, config)?;
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config_file.display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("tsdb").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot run prometheus: install the Debian package `prometheus`")?;
    Ok(Prometheus { child, url: format!("http://127.0.0.1:{port}") })
}

/// The result vector of an instant PromQL query (empty while Prometheus is not up yet).
fn query(prometheus: &Prometheus, promql: &str) -> Vec<Value> {
    let url = format!("{}/api/v1/query", prometheus.url);
    let Ok(mut res) = ureq::get(&url).query("query", promql).call() else { return Vec::new() };
    let body: Value = res.body_mut().read_json().unwrap_or(Value::Null);
    body["data"]["result"].as_array().cloned().unwrap_or_default()
}

/// Waits until each job has been scraped successfully at least twice.
fn wait_for_two_scrapes(prometheus: &Prometheus) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let scraped = |job: &str| {
            query(prometheus, &format!("sum_over_time(up{{job=\"{job}\"}}[1m])"))
                .first()
                .and_then(|r| r["value"][1].as_str()?.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let (serve, agent) = (scraped("steward"), scraped("stewardd"));
        if serve >= 2.0 && agent >= 2.0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            let up = query(prometheus, "up");
            bail!(
                "two successful scrapes of each job did not happen in 60 s: serve {serve}, agent {agent}; up = {up:?}"
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn prometheus_scrapes_both_endpoints_and_promql_returns_this_nodes_cpu() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("steward.db"))?;
    let agent = Agent::start(
        &dir.path().join("agent"),
        "prometheus-test-token-0123456789abcdef",
        &["--metrics-listen", "127.0.0.1:0"],
    )?;
    let agent_metrics = agent.metrics_url.clone().context("stewardd printed no metrics URL")?;
    let prometheus = start_prometheus(dir.path(), &server, &agent_metrics)?;
    wait_for_two_scrapes(&prometheus)?;

    let cpu = query(&prometheus, "steward_node_cpu_utilization_ratio");
    let from = |job: &str| cpu.iter().find(|r| r["metric"]["job"] == job).cloned();
    let serve = from("steward").with_context(|| format!("no CPU from the control center: {cpu:?}"))?;
    assert_eq!(serve["metric"]["node"], "local", "{serve}");
    let node = from("stewardd").with_context(|| format!("no CPU from the agent: {cpu:?}"))?;
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")?;
    assert_eq!(node["metric"]["node"], hostname.trim(), "{node}");
    for r in [&serve, &node] {
        let v: f64 = r["value"][1].as_str().context("a sample value")?.parse()?;
        assert!((0.0..=1.0).contains(&v), "a ratio: {r}");
    }
    Ok(())
}
