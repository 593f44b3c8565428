-- The full-text index of the queue search is brought up to date in bulk,
-- beside the intake, instead of inside every commit (db::search_index).
-- A new document is listed here until the indexer adds it to search_fts;
-- meanwhile the search reads it from this list directly. Every document
-- already in search_docs is already indexed, so the list starts empty.
CREATE TABLE search_fts_pending (
    doc_id INTEGER PRIMARY KEY NOT NULL
);

DROP TRIGGER search_docs_ai;
CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts_pending (doc_id) VALUES (NEW.id);
END;

-- A document still pending is not in the index: removing it from the
-- index (an external-content 'delete' of values it does not hold) would
-- corrupt it, so only indexed documents are removed there. search_docs
-- reuses the highest id after a delete, and the pending row goes with the
-- document, so a reused id is pending again.
DROP TRIGGER search_docs_ad;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body)
        SELECT 'delete', OLD.id, OLD.body
        WHERE NOT EXISTS (SELECT 1 FROM search_fts_pending WHERE doc_id = OLD.id);
    DELETE FROM search_fts_pending WHERE doc_id = OLD.id;
END;

-- A pending document is indexed with whatever body it has by then.
DROP TRIGGER search_docs_au;
CREATE TRIGGER search_docs_au AFTER UPDATE OF body ON search_docs
WHEN NOT EXISTS (SELECT 1 FROM search_fts_pending WHERE doc_id = OLD.id) BEGIN
    INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', OLD.id, OLD.body);
    INSERT INTO search_fts (rowid, body) VALUES (NEW.id, NEW.body);
END;
