//! SQLite's full-text index of the queue search (`search_fts`, trigrams of
//! `search_docs`), brought up to date in bulk rather than in every commit.
//!
//! Indexed by a trigger, each writer batch added a small segment to the
//! index, and FTS5 merged those segments inside later batches: on a
//! database of a million reports, one batch in fifty took 20 to 100 ms
//! instead of 2, and every report queued behind it waited as long; the
//! intake ran at 2,000 reports/s there, 3,000 without. Now a new document
//! is only listed in `search_fts_pending` by its trigger, and the indexer
//! (`app::search_index`) adds the listed documents to the index every
//! second, through the writer, in one pass: one segment per pass, not per
//! batch, so the merges are rarer, larger and off the reports' commits.
//!
//! The search stays exact meanwhile: it reads the pending documents
//! directly (`PENDING_MATCH`), a few thousand rows at most under a flood
//! of reports. PostgreSQL's trigram index needs none of this (GIN keeps a
//! pending list of its own): there, every function here does nothing.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Bool, Text};

use super::DbConn;

/// The search's second half on SQLite: documents not yet indexed whose
/// folded body holds the folded words (`instr`, the same test as a
/// trigram phrase match, without LIKE's wildcards). `CROSS JOIN` keeps the
/// short pending list as the outer loop: with a plain join and no
/// statistics on the list yet, SQLite scanned all of `search_docs`.
const PENDING_MATCH: &str = "SELECT d.case_id FROM search_fts_pending p \
     CROSS JOIN search_docs d ON d.id = p.doc_id WHERE instr(d.body, ";

/// SQLite: the case ids of up to `limit` documents whose folded body holds
/// `folded` (three characters or more, already folded): a trigram phrase
/// query of the index, then the documents it does not hold yet.
pub fn matching(conn: &mut DbConn, folded: &str, limit: i64) -> QueryResult<Vec<String>> {
    let phrase = format!("\"{}\"", folded.replace('"', "\"\""));
    sql::<Text>(
        "SELECT d.case_id FROM search_fts JOIN search_docs d \
         ON d.id = search_fts.rowid WHERE search_fts MATCH ",
    )
    .bind::<Text, _>(phrase)
    .sql(" UNION ALL ")
    .sql(PENDING_MATCH)
    .bind::<Text, _>(folded)
    .sql(") > 0 LIMIT ")
    .bind::<BigInt, _>(limit)
    .load::<String>(conn)
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    flag: bool,
}

/// Whether documents wait to be indexed.
pub fn has_pending(conn: &mut DbConn) -> QueryResult<bool> {
    let DbConn::Sqlite(c) = conn else {
        return Ok(false);
    };
    sql_query("SELECT EXISTS (SELECT 1 FROM search_fts_pending) AS flag")
        .get_result::<Flag>(c)
        .map(|f| f.flag)
}

