//! Token strength and comparison. A token is the only thing between a caller and running
//! commands, so an empty, short or repetitive one is refused rather than trusted.

/// Shortest token accepted.
pub const MIN_TOKEN_LEN: usize = 20;
/// Least estimated entropy accepted, in bits (a generated token has 256).
pub const MIN_TOKEN_BITS: f64 = 64.0;

/// Why a token is refused; the message says how to get a good one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WeakToken {
    #[error("the token is empty: {HOW_TO}")]
    Empty,
    #[error("the token is {len} characters long, at least {MIN_TOKEN_LEN} are needed: {HOW_TO}")]
    Short { len: usize },
    #[error("the token is too predictable (about {bits:.0} bits, at least {MIN_TOKEN_BITS:.0} needed): {HOW_TO}")]
    LowEntropy { bits: f64 },
    #[error("the token has whitespace or control characters: {HOW_TO}")]
    BadCharacters,
}

const HOW_TO: &str =
    "leave the token out to have one generated, or make one with `openssl rand -hex 32` (64 hex digits)";

/// Refuses empty, short, low-entropy or unprintable tokens.
pub fn check_token_strength(token: &str) -> Result<(), WeakToken> {
    if token.is_empty() {
        return Err(WeakToken::Empty);
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(WeakToken::BadCharacters);
    }
    let len = token.chars().count();
    if len < MIN_TOKEN_LEN {
        return Err(WeakToken::Short { len });
    }
    let bits = estimated_bits(token);
    if bits < MIN_TOKEN_BITS {
        return Err(WeakToken::LowEntropy { bits });
    }
    Ok(())
}

/// Length times the Shannon entropy of the token's own character frequencies: an upper bound
/// for a random token, and low for repeats (`aaaa…` is 0) and small alphabets.
pub fn estimated_bits(token: &str) -> f64 {
    let mut counts = std::collections::HashMap::<char, usize>::new();
    for c in token.chars() {
        *counts.entry(c).or_default() += 1;
    }
    let n = token.chars().count() as f64;
    let per_char: f64 = counts.values().map(|&k| k as f64 / n).map(|p| -p * p.log2()).sum();
    per_char * n
}

/// Compares without an early exit, so timing does not tell how much of a guess was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_short_repetitive_and_spaced_tokens_are_refused() {
        assert_eq!(check_token_strength(""), Err(WeakToken::Empty));
        assert_eq!(check_token_strength("abc"), Err(WeakToken::Short { len: 3 }));
        assert!(matches!(check_token_strength("aaaaaaaaaaaaaaaaaaaa"), Err(WeakToken::LowEntropy { .. })));
        assert!(matches!(check_token_strength("abababababababababababab"), Err(WeakToken::LowEntropy { .. })));
        assert_eq!(check_token_strength("   "), Err(WeakToken::BadCharacters));
        assert_eq!(check_token_strength("0123456789abcdef 0123456789"), Err(WeakToken::BadCharacters));
        assert!(check_token_strength("").unwrap_err().to_string().contains("openssl rand -hex 32"));
    }

    #[test]
    fn random_looking_tokens_pass() {
        assert!(check_token_strength("cluster-test-token-0123456789abcdef").is_ok());
        assert!(check_token_strength(&"0123456789abcdef".repeat(4)).is_ok());
        assert!(check_token_strength("9f86d081884c7d659a2feaa0c55ad015").is_ok());
    }

    #[test]
    fn equal_only_when_every_byte_is() {
        assert!(constant_time_eq(b"s3cret", b"s3cret"));
        assert!(!constant_time_eq(b"s3cret", b"s3cre"));
        assert!(!constant_time_eq(b"s3cret", b"s3creT"));
        assert!(constant_time_eq(b"", b""));
    }
}
