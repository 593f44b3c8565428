-- Reader history and trust without accounts (README, "Reader history and
-- trust"). A reader is a `reports.reporter_key`: a keyed hash of their
-- address, or the day's client hash. Editors mark a reader as trusted or
-- blocked; the row has an id of its own so the audit log and the events
-- name it without the key (an erasure deletes the row, and with it the
-- link from the audit log to the reader).
CREATE TABLE reader_standings (
    id TEXT PRIMARY KEY NOT NULL,
    reader_key TEXT NOT NULL UNIQUE,
    -- trusted, blocked
    standing TEXT NOT NULL,
    set_by TEXT,
    set_at TIMESTAMP NOT NULL
);
-- A case with a report from a trusted reader (its priority gets the
-- documented bonus; recomputed when a reader's standing changes).
ALTER TABLE cases ADD COLUMN trusted_reader BOOLEAN NOT NULL DEFAULT FALSE;
-- A report from a blocked reader, filed straight into spam.
ALTER TABLE reports ADD COLUMN blocked BOOLEAN NOT NULL DEFAULT FALSE;
