//! The database and everything beside it are readable by their owner only: the database, its
//! WAL and shared-memory files, the lock file and the key that seals agent tokens are 0600, a
//! directory created for them 0700, and an existing wider database is tightened at open.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use steward_core::cluster::NodeRecord;
use steward_store::Store;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

fn beside(db: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

fn write_something(store: &mut Store) {
    let node = NodeRecord {
        address: "127.0.0.1:7001".into(),
        token: "agent-token-0123456789".into(),
        fingerprint: None,
        draining: false,
        added_ms: 1,
        node_id: None,
    };
    store.put_node(&node).unwrap();
}

#[test]
fn a_new_database_and_its_companions_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new/steward.db");
    let mut store = Store::open(&db).unwrap();
    write_something(&mut store);
    assert_eq!(mode(&dir.path().join("new")), 0o700);
    for suffix in ["", "-wal", "-shm", ".lock", ".key"] {
        assert_eq!(mode(&beside(&db, suffix)), 0o600, "steward.db{suffix}");
    }
}

#[test]
fn an_existing_wider_database_is_tightened_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    {
        let mut store = Store::open(&db).unwrap();
        write_something(&mut store);
    }
    for suffix in ["", "-wal", "-shm", ".lock"] {
        let path = beside(&db, suffix);
        if path.exists() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    let mut store = Store::open(&db).unwrap();
    write_something(&mut store);
    for suffix in ["", "-wal", "-shm", ".lock"] {
        assert_eq!(mode(&beside(&db, suffix)), 0o600, "old.db{suffix}");
    }
}
