//! Agent tokens at rest: sealed with ChaCha20-Poly1305 under a key kept in `<db>.key` (0600,
//! beside the database), so a copy of the database alone (a backup, a file another user could
//! once read) holds no usable credential. Stored as `enc1:<hex nonce><hex ciphertext+tag>`.

use std::path::{Path, PathBuf};

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use steward_core::credential::{from_hex, to_hex};

use crate::StoreError;
use crate::private_file;

const PREFIX: &str = "enc1:";
const KEY_LEN: usize = 32;

pub(crate) struct SecretBox {
    key: LessSafeKey,
    random: SystemRandom,
}

/// `<db>.key`.
pub fn key_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

pub(crate) fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

impl SecretBox {
    /// The key beside `db`, created on first use. `sealed_rows` says whether something is sealed
    /// already: then a missing key is an error, never replaced (the rows would be lost for good).
    pub(crate) fn load_or_create(db: &Path, sealed_rows: bool) -> Result<SecretBox, StoreError> {
        let path = key_path(db);
        let bad = |detail: String| StoreError::SecretKey { path: path.clone(), detail };
        let random = SystemRandom::new();
        if !path.exists() {
            if sealed_rows {
                return Err(bad("it is missing, and the database holds agent tokens sealed with it".into()));
            }
            let mut fresh = [0u8; KEY_LEN];
            random.fill(&mut fresh).map_err(|_| bad("no randomness from the system".into()))?;
            private_file::create_once(&path, to_hex(&fresh).as_bytes()).map_err(|e| bad(e.to_string()))?;
        }
        private_file::tighten(&path).map_err(|e| bad(e.to_string()))?;
        let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
        let bytes = from_hex(text.trim()).filter(|b| b.len() == KEY_LEN).ok_or_else(|| bad("not a key".into()))?;
        let key = UnboundKey::new(&CHACHA20_POLY1305, &bytes).map_err(|_| bad("not a key".into()))?;
        Ok(SecretBox { key: LessSafeKey::new(key), random })
    }

    pub(crate) fn seal(&self, plain: &str) -> Result<String, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random.fill(&mut nonce).map_err(|_| StoreError::Sealing("no randomness from the system".into()))?;
        let mut data = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data)
            .map_err(|_| StoreError::Sealing("sealing failed".into()))?;
        Ok(format!("{PREFIX}{}{}", to_hex(&nonce), to_hex(&data)))
    }

    pub(crate) fn open(&self, stored: &str) -> Result<String, StoreError> {
        let wrong = || StoreError::Sealing("an agent token does not open with this database's key".into());
        let bytes = stored.strip_prefix(PREFIX).and_then(from_hex).filter(|b| b.len() > NONCE_LEN).ok_or_else(wrong)?;
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| wrong())?;
        let mut sealed = sealed.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::empty(), &mut sealed).map_err(|_| wrong())?;
        String::from_utf8(plain.to_vec()).map_err(|_| wrong())
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn sealed_tokens_open_with_the_same_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let a = SecretBox::load_or_create(&db, false).unwrap();
        let sealed = a.seal("agent-token-0123").unwrap();
        assert!(is_sealed(&sealed) && !sealed.contains("agent-token"));
        assert_ne!(sealed, a.seal("agent-token-0123").unwrap(), "a fresh nonce each time");
        assert_eq!(SecretBox::load_or_create(&db, true).unwrap().open(&sealed).unwrap(), "agent-token-0123");
        assert_eq!(std::fs::metadata(key_path(&db)).unwrap().permissions().mode() & 0o777, 0o600);

        let other = SecretBox::load_or_create(&dir.path().join("t.db"), false).unwrap();
        assert!(other.open(&sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.replace_range(sealed.len() - 2.., "00");
        assert!(a.open(&tampered).is_err());
    }

    #[test]
    fn a_missing_key_is_not_replaced_while_sealed_rows_need_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = SecretBox::load_or_create(&dir.path().join("s.db"), true).err().unwrap();
        assert!(err.to_string().contains("missing"), "{err}");
        assert!(!key_path(&dir.path().join("s.db")).exists());
    }
}
