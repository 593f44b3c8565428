INSERT INTO search_fts (rowid, body)
    SELECT d.id, d.body FROM search_fts_pending p JOIN search_docs d ON d.id = p.doc_id;

DROP TRIGGER search_docs_ai;
CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, body) VALUES (NEW.id, NEW.body);
END;
DROP TRIGGER search_docs_ad;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', OLD.id, OLD.body);
END;
DROP TRIGGER search_docs_au;
CREATE TRIGGER search_docs_au AFTER UPDATE OF body ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', OLD.id, OLD.body);
    INSERT INTO search_fts (rowid, body) VALUES (NEW.id, NEW.body);
END;

DROP TABLE search_fts_pending;
