-- Articles as the CMS sends them. Ids are TEXT uuids and times are TIMESTAMP in UTC
-- so that one diesel schema serves both backends.
CREATE TABLE articles (
    id TEXT PRIMARY KEY NOT NULL,
    external_id TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    -- The URL without fragment, query and trailing slash, host in lower case:
    -- pages carry tracking parameters the CMS never sent.
    url_key TEXT NOT NULL,
    title TEXT NOT NULL,
    language TEXT NOT NULL,
    desk TEXT,
    current_revision INTEGER NOT NULL,
    published_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX articles_url_idx ON articles (url);
CREATE INDEX articles_url_key_idx ON articles (url_key);

-- One row per stored body; an unchanged body (same hash) makes no new row.
CREATE TABLE article_revisions (
    id TEXT PRIMARY KEY NOT NULL,
    article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    title TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (article_id, revision)
);

-- A sentence's identity: its id survives revisions while its text is unchanged.
CREATE TABLE sentences (
    id TEXT PRIMARY KEY NOT NULL,
    article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    first_revision INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX sentences_article_idx ON sentences (article_id);

-- Where each sentence stands in each revision.
CREATE TABLE revision_sentences (
    revision_id TEXT NOT NULL REFERENCES article_revisions (id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    sentence_id TEXT NOT NULL REFERENCES sentences (id) ON DELETE CASCADE,
    paragraph INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (revision_id, ordinal)
);
CREATE INDEX revision_sentences_sentence_idx ON revision_sentences (sentence_id);
