//! Opening: the failures a user can hit, each distinct, none of them touching the file.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use steward_store::{SCHEMA_VERSION, Store, StoreError};

#[test]
fn creates_parent_directories_and_sets_up_wal_and_incremental_vacuum() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/steward.db");
    let store = Store::open(&path).unwrap();
    assert!(path.exists());
    drop(store);
    let conn = rusqlite_conn(&path);
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let av: i64 = conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0)).unwrap();
    assert_eq!(av, 2, "auto_vacuum must be INCREMENTAL");
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(v, SCHEMA_VERSION);
}

fn rusqlite_conn(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[test]
fn garbage_file_is_corrupt_and_left_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("steward.db");
    let garbage: Vec<u8> = (0..10_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    fs::write(&path, &garbage).unwrap();
    let err = Store::open(&path).err().expect("garbage must not open");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("move it aside"), "{err}");
    assert!(fs::read(&path).unwrap() == garbage, "file was modified");
}

#[test]
fn damaged_database_fails_quick_check_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("steward.db");
    {
        let mut store = Store::open(&path).unwrap();
        common::fill(&mut store, "cpu.total", 0, 2_000_000, |t| t as f64);
    }
    // Keep the header, scribble over the pages after the first.
    let mut bytes = fs::read(&path).unwrap();
    let page = 4096;
    assert!(bytes.len() > 4 * page);
    for b in &mut bytes[page..3 * page] {
        *b = 0xA5;
    }
    fs::write(&path, &bytes).unwrap();
    let err = Store::open(&path).err().expect("damaged database must not open");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(fs::read(&path).unwrap() == bytes, "file was modified");
}

#[test]
fn second_store_on_the_same_file_is_locked_out() {
    let (_dir, path, mut first) = common::temp_store();
    first.insert(1_000, &[common::val("x", 1.0)]).unwrap();
    let before = fs::read(&path).unwrap();
    let err = Store::open(&path).err().expect("second open must fail");
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert!(err.to_string().contains("another Steward"), "{err}");
    assert!(fs::read(&path).unwrap() == before, "file was modified");
    drop(first);
    Store::open(&path).expect("lock is released on drop");
}

#[test]
fn foreign_writer_holding_the_database_is_reported_as_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("steward.db");
    drop(Store::open(&path).unwrap());
    let other = rusqlite_conn(&path);
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let err = Store::open(&path).err().expect("must not open while another writer holds it");
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
}

#[test]
fn path_below_a_regular_file_is_unwritable() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    fs::write(&blocker, b"keep me").unwrap();
    let err = Store::open(&blocker.join("steward.db")).err().expect("must fail");
    assert!(matches!(err, StoreError::Unwritable { .. }), "{err:?}");
    assert!(fs::read(&blocker).unwrap() == b"keep me");
}

#[test]
fn read_only_file_is_unwritable_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("steward.db");
    {
        let mut store = Store::open(&path).unwrap();
        store.insert(1_000, &[common::val("x", 1.0)]).unwrap();
    }
    let before = fs::read(&path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    let err = Store::open(&path).err().expect("read-only file must not open");
    assert!(matches!(err, StoreError::Unwritable { .. }), "{err:?}");
    assert!(err.to_string().contains("read-only"), "{err}");
    assert!(fs::read(&path).unwrap() == before, "file was modified");
}

#[test]
fn database_from_a_newer_steward_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("steward.db");
    drop(Store::open(&path).unwrap());
    rusqlite_conn(&path).execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1)).unwrap();
    let before = fs::read(&path).unwrap();
    let err = Store::open(&path).err().expect("newer schema must be refused");
    assert!(
        matches!(err, StoreError::TooNew { found, supported, .. } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
        "{err:?}"
    );
    assert!(fs::read(&path).unwrap() == before, "file was modified");
}

#[test]
fn reopen_after_drop_keeps_data_and_series_ids() {
    let (_dir, path, mut store) = common::temp_store();
    store.insert(1_000, &[common::val("cpu.total", 5.0), common::val("mem.used", 7.0)]).unwrap();
    drop(store);
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.series_names("").unwrap(), vec!["cpu.total", "mem.used"]);
    store.insert(2_000, &[common::val("cpu.total", 9.0)]).unwrap();
    let h = store.query(&common::q(&["cpu.total"], 0, 10_000, 100)).unwrap();
    let values: Vec<f64> = h[0].points.iter().map(|p| p.avg).collect();
    assert_eq!(values, vec![5.0, 9.0]);
}

#[test]
fn default_path_is_under_the_data_dir() {
    let p = steward_store::default_path();
    assert!(p.ends_with("steward/steward.db"), "{}", p.display());
}
