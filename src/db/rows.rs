//! Multi-row statements for the writer's batches (`writer::Batched`): one
//! parameterised statement for many rows, written once for both backends.
//! diesel's multi-row insert is typed per backend and does not go through
//! the `DbConn` enum, hence plain SQL with `?` placeholders here, numbered
//! `$1, $2, …` for PostgreSQL as they are bound. Values are always bound,
//! never spliced.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamp};

use super::DbConn;

/// One bound value.
#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    OptText(Option<String>),
    Int(i32),
    Big(i64),
    Bool(bool),
    Ts(NaiveDateTime),
    OptTs(Option<NaiveDateTime>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}

impl From<Option<&str>> for Value {
    fn from(s: Option<&str>) -> Value {
        Value::OptText(s.map(str::to_string))
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Int(i)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Big(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<NaiveDateTime> for Value {
    fn from(t: NaiveDateTime) -> Value {
        Value::Ts(t)
    }
}

impl From<Option<NaiveDateTime>> for Value {
    fn from(t: Option<NaiveDateTime>) -> Value {
        Value::OptTs(t)
    }
}

/// Rows per statement: well under both backends' limits on bound values
/// (32,766 on SQLite, 65,535 on PostgreSQL) for rows of up to 60 values.
pub const CHUNK: usize = 500;

/// `(?, ?), (?, ?)`: `rows` tuples of `cols` placeholders.
pub fn tuples(rows: usize, cols: usize) -> String {
    let one = format!("({})", vec!["?"; cols].join(", "));
    vec![one; rows].join(", ")
}

/// A multi-row statement over `rows`, one run per `CHUNK` of them: `sql`
/// gets the chunk's `(?, …), (?, …)` tuples, `row` each row's values, in
/// the tuples' column order.
pub fn execute_chunked<T, const COLS: usize>(
    conn: &mut DbConn,
    rows: &[T],
    sql: impl Fn(&str) -> String,
    row: impl Fn(&T) -> [Value; COLS],
) -> QueryResult<()> {
    for chunk in rows.chunks(CHUNK) {
        let values: Vec<Value> = chunk.iter().flat_map(&row).collect();
        execute(conn, &sql(&tuples(chunk.len(), COLS)), values)?;
    }
    Ok(())
}

/// `?, ?, ?`: `n` placeholders (an `IN (…)` list).
pub fn list(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Statements with at most this many bound values are kept prepared on
/// their connection (diesel's statement cache, keyed by the SQL text): the
/// writer's batches repeat the same few shapes, and preparing one anew
/// cost SQLite a parse per statement and PostgreSQL a round trip. Larger
/// ones are prepared each time, so the cache holds a bounded number of
/// shapes (a few hundred small statements at most).
const CACHED_VALUES: usize = 1024;

/// A statement with `?` placeholders and its values. Unlike `sql_query`,
/// which diesel never caches, it may be kept prepared (`CACHED_VALUES`).
/// Each `?` becomes the backend's own placeholder (`$n` on PostgreSQL) as
/// its value is bound, so the statements given here hold no `?` other
/// than placeholders.
struct Stmt<'a> {
    sql: &'a str,
    values: &'a [Value],
}

impl<DB> diesel::query_builder::QueryFragment<DB> for Stmt<'_>
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<Text>
        + diesel::sql_types::HasSqlType<Integer>
        + diesel::sql_types::HasSqlType<BigInt>
        + diesel::sql_types::HasSqlType<Bool>
        + diesel::sql_types::HasSqlType<Timestamp>,
    String: diesel::serialize::ToSql<Text, DB>,
    Option<String>: diesel::serialize::ToSql<Nullable<Text>, DB>,
    i32: diesel::serialize::ToSql<Integer, DB>,
    i64: diesel::serialize::ToSql<BigInt, DB>,
    bool: diesel::serialize::ToSql<Bool, DB>,
    NaiveDateTime: diesel::serialize::ToSql<Timestamp, DB>,
    Option<NaiveDateTime>: diesel::serialize::ToSql<Nullable<Timestamp>, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        if self.values.len() > CACHED_VALUES {
            out.unsafe_to_cache_prepared();
        }
        let mut parts = self.sql.split('?');
        out.push_sql(parts.next().unwrap_or_default());
        let mut values = self.values.iter();
        for part in parts {
            let value = values.next().ok_or_else(|| {
                diesel::result::Error::QueryBuilderError("a placeholder has no value".into())
            })?;
            match value {
                Value::Text(s) => out.push_bind_param::<Text, _>(s)?,
                Value::OptText(s) => out.push_bind_param::<Nullable<Text>, _>(s)?,
                Value::Int(i) => out.push_bind_param::<Integer, _>(i)?,
                Value::Big(i) => out.push_bind_param::<BigInt, _>(i)?,
                Value::Bool(b) => out.push_bind_param::<Bool, _>(b)?,
                Value::Ts(t) => out.push_bind_param::<Timestamp, _>(t)?,
                Value::OptTs(t) => out.push_bind_param::<Nullable<Timestamp>, _>(t)?,
            }
            out.push_sql(part);
        }
        if values.next().is_some() {
            return Err(diesel::result::Error::QueryBuilderError(
                "more values than placeholders".into(),
            ));
        }
        Ok(())
    }
}

impl diesel::query_builder::QueryId for Stmt<'_> {
    type QueryId = ();
    // No static id: the cache is keyed by the SQL text and bind types.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for Stmt<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Stmt<'_> {}

/// Run `sql` with `values` bound in order; the rows it touched.
pub fn execute(conn: &mut DbConn, sql: &str, values: Vec<Value>) -> QueryResult<usize> {
    let stmt = Stmt {
        sql,
        values: &values,
    };
    match conn {
        DbConn::Pg(c) => stmt.execute(c),
        DbConn::Sqlite(c) => stmt.execute(c),
    }
}

/// Run `sql` with `values` bound in order and read its rows.
pub fn load<R>(conn: &mut DbConn, sql: &str, values: Vec<Value>) -> QueryResult<Vec<R>>
where
    R: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    let stmt = Stmt {
        sql,
        values: &values,
    };
    match conn {
        DbConn::Pg(c) => stmt.load::<R>(c),
        DbConn::Sqlite(c) => stmt.load::<R>(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;

    #[test]
    fn placeholders() {
        assert_eq!(super::tuples(2, 2), "(?, ?), (?, ?)");
        assert_eq!(super::list(3), "?, ?, ?");
    }

    #[derive(QueryableByName, Debug, PartialEq)]
    struct Row {
        #[diesel(sql_type = Text)]
        a: String,
        #[diesel(sql_type = Nullable<Text>)]
        b: Option<String>,
        #[diesel(sql_type = Integer)]
        c: i32,
        #[diesel(sql_type = BigInt)]
        d: i64,
        #[diesel(sql_type = Bool)]
        e: bool,
        #[diesel(sql_type = Timestamp)]
        f: NaiveDateTime,
    }

    fn row(i: i32) -> Row {
        Row {
            a: format!("a?{i}"),
            b: (i % 2 == 0).then(|| "b".to_string()),
            c: i,
            d: i64::from(i) << 40,
            e: i % 3 == 0,
            f: chrono::DateTime::from_timestamp(1_700_000_000 + i64::from(i), 0)
                .unwrap()
                .naive_utc(),
        }
    }

    fn values(r: &Row) -> Vec<Value> {
        vec![
            r.a.as_str().into(),
            r.b.as_deref().into(),
            r.c.into(),
            r.d.into(),
            r.e.into(),
            r.f.into(),
        ]
    }

    #[test]
    fn chunked_rows_are_all_written_in_order() {
        let mut conn = DbConn::Sqlite(
            diesel::sqlite::SqliteConnection::establish(":memory:").expect("in-memory SQLite"),
        );
        conn.batch_execute("CREATE TABLE t (a TEXT NOT NULL, c INTEGER NOT NULL)")
            .unwrap();
        let rows: Vec<Row> = (0..(CHUNK + 3) as i32).map(row).collect();
        execute_chunked(
            &mut conn,
            &rows,
            |tuples| format!("INSERT INTO t (a, c) VALUES {tuples}"),
            |r| [r.a.as_str().into(), r.c.into()],
        )
        .unwrap();
        #[derive(QueryableByName)]
        struct Two {
            #[diesel(sql_type = Text)]
            a: String,
            #[diesel(sql_type = Integer)]
            c: i32,
        }
        let read: Vec<Two> = load(&mut conn, "SELECT a, c FROM t ORDER BY c", vec![]).unwrap();
        assert_eq!(read.len(), rows.len());
        assert!(
            read.iter()
                .zip(&rows)
                .all(|(t, r)| t.a == r.a && t.c == r.c)
        );
    }

    #[test]
    fn every_kind_of_value_is_bound_in_order_cached_or_not() {
        let mut conn = DbConn::Sqlite(
            diesel::sqlite::SqliteConnection::establish(":memory:").expect("in-memory SQLite"),
        );
        conn.batch_execute(
            "CREATE TABLE t (a TEXT NOT NULL, b TEXT, c INTEGER NOT NULL, \
             d BIGINT NOT NULL, e BOOLEAN NOT NULL, f TIMESTAMP NOT NULL)",
        )
        .unwrap();
        // The same shape twice (the second from the statement cache), then
        // one over `CACHED_VALUES`, prepared anew.
        let sizes = [3, 3, CACHED_VALUES / 6 + 1];
        let mut expected = Vec::new();
        for n in sizes {
            let rows: Vec<Row> = (0..n as i32)
                .map(|i| row(expected.len() as i32 + i))
                .collect();
            let sql = format!("INSERT INTO t (a, b, c, d, e, f) VALUES {}", tuples(n, 6));
            let inserted = execute(&mut conn, &sql, rows.iter().flat_map(values).collect());
            assert_eq!(inserted.unwrap(), n);
            expected.extend(rows);
        }
        let read: Vec<Row> = load(
            &mut conn,
            "SELECT a, b, c, d, e, f FROM t WHERE c >= ? ORDER BY c",
            vec![0.into()],
        )
        .unwrap();
        assert_eq!(read, expected);
        // A placeholder without its value, and a value without its
        // placeholder, are refused before anything runs.
        assert!(execute(&mut conn, "DELETE FROM t WHERE c = ?", vec![]).is_err());
        assert!(execute(&mut conn, "DELETE FROM t", vec![1.into()]).is_err());
        let left: Vec<Row> = load(&mut conn, "SELECT * FROM t", vec![]).unwrap();
        assert_eq!(left.len(), expected.len());
    }
}
