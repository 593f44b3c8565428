//! The instance's secrets and keyed hashes: the status-link token secret,
//! the unsubscribe secret, and the daily keys that turn client addresses
//! into hashes that stop being linkable after two days (raw addresses are
//! never stored).

use chrono::{Duration, NaiveDateTime};
use diesel::QueryResult;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::db::{DbConn, secrets};

type HmacSha256 = Hmac<Sha256>;

/// 256 random bits, URL-safe.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    data_encoding::BASE64URL_NOPAD.encode(&bytes)
}

/// HMAC-SHA256 of `parts` (NUL-separated) under `key`, in hex.
pub fn hmac_hex(key: &str, parts: &[&str]) -> String {
    let mut mac =
        HmacSha256::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(p.as_bytes());
        mac.update(b"\0");
    }
    data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
}

/// The instance secret password-reset links are derived from.
pub const RESET_SECRET_NAME: &str = "password-reset";

/// A password reset's token: derived from the reset's id, so the email can
/// be written (and retried) from the outbox although neither the token nor
/// the link is stored; the reset row keeps only the token's SHA-256.
pub fn reset_token(secret: &str, reset_id: &str) -> String {
    let hex = hmac_hex(secret, &["password-reset", reset_id]);
    let bytes = data_encoding::HEXLOWER
        .decode(hex.as_bytes())
        .unwrap_or_default();
    data_encoding::BASE64URL_NOPAD.encode(&bytes)
}

/// The token of a status link emailed at the reader's request, derived
/// from the link's id with the status-token secret when the email is sent:
/// only its hash is stored.
pub fn status_link_token(secret: &str, link_id: &str) -> String {
    let hex = hmac_hex(secret, &["status-link", link_id]);
    let bytes = data_encoding::HEXLOWER
        .decode(hex.as_bytes())
        .unwrap_or_default();
    data_encoding::BASE64URL_NOPAD.encode(&bytes)
}

/// The name of the instance secret status tokens are derived from.
pub const STATUS_SECRET_NAME: &str = "status-token";

/// Get or create a named secret; concurrent creators agree on the first one.
pub fn instance_secret(conn: &mut DbConn, name: &str) -> QueryResult<String> {
    if let Some(s) = secrets::instance_secret(conn, name)? {
        return Ok(s);
    }
    secrets::insert_instance_secret(conn, name, &random_secret())?;
    secrets::instance_secret(conn, name)?.ok_or(diesel::result::Error::NotFound)
}

/// A report's status-link token. With an Idempotency-Key it is derived from
/// the raw key, so a replay can hand the same link back although only its
/// hash is stored.
pub fn status_token(secret: &str, idempotency_key: Option<&str>, report_id: &str) -> String {
    match idempotency_key {
        Some(key) => {
            let hex = hmac_hex(secret, &["status-token", key, report_id]);
            let bytes = data_encoding::HEXLOWER
                .decode(hex.as_bytes())
                .unwrap_or_default();
            data_encoding::BASE64URL_NOPAD.encode(&bytes)
        }
        None => random_secret(),
    }
}

/// Keys that never change once committed, kept in memory so the intake does
/// not read them for every report: the status-token secret, and each day's
/// client-hash keys (the first writer of a day wins; every instance reads
/// back the same key). A key this transaction has just created is not cached:
/// the batch could still roll back, and another writer create a different one.
#[derive(Default)]
pub struct KeyCache {
    status_secret: std::sync::OnceLock<String>,
    reader_secret: std::sync::OnceLock<String>,
    days: std::sync::Mutex<Option<(chrono::NaiveDate, String, Option<String>)>>,
}

impl KeyCache {
    /// The reader secret (`reader_key`), read once.
    pub fn reader_secret(&self, conn: &mut DbConn) -> QueryResult<String> {
        if let Some(s) = self.reader_secret.get() {
            return Ok(s.clone());
        }
        match secrets::instance_secret(conn, READER_SECRET_NAME)? {
            Some(s) => Ok(self.reader_secret.get_or_init(|| s).clone()),
            None => instance_secret(conn, READER_SECRET_NAME),
        }
    }

