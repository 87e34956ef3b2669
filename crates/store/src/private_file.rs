//! Files only their owner may read: secrets (tokens, keys) and the database itself. Created
//! 0600 in directories created 0700; an existing file with a wider mode is tightened.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const FILE_MODE: u32 = 0o600;
pub const DIR_MODE: u32 = 0o700;

/// Creates `dir` and its missing parents, each new one 0700 (existing ones are left alone).
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Writes `contents` to `path` unless it exists; true when this call created it. Atomic: the
/// text goes to a private temporary file first and is linked into place, so a second process
/// racing this one reads either nothing or the whole file, and exactly one of them wins.
pub fn create_once(path: &Path, contents: &[u8]) -> std::io::Result<bool> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir(parent)?;
    }
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = Path::new(&tmp_name);
    let written = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(tmp)?;
        f.write_all(contents)?;
        f.sync_all()
    })();
    let linked = written.and_then(|()| std::fs::hard_link(tmp, path));
    let _ = std::fs::remove_file(tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Makes an existing `path` 0600 if group or others may read or write it; true when it was
/// wider. A missing file is not an error.
pub fn tighten(path: &Path) -> std::io::Result<bool> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
            std::fs::set_permissions(path, Permissions::from_mode(FILE_MODE))?;
            Ok(true)
        }
        Ok(_) => Ok(false),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn created_once_private_in_a_private_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/secret");
        assert!(create_once(&path, b"first").unwrap());
        assert!(!create_once(&path, b"second").unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("new")), 0o700);
        assert_eq!(std::fs::read_dir(dir.path().join("new")).unwrap().count(), 1, "no temporary file left");
    }

    #[test]
    fn a_wider_file_is_tightened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "x").unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        assert!(tighten(&path).unwrap());
        assert_eq!(mode(&path), 0o600);
        assert!(!tighten(&path).unwrap());
        assert!(!tighten(&dir.path().join("missing")).unwrap());
    }
}
