-- tidings schema 2: article text, topic matches, and the full-text index.

-- One row per item whose page was tried. No row yet = extraction pending (if the feed wants it).
CREATE TABLE articles (
    item_id         INTEGER PRIMARY KEY REFERENCES items(id),
    status          TEXT NOT NULL,          -- ok | failed | retry | skipped | not-html | feed-content
    method          TEXT,                   -- readability | ld+json | feed (the feed's own content kept)
    text            TEXT,                   -- paragraphs separated by blank lines
    title           TEXT,
    byline          TEXT,
    published       TEXT,                   -- as found on the page
    language        TEXT,
    lead_image_url  TEXT,
    http_status     INTEGER,
    error           TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,                -- for status 'retry'
    extracted_at    INTEGER NOT NULL
);
CREATE INDEX articles_retry ON articles(status, next_attempt_at);

-- Where matching stands for each item: 0 = not matched yet, 1 = matched on title and summary,
-- 2 = matched again on the article text.
ALTER TABLE items ADD COLUMN match_state INTEGER NOT NULL DEFAULT 0;
-- Arrived in its feed's first poll (old news: not delivered unless asked).
ALTER TABLE items ADD COLUMN first_poll INTEGER NOT NULL DEFAULT 0;
CREATE INDEX items_match_state ON items(match_state);

CREATE TABLE matches (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES items(id),
    topic       TEXT NOT NULL,
    score       REAL NOT NULL,
    terms       TEXT NOT NULL,              -- JSON: [{"term", "field", "context"}]
    stage       TEXT NOT NULL,              -- feed | article: what the score was computed on
    backfill    INTEGER NOT NULL DEFAULT 0, -- found by re-evaluating a changed topic
    matched_at  INTEGER NOT NULL,
    updated_at  INTEGER,
    UNIQUE (item_id, topic)
);
CREATE INDEX matches_topic ON matches(topic, matched_at);

-- The topics as last applied, to notice a changed query and re-evaluate recent items.
CREATE TABLE topics (
    name        TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    applied_at  INTEGER NOT NULL
);

-- Full-text index over title, summary and article text (plain text), kept in step by the
-- store in the same transaction as the rows. The built-in unicode61 tokenizer, so plain
-- sqlite3 can query it: SELECT rowid FROM items_fts WHERE items_fts MATCH 'pyongyang';
CREATE VIRTUAL TABLE items_fts USING fts5(
    title, summary, text,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Index what is already stored (tidings_plain_text is registered by tidings itself).
INSERT INTO items_fts (rowid, title, summary, text)
    SELECT id, title, tidings_plain_text(summary), tidings_plain_text(content) FROM items;
