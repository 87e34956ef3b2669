//! The consolidation suggestion in the system profile, from stored per-node history: a real
//! agent on loopback is added beside this machine, a day of one-minute history says it carries
//! little work, and the report suggests moving that work onto this machine to free it — until
//! the history is too short, when it says nothing.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use steward_agent::AgentConfig;
use steward_api::{AdapterProbe, AddNode, ApiConfig, NodeHealth, ProfileRequest, Steward};
use steward_core::profile::advisor::SuggestionKind;
use steward_core::profile::{ProfileResult, ProfilingType};
use steward_core::series::{SeriesValue, node_series};
use steward_store::Store;

const GIB: f64 = (1u64 << 30) as f64;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// `minutes` of one-minute history ending two minutes ago: CPU % and memory bytes, flat.
fn write_history(db: &std::path::Path, prefix: impl Fn(&str) -> String, minutes: i64, cpu: f64, mem: f64) {
    let mut store = Store::open(db).unwrap();
    let end = now_ms() - 120_000;
    let batch: Vec<(i64, Vec<SeriesValue>)> = (0..minutes)
        .map(|i| {
            (
                end - (minutes - i) * 60_000,
                vec![
                    SeriesValue { series: prefix("cpu.total"), value: cpu },
                    SeriesValue { series: prefix("mem.used"), value: mem },
                ],
            )
        })
        .collect();
    store.insert_batch(batch.iter().map(|(t, v)| (*t, v.as_slice()))).unwrap();
}

/// The consolidation suggestions, and the checks the advisor could not make (with why).
fn consolidations(s: &Steward) -> (Vec<steward_core::profile::advisor::Suggestion>, Vec<String>) {
    let req =
        ProfileRequest { id: None, profiling_type: ProfilingType::System, module_name: None, horizon_minutes: None };
    let ProfileResult::System(p) = s.profile(req).unwrap().result else { panic!("not a system profile") };
    (p.optimization_suggestions.into_iter().filter(|s| s.kind == SuggestionKind::Consolidate).collect(), p.not_judged)
}

async fn run(minutes: i64) -> (Vec<steward_core::profile::advisor::Suggestion>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let config = AgentConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().join("agent"));
    let bound =
        std::thread::scope(|sc| sc.spawn(|| runtime.block_on(steward_agent::bind(config))).join().unwrap()).unwrap();
    let (address, token, fingerprint) = (bound.addr.to_string(), bound.token.clone(), bound.fingerprint.clone());
    runtime.spawn(bound.serve(std::future::pending()));

    // This machine busy at 30 % and 2 GiB; the agent's node at 5 % and 1 GiB.
    write_history(&db, ToString::to_string, minutes, 30.0, 2.0 * GIB);
    write_history(&db, |s| node_series(&address, s), minutes, 5.0, GIB);
    let s =
        Steward::start(ApiConfig { db_path: db, adapter_probe: AdapterProbe::Skip, ..ApiConfig::default() }).unwrap();
    s.add_node(AddNode { address: address.clone(), token, fingerprint }).await.unwrap();
    let start = Instant::now();
    while !s.nodes().iter().any(|n| n.id == address && n.state == NodeHealth::Up && n.inventory.is_some()) {
        assert!(start.elapsed() < Duration::from_secs(10), "the agent never came up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let s2 = s.clone();
    let found = tokio::task::spawn_blocking(move || consolidations(&s2)).await.unwrap();
    runtime.shutdown_background();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_little_used_node_is_suggested_free_from_a_day_of_its_history() {
    let (found, not_judged) = run(24 * 60).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(not_judged.is_empty(), "{not_judged:?}");
    let s = &found[0];
    assert!(
        s.title.starts_with("Consolidate: move the work of ")
            && s.title.contains("onto")
            && s.title.contains("(this machine)"),
        "{}",
        s.title
    );
    assert!(
        s.estimated_effect.contains("power unknown") || s.estimated_effect.contains("W measured"),
        "{}",
        s.estimated_effect
    );
    let evidence: Vec<(&str, f64)> = s.evidence.iter().map(|e| (e.metric.as_str(), e.value)).collect();
    assert!(evidence[0].0.ends_with("cpu.total p95") && (4.9..=5.5).contains(&evidence[0].1), "{evidence:?}");
    assert!(evidence[2].0.contains("(this machine) cpu.total p95"), "{evidence:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hours_of_history_suggest_nothing_and_say_why() {
    let (found, not_judged) = run(180).await;
    assert_eq!(found, vec![]);
    assert_eq!(not_judged.len(), 1, "{not_judged:?}");
    assert!(
        not_judged[0].starts_with("consolidation needs 20.0 h of usage history per node")
            && not_judged[0].contains(" h"),
        "{not_judged:?}"
    );
}
