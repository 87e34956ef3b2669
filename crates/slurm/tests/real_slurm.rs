//! Steward's Slurm client against a real single-node Slurm (munged, slurmctld, slurmd and
//! slurmrestd with JWT) started by scripts/slurm/up.sh in a temporary directory.
//!
//! Needs root and Debian's slurm-wlm, slurmrestd, slurm-wlm-jwt-plugin and munge. Where they are
//! missing the test says so and passes, unless STEWARD_REQUIRE_SLURM=1 (scripts/test sets it
//! after installing them), where it fails.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use steward_slurm::local_cluster::{self, LocalCluster};
use steward_slurm::submit::JobRequest;
use steward_slurm::{ReservationSettings, SlurmClient, SlurmError};

fn start(dir: &Path) -> Option<LocalCluster> {
    if let Err(why) = local_cluster::available() {
        assert!(std::env::var("STEWARD_REQUIRE_SLURM").is_err(), "Slurm is required here: {why}");
        eprintln!("skipped: {why}");
        return None;
    }
    Some(LocalCluster::start(dir).expect("a local Slurm starts"))
}

fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn job(name: &str, partition: &str, script: &str, work: &Path) -> JobRequest {
    JobRequest {
        name: name.into(),
        partition: Some(partition.into()),
        cpus: 2,
        working_dir: work.display().to_string(),
        environment: BTreeMap::from([("PATH".into(), "/usr/bin:/bin".into())]),
        requeue: true,
        script: format!("#!/bin/sh\n{script}\n"),
        ..Default::default()
    }
}

#[test]
fn the_client_drives_a_real_slurm() {
    let dir = tempfile::tempdir().unwrap();
    let Some(cluster) = start(dir.path()) else { return };
    let slurm = cluster.client().expect("slurmrestd reachable with the JWT");
    // Jobs run as the Slurm user: give them a directory they can write.
    let work = cluster.dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    Command::new("chmod").arg("0777").arg(&work).status().unwrap();

    reads_nodes_and_partitions(&slurm);
    the_cli_fallback_reads_the_same(&slurm);
    a_higher_partition_preempts_and_requeues(&slurm, &work);
    reservations_are_created_moved_refused_and_deleted(&slurm);
    an_allocation_becomes_a_holding_job(&slurm, &work);
    an_array_runs_every_element_exactly_once(&slurm, &work);
    a_node_is_drained_and_resumed(&slurm);
    let check = slurm.check();
    assert_eq!(check.openapi_version.as_deref(), Some("v0.0.38"));
    assert!(check.slurm_release.as_deref().is_some_and(|r| r.starts_with("22.05")));
    assert!(!format!("{check:?}{slurm:?}").contains(&std::fs::read_to_string(cluster.var("SLURM_JWT_FILE")).unwrap()));
}

fn reads_nodes_and_partitions(slurm: &SlurmClient) {
    let nodes = slurm.nodes().unwrap();
    assert_eq!(nodes.len(), 1);
    let n = &nodes[0];
    assert_eq!(n.gpus, Some(2), "GRES GPUs read: {n:?}");
    assert!(n.cpus.is_some_and(|c| c >= 1) && n.real_memory_mb.is_some());
    let parts = slurm.partitions().unwrap();
    let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["low", "high"]);
    assert!(parts[0].default && parts[1].priority_tier > parts[0].priority_tier);
}

fn the_cli_fallback_reads_the_same(slurm: &SlurmClient) {
    let cli_only = SlurmClient { rest: None, cli: slurm.cli.clone() };
    let (a, b) = (slurm.nodes().unwrap(), cli_only.nodes().unwrap());
    assert_eq!(
        a.iter().map(|n| (&n.name, n.gpus, n.cpus)).collect::<Vec<_>>(),
        b.iter().map(|n| (&n.name, n.gpus, n.cpus)).collect::<Vec<_>>()
    );
    let names =
        |p: Vec<steward_slurm::model::Partition>| p.into_iter().map(|p| (p.name, p.priority_tier)).collect::<Vec<_>>();
    assert_eq!(names(slurm.partitions().unwrap()), names(cli_only.partitions().unwrap()));
    assert_eq!(slurm.jobs().unwrap().len(), cli_only.jobs().unwrap().len());
    assert!(matches!(cli_only.submit(&JobRequest::default()), Err(SlurmError::Refused(_))), "no silent no-op");
}

