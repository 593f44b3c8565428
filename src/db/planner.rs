//! The planner's statistics on PostgreSQL while tables are young.
//!
//! PostgreSQL keeps prepared statements per connection, and after five
//! runs it may keep one generic plan for good. A plan made while a table
//! held a few dozen rows scans it whole, and it stays until the table's
//! statistics change: autovacuum's first `ANALYZE` comes after 50 rows and
//! 10% more plus up to a minute of nap. On a new newsroom's database that
//! minute cost three intake reads a sequential scan each (`reports` by
//! reference, by comment and by reader), 6 ms apiece at a few thousand
//! reports, and intake at 64 connections ran at a third of its rate.
//!
//! So a table whose live rows have at least doubled since it was last
//! analysed (and that holds enough rows to matter) is analysed at once. A
//! table's `ANALYZE` invalidates the plans that read it. That happens a
//! handful of times in a table's life (at 1,000 rows, 2,000, 4,000, ...);
//! a grown-up table's statistics are autovacuum's to keep. SQLite needs
//! none of this: its statements are planned again when `ANALYZE` runs, and
//! `PRAGMA optimize` (`db::optimize`) already looks for grown tables.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::DbConn;

/// Below this many live rows a sequential scan costs little.
pub const GROWN_FROM: i64 = 1_000;

#[derive(QueryableByName)]
struct Grown {
    #[diesel(sql_type = Text)]
    relname: String,
}

/// The tables (of this schema) whose live rows have at least doubled
/// since their statistics were taken, and hold `GROWN_FROM` or more, each
/// named as `regclass` writes it (quoted where an identifier needs it).
/// `reltuples` is -1 for a table never analysed and 0 for one analysed
/// empty.
const GROWN: &str = "SELECT s.relid::regclass::text AS relname \
     FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid \
     WHERE s.schemaname = current_schema() \
       AND s.n_live_tup >= $1 \
       AND s.n_live_tup >= 2 * GREATEST(c.reltuples, 0) \
     ORDER BY s.relname";

/// Analyse the tables that have outgrown their statistics; returns their
/// names. Several instances may run this at once: a table another one is
/// analysing is skipped (`SKIP_LOCKED`), not waited for. Nothing on SQLite.
pub fn analyze_grown(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    let DbConn::Pg(c) = conn else {
        return Ok(Vec::new());
    };
    let grown: Vec<String> = diesel::sql_query(GROWN)
        .bind::<diesel::sql_types::BigInt, _>(GROWN_FROM)
        .load::<Grown>(c)?
        .into_iter()
        .map(|g| g.relname)
        .collect();
    for table in &grown {
        c.batch_execute(&format!("ANALYZE (SKIP_LOCKED) {table}"))?;
    }
    Ok(grown)
}
