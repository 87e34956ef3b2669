//! `stewardctl` as a shell user meets it: completions that bash can source, man pages for every
//! subcommand, and `stewardctl run` with a progress bar on a terminal and none when piped.

use std::process::Command;
use std::time::Duration;

use anyhow::Result;
use serde_json::json;
use steward_system_tests::{Agent, Server, binary, wait_for};

const TOKEN: &str = "cli-test-token-0123456789abcdef";

#[test]
fn bash_completions_are_generated_and_sourced() -> Result<()> {
    let dir = tempfile::tempdir()?;
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(binary("stewardctl")).args(["completions", shell]).output()?;
        assert!(out.status.success(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
        let script = String::from_utf8(out.stdout)?;
        assert!(script.contains("stewardctl") && script.contains("allocate"), "{shell}: {script}");
        std::fs::write(dir.path().join(shell), script)?;
    }
    // Sourced in a real bash: the completion is registered, and completing `stewardctl al`
    // offers `allocate`.
    let check = format!(
        "source {} && complete -p stewardctl && COMP_WORDS=(stewardctl al) COMP_CWORD=1 COMP_LINE='stewardctl al' \
         COMP_POINT=13 && _stewardctl stewardctl al stewardctl && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        dir.path().join("bash").display()
    );
    let out = Command::new("bash").args(["--norc", "-c", &check]).output()?;
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("-F _stewardctl stewardctl"), "{said}");
    assert!(said.lines().any(|l| l == "allocate"), "completing `stewardctl al`: {said}");
    Ok(())
}

#[test]
fn man_pages_are_written_for_every_subcommand() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let out = Command::new(binary("stewardctl")).args(["man", "--out"]).arg(dir.path()).output()?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for page in ["stewardctl.1", "stewardctl-serve.1", "stewardctl-node-add.1", "stewardctl-completions.1"] {
        let text = std::fs::read_to_string(dir.path().join(page))?;
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page} is not a man page: {text}");
    }
    let node_add = std::fs::read_to_string(dir.path().join("stewardctl-node-add.1"))?;
    assert!(node_add.contains("fingerprint"), "{node_add}");
    Ok(())
}

#[test]
fn run_shows_progress_on_a_terminal_and_none_when_piped() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("steward.db"))?;
    let agent = Agent::start(&dir.path().join("agent"), TOKEN, &["--no-metrics"])?;
    let body = json!({"address": agent.address, "token": TOKEN, "fingerprint": agent.fingerprint});
    let (status, node) = server.post("/api/nodes", &body.to_string())?;
    assert!(status == 200 || status == 201, "{node}");
    let up = wait_for(Duration::from_secs(20), || {
        let (_, nodes) = server.get("/api/nodes").ok()?;
        nodes.as_array()?.iter().any(|n| n["id"] == node["id"] && n["state"] == "up").then_some(())
    });
    assert!(up.is_some(), "the node did not come up");
    let run = |task: &str| {
        format!(
            "{} run --url {} --token {} --id {task} --shards 2 --no-reuse -- sh -c 'sleep 1; echo shard {{shard}}'",
            binary("stewardctl").display(),
            server.url,
            server.token
        )
    };

    let piped = Command::new("sh").args(["-c", &run("piped")]).output()?;
    let (stdout, stderr) = (String::from_utf8_lossy(&piped.stdout), String::from_utf8_lossy(&piped.stderr));
    assert!(piped.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("shard 0") && stdout.contains("shard 1"), "{stdout}");
    assert!(
        !stderr.contains('\r') && !stderr.contains('\u{1b}') && !stderr.contains('%'),
        "no bar when piped: {stderr:?}"
    );

    // `script` gives the command a terminal: the bar is drawn there.
    let tty = Command::new("script").args(["-qec", &run("on-a-terminal"), "/dev/null"]).output()?;
    let seen = String::from_utf8_lossy(&tty.stdout);
    assert!(tty.status.success(), "{seen}");
    assert!(seen.contains('%') && seen.contains('['), "a progress bar on a terminal: {seen:?}");
    Ok(())
}
