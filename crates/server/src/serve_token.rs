//! The per-install access token of `stewardctl serve`: created on first start in a file only
//! its owner reads (0600, in a 0700 directory), found there by `stewardctl`'s client commands
//! on the same machine. Rotating it: delete the file and restart `serve`.

use std::path::{Path, PathBuf};

use steward_core::credential::check_token_strength;
use steward_store::private_file;

#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error(
        "cannot read the access token {path}: {source} (start `stewardctl serve` once to create it, or pass --token)"
    )]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot create the access token {path}: {source}")]
    Create { path: PathBuf, source: std::io::Error },
    #[error(
        "the access token in {path} is unusable ({why}): delete the file and restart `stewardctl serve` for a new one"
    )]
    Unusable { path: PathBuf, why: String },
}

/// `<platform data dir>/steward/serve-token`, beside the default database.
pub fn default_path() -> PathBuf {
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("steward").join("serve-token")
}

/// The token in `path`, created there first when missing; true when this call created it. A
/// file others could read is tightened to 0600 first.
pub fn load_or_create(path: &Path) -> Result<(String, bool), TokenFileError> {
    let create = |source| TokenFileError::Create { path: path.to_owned(), source };
    let fresh = steward_agent::auth::generate_token().map_err(create)?;
    let created = private_file::create_once(path, fresh.as_bytes()).map_err(create)?;
    Ok((read(path)?, created))
}

/// The token in `path`, checked: strong, and safe to carry in a URL and a cookie as it is.
pub fn read(path: &Path) -> Result<String, TokenFileError> {
    let unreadable = |source| TokenFileError::Read { path: path.to_owned(), source };
    private_file::tighten(path).map_err(unreadable)?;
    let token = std::fs::read_to_string(path).map_err(unreadable)?.trim().to_string();
    let unusable = |why: String| TokenFileError::Unusable { path: path.to_owned(), why };
    check_token_strength(&token).map_err(|e| unusable(e.to_string()))?;
    if !token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)) {
        return Err(unusable("only letters, digits and -._~ can travel in a URL unchanged".into()));
    }
    Ok(token)
}

/// The URL a browser opens once to get in (the server swaps the token for a cookie).
pub fn login_url(base: &str, token: &str) -> String {
    format!("{}/?token={token}", base.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn created_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steward/serve-token");
        let (token, created) = load_or_create(&path).unwrap();
        assert!(created && token.len() == 64);
        assert_eq!(load_or_create(&path).unwrap(), (token.clone(), false));
        assert_eq!(read(&path).unwrap(), token);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
    }

    #[test]
    fn weak_or_missing_tokens_say_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("serve-token");
        assert!(read(&path).unwrap_err().to_string().contains("start `stewardctl serve` once"));
        std::fs::write(&path, "abc\n").unwrap();
        assert!(read(&path).unwrap_err().to_string().contains("delete the file"));
        std::fs::write(&path, "0123456789abcdef&0123456789abcdef").unwrap();
        assert!(read(&path).unwrap_err().to_string().contains("URL"));
    }
}
