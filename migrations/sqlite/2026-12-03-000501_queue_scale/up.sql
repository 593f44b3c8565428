-- The queue at scale (issue 19): what the queue sorts on lives on the case
-- row and is indexed; search uses a trigram full-text index instead of
-- folding every row.

-- The priority score (tenths) as of queue_scores.scored_at, kept by the
-- writer when a case changes and by the worker's periodic re-score.
ALTER TABLE cases ADD COLUMN priority_tenths INTEGER NOT NULL DEFAULT 0;

-- One row (id 1): the instant every stored priority_tenths is computed at.
CREATE TABLE queue_scores (
    id INTEGER PRIMARY KEY NOT NULL,
    scored_at TIMESTAMP NOT NULL
);

-- One index per sort, led by the status: each status of a filter is one
-- ordered index range, merged by the application.
CREATE INDEX cases_queue_priority_idx ON cases (status, priority_tenths DESC, id DESC);
CREATE INDEX cases_queue_reports_idx ON cases (status, report_count DESC, id DESC);
CREATE INDEX cases_queue_first_idx ON cases (status, first_reported_at, id);
CREATE INDEX cases_queue_desk_idx ON cases (desk, status, priority_tenths DESC, id DESC);
CREATE INDEX cases_status_resolved_idx ON cases (status, resolved_at);
-- The worker's overdue scan reads only cases never flagged.
CREATE INDEX cases_overdue_scan_idx ON cases (due_at)
    WHERE overdue_notified_at IS NULL AND open_key IS NOT NULL;
-- Snapshot counts and the case page's reports, in order.
CREATE INDEX reports_case_order_idx ON reports (case_id, created_at, id);
-- The retention sweep.
CREATE INDEX reports_email_case_idx ON reports (case_id) WHERE reporter_email IS NOT NULL;
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Search: one document per case sentence and per report comment, folded
-- with erratum_fold (lower case, no diacritics), indexed by trigrams so a
-- substring search reads the index, not every row.
CREATE TABLE search_docs (
    id INTEGER PRIMARY KEY NOT NULL,
    ref_id TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX search_docs_case_idx ON search_docs (case_id);
CREATE VIRTUAL TABLE search_fts USING fts5(
    body, content = 'search_docs', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, body) VALUES (NEW.id, NEW.body);
END;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', OLD.id, OLD.body);
END;
CREATE TRIGGER search_docs_au AFTER UPDATE OF body ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', OLD.id, OLD.body);
    INSERT INTO search_fts (rowid, body) VALUES (NEW.id, NEW.body);
END;

CREATE TRIGGER cases_search_ai AFTER INSERT ON cases BEGIN
    INSERT INTO search_docs (ref_id, case_id, body)
    VALUES (NEW.id, NEW.id, erratum_fold(NEW.sentence_text));
END;
CREATE TRIGGER cases_search_au AFTER UPDATE OF sentence_text ON cases BEGIN
    UPDATE search_docs SET body = erratum_fold(NEW.sentence_text) WHERE ref_id = NEW.id;
END;
CREATE TRIGGER cases_search_ad AFTER DELETE ON cases BEGIN
    DELETE FROM search_docs WHERE ref_id = OLD.id;
END;
CREATE TRIGGER reports_search_ai AFTER INSERT ON reports WHEN NEW.comment <> '' BEGIN
    INSERT INTO search_docs (ref_id, case_id, body)
    VALUES (NEW.id, NEW.case_id, erratum_fold(NEW.comment));
END;
CREATE TRIGGER reports_search_au AFTER UPDATE OF comment, case_id ON reports BEGIN
    DELETE FROM search_docs WHERE ref_id = NEW.id;
    INSERT INTO search_docs (ref_id, case_id, body)
    SELECT NEW.id, NEW.case_id, erratum_fold(NEW.comment) WHERE NEW.comment <> '';
END;
CREATE TRIGGER reports_search_ad AFTER DELETE ON reports BEGIN
    DELETE FROM search_docs WHERE ref_id = OLD.id;
END;

INSERT INTO search_docs (ref_id, case_id, body)
    SELECT id, id, erratum_fold(sentence_text) FROM cases;
INSERT INTO search_docs (ref_id, case_id, body)
    SELECT id, case_id, erratum_fold(comment) FROM reports WHERE comment <> '';
