-- Status links emailed at the reader's request ("email me this link"). The
-- first link's token is never stored, so it cannot be re-sent: each emailed
-- link is a new token for the same report, derived from the row's id with an
-- instance key when the email is sent. Only its SHA-256 is kept. The address
-- is kept only until the email is queued (then NULL).
CREATE TABLE status_links (
    id TEXT PRIMARY KEY NOT NULL,
    report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    email TEXT,
    language TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX status_links_report_idx ON status_links (report_id, created_at);
