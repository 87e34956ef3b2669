//! Sampler overhead against Prometheus node_exporter, both at 1 Hz, measured side by side.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use steward_api::{AdapterProbe, ApiConfig, Steward};

use super::proc_usage::{self, Usage};

#[derive(Args)]
pub struct SamplerBenchArgs {
    /// Length of the measured window, in seconds.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Warm-up before measuring (start-up and first full process scan are excluded).
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// node_exporter binary (Debian: prometheus-node-exporter).
    #[arg(long, default_value = "prometheus-node-exporter")]
    node_exporter: String,
}

#[derive(Args)]
pub struct WorkerArgs {
    /// The history database of the measured service.
    #[arg(long)]
    db: PathBuf,
}

/// Runs the real sampling service (1 Hz, processes on, history written) until killed.
pub fn worker(args: WorkerArgs) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let steward = Steward::start(ApiConfig {
        db_path: args.db,
        adapter_probe: AdapterProbe::this_executable(),
        ..ApiConfig::default()
    })?;
    // A subscriber keeps the sampler in its active (1 Hz) mode, as when a UI is open.
    let mut feed = steward.subscribe();
    runtime.block_on(async { while feed.next().await.is_some() {} });
    Ok(())
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn run(args: SamplerBenchArgs) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let exe = std::env::current_exe()?;
    let steward = Killed(
        Command::new(exe)
            .args(["bench", "sampler-worker", "--db"])
            .arg(dir.path().join("bench.db"))
            .stdout(Stdio::null())
            .spawn()
            .context("cannot start the sampler worker")?,
    );
    let port = free_port()?;
    let exporter_addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let exporter = Killed(
        Command::new(&args.node_exporter)
            .arg(format!("--web.listen-address={exporter_addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| {
                format!("cannot start {} (Debian: apt-get install prometheus-node-exporter)", args.node_exporter)
            })?,
    );

    let total = args.warmup + args.seconds;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{msg:12} [{bar:40.cyan/blue}] {pos}/{len} s").expect("valid template"),
    );
    bar.set_message("warming up");
    let started = Instant::now();
    let mut before: Option<(Usage, Usage, Instant)> = None;
    let mut scrapes = 0u32;
    for second in 0..total {
        if second == args.warmup {
            before = Some((proc_usage::read(steward.0.id())?, proc_usage::read(exporter.0.id())?, Instant::now()));
            bar.set_message("measuring");
        }
        // Scrape node_exporter as Prometheus would, once a second.
        if scrape(exporter_addr).is_ok() {
            scrapes += 1;
        }
        let next = started + Duration::from_secs(second + 1);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let (s0, e0, t0) = before.context("no measurement window")?;
    let (s1, e1) = (proc_usage::read(steward.0.id())?, proc_usage::read(exporter.0.id())?);
    let wall = t0.elapsed().as_secs_f64();
    if scrapes < args.seconds as u32 / 2 {
        bail!("node_exporter answered only {scrapes} scrapes; the comparison would be meaningless");
    }
    let pct = |a: Usage, b: Usage| 100.0 * (b.cpu_s - a.cpu_s) / wall;
    let (steward_pct, exporter_pct) = (pct(s0, s1), pct(e0, e1));
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!("sampler benchmark: {:.0} s at 1 Hz, processes on, history written", wall);
    println!("  {:<28} {:>10} {:>10} {:>10}", "", "CPU % core", "RSS MiB", "peak MiB");
    println!(
        "  {:<28} {:>10.3} {:>10.1} {:>10.1}",
        "steward sampler",
        steward_pct,
        mib(s1.rss_bytes),
        mib(s1.rss_peak_bytes)
    );
    println!(
        "  {:<28} {:>10.3} {:>10.1} {:>10.1}",
        "node_exporter (1 Hz scrape)",
        exporter_pct,
        mib(e1.rss_bytes),
        mib(e1.rss_peak_bytes)
    );
    if exporter_pct > 0.0 {
        println!("  ratio steward/node_exporter CPU: {:.3}×", steward_pct / exporter_pct);
    }
    println!("  goals: ≤ 0.3 % of a core, ≤ 20 MB RSS, ≤ 0.25× node_exporter's CPU");
    Ok(())
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn scrape(addr: SocketAddr) -> Result<usize> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    write!(stream, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut body = Vec::new();
    stream.read_to_end(&mut body)?;
    if !body.starts_with(b"HTTP/1.") || !body.windows(4).any(|w| w == b" 200") {
        bail!("node_exporter did not answer 200");
    }
    Ok(body.len())
}
