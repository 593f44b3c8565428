//! The two backends' migrated schemas must stay equivalent.

use std::collections::BTreeMap;

use diesel::{QueryableByName, RunQueryDsl, sql_query};

use crate::helpers::{create_pg_database, drop_pg_database, postgres_admin_url, postgres_enabled};

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    data_type: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    nullable: bool,
}

/// Portable type names: what each backend calls the same diesel type.
fn canonical(t: &str) -> String {
    match t.to_ascii_lowercase().as_str() {
        "text" => "text",
        "integer" | "int4" => "integer",
        "bigint" | "int8" => "bigint",
        "boolean" | "bool" => "boolean",
        "timestamp" | "timestamp without time zone" => "timestamp",
        other => return other.to_string(),
    }
    .to_string()
}

type Schema = BTreeMap<(String, String), (String, bool)>;

fn collect(rows: Vec<Column>) -> Schema {
    rows.into_iter()
        .filter(|c| !c.table_name.starts_with("__diesel"))
        // SQLite's full-text index and its shadow tables; PostgreSQL indexes
        // search_docs with pg_trgm instead.
        .filter(|c| !c.table_name.starts_with("search_fts"))
        .map(|c| {
            (
                (c.table_name, c.column_name),
                (canonical(&c.data_type), c.nullable),
            )
        })
        .collect()
}

#[test]
fn sqlite_and_postgres_schemas_are_equivalent() {
    if !postgres_enabled() {
        return;
    }
    let admin = postgres_admin_url().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (sqlite, _) = erratum::db::connect(
        &format!("sqlite://{}", dir.path().join("s.db").display()),
        1,
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    let mut conn = sqlite.get().unwrap();
    erratum::db::migrate(&mut conn).unwrap();
    let sqlite_schema = collect(
        sql_query(
            "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type,
                    (p.\"notnull\" = 0 AND p.pk = 0) AS nullable
             FROM sqlite_master m JOIN pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
        )
        .load::<Column>(&mut *conn)
        .unwrap(),
    );

    let (url, name) = create_pg_database(&admin);
    let (pg, _) = erratum::db::connect(&url, 1, std::time::Duration::from_secs(5)).unwrap();
    let pg_schema = collect(
        sql_query(
            "SELECT table_name::text, column_name::text, data_type::text, (is_nullable = 'YES') AS nullable
             FROM information_schema.columns WHERE table_schema = 'public'",
        )
        .load::<Column>(&mut *pg.get().unwrap())
        .unwrap(),
    );
    drop(pg);
    drop_pg_database(&admin, &name);

    assert!(
        sqlite_schema.len() > 40,
        "too few columns read: {}",
        sqlite_schema.len()
    );
    let only_sqlite: Vec<_> = sqlite_schema
        .iter()
        .filter(|(k, v)| pg_schema.get(*k) != Some(v))
        .collect();
    let only_pg: Vec<_> = pg_schema
        .iter()
        .filter(|(k, v)| sqlite_schema.get(*k) != Some(v))
        .collect();
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "schemas differ:\n  sqlite only or different: {only_sqlite:?}\n  postgres only or different: {only_pg:?}"
    );
}
