-- tidings schema 6: a larger in-memory buffer for the full-text index.
--
-- FTS5 buffers new index entries in memory and writes them out as a new segment when the
-- buffer passes `hashsize` (default 1 MiB) and at each commit. With 1 MiB, one batch of the
-- matching stage (500 items) was written as two or three segments, and each extra segment
-- is merged again later. 8 MiB holds a batch's entries, so each batch writes one (issue 8).
-- Stored in items_fts_config; SQLite versions that do not know the key ignore it.
INSERT INTO items_fts (items_fts, rank) VALUES ('hashsize', 8388608);
