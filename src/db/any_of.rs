//! `column IN (list)` as one bound parameter, however long the list.
//!
//! diesel's `eq_any` writes `IN (?, ?, …)` on SQLite, one placeholder per
//! value, so every length is a different statement and diesel never caches
//! it: the writer prepared each of a batch's set-wise reads again on every
//! batch (11.5% of its CPU at 8 connections, stop 31). Here SQLite gets the
//! list as one JSON array unpacked by `json_each`, and PostgreSQL its own
//! `= ANY($1)` with one array parameter (what `eq_any` already writes there):
//! the SQL no longer depends on the length, so it is prepared once per
//! connection. A value inside `json_each` is also not one that SQLite's
//! STAT4 statistics plan by, so binding new values never re-prepares it.

use diesel::QueryResult;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Bool, Nullable, Text};
use diesel::sqlite::Sqlite;

use super::MultiBackend;

/// `column` is one of `values` (never, for an empty list).
#[derive(Debug, Clone)]
pub struct AnyOf<'a, C> {
    column: C,
    values: &'a [String],
    /// The values as a JSON array, for SQLite.
    json: String,
}

/// `column IN values`, with SQL that does not change with `values.len()`.
pub fn any_of<C>(column: C, values: &[String]) -> AnyOf<'_, C>
where
    C: Expression,
    C::SqlType: TextColumn,
{
    AnyOf {
        column,
        values,
        json: serde_json::to_string(values).unwrap_or_else(|_| "[]".into()),
    }
}

/// The SQL types a list of strings is compared with.
pub trait TextColumn {}
impl TextColumn for Text {}
impl TextColumn for Nullable<Text> {}

impl<C> Expression for AnyOf<'_, C> {
    type SqlType = Bool;
}

impl<C, QS> AppearsOnTable<QS> for AnyOf<'_, C> where C: AppearsOnTable<QS> {}

impl<C, QS> SelectableExpression<QS> for AnyOf<'_, C> where C: SelectableExpression<QS> {}

impl<C, GB> ValidGrouping<GB> for AnyOf<'_, C>
where
    C: ValidGrouping<GB>,
{
    type IsAggregate = C::IsAggregate;
}

impl<C> QueryId for AnyOf<'_, C> {
    type QueryId = ();
    // No static id: the statement cache is keyed by the SQL text, which
    // is the same for every list.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C: QueryFragment<Sqlite>> QueryFragment<Sqlite> for AnyOf<'_, C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(&self.json)?;
        out.push_sql("))");
        Ok(())
    }
}

impl<C: QueryFragment<Pg>> QueryFragment<Pg> for AnyOf<'_, C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" = ANY(");
        out.push_bind_param::<Array<Text>, _>(self.values)?;
        out.push_sql(")");
        Ok(())
    }
}

impl<C> QueryFragment<MultiBackend> for AnyOf<'_, C>
where
    C: QueryFragment<Sqlite> + QueryFragment<Pg>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        MultiBackend::walk_variant_ast(self, pass)
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use super::*;
    use crate::db::schema::idempotency_keys as k;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// The statement's SQL on backend `$db`, without its bound values.
    macro_rules! sql {
        ($db:ty, $values:expr) => {{
            let values: &[String] = $values;
            let q = k::table
                .select(k::key_hash)
                .filter(any_of(k::key_hash, values));
            let text = diesel::debug_query::<$db, _>(&q).to_string();
            text.split(" -- binds")
                .next()
                .unwrap_or_default()
                .to_string()
        }};
    }

    #[test]
    fn the_sql_is_the_same_for_any_number_of_values() {
        let (one, three) = (strings(&["a"]), strings(&["a", "b", "c"]));
        assert_eq!(sql!(Sqlite, &one), sql!(Sqlite, &three));
        assert!(sql!(Sqlite, &one).contains("IN (SELECT value FROM json_each(?))"));
        assert_eq!(sql!(Pg, &one), sql!(Pg, &three));
        assert!(sql!(Pg, &one).contains("= ANY($1)"));
    }

    #[test]
    fn it_matches_what_in_matches_and_an_empty_list_nothing() {
        let (_dir, mut conn) = crate::db::scratch_sqlite();
        conn.batch_execute(
            "INSERT INTO idempotency_keys (key_hash, request_hash, status_code, response_body, \
             created_at) VALUES ('a', 'r', 201, '{}', '2026-01-01 00:00:00'), \
             ('b\"''é', 'r', 201, '{}', '2026-01-01 00:00:00'), \
             ('c', 'r', 201, '{}', '2026-01-01 00:00:00')",
        )
        .unwrap();
        let mut found = |v: &[&str]| {
            let v = strings(v);
            let mut got: Vec<String> = k::table
                .select(k::key_hash)
                .filter(any_of(k::key_hash, &v))
                .load(&mut *conn)
                .unwrap();
            got.sort();
            got
        };
        // Quotes and accents survive the JSON array.
        assert_eq!(found(&["b\"'é", "c", "z"]), strings(&["b\"'é", "c"]));
        assert_eq!(found(&["a", "a"]), strings(&["a"]));
        assert!(found(&[]).is_empty());
    }
}