fn a_higher_partition_preempts_and_requeues(slurm: &SlurmClient, work: &Path) {
    let low = slurm.submit(&job("low", "low", "sleep 60", work)).unwrap();
    wait_for("the low job to run", 30, || {
        slurm.jobs().unwrap().into_iter().find(|j| j.job_id == low && j.state.contains(&"running".into()))
    });
    let before = slurm.jobs().unwrap();
    let high = slurm.submit(&job("high", "high", "sleep 2", work)).unwrap();
    let after = wait_for("the low job to be requeued", 60, || {
        let jobs = slurm.jobs().unwrap();
        jobs.iter().any(|j| j.job_id == low && j.restarts >= 1).then_some(jobs)
    });
    let events = steward_slurm::events::between(&before, &after, 0);
    let subject = format!("slurm-{low}");
    assert!(events.iter().any(|e| e.kind == "requeue" && e.subject == subject), "{events:?}");
    let requeued = after.iter().find(|j| j.job_id == low).unwrap();
    let shown = steward_slurm::mapping::allocation(requeued, None, 0);
    assert_eq!(shown.preemptions, 1, "the queue view counts Slurm's preemption");
    wait_for("the high job to finish", 60, || {
        slurm.jobs().unwrap().into_iter().find(|j| j.job_id == high && j.state.contains(&"completed".into()))
    });
    slurm.cancel(low).unwrap();
}

fn reservations_are_created_moved_refused_and_deleted(slurm: &SlurmClient) {
    let hour = 3600;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let mut r = ReservationSettings {
        name: "steward-test".into(),
        start: now + 2 * hour,
        end: now + 3 * hour,
        nodes: "ALL".into(),
        users: vec!["steward-slurm".into()],
        flags: vec!["IGNORE_JOBS".into()],
        ..Default::default()
    };
    slurm.create_reservation(&r).unwrap();
    let got = slurm.reservations().unwrap().into_iter().find(|x| x.name == r.name).unwrap();
    assert_eq!((got.start_time, got.end_time), (Some(r.start), Some(r.end)));
    r.start += hour;
    r.end += hour;
    slurm.update_reservation(&r).unwrap();
    let moved = slurm.reservations().unwrap().into_iter().find(|x| x.name == r.name).unwrap();
    assert_eq!(moved.start_time, Some(r.start), "the move reached Slurm");
    let one = slurm.reservation(&r.name).unwrap().expect("asked for by name");
    assert_eq!((one.name.as_str(), one.start_time), (r.name.as_str(), Some(r.start)));
    assert!(slurm.reservation("steward-no-such").unwrap().is_none(), "an unknown name is none, not an error");
    let cli_only = SlurmClient { rest: None, cli: slurm.cli.clone() };
    assert_eq!(cli_only.reservation(&r.name).unwrap().map(|x| x.start_time), Some(Some(r.start)));
    assert!(cli_only.reservation("steward-no-such").unwrap().is_none());
    let overlap = ReservationSettings { name: "steward-overlap".into(), flags: vec![], ..r.clone() };
    let err = slurm.create_reservation(&overlap).unwrap_err();
    assert!(err.to_string().contains("overlaps"), "Slurm's reason is passed on: {err}");
    slurm.delete_reservation(&r.name).unwrap();
    assert!(slurm.reservations().unwrap().iter().all(|x| x.name != r.name));
}

