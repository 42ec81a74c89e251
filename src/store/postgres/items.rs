//! The `items` aggregate on PostgreSQL: one transaction per feed refresh stores new items,
//! updates edited ones in place, skips tombstoned keys, writes the feed's fetch state and
//! releases the worker's claim on the feed. Two workers storing the same item (a claim that
//! lapsed mid-refresh) still store it once: the insert yields to the UNIQUE key.

use std::collections::{HashMap, HashSet};

use tokio_postgres::types::ToSql;

use super::feeds::write_fetch_state;
use super::search::{document, index_item, index_text};
use super::{PgResult, PgStore};
use crate::model::{Feed, ItemId, NewItem, StoredCounts, UnixTime};
use crate::store::StoreError;
use crate::store::items::{ItemChange, item_change, stored_published_at};

impl PgStore {
    pub fn commit_refresh(
        &self,
        feed: &Feed,
        items: &[NewItem],
        first_poll: bool,
        now: UnixTime,
    ) -> Result<(StoredCounts, Vec<ItemId>), StoreError> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let mut counts = StoredCounts::default();
            let mut new_ids = Vec::new();
            // What is known of this refresh's keys, in two queries instead of two per item.
            let keys: Vec<&str> = items.iter().map(|i| i.dedup_key.as_str()).collect();
            // Keys earlier versions gave the same items (see `NewItem::former_key`).
            let lookup_keys: Vec<&str> = keys
                .iter()
                .copied()
                .chain(items.iter().filter_map(|i| i.former_key.as_deref()))
                .collect();
            let tombstoned: HashSet<String> = tx
                .query(
                    "SELECT dedup_key FROM item_tombstones WHERE feed_id = $1 AND dedup_key = ANY($2)",
                    &[&feed.id, &keys],
                )
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            let mut existing: HashMap<String, (ItemId, String)> = HashMap::new();
            for r in tx
                .query(
                    "SELECT dedup_key, id, content_hash FROM items WHERE feed_id = $1 AND dedup_key = ANY($2)",
                    &[&feed.id, &lookup_keys],
                )
                .await?
            {
                existing.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?));
            }
            // A new item and its index row in one statement.
            let insert = tx
                .prepare_cached(
                    "WITH stored AS (
                         INSERT INTO items (feed_id, dedup_key, guid, url, title, summary, content, author,
                            published_at, published_original, first_seen_at, content_hash, first_poll)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                         ON CONFLICT (feed_id, dedup_key) DO NOTHING
                         RETURNING id)
                     INSERT INTO items_fts (item_id, title, summary, text, doc)
                     SELECT id, $14, $15, $16, $17::text::tsvector FROM stored
                     RETURNING item_id",
                )
                .await?;
            let update = tx
                .prepare_cached(
                    "UPDATE items SET guid = $2, url = $3, title = $4, summary = $5, content = $6, author = $7,
                        published_original = $8, content_hash = $9, updated_at = $10, edit_count = edit_count + 1,
                        match_state = 0
                     WHERE id = $1",
                )
                .await?;
            // An item stored under the key an earlier version gave it takes its new key; the
            // link it carries is the same link, read right, so this is no edit.
            let rekey = tx
                .prepare_cached(
                    "UPDATE items SET dedup_key = $2, url = $3, content_hash = $4 WHERE id = $1",
                )
                .await?;
            for item in items {
                let current = existing
                    .get(&item.dedup_key)
                    .map(|(id, hash)| (*id, hash.as_str()));
                let former = item
                    .former_key
                    .as_ref()
                    .filter(|_| current.is_none())
                    .and_then(|k| existing.get(k))
                    .map(|(id, _)| *id);
                let is_tombstoned = tombstoned.contains(&item.dedup_key);
                match item_change(item, is_tombstoned, current, former) {
                    ItemChange::Unchanged => counts.unchanged += 1,
                    ItemChange::Rekey(id) => {
                        tx.execute(
                            &rekey,
                            &[&id, &item.dedup_key, &item.url, &item.content_hash],
                        )
                        .await?;
                        counts.unchanged += 1;
                    }
                    ItemChange::New => {
                        let published_at = stored_published_at(item, now);
                        let (title, summary, text) = index_text(item);
                        let doc = document(&title, &summary, &text);
                        let params: [&(dyn ToSql + Sync); 17] = [
                            &feed.id,
                            &item.dedup_key,
                            &item.guid,
                            &item.url,
                            &item.title,
                            &item.summary,
                            &item.content,
                            &item.author,
                            &published_at,
                            &item.published_original,
                            &now,
                            &item.content_hash,
                            &first_poll,
                            &title,
                            &summary,
                            &text,
                            &doc,
                        ];
                        match tx.query_opt(&insert, &params).await? {
                            Some(row) => {
                                new_ids.push(row.try_get(0)?);
                                counts.new += 1;
                            }
                            // Another worker stored it a moment ago.
                            None => counts.unchanged += 1,
                        }
                    }
                    ItemChange::Edited(id) => {
                        tx.execute(
                            &update,
                            &[
                                &id,
                                &item.guid,
                                &item.url,
                                &item.title,
                                &item.summary,
                                &item.content,
                                &item.author,
                                &item.published_original,
                                &item.content_hash,
                                &now,
                            ],
                        )
                        .await?;
                        index_item(&tx, id, item, true).await?;
                        counts.updated += 1;
                    }
                }
            }
            write_fetch_state(&tx, feed).await?;
            tx.commit().await?;
            Ok((counts, new_ids))
        })
    }

    pub fn record_fetch_state(&self, feed: &Feed) -> Result<(), StoreError> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            write_fetch_state(&tx, feed).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    pub fn item_keys(&self) -> Result<Vec<(i64, String)>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query("SELECT feed_id, dedup_key FROM items ORDER BY id", &[])
                .await?;
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<PgResult<Vec<_>>>()
        })
    }
}
