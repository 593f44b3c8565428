//! One-time tokens that let someone in without a password: password resets
//! sent by email, and the setup link that creates the first admin. Only the
//! SHA-256 of a token is stored; each works once, until it expires.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{editors, password_resets, setup_tokens};
use super::{DbConn, new_id};
use crate::domain::editor::Role;

// ---- password resets ------------------------------------------------------

/// Store a reset for `editor_id` (its id is chosen by the caller: the link's
/// token is derived from it).
pub fn create_reset(
    conn: &mut DbConn,
    id: &str,
    editor_id: &str,
    token_digest: &str,
    t: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    // Forget the editor's spent resets, which keeps the table small.
    diesel::delete(
        password_resets::table
            .filter(password_resets::editor_id.eq(editor_id))
            .filter(
                password_resets::expires_at
                    .le(t)
                    .or(password_resets::used_at.is_not_null()),
            ),
    )
    .execute(conn)?;
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::id.eq(id),
            password_resets::editor_id.eq(editor_id),
            password_resets::token_hash.eq(token_digest),
            password_resets::created_at.eq(t),
            password_resets::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The editor of a live (unused, unexpired) reset of an enabled account.
pub fn live_reset(
    conn: &mut DbConn,
    token_digest: &str,
    t: NaiveDateTime,
) -> QueryResult<Option<(String, String)>> {
    password_resets::table
        .inner_join(editors::table)
        .filter(password_resets::token_hash.eq(token_digest))
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.gt(t))
        .filter(editors::disabled.eq(false))
        .select((password_resets::id, password_resets::editor_id))
        .first(conn)
        .optional()
}

/// Spend a reset: false when it was spent already (by a concurrent use).
/// Every other outstanding reset of the account is spent with it.
pub fn use_reset(
    conn: &mut DbConn,
    id: &str,
    editor_id: &str,
    t: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        password_resets::table
            .filter(password_resets::id.eq(id))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(t))
    .execute(conn)?;
    diesel::update(
        password_resets::table
            .filter(password_resets::editor_id.eq(editor_id))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(t))
    .execute(conn)?;
    Ok(n == 1)
}

/// Whether a reset with this id is still unused and unexpired (the email
/// worker does not send a link that no longer works).
pub fn reset_is_live(conn: &mut DbConn, id: &str, t: NaiveDateTime) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        password_resets::table
            .filter(password_resets::id.eq(id))
            .filter(password_resets::used_at.is_null())
            .filter(password_resets::expires_at.gt(t)),
    ))
    .get_result(conn)
}

// ---- the first admin's setup link ----------------------------------------

/// Whether an enabled admin account exists.
pub fn has_admin(conn: &mut DbConn) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        editors::table
            .filter(editors::role.eq(Role::Admin))
            .filter(editors::disabled.eq(false)),
    ))
    .get_result(conn)
}

/// Store a new setup token; earlier unused ones stop working (only the link
/// printed last opens the page).
pub fn create_setup_token(
    conn: &mut DbConn,
    token_digest: &str,
    t: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(setup_tokens::table.filter(setup_tokens::used_at.is_null())).execute(conn)?;
    diesel::insert_into(setup_tokens::table)
        .values((
            setup_tokens::id.eq(new_id()),
            setup_tokens::token_hash.eq(token_digest),
            setup_tokens::created_at.eq(t),
            setup_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The id of a live setup token.
pub fn live_setup_token(
    conn: &mut DbConn,
    token_digest: &str,
    t: NaiveDateTime,
) -> QueryResult<Option<String>> {
    setup_tokens::table
        .filter(setup_tokens::token_hash.eq(token_digest))
        .filter(setup_tokens::used_at.is_null())
        .filter(setup_tokens::expires_at.gt(t))
        .select(setup_tokens::id)
        .first(conn)
        .optional()
}

/// Spend a setup token: false when it was spent already.
pub fn use_setup_token(conn: &mut DbConn, id: &str, t: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        setup_tokens::table
            .filter(setup_tokens::id.eq(id))
            .filter(setup_tokens::used_at.is_null()),
    )
    .set(setup_tokens::used_at.eq(t))
    .execute(conn)?;
    Ok(n == 1)
}
