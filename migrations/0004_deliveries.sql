-- tidings schema 4: stories, the delivery outbox, digest runs and webhook endpoint state.

-- A story is what several feeds carry: one delivery per channel, listing every source.
CREATE TABLE stories (
    id          INTEGER PRIMARY KEY,
    url         TEXT,                      -- canonical URL of the first copy
    title_hash  INTEGER NOT NULL,          -- SimHash of the title
    simhash     INTEGER NOT NULL,          -- SimHash of title + text
    words       INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX stories_recent ON stories(created_at);
CREATE INDEX stories_url ON stories(url);
CREATE INDEX items_story ON items(story_id);

-- The outbox: one row per (channel, topic, story), written in the same transaction as the
-- match that caused it; marked sent only after the receiver accepted it.
CREATE TABLE deliveries (
    id            INTEGER PRIMARY KEY,
    delivery_key  TEXT NOT NULL UNIQUE,    -- the receiver's idempotency key; the same on every retry
    channel       TEXT NOT NULL,           -- webhook:NAME | digest:NAME
    topic         TEXT NOT NULL,
    story_id      INTEGER NOT NULL REFERENCES stories(id),
    match_id      INTEGER NOT NULL REFERENCES matches(id),
    status        TEXT NOT NULL,           -- held | pending | sent | dead | backfill | expired
    attempts      INTEGER NOT NULL DEFAULT 0,
    due_at        INTEGER NOT NULL,
    batch_key     TEXT,                    -- webhook batch it is sent in (stable across retries)
    digest_run_id INTEGER,                 -- the digest that took it
    last_error    TEXT,
    created_at    INTEGER NOT NULL,
    sent_at       INTEGER,
    UNIQUE (channel, topic, story_id)
);
CREATE INDEX deliveries_due ON deliveries(channel, status, due_at);

-- One email per digest period: built once, sent (and retried) with the same Message-ID.
CREATE TABLE digest_runs (
    id            INTEGER PRIMARY KEY,
    digest        TEXT NOT NULL,
    scheduled_for INTEGER NOT NULL,        -- the schedule slot (or the time of a manual send)
    message_id    TEXT NOT NULL,
    status        TEXT NOT NULL,           -- pending | sent | dead | empty
    attempts      INTEGER NOT NULL DEFAULT 0,
    due_at        INTEGER NOT NULL,
    subject       TEXT,
    body_text     TEXT,
    body_html     TEXT,
    last_error    TEXT,
    created_at    INTEGER NOT NULL,
    sent_at       INTEGER,
    UNIQUE (digest, scheduled_for)
);

-- Webhook endpoints that answered 410 Gone are disabled until the config changes.
CREATE TABLE webhook_endpoints (
    name         TEXT PRIMARY KEY,
    url          TEXT NOT NULL,
    disabled_at  INTEGER,
    reason       TEXT
);

ALTER TABLE feeds ADD COLUMN url_changed_at INTEGER;
