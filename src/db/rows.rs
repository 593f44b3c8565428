//! Multi-row statements for the writer's batches (`writer::Batched`): one
//! parameterised statement for many rows, written once for both backends.
//! diesel's multi-row insert is typed per backend and does not go through
//! the `DbConn` enum, hence plain SQL with `?` placeholders here, numbered
//! `$1, $2, …` for PostgreSQL. Values are always bound, never spliced.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text, Timestamp};

use super::DbConn;

/// One bound value.
#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    OptText(Option<String>),
    Int(i32),
    Bool(bool),
    Ts(NaiveDateTime),
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

/// Rows per statement: well under both backends' limits on bound values
/// (32,766 on SQLite, 65,535 on PostgreSQL) for rows of up to 60 values.
pub const CHUNK: usize = 500;

/// `(?, ?), (?, ?)`: `rows` tuples of `cols` placeholders.
pub fn tuples(rows: usize, cols: usize) -> String {
    let one = format!("({})", vec!["?"; cols].join(", "));
    vec![one; rows].join(", ")
}

/// `?, ?, ?`: `n` placeholders (an `IN (…)` list).
pub fn list(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// `sql`'s `?` placeholders numbered for PostgreSQL. The statements given
/// here hold no `?` other than placeholders.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(ch);
        }
    }
    out
}

macro_rules! bound {
    ($backend:ty, $sql:expr, $values:expr) => {{
        let mut q = diesel::sql_query($sql).into_boxed::<$backend>();
        for v in $values {
            q = match v {
                Value::Text(s) => q.bind::<Text, _>(s),
                Value::OptText(s) => q.bind::<Nullable<Text>, _>(s),
                Value::Int(i) => q.bind::<Integer, _>(i),
                Value::Bool(b) => q.bind::<Bool, _>(b),
                Value::Ts(t) => q.bind::<Timestamp, _>(t),
            };
        }
        q
    }};
}

/// Run `sql` with `values` bound in order; the rows it touched.
pub fn execute(conn: &mut DbConn, sql: &str, values: Vec<Value>) -> QueryResult<usize> {
    match conn {
        DbConn::Pg(c) => bound!(diesel::pg::Pg, numbered(sql), values).execute(c),
        DbConn::Sqlite(c) => bound!(diesel::sqlite::Sqlite, sql.to_string(), values).execute(c),
    }
}

/// Run `sql` with `values` bound in order and read its rows.
pub fn load<R>(conn: &mut DbConn, sql: &str, values: Vec<Value>) -> QueryResult<Vec<R>>
where
    R: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    match conn {
        DbConn::Pg(c) => bound!(diesel::pg::Pg, numbered(sql), values).load::<R>(c),
        DbConn::Sqlite(c) => bound!(diesel::sqlite::Sqlite, sql.to_string(), values).load::<R>(c),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders() {
        assert_eq!(super::tuples(2, 2), "(?, ?), (?, ?)");
        assert_eq!(super::list(3), "?, ?, ?");
        assert_eq!(
            super::numbered("INSERT INTO t VALUES (?, ?), (?, ?)"),
            "INSERT INTO t VALUES ($1, $2), ($3, $4)"
        );
    }
}
