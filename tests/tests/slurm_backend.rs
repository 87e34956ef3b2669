//! `stewardctl serve` with `[backend] kind = "slurm"` over a real single-node Slurm: the same
//! REST routes show Slurm's nodes, queue and reservations, and act on them through Slurm —
//! preemption is Slurm's, a refused overlap carries Slurm's reason, a calendar move reaches
//! `scontrol show reservation`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use steward_slurm::local_cluster::{self, LocalCluster};
use steward_system_tests::{Server, binary, wait_for};

fn cluster(dir: &Path) -> Option<LocalCluster> {
    if let Err(why) = local_cluster::available() {
        assert!(std::env::var("STEWARD_REQUIRE_SLURM").is_err(), "Slurm is required here: {why}");
        eprintln!("skipped: {why}");
        return None;
    }
    Some(LocalCluster::start(&dir.join("slurm")).expect("a local Slurm starts"))
}

fn config(dir: &Path, c: &LocalCluster) -> std::path::PathBuf {
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    Command::new("chmod").arg("0777").arg(&work).status().unwrap();
    let path = dir.join("steward.toml");
    let text = format!(
        "[backend]\nkind = \"slurm\"\n[backend.slurm]\nrest_url = \"{}\"\nuser = \"{}\"\ntoken_file = \"{}\"\n\
         conf = \"{}\"\nwork_dir = \"{}\"\npoll_ms = 300\npartitions = {{ high = \"high\", critical = \"high\" }}\n",
        c.var("SLURMRESTD_URL"),
        c.var("SLURM_USER"),
        c.var("SLURM_JWT_FILE"),
        c.var("SLURM_CONF"),
        work.display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn request(server: &Server, method: &str, path: &str, body: Value) -> (u16, Value) {
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let url = format!("{}{path}", server.url);
    let auth = server.bearer();
    let mut res = match method {
        "PATCH" => {
            agent.patch(&url).header("authorization", &auth).content_type("application/json").send(body.to_string())
        }
        "DELETE" => agent.delete(&url).header("authorization", &auth).call(),
        _ => unreachable!(),
    }
    .unwrap();
    let status = res.status().as_u16();
    let text = res.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn scontrol(c: &LocalCluster, args: &[&str]) -> String {
    let out = Command::new("scontrol").args(args).env("SLURM_CONF", c.var("SLURM_CONF")).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_control_center_drives_a_real_slurm() {
    let dir = tempfile::tempdir().unwrap();
    let Some(slurm) = cluster(dir.path()) else { return };
    let cfg = config(dir.path(), &slurm);

    let check = Command::new(binary("stewardctl")).args(["backend", "check", "--config"]).arg(&cfg).output().unwrap();
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success() && said.contains("Slurm 22.05"), "{said}{}", String::from_utf8_lossy(&check.stderr));
    assert!(said.contains("unavailable: needs slurmdbd"), "what Slurm cannot do here is said: {said}");
    let jwt = std::fs::read_to_string(slurm.var("SLURM_JWT_FILE")).unwrap();
    assert!(!said.contains(jwt.trim()), "the JWT never appears");

    let server = Server::start_with(&dir.path().join("s.db"), &["--config".as_ref(), cfg.as_os_str()]).unwrap();
    let (status, info) = server.get("/api/backend").unwrap();
    assert_eq!((status, info["kind"].as_str()), (200, Some("slurm")), "{info}");

    let (_, nodes) = server.get("/api/nodes").unwrap();
    let node = &nodes[0];
    assert_eq!(node["engine"]["partitions"], json!(["low", "high"]), "{nodes}");
    assert_eq!(node["engine"]["gpus"], 2);
    let name = node["id"].as_str().unwrap().to_string();

    preemption_is_slurms(&server, &name);
    reservations_move_in_slurm(&server, &slurm, &name);
    drain_and_resume(&server, &name);

    // Slurm's events are Steward's record: a crash and restart keeps them.
    let (_, before) = server.get("/api/events?kind=requeue").unwrap();
    assert!(!before.as_array().unwrap().is_empty(), "{before}");
    server.kill9().unwrap();
    let again = Server::start_with(&dir.path().join("s.db"), &["--config".as_ref(), cfg.as_os_str()]).unwrap();
    let (status, after) = again.get("/api/events?kind=requeue").unwrap();
    assert_eq!((status, &after), (200, &before), "the events survive a restart");
}

fn allocate(server: &Server, id: &str, priority: &str, cores: u64) -> Value {
    let body = json!({"allocation_type": "allocate", "allocation_request": {"id": id, "owner": "steward-slurm",
        "priority": priority, "duration_s": 600, "resources": {"cores": cores}}});
    let (status, answer) = server.post("/resources/allocate", &body.to_string()).unwrap();
    assert_eq!(status, 200, "{answer}");
    answer
}

fn allocation(server: &Server, id: &str) -> Option<Value> {
    let (_, all) = server.get("/api/allocations").unwrap();
    all.as_array()?.iter().find(|a| a["id"] == id).cloned()
}

fn preemption_is_slurms(server: &Server, node: &str) {
    let (_, nodes) = server.get("/api/nodes").unwrap();
    let cores = nodes[0]["engine"]["cpus"].as_u64().unwrap();
    let low = allocate(server, "alloc-low", "low", cores);
    assert_eq!(low["result"]["success"], true, "{low}");
    wait_for(Duration::from_secs(30), || allocation(server, "alloc-low").filter(|a| a["state"] == "running"))
        .expect("the low allocation runs");
    let again = allocate(server, "alloc-low", "low", cores);
    assert_eq!(again["result"]["allocation_id"], "alloc-low", "the same request id finds the same job");
    let (_, queue) = server.get("/api/allocations").unwrap();
    assert_eq!(queue.as_array().unwrap().iter().filter(|a| a["id"] == "alloc-low").count(), 1, "no second job");

    let high = allocate(server, "alloc-high", "high", cores);
    assert_eq!(high["result"]["success"], true, "{high}");
    // Requeued, not cancelled: back in the queue, counted, while the high one runs on the node.
    wait_for(Duration::from_secs(60), || {
        let low = allocation(server, "alloc-low")?;
        let high = allocation(server, "alloc-high")?;
        let requeued = low["preemptions"].as_u64() >= Some(1) && low["state"] == "pending";
        (requeued && high["state"] == "running" && high["node"] == node).then_some(())
    })
    .expect("Slurm preempts the low allocation by partition priority");
    wait_for(Duration::from_secs(10), || {
        let (_, events) = server.get("/api/events?kind=requeue").unwrap();
        events.as_array().filter(|e| !e.is_empty()).cloned()
    })
    .expect("the requeue is an event");
    for id in ["alloc-high", "alloc-low"] {
        let (status, _) = request(server, "DELETE", &format!("/api/allocations/{id}"), Value::Null);
        assert_eq!(status, 204, "cancel {id}");
    }
}

fn reservations_move_in_slurm(server: &Server, slurm: &LocalCluster, node: &str) {
    let at = |hours: i64| {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let s = (t / 3600 + hours) * 3600;
        // RFC 3339 in UTC, whole hours.
        let out = Command::new("date").args(["-u", "-d", &format!("@{s}"), "+%Y-%m-%dT%H:%M:%SZ"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let body = json!({"allocation_type": "reserve", "reservation_request": {"id": "maint", "owner": "steward-slurm",
        "node": node, "cores": 1, "start_time": at(3), "end_time": at(4), "flags": {"ignore_running": true}}});
    let (status, made) = server.post("/resources/allocate", &body.to_string()).unwrap();
    assert_eq!((status, &made["result"]["success"]), (200, &json!(true)), "{made}");
    assert!(scontrol(slurm, &["show", "reservation", "maint"]).contains("ReservationName=maint"));

    let (status, moved) =
        request(server, "PATCH", "/api/reservations/maint", json!({"start_time": at(5), "end_time": at(6)}));
    assert_eq!(status, 200, "{moved}");
    let (status, one) = server.get("/api/reservations/maint").unwrap();
    assert_eq!((status, one["start_time"].as_str()), (200, Some(at(5).as_str())), "{one}");
    let (status, _) = server.get("/api/reservations/no-such").unwrap();
    assert_eq!(status, 404, "an unknown reservation is not found");
    let shown = scontrol(slurm, &["show", "reservation", "maint"]);
    let start = at(5).trim_end_matches('Z').to_string();
    assert!(
        Command::new("sh")
            .arg("-c")
            .arg(format!(
                "TZ=UTC SLURM_CONF={} scontrol show reservation maint | grep -q StartTime={start}",
                slurm.var("SLURM_CONF")
            ))
            .status()
            .unwrap()
            .success(),
        "the move reached Slurm: {shown}"
    );

    let overlap = json!({"allocation_type": "reserve", "reservation_request": {"id": "clash",
        "owner": "steward-slurm", "node": node, "cores": 2, "start_time": at(5), "end_time": at(6)}});
    let (_, refused) = server.post("/resources/allocate", &overlap.to_string()).unwrap();
    assert_eq!(refused["result"]["success"], false, "{refused}");
    let why = refused["result"]["error"].as_str().unwrap();
    assert!(why.starts_with("Slurm refused: Error creating the reservation"), "Slurm's own reason: {refused}");

    let (status, _) = request(server, "DELETE", "/api/reservations/maint", Value::Null);
    assert_eq!(status, 204);
    assert!(!scontrol(slurm, &["show", "reservation"]).contains("maint"));
}

fn drain_and_resume(server: &Server, node: &str) {
    let (status, drained) = server.post(&format!("/api/nodes/{node}/drain"), "{}").unwrap();
    assert_eq!((status, drained["state"].as_str()), (200, Some("draining")), "{drained}");
    let (status, back) = server.post(&format!("/api/nodes/{node}/undrain"), "{}").unwrap();
    assert_eq!(status, 200, "{back}");
    // Resumed; slurmd may answer Slurm's next ping a little later on a loaded machine.
    wait_for(Duration::from_secs(60), || {
        let (_, nodes) = server.get("/api/nodes").unwrap();
        (nodes[0]["state"] == "up").then_some(())
    })
    .expect("the node is back up in Slurm");
}
