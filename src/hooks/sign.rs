//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>):
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under
//! the destination's secret, written `whsec_<base64 of the key>`.
//!
//! The secret is stored as it is, not encrypted: the HMAC needs the key
//! itself, so it must be recoverable, and an encryption key would have to
//! live beside it (in the same database, `instance_secrets`, or the
//! configuration on the same host), protecting nothing from whoever reads
//! the database, who could read every report already. It is shown once, when
//! the destination is created; lists show its first characters only.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

const PREFIX: &str = "whsec_";

/// A new secret: 32 random bytes, `whsec_<base64>`.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{PREFIX}{}", data_encoding::BASE64.encode(&bytes))
}

/// The key inside a `whsec_…` secret.
fn key(secret: &str) -> Option<Vec<u8>> {
    let b64 = secret.strip_prefix(PREFIX).unwrap_or(secret);
    data_encoding::BASE64.decode(b64.as_bytes()).ok()
}

/// The `webhook-signature` header's value for one message.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key(secret)?).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!(
        "v1,{}",
        data_encoding::BASE64.encode(&mac.finalize().into_bytes())
    ))
}

/// What lists show of a secret.
pub fn hint(secret: &str) -> String {
    format!(
        "{}…",
        secret.chars().take(PREFIX.len() + 4).collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks reference libraries' tests.
    #[test]
    fn signs_like_the_specification_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn new_secrets_are_32_bytes() {
        let s = new_secret();
        assert_eq!(key(&s).unwrap().len(), 32);
        assert_ne!(s, new_secret());
        assert!(hint(&s).starts_with("whsec_") && hint(&s).len() < s.len());
    }
}
