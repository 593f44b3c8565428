-- Editors' browser sessions. The cookie carries a random token; only its
-- SHA-256 is stored, so a copy of the database cannot be used to log in.
CREATE TABLE editor_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    editor_id TEXT NOT NULL REFERENCES editors (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX editor_sessions_editor_idx ON editor_sessions (editor_id);

-- Personal API tokens for scripts and the CMS: shown once, stored as SHA-256.
-- prefix is the token's first characters, to recognise it in a list.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    editor_id TEXT NOT NULL REFERENCES editors (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX api_tokens_editor_idx ON api_tokens (editor_id);

-- Internal notes on a case, never shown to readers.
CREATE TABLE case_notes (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    author_id TEXT NOT NULL REFERENCES editors (id),
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX case_notes_case_idx ON case_notes (case_id, created_at);

-- Every editorial action, written in the same transaction as the action.
-- Append-only: triggers refuse UPDATE and DELETE. No foreign keys, so the
-- trail outlives what it describes. before_state/after_state are JSON.
-- actor_id is NULL for the command line (actor_kind 'cli').
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    created_at TIMESTAMP NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    before_state TEXT,
    after_state TEXT
);
CREATE INDEX audit_log_subject_idx ON audit_log (subject_type, subject_id, created_at);

-- Published corrections: what a case resolved as corrected, clarified or
-- updated tells the public. sentence_text is the sentence as reported.
CREATE TABLE corrections (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    sentence_id TEXT NOT NULL REFERENCES sentences (id),
    sentence_text TEXT NOT NULL,
    kind TEXT NOT NULL,
    public_note TEXT NOT NULL,
    editor_id TEXT REFERENCES editors (id),
    published_at TIMESTAMP NOT NULL
);
CREATE INDEX corrections_published_idx ON corrections (published_at, id);
CREATE INDEX corrections_article_idx ON corrections (article_id, published_at);
CREATE INDEX corrections_case_idx ON corrections (case_id);

-- The queue pages through cases by first report and filters by assignee.
CREATE INDEX cases_first_reported_idx ON cases (first_reported_at, id);
CREATE INDEX cases_assignee_idx ON cases (assignee_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
