//! The `items` aggregate: one transaction per feed refresh stores new items, updates edited
//! ones in place, skips tombstoned keys, and writes the feed's fetch state. New and edited
//! items wait at match state 0; the matching stage indexes them for search in its batches.

use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, feeds::write_fetch_state};
use crate::model::{Feed, ItemId, NewItem, StoredCounts, UnixTime};
use crate::store::StoreError;
use crate::store::items::{ItemChange, item_change, stored_published_at};

impl SqliteStore {
    /// Commits one refresh: the feed's new fetch state and its items, in one transaction.
    /// Returns what was new, edited and unchanged, and the ids of the new items.
    pub fn commit_refresh(
        &self,
        feed: &Feed,
        items: &[NewItem],
        first_poll: bool,
        now: UnixTime,
    ) -> Result<(StoredCounts, Vec<ItemId>), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        let mut counts = StoredCounts::default();
        let mut new_ids = Vec::new();
        {
            let mut tombstoned = tx
                .prepare_cached(
                    "SELECT 1 FROM item_tombstones WHERE feed_id = ?1 AND dedup_key = ?2",
                )
                .map_err(|e| self.error(e))?;
            let mut existing = tx
                .prepare_cached(
                    "SELECT id, content_hash FROM items WHERE feed_id = ?1 AND dedup_key = ?2",
                )
                .map_err(|e| self.error(e))?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO items (feed_id, dedup_key, guid, url, title, summary, content, author,
                        published_at, published_original, first_seen_at, content_hash, first_poll)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )
                .map_err(|e| self.error(e))?;
            let mut update = tx
                .prepare_cached(
                    "UPDATE items SET guid = ?2, url = ?3, title = ?4, summary = ?5, content = ?6, author = ?7,
                        published_original = ?8, content_hash = ?9, updated_at = ?10, edit_count = edit_count + 1,
                        match_state = 0
                     WHERE id = ?1",
                )
                .map_err(|e| self.error(e))?;
            // An item stored under the key an earlier version gave it takes its new key; the
            // link it carries is the same link, read right, so this is no edit.
            let mut rekey = tx
                .prepare_cached(
                    "UPDATE items SET dedup_key = ?2, url = ?3, content_hash = ?4 WHERE id = ?1",
                )
                .map_err(|e| self.error(e))?;
            let mut queue_page = tx
                .prepare_cached("INSERT INTO extraction_queue (item_id, due_at) VALUES (?1, 0)")
                .map_err(|e| self.error(e))?;
            for item in items {
                let key = params![feed.id, item.dedup_key];
                let is_tombstoned = tombstoned.exists(key).map_err(|e| self.error(e))?;
                let current: Option<(ItemId, String)> = existing
                    .query_row(key, |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
                    .map_err(|e| self.error(e))?;
                let former = match (&current, &item.former_key) {
                    (None, Some(former_key)) => existing
                        .query_row(params![feed.id, former_key], |r| r.get::<_, ItemId>(0))
                        .optional()
                        .map_err(|e| self.error(e))?,
                    _ => None,
                };
                let current = current.as_ref().map(|(id, hash)| (*id, hash.as_str()));
                match item_change(item, is_tombstoned, current, former) {
                    ItemChange::Unchanged => counts.unchanged += 1,
                    ItemChange::Rekey(id) => {
                        rekey
                            .execute(params![id, item.dedup_key, item.url, item.content_hash])
                            .map_err(|e| self.error(e))?;
                        counts.unchanged += 1;
                    }
                    ItemChange::New => {
                        insert
                            .execute(params![
                                feed.id,
                                item.dedup_key,
                                item.guid,
                                item.url,
                                item.title,
                                item.summary,
                                item.content,
                                item.author,
                                stored_published_at(item, now),
                                item.published_original,
                                now,
                                item.content_hash,
                                first_poll
                            ])
                            .map_err(|e| self.error(e))?;
                        let id = tx.last_insert_rowid();
                        if feed.settings.extract && item.url.is_some() {
                            queue_page.execute([id]).map_err(|e| self.error(e))?;
                        }
                        new_ids.push(id);
                        counts.new += 1;
                    }
                    ItemChange::Edited(id) => {
                        update
                            .execute(params![
                                id,
                                item.guid,
                                item.url,
                                item.title,
                                item.summary,
                                item.content,
                                item.author,
                                item.published_original,
                                item.content_hash,
                                now
                            ])
                            .map_err(|e| self.error(e))?;
                        counts.updated += 1;
                    }
                }
            }
        }
        write_fetch_state(&tx, feed).map_err(|e| self.error(e))?;
        tx.commit().map_err(|e| self.error(e))?;
        Ok((counts, new_ids))
    }

    /// Writes a feed's fetch state after a poll that stored no items (error, 304, 429, 410).
    pub fn record_fetch_state(&self, feed: &Feed) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        write_fetch_state(&tx, feed).map_err(|e| self.error(e))?;
        tx.commit().map_err(|e| self.error(e))
    }

    /// Every stored (feed id, dedup key) pair; for consistency checks and tests.
    pub fn item_keys(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare("SELECT feed_id, dedup_key FROM items ORDER BY id")
            .map_err(|e| self.error(e))?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }
}
