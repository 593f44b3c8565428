//! Storage of the rate limits shared across instances (`auth::limits`): a
//! hit counter per limit window, bumped inside the caller's transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::rate_windows;

/// Count one hit in `bucket`'s window starting at `window_start`; the count
/// after it. One upsert, so instances racing on one window serialise on its
/// row (PostgreSQL) or on the write lock (SQLite), and none loses a hit.
pub fn hit(conn: &mut DbConn, bucket: &str, window_start: NaiveDateTime) -> QueryResult<i32> {
    // Written twice because diesel's upsert is typed per backend; the
    // statement is the same.
    macro_rules! upsert {
        ($c:expr) => {
            diesel::insert_into(rate_windows::table)
                .values((
                    rate_windows::bucket.eq(bucket),
                    rate_windows::window_start.eq(window_start),
                    rate_windows::hits.eq(1),
                ))
                .on_conflict((rate_windows::bucket, rate_windows::window_start))
                .do_update()
                .set(rate_windows::hits.eq(rate_windows::hits + 1))
                .returning(rate_windows::hits)
                .get_result::<i32>($c)
        };
    }
    match conn {
        DbConn::Pg(c) => upsert!(c),
        DbConn::Sqlite(c) => upsert!(c),
    }
}

/// How long a window is kept after it started: the longest is a day.
pub const KEPT: chrono::Duration = chrono::Duration::hours(25);

/// Forget windows that started before `before` (the worker's scan).
pub fn purge(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(rate_windows::table.filter(rate_windows::window_start.lt(before))).execute(conn)
}
