-- tidings schema 8: a story is known by every copy's fingerprint, not by its first copy's key
-- (issue 17). A new copy joins the story of any member it resembles, whichever copy came
-- first; the fingerprint comes from what the feed says of the item (link, title, the lead of
-- its summary), never from the article page, whose arrival time would change the answer.
CREATE TABLE story_members (
    item_id     INTEGER PRIMARY KEY REFERENCES items(id),
    story_id    INTEGER NOT NULL REFERENCES stories(id),
    url         TEXT,                      -- canonical URL (no fragment, no trailing slash)
    title_hash  INTEGER NOT NULL,          -- SimHash of the title's words and word pairs
    title_words INTEGER NOT NULL,
    lead        BLOB NOT NULL,             -- 32-bit hashes of the lead's word 3-shingles, sorted
    joined_at   INTEGER NOT NULL
);
CREATE INDEX story_members_recent ON story_members(joined_at);
CREATE INDEX story_members_story ON story_members(story_id);

-- Copies of stories begun before this version keep their link as their fingerprint (the old
-- keys were computed from other text): a later copy with the same link still joins them.
INSERT INTO story_members (item_id, story_id, url, title_hash, title_words, lead, joined_at)
SELECT i.id, i.story_id, nullif(rtrim(i.url, '/'), ''), 0, 0, x'', s.created_at
FROM items i JOIN stories s ON s.id = i.story_id;

ALTER TABLE stories DROP COLUMN title_hash;
ALTER TABLE stories DROP COLUMN simhash;
ALTER TABLE stories DROP COLUMN words;
