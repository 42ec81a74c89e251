-- tidings schema 7: reader feedback on topics.
--
-- A reader says of an item whether it belongs to a topic: "relevant" / "not relevant" on a
-- match, or "on topic" on an item the topic missed (found by search). One row per topic and
-- item; the last word wins. The topic's learned layer trains on these rows, and pruning
-- keeps every labelled item.
CREATE TABLE topic_feedback (
    topic       TEXT NOT NULL,
    item_id     INTEGER NOT NULL REFERENCES items(id),
    relevant    INTEGER NOT NULL,          -- 1 = on topic, 0 = not
    origin      TEXT NOT NULL,             -- cli | api | web
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (topic, item_id)
) WITHOUT ROWID;
CREATE INDEX topic_feedback_item ON topic_feedback(item_id);

-- One row per label, with the item's title and link, for sqlite3 users.
CREATE VIEW v_feedback AS
SELECT fb.topic AS topic,
       fb.item_id AS item_id,
       fb.relevant AS relevant,
       fb.origin AS origin,
       datetime(fb.updated_at, 'unixepoch') AS labelled_at,
       i.title AS title,
       i.url AS url,
       coalesce(f.title, f.feed_title, f.url) AS feed_title
FROM topic_feedback fb JOIN items i ON i.id = fb.item_id JOIN feeds f ON f.id = i.feed_id;
