//! The profiler names the process saturating a real link: a veth pair into a network namespace
//! (10 Gb/s as the kernel reports it), a real sender pushing TCP bytes through it beside a real
//! `stewardctl serve`, and the network finding on the host's end of the pair naming the sender
//! by PID from its sockets' byte counters (sock_diag), with a suggestion to cap it — then no
//! longer, once it has stopped.
//!
//! Needs root (network namespaces); elsewhere it says so and does nothing.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use steward_system_tests::{Server, wait_for};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A namespace holding one end of a veth pair; the other end stays here. Deleting the
/// namespace deletes the pair.
struct Netns {
    name: String,
    host_if: String,
    peer_addr: String,
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip (iproute2)");
    assert!(out.status.success(), "ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
}

fn netns() -> Netns {
    let id = std::process::id();
    let (subnet, name) = (id % 200 + 20, format!("steward-test-{id}"));
    let ns = Netns { name, host_if: format!("stw{id}h"), peer_addr: format!("10.213.{subnet}.2") };
    let peer_if = format!("stw{id}p");
    ip(&["netns", "add", &ns.name]);
    ip(&["link", "add", &ns.host_if, "type", "veth", "peer", "name", &peer_if]);
    ip(&["link", "set", &peer_if, "netns", &ns.name]);
    ip(&["addr", "add", &format!("10.213.{subnet}.1/24"), "dev", &ns.host_if]);
    ip(&["link", "set", &ns.host_if, "up"]);
    ip(&["-n", &ns.name, "addr", "add", &format!("{}/24", ns.peer_addr), "dev", &peer_if]);
    ip(&["-n", &ns.name, "link", "set", &peer_if, "up"]);
    ns
}

fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|u| u.split_whitespace().next())
        .is_some_and(|u| u == "0")
}

/// `perl -e script`, run through `prefix` (e.g. `ip netns exec <ns>`).
fn perl(prefix: &[&str], script: &str) -> Killed {
    let argv: Vec<&str> = prefix.iter().copied().chain(["perl", "-e", script]).collect();
    let child = Command::new(argv[0]).args(&argv[1..]).stdout(Stdio::null()).stderr(Stdio::null()).spawn();
    Killed(child.expect("perl"))
}

fn network_findings(server: &Server) -> Vec<Value> {
    let (status, body) = server.post("/resources/profile", r#"{"profiling_type":"system"}"#).unwrap();
    assert_eq!(status, 200, "{body}");
    let all = body["result"]["bottlenecks"].as_array().cloned().unwrap_or_default();
    all.into_iter().filter(|f| f["resource"] == "network").collect()
}

fn names(f: &Value, pid: u32) -> bool {
    f["culprits"].as_array().is_some_and(|c| c.iter().any(|c| c["pid"].as_u64() == Some(u64::from(pid))))
}

#[test]
fn the_sender_saturating_a_link_is_named_then_forgotten() {
    if !is_root() {
        eprintln!("skipped: network namespaces need root");
        return;
    }
    let ns = netns();
    let dir = tempfile::tempdir().unwrap();
    // 20 % of 10 Gb/s is 250 MB/s: a sender on loopback-class veth moves several times that.
    let config = dir.path().join("steward.toml");
    std::fs::write(&config, "[profile]\nwindow_ms = 20000\n[profile.thresholds]\nnet_util_pct = 20\nmin_samples = 2\nclear_after_ms = 10000\n").unwrap();
    let server = Server::start_with(&dir.path().join("s.db"), &["--config".as_ref(), config.as_os_str()]).unwrap();

    let receiver = perl(
        &["ip", "netns", "exec", &ns.name],
        &format!(
            "use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalAddr => '{}:5599', Listen => 1, ReuseAddr => 1) or die; my $c = $s->accept; my $b; 1 while sysread($c, $b, 1 << 20)",
            ns.peer_addr
        ),
    );
    let connect = format!(
        "use IO::Socket::INET; my $c; for (1..100) {{ $c = IO::Socket::INET->new(PeerAddr => '{}:5599') and last; select(undef, undef, undef, 0.05) }} die unless $c; my $b = \"\\0\" x (1 << 20); 1 while syswrite($c, $b)",
        ns.peer_addr
    );
    let sender = perl(&[], &connect);
    let sender_pid = sender.0.id();

    let key = format!("net.{}", ns.host_if);
    // Owners of new busy sockets are looked up once per process rescan (a minute when idle).
    let named = wait_for(Duration::from_secs(150), || {
        network_findings(&server).into_iter().find(|f| f["key"] == key.as_str() && names(f, sender_pid))
    });
    let finding = named.unwrap_or_else(|| {
        panic!("{key} does not name PID {sender_pid}; network findings: {:#?}", network_findings(&server))
    });
    assert_eq!(
        finding["culprits"][0]["pid"].as_u64(),
        Some(u64::from(sender_pid)),
        "the sender moves the bytes: {finding:#}"
    );
    assert!(finding["summary"].as_str().unwrap().contains(&format!("PID {sender_pid}")), "{finding:#}");
    let evidence = finding["evidence"].as_array().unwrap();
    assert!(evidence.iter().any(|e| e["metric"].as_str().unwrap().contains("tx of 10000 Mb/s")), "{finding:#}");

    // The advisor turns it into a suggestion about the sender, with the finding's evidence.
    let (_, body) = server.post("/resources/profile", r#"{"profiling_type":"system"}"#).unwrap();
    let suggestions = body["result"]["optimization_suggestions"].as_array().cloned().unwrap_or_default();
    let about_sender = suggestions
        .iter()
        .find(|s| s["source"] == key.as_str() && s["title"].as_str().unwrap().contains(&format!("PID {sender_pid}")));
    assert!(
        about_sender.is_some_and(|s| s["kind"] == "limit_culprit" && !s["evidence"].as_array().unwrap().is_empty()),
        "{suggestions:#?}"
    );

    drop(sender);
    drop(receiver);
    let gone = wait_for(Duration::from_secs(90), || {
        (!network_findings(&server).iter().any(|f| names(f, sender_pid))).then_some(())
    });
    assert!(gone.is_some(), "findings still name the stopped sender: {:#?}", network_findings(&server));
}
