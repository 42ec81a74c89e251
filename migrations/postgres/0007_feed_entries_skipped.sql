-- tidings schema 7 (PostgreSQL; SQLite's step 9): how many entries of a feed's last parsed document could not be read.
--
-- A document feed-rs rejects is repaired or read entry by entry, so one unreadable entry no
-- longer costs the whole feed (issue 19). The entries that still cannot be read are logged one
-- by one and counted here, for `tidings status`; 0 when every entry was read.
ALTER TABLE feeds ADD COLUMN entries_skipped BIGINT NOT NULL DEFAULT 0;
