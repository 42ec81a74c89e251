-- tidings schema 3: stable SQL views for people who query the archive with sqlite3 or
-- Datasette, and what retention needs. The views' columns are documented in the README
-- ("Query the archive with sqlite3"); they only ever gain columns. Times are ISO text in UTC
-- ('YYYY-MM-DD HH:MM:SS'). Plain SQL that SQLite 3.40 (Debian's sqlite3) understands.

-- Every item with its feed and extracted article.
CREATE VIEW v_items AS
SELECT i.id                                         AS id,
       i.feed_id                                    AS feed_id,
       coalesce(f.title, f.feed_title, f.url)       AS feed_title,
       f.url                                        AS feed_url,
       i.title                                      AS title,
       i.url                                        AS url,
       i.author                                     AS author,
       datetime(i.published_at, 'unixepoch')        AS published,
       datetime(i.first_seen_at, 'unixepoch')       AS first_seen,
       i.summary                                    AS summary,
       a.text                                       AS article_text,
       a.status                                     AS article_status
FROM items i
JOIN feeds f ON f.id = i.feed_id
LEFT JOIN articles a ON a.item_id = i.id;

-- Every topic match with its item.
CREATE VIEW v_matches AS
SELECT m.id                                         AS match_id,
       m.topic                                      AS topic,
       m.score                                      AS score,
       m.terms                                      AS terms,
       datetime(m.matched_at, 'unixepoch')          AS matched_at,
       i.id                                         AS item_id,
       coalesce(f.title, f.feed_title, f.url)       AS feed_title,
       f.url                                        AS feed_url,
       i.title                                      AS title,
       i.url                                        AS url,
       i.author                                     AS author,
       datetime(i.published_at, 'unixepoch')        AS published
FROM matches m
JOIN items i ON i.id = m.item_id
JOIN feeds f ON f.id = i.feed_id;

-- One row per feed: how its polling goes.
CREATE VIEW v_feed_health AS
SELECT f.id                                         AS feed_id,
       coalesce(f.title, f.feed_title, f.url)       AS feed,
       f.url                                        AS url,
       f.state                                      AS state,
       datetime(f.last_polled_at, 'unixepoch')      AS last_poll,
       f.last_result                                AS last_result,
       f.last_status                                AS last_status,
       f.consecutive_errors                         AS consecutive_errors,
       f.last_error                                 AS last_error,
       (SELECT count(*) FROM items i WHERE i.feed_id = f.id) AS items,
       (SELECT datetime(max(i.published_at), 'unixepoch') FROM items i WHERE i.feed_id = f.id)
                                                    AS last_item_at
FROM feeds f;

-- v_feed_health looks up each feed's items and newest date.
CREATE INDEX items_feed_published ON items(feed_id, published_at);

-- The index now holds letters the tokenizer keeps but the query normalizer folds (ł, ø, đ,
-- ß, æ, œ, ı, ħ, þ) folded (tidings_fts_fold is registered by tidings itself), so
-- `polnocna` finds `Północna`. Refold what schema 2 indexed.
UPDATE items_fts SET title = tidings_fts_fold(title), summary = tidings_fts_fold(summary),
                     text = tidings_fts_fold(text)
 WHERE rowid IN (SELECT rowid FROM items_fts
                  WHERE (coalesce(title, '') || coalesce(summary, '') || coalesce(text, ''))
                        GLOB '*[łŁđĐøØßẞæÆœŒıħĦþÞ]*');
