-- Newsroom staff. desks is a JSON array of desk names ([] = every desk).
CREATE TABLE editors (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    desks TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL,
    language TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Notification bookkeeping on cases, so that an escalation or an overdue
-- notice is sent once.
ALTER TABLE cases ADD COLUMN escalated_at TIMESTAMP;
ALTER TABLE cases ADD COLUMN overdue_notified_at TIMESTAMP;
