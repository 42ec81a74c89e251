-- tidings schema 5: the work waiting for the extraction and matching stages, found by index.
--
-- 1. The pages waiting for extraction, as a queue of their own.
--
-- Before, "pending" meant "an item of an extracting feed with no article row", and finding
-- the next pages scanned every item each time the extraction stage woke: 82% of a 10,000-feed
-- daemon's CPU, even with extraction off (issue 8). Now a new item of an extracting feed is
-- queued in the refresh that stores it; an attempt that ends removes it, a retry moves its
-- due time. The stage reads the queue by its index.
CREATE TABLE extraction_queue (
    item_id     INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
    due_at      INTEGER NOT NULL            -- unix seconds; 0 = now
);
CREATE INDEX extraction_queue_due ON extraction_queue(due_at);

-- What was pending under the old rule.
INSERT INTO extraction_queue (item_id, due_at)
    SELECT i.id, coalesce(a.next_attempt_at, 0)
    FROM items i
    JOIN feeds f ON f.id = i.feed_id
    LEFT JOIN articles a ON a.item_id = i.id
    WHERE f.extract = 1 AND i.url IS NOT NULL
      AND (a.item_id IS NULL OR a.status = 'retry');

-- 2. A match state of its own for "article text arrived since the item was matched": 3.
-- (0 = not matched or indexed yet, 1 = matched on title and summary, 2 = matched on the
-- article text.) Before, such items were those at state 1 with article text, and finding
-- them joined every item at state 1 with its article for each batch of the matching stage:
-- quadratic in a cold poll (issue 8).
UPDATE items SET match_state = 3
    WHERE match_state = 1
      AND id IN (SELECT item_id FROM articles WHERE text IS NOT NULL AND text != '');
