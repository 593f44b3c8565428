-- Readers' requests, from their status page, for a copy of their data (GDPR
-- art. 15) or its erasure (art. 17). Admins see them in a list and answer
-- with `erratum subject export|erase` or the admin API; an erasure marks the
-- requests of the reports it erased as handled. The reader's address is not
-- copied here: it is read from the report while it is still held.
CREATE TABLE subject_requests (
    id TEXT PRIMARY KEY NOT NULL,
    report_id TEXT NOT NULL REFERENCES reports (id),
    -- export, erase
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    handled_at TIMESTAMP
);
CREATE INDEX subject_requests_open_idx ON subject_requests (handled_at, created_at);
CREATE INDEX subject_requests_report_idx ON subject_requests (report_id);
-- Finding everything about one reader: reports by their address's key.
CREATE INDEX reports_reporter_key_idx ON reports (reporter_key);
