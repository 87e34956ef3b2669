//! Modules and profile events survive a reopen of a real SQLite file.

mod common;

use steward_core::profile::module::{Matcher, ModuleSpec};
use steward_core::profile::{EventKind, ProfileEvent, Resource, Severity};
use steward_store::Store;

fn spec(name: &str, matchers: Vec<Matcher>) -> ModuleSpec {
    ModuleSpec { name: name.into(), matchers }
}

#[test]
fn modules_round_trip_replace_and_delete() {
    let (_dir, path, mut store) = common::temp_store();
    let all = vec![
        Matcher::Cgroup { prefix: "/system.slice/a.service".into() },
        Matcher::Executable { name: "python3".into() },
        Matcher::Command { pattern: "*train*".into() },
        Matcher::User { name: "alice".into() },
        Matcher::Pids { pids: vec![1, 22, 333] },
    ];
    assert!(!store.put_module(&spec("train", all.clone()), 1).unwrap());
    assert!(!store.put_module(&spec("db", vec![Matcher::User { name: "postgres".into() }]), 2).unwrap());
    drop(store);
    let mut store = Store::open(&path).unwrap();
    assert_eq!(
        store.modules().unwrap(),
        vec![spec("db", vec![Matcher::User { name: "postgres".into() }]), spec("train", all)]
    );

    assert!(store.put_module(&spec("train", vec![Matcher::User { name: "bob".into() }]), 3).unwrap(), "replaced");
    assert_eq!(store.modules().unwrap()[1].matchers, vec![Matcher::User { name: "bob".into() }]);
    assert!(store.delete_module("train").unwrap());
    assert!(!store.delete_module("train").unwrap());
    assert_eq!(store.modules().unwrap().len(), 1);
}

#[test]
fn events_come_back_oldest_first_from_a_cutoff() {
    let (_dir, _path, mut store) = common::temp_store();
    let ev = |ts, kind| ProfileEvent {
        ts_ms: ts,
        kind,
        key: "cpu".into(),
        resource: Resource::Cpu,
        severity: Severity::Warning,
        summary: "CPU is saturated".into(),
    };
    store
        .insert_profile_events(&[ev(10, EventKind::Started), ev(20, EventKind::Ended), ev(30, EventKind::Started)])
        .unwrap();
    let got = store.profile_events(15, 100).unwrap();
    assert_eq!(got, vec![ev(20, EventKind::Ended), ev(30, EventKind::Started)]);
    assert_eq!(store.profile_events(0, 1).unwrap(), vec![ev(30, EventKind::Started)], "the newest within the limit");
}
