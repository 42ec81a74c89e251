-- tidings schema 10: the full-text index merges its segments sixteen at a time.
--
-- Each batch of the matching stage (500 items) writes one FTS5 segment. With the default
-- `automerge` of 4, segments were merged four at a time, so each entry was rewritten once per
-- level of a base-4 tree; at 16 it is rewritten about half as often. FTS5 indexing alone cost
-- 0.83-0.85 of the CPU, a cold poll of 10,000 feeds 0.94 (1,000 feeds: within the machine's
-- noise, 0.88-1.08 per run), and searches on the resulting index were no slower (0.86 of the
-- time on 140,000 items; docs/performance.md, issue 16).
-- Stored in items_fts_config, like `hashsize` (migration 6).
INSERT INTO items_fts (items_fts, rank) VALUES ('automerge', 16);
