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

/// Count `n` hits in each (bucket, window start) at once, `n` negative to
/// take hits back; the counts after it. One upsert per `rows::CHUNK`
/// windows (the writer's batches count a whole batch's reports with it),
/// in (bucket, start) order so that two instances lock the rows in one
/// order. Each window must be listed once.
pub fn hit_many(
    conn: &mut DbConn,
    windows: &[(String, NaiveDateTime, i32)],
) -> QueryResult<std::collections::HashMap<(String, NaiveDateTime), i32>> {
    use super::rows::{Value, load, tuples};
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        bucket: String,
        #[diesel(sql_type = diesel::sql_types::Timestamp)]
        window_start: NaiveDateTime,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        hits: i32,
    }
    let mut sorted: Vec<&(String, NaiveDateTime, i32)> = windows.iter().collect();
    sorted.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut out = std::collections::HashMap::with_capacity(sorted.len());
    for chunk in sorted.chunks(super::rows::CHUNK) {
        let sql = format!(
            "INSERT INTO rate_windows (bucket, window_start, hits) VALUES {} \
             ON CONFLICT (bucket, window_start) DO UPDATE \
             SET hits = rate_windows.hits + excluded.hits \
             RETURNING bucket, window_start, hits",
            tuples(chunk.len(), 3)
        );
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 3);
        for (bucket, start, n) in chunk {
            values.extend([bucket.as_str().into(), (*start).into(), (*n).into()]);
        }
        for r in load::<Row>(conn, &sql, values)? {
            out.insert((r.bucket, r.window_start), r.hits);
        }
    }
    Ok(out)
}

/// How long a window is kept after it started: the longest is a day.
pub const KEPT: chrono::Duration = chrono::Duration::hours(25);

/// Forget windows that started before `before` (the worker's scan).
pub fn purge(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(rate_windows::table.filter(rate_windows::window_start.lt(before))).execute(conn)
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel_migrations::MigrationHarness;

    use super::*;

    const BY_KEY: &str = "20261214000100";

    fn buckets(c: &mut diesel::SqliteConnection) -> Vec<String> {
        rate_windows::table
            .select(rate_windows::bucket)
            .order(rate_windows::bucket)
            .load(c)
            .unwrap()
    }

    /// Windows under way when the bucket's order changed keep their
    /// counts: the migration turns "<scope>:<key>" into "<key>:<scope>"
    /// (a key may hold ':'), and back.
    #[test]
    fn the_bucket_migration_keeps_windows_under_way() {
        let (_dir, mut conn) = crate::db::scratch_sqlite();
        let DbConn::Sqlite(c) = &mut *conn else {
            unreachable!()
        };
        c.batch_execute(
            "INSERT INTO rate_windows (bucket, window_start, hits) VALUES \
             ('c0ffee:report-ip-day', '2026-12-05 00:00:00', 3), \
             ('a:b:login-account', '2026-12-05 10:00:00', 1)",
        )
        .unwrap();
        loop {
            let last = c
                .revert_last_migration(crate::db::SQLITE_MIGRATIONS)
                .unwrap();
            if last.to_string() == BY_KEY {
                break;
            }
        }
        assert_eq!(buckets(c), ["login-account:a:b", "report-ip-day:c0ffee"]);
        c.run_pending_migrations(crate::db::SQLITE_MIGRATIONS)
            .unwrap();
        assert_eq!(buckets(c), ["a:b:login-account", "c0ffee:report-ip-day"]);
    }
}
