-- A case gathers every report on one sentence of one article while it is open.
-- open_key holds "article_id/sentence_id" while the case is open and NULL once resolved:
-- the unique index then allows exactly one open case per sentence on both backends,
-- without ON CONFLICT (which diesel's MultiConnection cannot express).
CREATE TABLE cases (
    id TEXT PRIMARY KEY NOT NULL,
    article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    sentence_id TEXT NOT NULL REFERENCES sentences (id),
    open_key TEXT UNIQUE,
    sentence_text TEXT NOT NULL,
    desk TEXT,
    status TEXT NOT NULL,
    anchor_state TEXT NOT NULL,
    successor_sentence_id TEXT REFERENCES sentences (id),
    report_count INTEGER NOT NULL,
    reporter_count INTEGER NOT NULL,
    categories TEXT NOT NULL,
    first_reported_at TIMESTAMP NOT NULL,
    last_reported_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    assignee_id TEXT,
    priority_override INTEGER,
    resolution TEXT,
    public_note TEXT,
    duplicate_of TEXT REFERENCES cases (id),
    resolved_at TIMESTAMP,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX cases_article_idx ON cases (article_id);
CREATE INDEX cases_status_idx ON cases (status, last_reported_at);

-- Each reader's report keeps its own text; reports are never merged away.
CREATE TABLE reports (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    sentence_id TEXT NOT NULL REFERENCES sentences (id),
    span_sentence_ids TEXT NOT NULL,
    quote_exact TEXT NOT NULL,
    quote_prefix TEXT,
    quote_suffix TEXT,
    category TEXT NOT NULL,
    comment TEXT NOT NULL,
    suggested_correction TEXT,
    sources TEXT NOT NULL,
    reporter_email TEXT,
    notify BOOLEAN NOT NULL,
    reporter_key TEXT NOT NULL,
    client_hash TEXT NOT NULL,
    comment_hash TEXT NOT NULL,
    status_token_hash TEXT NOT NULL UNIQUE,
    is_spam BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX reports_case_idx ON reports (case_id);
CREATE INDEX reports_client_idx ON reports (client_hash, created_at);
CREATE INDEX reports_comment_idx ON reports (comment_hash, created_at);

-- Idempotency-Key: the first answer is kept so a retry gets it back.
CREATE TABLE idempotency_keys (
    key_hash TEXT PRIMARY KEY NOT NULL,
    request_hash TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Random keys for hashing client IPs, one per UTC day; old ones are deleted so
-- yesterday's hashes can no longer be linked to an address.
CREATE TABLE client_hash_keys (
    day TEXT PRIMARY KEY NOT NULL,
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Secrets this installation generates for itself on first start (zero setup),
-- e.g. the key that derives status tokens for idempotent replays.
CREATE TABLE instance_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
