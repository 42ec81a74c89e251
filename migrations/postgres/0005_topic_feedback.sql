-- tidings schema 5 (PostgreSQL; SQLite's step 7): reader feedback on topics. One row per
-- topic and item, the last word wins; see migrations/0007_topic_feedback.sql.
CREATE TABLE topic_feedback (
    topic       TEXT NOT NULL,
    item_id     BIGINT NOT NULL REFERENCES items(id),
    relevant    BOOLEAN NOT NULL,
    origin      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (topic, item_id)
);
CREATE INDEX topic_feedback_item ON topic_feedback(item_id);

CREATE VIEW v_feedback AS
SELECT fb.topic                                     AS topic,
       fb.item_id                                   AS item_id,
       fb.relevant::int                             AS relevant,
       fb.origin                                    AS origin,
       to_char(to_timestamp(fb.updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS labelled_at,
       i.title                                      AS title,
       i.url                                        AS url,
       coalesce(f.title, f.feed_title, f.url)       AS feed_title
FROM topic_feedback fb
JOIN items i ON i.id = fb.item_id
JOIN feeds f ON f.id = i.feed_id;