fn an_allocation_becomes_a_holding_job(slurm: &SlurmClient, work: &Path) {
    let node = slurm.nodes().unwrap().remove(0);
    let request: steward_core::alloc::AllocationRequest = serde_json::from_value(serde_json::json!({
        "id": "steward-alloc", "owner": "steward-slurm", "priority": "low", "duration_s": 600,
        "resources": {"cores": node.cpus.unwrap(), "gpus": 3}
    }))
    .unwrap();
    let job = steward_slurm::mapping::job_request(&request, &Default::default(), &work.display().to_string());
    // Three GPUs on a two-GPU node: Slurm refuses at submit, in its own words.
    let err = slurm.submit(&job).unwrap_err();
    assert!(matches!(err, SlurmError::Refused(_)), "{err}");
    let mut fits = job.clone();
    fits.gpus = 2;
    let id = slurm.submit(&fits).unwrap();
    let running = wait_for("the holding job to run", 30, || {
        slurm.jobs().unwrap().into_iter().find(|j| j.job_id == id && j.state.contains(&"running".into()))
    });
    let asked = slurm.job(id).unwrap().expect("one job read by its id");
    assert_eq!((asked.job_id, asked.name.as_str()), (id, "steward-alloc"));
    assert!(slurm.job(999_999).unwrap().is_none(), "an unknown job id is none, not an error");
    let cli_only = SlurmClient { rest: None, cli: slurm.cli.clone() };
    assert_eq!(cli_only.job(id).unwrap().map(|j| j.job_id), Some(id), "the CLI reads the same job");
    let shown = steward_slurm::mapping::allocation(&running, None, 0);
    assert_eq!(shown.state, steward_core::alloc::AllocState::Running);
    assert_eq!(slurm.nodes().unwrap()[0].gpus_used, Some(2), "GRES in use is read back");
    slurm.cancel(id).unwrap();
}

fn an_array_runs_every_element_exactly_once(slurm: &SlurmClient, work: &Path) {
    use steward_core::dispatch::{InputSpec, TaskSpec, split};
    use steward_slurm::array;
    // Partition 2 fails on its first attempt; its retry and every other partition write their items.
    let script = "[ {partition} = 2 ] && [ ! -e failed-once ] && { touch failed-once; exit 3; }; \
                  seq {start} $(({end} - 1)) >> items.txt; echo done {partition}";
    let mut task = TaskSpec::new(vec!["sh".into(), "-c".into(), script.into()], InputSpec::Range { start: 0, end: 30 });
    task.id = Some("array-test".into());
    task.working_dir = Some(work.display().to_string());
    let parts = split(&task.input, 6);
    let all: Vec<u32> = (0..6).collect();
    let mut req = array::job_request(&task, &parts, &all, work);
    req.partition = Some("high".into());
    let first = slurm.submit(&req).unwrap();
    let ended = wait_for("every array element to end", 90, || {
        let o = array::outcomes(&slurm.jobs().unwrap(), first);
        (o.len() == 6).then_some(o)
    });
    let failed: Vec<u32> = ended.iter().filter(|(_, ok)| !**ok).map(|(i, _)| *i).collect();
    assert_eq!(failed, [2], "the failing element is seen as failed: {ended:?}");
    let mut retry = array::job_request(&task, &parts, &failed, work);
    retry.partition = Some("high".into());
    let second = slurm.submit(&retry).unwrap();
    wait_for("the retried element", 60, || {
        array::outcomes(&slurm.jobs().unwrap(), second).get(&2).copied().filter(|ok| *ok)
    });
    let out = std::fs::read_to_string(array::output_path(work, second, 2)).unwrap();
    assert_eq!(out.trim(), "done 2", "the element's output is gathered from its file");
    let text = std::fs::read_to_string(work.join("items.txt")).unwrap();
    let mut items: Vec<u32> = text.lines().map(|l| l.trim().parse().unwrap()).collect();
    items.sort_unstable();
    assert_eq!(items, (0..30).collect::<Vec<_>>(), "every item exactly once");
}

fn a_node_is_drained_and_resumed(slurm: &SlurmClient) {
    let name = slurm.nodes().unwrap()[0].name.clone();
    slurm.drain(&name, "steward test").unwrap();
    let n = wait_for("the drain", 10, || slurm.nodes().unwrap().into_iter().find(|n| n.drained()));
    assert_eq!(n.reason.as_deref(), Some("steward test"));
    slurm.resume(&name).unwrap();
    wait_for("the resume", 10, || slurm.nodes().unwrap().into_iter().find(|n| !n.drained()));
}
