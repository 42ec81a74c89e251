-- tidings schema 6 (PostgreSQL; SQLite's step 8): a story is known by every copy's
-- fingerprint; see migrations/0008_story_members.sql.
CREATE TABLE story_members (
    item_id     BIGINT PRIMARY KEY REFERENCES items(id),
    story_id    BIGINT NOT NULL REFERENCES stories(id),
    url         TEXT,
    title_hash  BIGINT NOT NULL,
    title_words BIGINT NOT NULL,
    lead        BYTEA NOT NULL,
    joined_at   BIGINT NOT NULL
);
CREATE INDEX story_members_recent ON story_members(joined_at);
CREATE INDEX story_members_story ON story_members(story_id);

INSERT INTO story_members (item_id, story_id, url, title_hash, title_words, lead, joined_at)
SELECT i.id, i.story_id, nullif(rtrim(i.url, '/'), ''), 0, 0, '\x'::bytea, s.created_at
FROM items i JOIN stories s ON s.id = i.story_id;

ALTER TABLE stories DROP COLUMN title_hash;
ALTER TABLE stories DROP COLUMN simhash;
ALTER TABLE stories DROP COLUMN words;
