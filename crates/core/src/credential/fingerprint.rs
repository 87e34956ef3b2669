//! Certificate fingerprints in one form, `sha256:<64 lowercase hex digits>`, whatever a user
//! pasted (any case, `sha256:`/`SHA256:` or no prefix, with or without `:` between bytes).

/// A fingerprint that is not a SHA-256 digest; the message shows what one looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "fingerprint {given:?} is not a SHA-256 certificate fingerprint ({why}): expected `sha256:` and 64 hex digits, \
     as `stewardd` prints it (colons between bytes and any case are fine)"
)]
pub struct BadFingerprint {
    pub given: String,
    pub why: String,
}

/// The canonical form of `given`, or why it is not a fingerprint.
pub fn normalize_fingerprint(given: &str) -> Result<String, BadFingerprint> {
    let bad = |why: String| BadFingerprint { given: given.to_string(), why };
    let trimmed = given.trim();
    let body = match trimmed.split_once(':') {
        Some((prefix, rest)) if prefix.eq_ignore_ascii_case("sha256") => rest,
        _ => trimmed,
    };
    let hex: String = body.chars().filter(|&c| c != ':').collect();
    if let Some(c) = hex.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(bad(format!("{c:?} is not a hex digit")));
    }
    if hex.len() != 64 {
        return Err(bad(format!("{} hex digits", hex.len())));
    }
    if body.contains(':') && !colons_between_bytes(body) {
        return Err(bad("colons must separate bytes (two digits each)".into()));
    }
    Ok(format!("sha256:{}", hex.to_ascii_lowercase()))
}

/// `ab:cd:…`: every group two digits.
fn colons_between_bytes(body: &str) -> bool {
    body.split(':').all(|group| group.len() == 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "8076178fcc0d2c3bc1a3f61e2e0b7c5b9b6e4d1f0a2c3e4f5a6b7c8d9e0f1a2b";

    #[test]
    fn every_spelling_of_one_fingerprint_is_the_same() {
        let canonical = format!("sha256:{HEX}");
        let colons: Vec<String> = HEX.as_bytes().chunks(2).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
        for given in [
            canonical.clone(),
            HEX.to_string(),
            HEX.to_ascii_uppercase(),
            format!("SHA256:{}", HEX.to_ascii_uppercase()),
            format!("shA256:{HEX}"),
            format!("  sha256:{}  ", colons.join(":")),
            colons.join(":").to_ascii_uppercase(),
        ] {
            assert_eq!(normalize_fingerprint(&given).as_deref(), Ok(canonical.as_str()), "{given}");
        }
    }

    #[test]
    fn malformed_fingerprints_are_refused_saying_why() {
        let short = normalize_fingerprint("sha256:abcd").unwrap_err();
        assert!(short.to_string().contains("4 hex digits"), "{short}");
        let not_hex = normalize_fingerprint(&format!("sha256:{}zz", &HEX[2..])).unwrap_err();
        assert!(not_hex.to_string().contains("'z' is not a hex digit"), "{not_hex}");
        assert!(normalize_fingerprint(&format!("md5:{HEX}")).is_err());
        assert!(normalize_fingerprint("").is_err());
        let odd_groups = format!("{}:{}", &HEX[..3], &HEX[3..]);
        assert!(normalize_fingerprint(&odd_groups).unwrap_err().to_string().contains("colons"));
    }
}
