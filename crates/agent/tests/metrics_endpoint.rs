//! The agent's `/metrics` over real sockets: open on loopback and accepted by promtool; off
//! loopback only over TLS with the agent's certificate, and only with its token.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use steward_agent::{AgentConfig, MetricsListen};
use steward_prometheus::promtool::promtool_check;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

struct Running {
    metrics: SocketAddr,
    token: String,
    fingerprint: Option<String>,
    _dir: tempfile::TempDir,
}

async fn start(plain_text: bool, metrics: &str) -> Result<Running, steward_agent::AgentError> {
    let dir = tempfile::tempdir().unwrap();
    let mut config = AgentConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().to_owned());
    config.plain_text = plain_text;
    config.sampler.gpus = false;
    config.metrics_listen = MetricsListen::Required(metrics.parse().unwrap());
    let bound = steward_agent::bind(config).await?;
    let r = Running {
        metrics: bound.metrics_addr.expect("asked for metrics"),
        token: bound.token.clone(),
        fingerprint: bound.fingerprint.clone(),
        _dir: dir,
    };
    tokio::spawn(bound.serve(std::future::pending()));
    Ok(r)
}

/// One HTTP/1.1 GET of `/metrics` over `io`: (status line, whole response).
async fn get(mut io: impl AsyncRead + AsyncWrite + Unpin, authorization: Option<&str>) -> (String, String) {
    let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    let req = format!("GET /metrics HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n");
    io.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = io.read_to_end(&mut out).await; // TLS peers may close without close_notify
    let text = String::from_utf8_lossy(&out).into_owned();
    (text.lines().next().unwrap_or_default().to_string(), text)
}

fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

#[tokio::test]
async fn loopback_metrics_are_open_carry_this_node_and_pass_promtool() {
    let a = start(true, "127.0.0.1:0").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let response = loop {
        let (status, response) = get(TcpStream::connect(a.metrics).await.unwrap(), None).await;
        assert!(status.contains("200"), "{response}");
        if body(&response).contains("steward_node_cpu_utilization_ratio") {
            break response;
        }
        assert!(Instant::now() < deadline, "no CPU utilisation within 15 s:\n{response}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let headers = response.to_ascii_lowercase();
    assert!(headers.contains("content-type: text/plain; version=0.0.4"), "{response}");
    let hostname = steward_telemetry::inventory(
        &steward_telemetry::SamplerConfig { root: "/".into(), ..Default::default() },
        false,
    )
    .hostname;
    let text = body(&response);
    assert!(text.contains(&format!("steward_node_cpu_utilization_ratio{{node=\"{hostname}\"}}")), "{text}");
    assert!(text.contains("steward_sampler_collector_runs_total{collector=\"cpu\"}"), "{text}");
    assert!(!text.contains("steward_node_gpu"), "GPUs were not collected:\n{text}");
    promtool_check(text).unwrap_or_else(|e| panic!("promtool check metrics: {e}\n{text}"));
}

#[tokio::test]
async fn off_loopback_metrics_need_tls_and_the_agents_token() {
    let refused = start(true, "0.0.0.0:0").await.err().expect("plain text off loopback is refused");
    assert!(refused.to_string().contains("without TLS"), "{refused}");

    let a = start(false, "0.0.0.0:0").await.unwrap();
    let loopback = SocketAddr::from(([127, 0, 0, 1], a.metrics.port()));
    let pin = a.fingerprint.clone().expect("a TLS agent has a fingerprint");
    let connector = TlsConnector::from(steward_agent::tls::pinned_client_config(&pin));
    let dial = || async {
        let tcp = TcpStream::connect(loopback).await.unwrap();
        connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await.unwrap()
    };

    let (status, response) = get(dial().await, None).await;
    assert!(status.contains("401"), "no token: {response}");
    assert!(body(&response).contains("token"), "the refusal says what is missing: {response}");
    let (status, _) = get(dial().await, Some("Bearer wrong-token-0123456789abcdef")).await;
    assert!(status.contains("401"), "a wrong token");
    let (status, response) = get(dial().await, Some(&format!("Bearer {}", a.token))).await;
    assert!(status.contains("200"), "{response}");
    assert!(body(&response).contains("steward_sampler_collector_runs_total"), "{response}");

    // Plain HTTP to the TLS port gets nothing.
    let (status, _) = get(TcpStream::connect(loopback).await.unwrap(), Some(&format!("Bearer {}", a.token))).await;
    assert!(!status.contains("200"), "plain HTTP must not be answered off loopback: {status}");
}
