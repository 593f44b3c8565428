-- The durable outbox: every email is a row written in the same transaction as
-- the event that causes it, then claimed, sent and marked by a worker. Rows are
-- kept after sending (status `sent`) as the record of what went out.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    -- new_case, escalation, assigned, overdue, digest, reader_receipt, reader_outcome
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    -- SHA-256 of the lower-cased address: daily limits and bounces are counted
    -- on it, and the suppression list never needs the address itself.
    recipient_key TEXT NOT NULL,
    editor_id TEXT,
    case_id TEXT,
    language TEXT NOT NULL,
    -- JSON: what the templates need, captured when the event happened.
    payload TEXT NOT NULL,
    -- Generated once at enqueue, so a retry sends the same Message-ID.
    message_id TEXT NOT NULL UNIQUE,
    -- Message-ID of the case's first email (In-Reply-To/References).
    thread_message_id TEXT,
    -- pending, sent, dead (tries exhausted or permanent failure), skipped
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    -- A worker's lease: rows whose lease ran out are claimable again.
    locked_by TEXT,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);
CREATE INDEX outbox_case_idx ON outbox (case_id, created_at);
CREATE INDEX outbox_recipient_idx ON outbox (recipient_key, created_at);

-- Each editor's choice per kind of notification; no row means the default.
CREATE TABLE notification_prefs (
    editor_id TEXT NOT NULL REFERENCES editors (id) ON DELETE CASCADE,
    -- new_case, escalation, assigned, overdue
    kind TEXT NOT NULL,
    -- immediate, hourly, daily, off
    delivery TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (editor_id, kind)
);

-- Notifications waiting for an editor's hourly or daily digest. outbox_id is
-- set when the digest email that lists them is written.
CREATE TABLE digest_items (
    id TEXT PRIMARY KEY NOT NULL,
    editor_id TEXT NOT NULL REFERENCES editors (id) ON DELETE CASCADE,
    cadence TEXT NOT NULL,
    kind TEXT NOT NULL,
    case_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    due_at TIMESTAMP NOT NULL,
    outbox_id TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX digest_items_due_idx ON digest_items (outbox_id, due_at);
CREATE INDEX digest_items_editor_idx ON digest_items (editor_id, cadence);

-- Addresses not to mail: permanent bounces (5xx at RCPT) and readers who
-- unsubscribed. Keyed by the address's hash, never the address.
CREATE TABLE email_suppressions (
    address_key TEXT NOT NULL,
    -- bounce, unsubscribed
    reason TEXT NOT NULL,
    detail TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (address_key, reason)
);