    pub fn status_secret(&self, conn: &mut DbConn) -> QueryResult<String> {
        if let Some(s) = self.status_secret.get() {
            return Ok(s.clone());
        }
        match secrets::instance_secret(conn, "status-token")? {
            Some(s) => Ok(self.status_secret.get_or_init(|| s).clone()),
            None => instance_secret(conn, "status-token"),
        }
    }

    /// The keyed hashes of a client address under today's and yesterday's
    /// keys (UTC days of `t`).
    pub fn client_hashes(
        &self,
        conn: &mut DbConn,
        ip: &str,
        t: NaiveDateTime,
    ) -> QueryResult<(String, Option<String>)> {
        let (key, old) = self.day_keys(conn, t)?;
        Ok((
            hmac_hex(&key, &[ip])[..32].to_string(),
            old.map(|k| hmac_hex(&k, &[ip])[..32].to_string()),
        ))
    }

    /// A keyed hash of `parts` under today's key, as short as a client hash:
    /// for keys that must not be reversible from the database (an account's
    /// address in the shared login limits) and need to match only within a
    /// day.
    pub fn day_hash(
        &self,
        conn: &mut DbConn,
        parts: &[&str],
        t: NaiveDateTime,
    ) -> QueryResult<String> {
        let (key, _) = self.day_keys(conn, t)?;
        Ok(hmac_hex(&key, parts)[..32].to_string())
    }

    fn day_keys(
        &self,
        conn: &mut DbConn,
        t: NaiveDateTime,
    ) -> QueryResult<(String, Option<String>)> {
        let day = t.date();
        if let Ok(guard) = self.days.lock()
            && let Some((d, key, old)) = guard.as_ref()
            && *d == day
        {
            return Ok((key.clone(), old.clone()));
        }
        let (key, old, created) = read_day_keys(conn, t)?;
        if !created && let Ok(mut guard) = self.days.lock() {
            *guard = Some((day, key.clone(), old.clone()));
        }
        Ok((key, old))
    }
}

/// Today's key (created when missing: the third value says so) and
/// yesterday's; older keys are deleted when a day's key is made.
fn read_day_keys(
    conn: &mut DbConn,
    t: NaiveDateTime,
) -> QueryResult<(String, Option<String>, bool)> {
    let today = t.date().format("%Y-%m-%d").to_string();
    let yesterday = (t.date() - Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let mut created = false;
    let key = match secrets::day_key(conn, &today)? {
        Some(k) => k,
        None => {
            created = secrets::insert_day_key(conn, &today, &random_secret(), t)?;
            secrets::delete_day_keys_before(conn, &yesterday)?;
            secrets::day_key(conn, &today)?.ok_or(diesel::result::Error::NotFound)?
        }
    };
    let old = secrets::day_key(conn, &yesterday)?;
    Ok((key, old, created))
}

/// The instance secret readers' addresses are keyed with.
pub const READER_SECRET_NAME: &str = "reader-key";

/// The key a reader who left an address is filed under: an HMAC, under the
/// instance's reader secret, of the SHA-256 of the lowercased address. The
/// HMAC (not a plain hash) means nobody holding only the database rows can
/// test a guessed address against them without the secret; hashing the
/// address first lets the keys of reports filed before keyed hashes
/// (`email:<sha256>`) be moved over without the address, which retention
/// may already have erased (`app::readers::rekey_legacy`).
pub fn reader_key_of_digest(secret: &str, email_sha256: &str) -> String {
    format!("mail:{}", hmac_hex(secret, &["reader", email_sha256]))
}

/// `reader_key_of_digest` from the address itself.
pub fn reader_key(secret: &str, email: &str) -> String {
    reader_key_of_digest(
        secret,
        &crate::domain::text::sha256_hex(email.to_lowercase()),
    )
}

/// The reader secret (created on first use; every instance agrees on it).
pub fn reader_secret(conn: &mut DbConn) -> QueryResult<String> {
    instance_secret(conn, READER_SECRET_NAME)
}
