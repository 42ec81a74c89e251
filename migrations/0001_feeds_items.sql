-- tidings schema 1: feeds with their fetch state, and items.
-- Times are Unix seconds (UTC). JSON columns hold small arrays/objects.

CREATE TABLE feeds (
    id                  INTEGER PRIMARY KEY,
    origin_url          TEXT NOT NULL UNIQUE,      -- the URL the feed was added with (config key)
    url                 TEXT NOT NULL,             -- the URL polled now (after learned redirects)
    previous_url        TEXT,                      -- the URL polled before the last learned redirect
    source              TEXT NOT NULL,             -- config | cli | opml
    state               TEXT NOT NULL DEFAULT 'active', -- active | disabled | gone
    title               TEXT,                      -- the owner's title for it
    schedule            TEXT,                      -- cron expression; NULL = the global default
    extract             INTEGER NOT NULL DEFAULT 1,
    headers             TEXT NOT NULL DEFAULT '[]',-- [[name, value], ...]
    tags                TEXT NOT NULL DEFAULT '[]',
    feed_title          TEXT,                      -- the title the feed gives itself
    site_url            TEXT,
    etag                TEXT,
    last_modified       TEXT,
    next_poll_at        INTEGER NOT NULL DEFAULT 0,
    last_polled_at      INTEGER,
    last_success_at     INTEGER,
    last_status         INTEGER,
    last_result         TEXT,                      -- ok | not-modified | slow-down | gone | error
    consecutive_errors  INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT,
    redirect_url        TEXT,                      -- permanent redirect target seen lately
    redirect_seen       INTEGER NOT NULL DEFAULT 0,-- on how many consecutive polls
    created_at          INTEGER NOT NULL
);

CREATE INDEX feeds_due ON feeds(state, next_poll_at);

CREATE TABLE items (
    id                  INTEGER PRIMARY KEY,
    feed_id             INTEGER NOT NULL REFERENCES feeds(id),
    dedup_key           TEXT NOT NULL,             -- guid, else canonical link, else hash of title+date
    guid                TEXT,
    url                 TEXT,                      -- link without tracking parameters
    title               TEXT,
    summary             TEXT,
    content             TEXT,
    author              TEXT,
    published_at        INTEGER NOT NULL,          -- the feed's date, or first_seen_at when none or in the future
    published_original  INTEGER,                   -- the date the feed gave, as given
    first_seen_at       INTEGER NOT NULL,
    updated_at          INTEGER,                   -- last time an edit was seen
    edit_count          INTEGER NOT NULL DEFAULT 0,
    content_hash        TEXT NOT NULL,
    story_id            INTEGER,
    UNIQUE (feed_id, dedup_key)
);

CREATE INDEX items_published ON items(published_at);
CREATE INDEX items_url ON items(url);

-- Keys of pruned items, so they never come back as new.
CREATE TABLE item_tombstones (
    feed_id     INTEGER NOT NULL,
    dedup_key   TEXT NOT NULL,
    pruned_at   INTEGER NOT NULL,
    PRIMARY KEY (feed_id, dedup_key)
) WITHOUT ROWID;
