//! The few places where SQLite and PostgreSQL differ.

use diesel::result::{DatabaseErrorKind, Error};

/// A unique constraint was violated (the portable replacement for ON CONFLICT:
/// insert, and on this error read back what won).
pub fn is_unique_violation(err: &Error) -> bool {
    matches!(
        err,
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

use diesel::prelude::*;

use super::DbConn;
use super::schema::cases;

/// Lock a case row for the rest of the transaction. PostgreSQL needs it when
/// several instances write; SQLite's single writer already serialises writes
/// (and has no FOR UPDATE).
pub fn lock_case(conn: &mut DbConn, case_id: &str) -> QueryResult<()> {
    match conn {
        DbConn::Pg(pg) => {
            cases::table
                .find(case_id)
                .select(cases::id)
                .for_update()
                .first::<String>(pg)?;
        }
        DbConn::Sqlite(_) => {}
    }
    Ok(())
}

diesel::define_sql_function! {
    /// `lower(text)`: Unicode-aware on both backends once
    /// `register_sqlite_functions` has replaced SQLite's ASCII-only built-in
    /// (PostgreSQL's follows the database's UTF-8 locale).
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Functions SQLite lacks or gets wrong, registered on each new connection.
pub fn register_sqlite_functions(conn: &mut diesel::sqlite::SqliteConnection) -> QueryResult<()> {
    // SQLite's own lower() folds only ASCII: "ÉLYSÉE" would not match "élysée".
    lower_utils::register_impl(conn, |s: String| s.to_lowercase())
}
