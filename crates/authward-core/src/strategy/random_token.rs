//! Opaque random tokens (database strategy, refresh tokens, JWT `jti`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore;
use rand::rngs::OsRng;

/// Length of a token made by [`generate_token`]: 32 bytes in base64url without padding.
pub const TOKEN_LEN: usize = 43;

/// The operating system's random number generator failed.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct RandomTokenError(#[source] rand::rand_core::OsError);

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), RandomTokenError> {
    OsRng.try_fill_bytes(buf).map_err(RandomTokenError)
}

/// A new opaque token: 32 bytes from the operating system's CSPRNG, base64url without padding
/// (43 characters, the format of FastAPI Users' `secrets.token_urlsafe()`).
///
/// ```
/// let token = authward_core::strategy::generate_token().unwrap();
/// assert_eq!(token.len(), 43);
/// assert!(authward_core::strategy::is_well_formed_token(&token));
/// ```
pub fn generate_token() -> Result<String, RandomTokenError> {
    let mut bytes = [0_u8; 32];
    fill_random(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// True when `token` has the shape of a [`generate_token`] token (43 base64url characters).
///
/// Strategies check this before touching storage, so garbage never reaches a query.
pub fn is_well_formed_token(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_chars_and_distinct() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
    }

    #[test]
    fn shape_check_rejects_garbage() {
        assert!(is_well_formed_token(&"A".repeat(43)));
        for bad in [
            String::new(),
            "A".repeat(42),
            "A".repeat(44),
            format!("{}=", "A".repeat(42)),
            format!("{}+", "A".repeat(42)),
            format!("{}é", "A".repeat(41)),
        ] {
            assert!(!is_well_formed_token(&bad), "{bad:?}");
        }
    }
}
