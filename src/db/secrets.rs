//! Storage of the instance's secrets and of the daily client-hash keys. What
//! they are for, and how they are made, is `auth::keys`'s business.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::dialect::is_unique_violation;
use super::schema::{client_hash_keys, instance_secrets};
use super::{DbConn, now};

pub fn instance_secret(conn: &mut DbConn, name: &str) -> QueryResult<Option<String>> {
    instance_secrets::table
        .find(name)
        .select(instance_secrets::secret)
        .first::<String>(conn)
        .optional()
}

/// Insert `secret` under `name` unless one exists (concurrent creators then
/// agree on the first: read it back).
pub fn insert_instance_secret(conn: &mut DbConn, name: &str, secret: &str) -> QueryResult<()> {
    let created = conn.transaction(|c| {
        diesel::insert_into(instance_secrets::table)
            .values((
                instance_secrets::name.eq(name),
                instance_secrets::secret.eq(secret),
                instance_secrets::created_at.eq(now()),
            ))
            .execute(c)
    });
    match created {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

pub fn day_key(conn: &mut DbConn, day: &str) -> QueryResult<Option<String>> {
    client_hash_keys::table
        .find(day)
        .select(client_hash_keys::secret)
        .first(conn)
        .optional()
}

/// Insert a day's key; false when another writer made that day's key first.
pub fn insert_day_key(
    conn: &mut DbConn,
    day: &str,
    secret: &str,
    t: NaiveDateTime,
) -> QueryResult<bool> {
    let inserted = conn.transaction(|c| {
        diesel::insert_into(client_hash_keys::table)
            .values((
                client_hash_keys::day.eq(day),
                client_hash_keys::secret.eq(secret),
                client_hash_keys::created_at.eq(t),
            ))
            .execute(c)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn delete_day_keys_before(conn: &mut DbConn, day: &str) -> QueryResult<usize> {
    diesel::delete(client_hash_keys::table.filter(client_hash_keys::day.lt(day))).execute(conn)
}
