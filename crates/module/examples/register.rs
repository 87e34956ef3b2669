//! The smallest module: registers, reports a counter of work done, and follows directives by
//! printing and acknowledging them, until Ctrl-C.
//!
//! ```sh
//! cargo run -p steward-module --example register -- \
//!     ~/.local/share/steward/modules.sock ~/.local/share/steward/serve-token
//! ```

use std::time::Duration;

use steward_module::{Ack, Criticality, QualityLevel, Registration, Target, UsageReport};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(socket), Some(token_file)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: register <module socket> <token file>");
    };
    let token = std::fs::read_to_string(token_file)?.trim().to_string();
    let registration = Registration {
        name: "example".into(),
        role: "reasoning".into(),
        criticality: Criticality::Sheddable,
        features: vec![],
        quality_levels: vec![QualityLevel {
            level: 0,
            label: "full".into(),
            cpu_millis: None,
            memory_bytes: None,
            gpu_memory_bytes: None,
        }],
        minimal_level: 0,
        pids: vec![std::process::id()],
        report_interval_ms: 1000,
    };
    let (mut conn, mut directives) = steward_module::start(Target::Unix(socket.into()), token, registration);
    println!("registered on node {}", conn.registered().await);
    let mut done = 0u64;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                done += 1;
                conn.report(UsageReport {
                    cpu_millis: None,
                    memory_bytes: None,
                    gpu_memory_bytes: None,
                    healthy: true,
                    quality_level: 0,
                    features_on: vec![],
                    goodput_total: Some(done),
                    latency_ms: None,
                });
            }
            Some(order) = directives.recv() => {
                println!("directive {}: {:?} ({})", order.id, order.directive, order.reason);
                conn.ack(order.id, Ack::Applied);
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    conn.deregister().await;
    Ok(())
}