/// Index up to `limit` pending documents, oldest first; returns how many
/// left the list. Run in the writer's transaction: the two statements see
/// the same list.
pub fn index_pending(conn: &mut DbConn, limit: i64) -> QueryResult<usize> {
    let DbConn::Sqlite(c) = conn else {
        return Ok(0);
    };
    sql_query(
        "INSERT INTO search_fts (rowid, body) \
         SELECT d.id, d.body FROM search_fts_pending p JOIN search_docs d ON d.id = p.doc_id \
         ORDER BY p.doc_id LIMIT ?",
    )
    .bind::<BigInt, _>(limit)
    .execute(c)?;
    sql_query(
        "DELETE FROM search_fts_pending WHERE doc_id IN \
         (SELECT doc_id FROM search_fts_pending ORDER BY doc_id LIMIT ?)",
    )
    .bind::<BigInt, _>(limit)
    .execute(c)
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;

    use super::*;

    /// What the queue search finds (`matching`), in order.
    fn found(conn: &mut DbConn, words: &str) -> Vec<String> {
        let mut ids = matching(conn, words, 100).unwrap();
        ids.sort();
        ids
    }

    fn sqlite(conn: &mut DbConn) -> &mut diesel::SqliteConnection {
        let DbConn::Sqlite(c) = conn else {
            unreachable!()
        };
        c
    }

    /// Index what is pending, then have FTS5 check its index against every
    /// document of search_docs, its content table (a pending document
    /// would fail that check, being not indexed yet by design). A removal
    /// of values the index never held would leave it failing for good.
    fn sane(conn: &mut DbConn) {
        index_pending(conn, i64::MAX).unwrap();
        sqlite(conn)
            .batch_execute(
                "INSERT INTO search_fts (search_fts, rank) VALUES ('integrity-check', 1)",
            )
            .expect("the index matches its documents");
    }

    fn exec(conn: &mut DbConn, sql: &str) {
        sqlite(conn).batch_execute(sql).unwrap();
    }

    #[derive(QueryableByName)]
    struct Step {
        #[diesel(sql_type = Text)]
        detail: String,
    }

    #[test]
    fn the_pending_list_leads_its_join() {
        let (_dir, mut conn) = crate::db::scratch_sqlite();
        let c = sqlite(&mut conn);
        // Many documents, none pending: the list must still be the outer loop.
        c.batch_execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) \
             INSERT INTO search_docs (ref_id, case_id, body) SELECT 'r' || i, 'c', 'texte' FROM n; \
             DELETE FROM search_fts_pending; ANALYZE;",
        )
        .unwrap();
        let plan: Vec<String> = sql_query(format!("EXPLAIN QUERY PLAN {PENDING_MATCH}'x') > 0"))
            .load::<Step>(c)
            .unwrap()
            .into_iter()
            .map(|s| s.detail)
            .collect();
        assert_eq!(
            plan,
            ["SCAN p", "SEARCH d USING INTEGER PRIMARY KEY (rowid=?)"]
        );
    }

    #[test]
    fn documents_are_found_before_and_after_they_are_indexed() {
        let (_dir, mut conn) = crate::db::scratch_sqlite();
        let conn = &mut *conn;
        exec(
            conn,
            "INSERT INTO search_docs (ref_id, case_id, body) VALUES \
             ('r1', 'c1', 'le ministre a dit'), ('r2', 'c2', 'la ministre est partie'), \
             ('r3', 'c3', 'rien a voir')",
        );
        assert!(has_pending(conn).unwrap());
        assert_eq!(found(conn, "ministre"), ["c1", "c2"]);
        // Two of three: the oldest first, the third still found.
        assert_eq!(index_pending(conn, 2).unwrap(), 2);
        assert_eq!(found(conn, "ministre"), ["c1", "c2"]);
        assert_eq!(found(conn, "voir"), ["c3"]);
        assert_eq!(index_pending(conn, 100).unwrap(), 1);
        assert!(!has_pending(conn).unwrap());
        assert_eq!(found(conn, "voir"), ["c3"]);
        assert_eq!(found(conn, "absent"), Vec::<String>::new());
        sane(conn);
    }

    #[test]
    fn changes_and_deletions_keep_the_index_whole_whether_indexed_or_not() {
        let (_dir, mut conn) = crate::db::scratch_sqlite();
        let conn = &mut *conn;
        exec(
            conn,
            "INSERT INTO search_docs (ref_id, case_id, body) VALUES \
             ('r1', 'c1', 'premier texte'), ('r2', 'c2', 'second texte')",
        );
        index_pending(conn, 100).unwrap();
        exec(
            conn,
            "INSERT INTO search_docs (ref_id, case_id, body) VALUES ('r3', 'c3', 'troisieme texte')",
        );
        // One indexed and one pending document, each changed.
        exec(
            conn,
            "UPDATE search_docs SET body = 'premier mot' WHERE ref_id = 'r1'; \
             UPDATE search_docs SET body = 'troisieme mot' WHERE ref_id = 'r3'",
        );
        assert_eq!(found(conn, "mot"), ["c1", "c3"]);
        assert_eq!(found(conn, "texte"), ["c2"]);
        sane(conn);
        assert_eq!(found(conn, "mot"), ["c1", "c3"]);
        // The newest document deleted while pending: its id is reused by
        // the next, which must be pending again.
        exec(
            conn,
            "INSERT INTO search_docs (ref_id, case_id, body) VALUES ('r4', 'c4', 'quatrieme mot')",
        );
        exec(conn, "DELETE FROM search_docs WHERE ref_id = 'r4'");
        exec(
            conn,
            "INSERT INTO search_docs (ref_id, case_id, body) VALUES ('r5', 'c5', 'cinquieme mot')",
        );
        assert_eq!(found(conn, "mot"), ["c1", "c3", "c5"]);
        assert_eq!(found(conn, "quatrieme"), Vec::<String>::new());
        sane(conn);
        assert_eq!(found(conn, "mot"), ["c1", "c3", "c5"]);
        // The same once indexed: the reused id is pending again.
        exec(conn, "DELETE FROM search_docs WHERE ref_id = 'r5'");
        exec(
            conn,
            "INSERT INTO search_docs (ref_id, case_id, body) VALUES ('r6', 'c6', 'sixieme mot')",
        );
        assert!(has_pending(conn).unwrap());
        assert_eq!(found(conn, "mot"), ["c1", "c3", "c6"]);
        assert_eq!(found(conn, "cinquieme"), Vec::<String>::new());
        sane(conn);
        assert_eq!(found(conn, "mot"), ["c1", "c3", "c6"]);
        // And an indexed document deleted in the middle.
        exec(conn, "DELETE FROM search_docs WHERE ref_id = 'r2'");
        assert_eq!(found(conn, "texte"), Vec::<String>::new());
        sane(conn);
    }
}
