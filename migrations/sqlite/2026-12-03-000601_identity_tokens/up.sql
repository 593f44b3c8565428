-- Password resets by email and the first admin's setup link. Only the SHA-256
-- of each token is stored; a token works once, until `expires_at`.
CREATE TABLE password_resets (
    id TEXT PRIMARY KEY NOT NULL,
    editor_id TEXT NOT NULL REFERENCES editors (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX password_resets_editor_idx ON password_resets (editor_id);
CREATE TABLE setup_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
