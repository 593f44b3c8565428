-- Domain events, written by each use case in the transaction that made the
-- change (see src/domain/event.rs). Consumers read them in order, each from
-- its own cursor in event_cursors, and advance the cursor in the transaction
-- that applies what they did: an event is neither lost nor applied twice by
-- one consumer.
--
-- SQLite has one writer at a time, so ids are in commit order and `xid` stays
-- 0; it exists so both backends share one schema (PostgreSQL orders by the
-- writing transaction's id, see its migration).
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    xid BIGINT NOT NULL DEFAULT 0,
    kind TEXT NOT NULL,
    case_id TEXT,
    article_id TEXT,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX events_order_idx ON events (xid, id);
CREATE INDEX events_case_idx ON events (case_id, id);

CREATE TABLE event_cursors (
    consumer TEXT PRIMARY KEY NOT NULL,
    last_xid BIGINT NOT NULL,
    last_id INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
