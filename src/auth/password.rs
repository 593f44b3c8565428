//! Password hashing with Argon2id (the `argon2` crate's defaults: 19 MiB,
//! 2 passes, 1 lane, as OWASP recommends), in the PHC string format so the
//! parameters travel with each hash and can be raised later.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

use crate::domain::editor::Password;

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// Hash a new password (slow on purpose: call it off the async executor).
pub fn hash(password: &Password) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    argon2()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// A hash no password matches, verified when the account does not exist or
/// is disabled, so that those answers take as long as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let random = data_encoding::BASE64URL_NOPAD.encode(&bytes);
        hash(&Password::parse(&random).expect("a 43-character password is valid"))
            .expect("hashing works")
    })
}

/// Whether `password` matches `stored` (a PHC string). With no stored hash,
/// the same work is done against a dummy and the answer is false.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let (target, real) = match stored {
        Some(h) => (h, true),
        None => (dummy_hash(), false),
    };
    let Ok(parsed) = PasswordHash::new(target) else {
        return false;
    };
    let ok = argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    ok && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_argon2id_with_a_salt() {
        let p = Password::parse("correct horse battery staple").unwrap();
        let h1 = hash(&p).unwrap();
        let h2 = hash(&p).unwrap();
        assert!(h1.starts_with("$argon2id$"), "{h1}");
        assert_ne!(h1, h2, "each hash has its own salt");
        assert!(verify("correct horse battery staple", Some(&h1)));
        assert!(!verify("correct horse battery stapler", Some(&h1)));
        assert!(!verify("correct horse battery staple", None));
        assert!(!verify("x", Some("not a hash")));
    }
}
