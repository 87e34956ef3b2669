//! Opening a database: refuse, with a clear reason, anything we should not write to, and never
//! overwrite or truncate a file we did not create.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::secrets::SecretBox;
use crate::tiers::Watermarks;
use crate::{Store, StoreError, migrations, nodes, private_file, series_ids};

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";
/// Short: the lock file already keeps other Stewards out, so waiting long only hides a problem.
const BUSY_TIMEOUT_MS: u32 = 250;
/// Page cache per connection (negative = KiB): keeps the hot leaf pages of every series resident.
const CACHE_KIB: i64 = 32 * 1024;

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// Fails with [`StoreError::Unwritable`], [`StoreError::Locked`], [`StoreError::Corrupt`] or
    /// [`StoreError::TooNew`] without modifying an existing file.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let path = path.to_owned();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            private_file::create_dir(parent)
                .map_err(|e| unwritable(&path, format!("cannot create directory {}: {e}", parent.display())))?;
        }
        let existed = check_existing_file(&path)?;
        let lock = take_lock(&path)?;
        make_private(&path)?;

        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(&path, flags).map_err(|e| classify(e, &path))?;
        conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS.into())).map_err(|e| classify(e, &path))?;
        if existed {
            // Read-only check before the first write (switching to WAL writes the header).
            quick_check(&conn, &path)?;
            // Refuse a newer schema before anything below writes to the file.
            migrations::refuse_newer(&conn, &path).map_err(|e| match e {
                StoreError::Sqlite(e) => classify(e, &path),
                other => other,
            })?;
        }
        configure(&conn).map_err(|e| classify(e, &path))?;
        migrations::migrate(&mut conn, &path).map_err(|e| match e {
            StoreError::Sqlite(e) => classify(e, &path),
            other => other,
        })?;

        let secrets = SecretBox::load_or_create(&path, nodes::any_sealed(&conn)?)?;
        nodes::seal_plain_tokens(&mut conn, &secrets)?;
        let series_ids = series_ids::load(&conn)?;
        let watermarks = Watermarks::load(&conn)?;
        Ok(Store { conn, series_ids, watermarks, secrets, path, _lock: lock })
    }
}

fn unwritable(path: &Path, reason: String) -> StoreError {
    StoreError::Unwritable { path: path.to_owned(), reason }
}

/// Returns whether a non-empty database file is already there, after checking that it looks like
/// SQLite and that we may write to it. Opens nothing for writing that could truncate it.
fn check_existing_file(path: &Path) -> Result<bool, StoreError> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(unwritable(path, e.to_string())),
    };
    if !meta.is_file() {
        return Err(unwritable(path, "the path exists but is not a regular file".into()));
    }
    // Checked explicitly because root (and CAP_DAC_OVERRIDE) would otherwise write anyway.
    if meta.permissions().readonly() {
        return Err(unwritable(path, "the file is read-only".into()));
    }
    OpenOptions::new().write(true).open(path).map_err(|e| unwritable(path, e.to_string()))?;
    if meta.len() == 0 {
        return Ok(false); // SQLite treats an empty file as a new database.
    }
    let mut header = [0u8; 16];
    let mut file = File::open(path).map_err(|e| unwritable(path, e.to_string()))?;
    let n = read_up_to(&mut file, &mut header).map_err(|e| unwritable(path, e.to_string()))?;
    if n < header.len() || &header != SQLITE_HEADER {
        return Err(StoreError::Corrupt {
            path: path.to_owned(),
            detail: "it does not start with the SQLite file header".into(),
        });
    }
    Ok(true)
}

/// The database, its WAL, shared-memory and lock files readable by this user only: a new
/// database file is created 0600 before SQLite opens it (SQLite gives its WAL and SHM the
/// database's mode), and existing ones with a wider mode are tightened.
fn make_private(path: &Path) -> Result<(), StoreError> {
    let created = OpenOptions::new().write(true).create_new(true).mode(private_file::FILE_MODE).open(path);
    match created {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(unwritable(path, e.to_string())),
    }
    for suffix in ["", "-wal", "-shm", ".lock"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        private_file::tighten(Path::new(&name))
            .map_err(|e| unwritable(path, format!("cannot make {} private: {e}", Path::new(&name).display())))?;
    }
    Ok(())
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// An advisory exclusive lock on `<db>.lock`, held for the Store's lifetime. The OS drops it when
/// the process dies, so a crash never leaves a stale lock behind.
fn take_lock(path: &Path) -> Result<File, StoreError> {
    let lock_path = lock_path(path);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(private_file::FILE_MODE)
        .open(&lock_path)
        .map_err(|e| unwritable(path, format!("cannot create lock file {}: {e}", lock_path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(StoreError::Locked { path: path.to_owned() }),
        Err(TryLockError::Error(e)) => Err(unwritable(path, format!("cannot lock {}: {e}", lock_path.display()))),
    }
}

fn quick_check(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let verdict: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0)).map_err(|e| classify(e, path))?;
    if verdict == "ok" {
        Ok(())
    } else {
        Err(StoreError::Corrupt { path: path.to_owned(), detail: format!("integrity check: {verdict}") })
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    // Only takes effect on a brand-new file (before the first table); lets retention give
    // space back with `PRAGMA incremental_vacuum` instead of a full VACUUM.
    conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")?;
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    // NORMAL is durable against process crashes in WAL mode; a power cut may lose the last
    // commits, which is acceptable for telemetry.
    conn.execute_batch(&format!(
        "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -{CACHE_KIB}; PRAGMA foreign_keys = ON;"
    ))?;
    Ok(())
}

/// Maps SQLite's failure codes onto the errors a user can act on.
pub(crate) fn classify(e: rusqlite::Error, path: &Path) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked { path: path.to_owned() },
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            StoreError::Corrupt { path: path.to_owned(), detail: e.to_string() }
        }
        Some(
            ErrorCode::ReadOnly
            | ErrorCode::CannotOpen
            | ErrorCode::PermissionDenied
            | ErrorCode::DiskFull
            | ErrorCode::SystemIoFailure,
        ) => unwritable(path, e.to_string()),
        _ => StoreError::Sqlite(e),
    }
}
