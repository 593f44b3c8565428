//! Bearer secrets: session tokens, personal API tokens, and the CSRF token
//! derived from a session. Secrets are 256 random bits; only their SHA-256
//! reaches the database, so a copy of it grants nothing.

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::text::sha256_hex;

/// Personal API tokens start with this, so they are recognisable in a
/// secret scanner and in a paste.
pub const API_TOKEN_PREFIX: &str = "ert_";
/// Characters of an API token kept in clear to recognise it in a list.
pub const SHOWN_PREFIX_LEN: usize = 12;

fn random_b64() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    data_encoding::BASE64URL_NOPAD.encode(&bytes)
}

pub fn new_session_token() -> String {
    random_b64()
}

pub fn new_api_token() -> String {
    format!("{API_TOKEN_PREFIX}{}", random_b64())
}

/// What is stored for a secret.
pub fn digest(secret: &str) -> String {
    sha256_hex(secret)
}

/// The CSRF token of a session: a one-way, domain-separated function of the
/// session's secret. It is unguessable without the cookie, reveals nothing
/// of it, needs no storage, and can be handed out again (GET /auth/me) to a
/// page that reloads.
pub fn csrf_token(session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"erratum-csrf\0");
    h.update(session_token.as_bytes());
    data_encoding::BASE64URL_NOPAD.encode(&h.finalize())
}

/// Compare two secrets in time independent of where they differ (comparing
/// their digests, as the ingest token check does).
pub fn same_secret(a: &str, b: &str) -> bool {
    sha256_hex(a) == sha256_hex(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_long() {
        let (a, b) = (new_api_token(), new_api_token());
        assert_ne!(a, b);
        assert!(a.starts_with(API_TOKEN_PREFIX) && a.len() == 4 + 43, "{a}");
        assert_eq!(new_session_token().len(), 43);
        assert_eq!(digest(&a).len(), 64);
    }

    #[test]
    fn csrf_tokens_are_bound_to_their_session() {
        let s = new_session_token();
        assert_eq!(csrf_token(&s), csrf_token(&s));
        assert_ne!(csrf_token(&s), csrf_token(&new_session_token()));
        assert_ne!(csrf_token(&s), s);
        assert!(same_secret(&csrf_token(&s), &csrf_token(&s)));
        assert!(!same_secret("a", "b"));
    }
}
