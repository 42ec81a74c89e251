-- tidings schema 3 (PostgreSQL): the same stable views as migrations/0003 (times as ISO
-- text in UTC, 'YYYY-MM-DD HH:MM:SS'), and what retention needs.

CREATE VIEW v_items AS
SELECT i.id                                         AS id,
       i.feed_id                                    AS feed_id,
       coalesce(f.title, f.feed_title, f.url)       AS feed_title,
       f.url                                        AS feed_url,
       i.title                                      AS title,
       i.url                                        AS url,
       i.author                                     AS author,
       to_char(to_timestamp(i.published_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS published,
       to_char(to_timestamp(i.first_seen_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS first_seen,
       i.summary                                    AS summary,
       a.text                                       AS article_text,
       a.status                                     AS article_status
FROM items i
JOIN feeds f ON f.id = i.feed_id
LEFT JOIN articles a ON a.item_id = i.id;

CREATE VIEW v_matches AS
SELECT m.id                                         AS match_id,
       m.topic                                      AS topic,
       m.score                                      AS score,
       m.terms                                      AS terms,
       to_char(to_timestamp(m.matched_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS matched_at,
       i.id                                         AS item_id,
       coalesce(f.title, f.feed_title, f.url)       AS feed_title,
       f.url                                        AS feed_url,
       i.title                                      AS title,
       i.url                                        AS url,
       i.author                                     AS author,
       to_char(to_timestamp(i.published_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS published
FROM matches m
JOIN items i ON i.id = m.item_id
JOIN feeds f ON f.id = i.feed_id;

CREATE VIEW v_feed_health AS
SELECT f.id                                         AS feed_id,
       coalesce(f.title, f.feed_title, f.url)       AS feed,
       f.url                                        AS url,
       f.state                                      AS state,
       to_char(to_timestamp(f.last_polled_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS last_poll,
       f.last_result                                AS last_result,
       f.last_status                                AS last_status,
       f.consecutive_errors                         AS consecutive_errors,
       f.last_error                                 AS last_error,
       (SELECT count(*) FROM items i WHERE i.feed_id = f.id) AS items,
       (SELECT to_char(to_timestamp(max(i.published_at)) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
          FROM items i WHERE i.feed_id = f.id)      AS last_item_at
FROM feeds f;

CREATE INDEX items_feed_published ON items(feed_id, published_at);
