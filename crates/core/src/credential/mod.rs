//! Credentials, pure: how strong a token must be, comparing secrets without leaking timing, and
//! the one canonical form of a certificate fingerprint.

mod fingerprint;
mod hex;
mod token;

pub use fingerprint::{BadFingerprint, normalize_fingerprint};
pub use hex::{from_hex, to_hex};
pub use token::{MIN_TOKEN_BITS, MIN_TOKEN_LEN, WeakToken, check_token_strength, constant_time_eq, estimated_bits};
