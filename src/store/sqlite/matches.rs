//! The `matches` aggregate: items waiting to be matched (on their feed text, then again on
//! their article text), the matches found, topic fingerprints for backfill, and listings.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use super::search::fts_fold;
use crate::model::{ItemId, UnixTime};
use crate::store::matches::{
    INPUT_COLUMNS, STORED_MATCH_COLUMNS, input_from_row, stored_match_from_row,
};
use crate::store::{DeliveryPlan, MatchInput, MatchedItem, StoreError, StoredMatch};

/// Whether the item is in the full-text index: the matching stage indexes it (items enter
/// the index in the batches that match them).
pub(super) const INDEXED: &str = "i.match_state > 0";

impl SqliteStore {
    /// Items not matched yet (state 0), or whose article text arrived since they were matched
    /// (state 3).
    pub fn pending_matches(&self, limit: usize) -> Result<Vec<MatchInput>, StoreError> {
        let conn = self.writer();
        let mut stmt = conn
            // The batch's ids come first, from the match_state index alone, both states in
            // id order merged up to the limit: sorting every pending row with its summary and
            // content, or joining every matched item with its article, made a backlog of n
            // items cost O(n²/limit) row reads (issue 8).
            .prepare_cached(&format!(
                "WITH pending(id) AS (
                     SELECT id FROM items WHERE match_state = 0
                     UNION ALL
                     SELECT id FROM items WHERE match_state = 3
                     ORDER BY 1 LIMIT ?1)
                 SELECT {INPUT_COLUMNS}, {INDEXED}
                 FROM pending p JOIN items i ON i.id = p.id JOIN feeds f ON f.id = i.feed_id
                 LEFT JOIN articles a ON a.item_id = i.id AND a.text IS NOT NULL AND a.text != ''
                 ORDER BY i.id"
            ))
            .map_err(|e| self.error(e))?;
        stmt.query_map([limit as i64], |r| input_from_row(r))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }

    /// Items first seen since `since` that were already matched (for re-evaluating changed
    /// topics), in id order after `after_id`.
    pub fn items_for_backfill(
        &self,
        since: UnixTime,
        after_id: ItemId,
        limit: usize,
    ) -> Result<Vec<MatchInput>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {INPUT_COLUMNS}, {INDEXED}
                 FROM items i JOIN feeds f ON f.id = i.feed_id
                 LEFT JOIN articles a ON a.item_id = i.id AND a.text IS NOT NULL AND a.text != ''
                 WHERE i.first_seen_at >= ?1 AND i.id > ?2 AND i.match_state > 0
                 ORDER BY i.id LIMIT ?3"
            ))
            .map_err(|e| self.error(e))?;
        stmt.query_map(params![since, after_id, limit as i64], |r| {
            input_from_row(r)
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.error(e))
    }

    /// Records the matches of a batch of items in one transaction and moves each item to its
    /// target match state. A match found again keeps its id (a higher score replaces the
    /// terms). Each new match joins its item to a story and, when `plan` routes its topic,
    /// enqueues its deliveries in the same transaction. Returns the ids of new matches.
    pub fn record_matches(
        &self,
        batch: &[MatchedItem],
        backfill: bool,
        plan: Option<&DeliveryPlan>,
        now: UnixTime,
    ) -> Result<Vec<i64>, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        let mut new_ids = Vec::new();
        let mut stories = match plan {
            Some(plan) => super::stories::load_recent(&tx, now - plan.policy.story_lookback_secs)
                .map_err(|e| self.error(e))?,
            None => crate::store::stories::RecentStories::default(),
        };
        {
            let mut existing = tx
                .prepare_cached("SELECT id, score FROM matches WHERE item_id = ?1 AND topic = ?2")
                .map_err(|e| self.error(e))?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO matches (item_id, topic, score, terms, stage, backfill, matched_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(|e| self.error(e))?;
            let mut raise = tx
                .prepare_cached("UPDATE matches SET score = ?2, terms = ?3, stage = ?4, updated_at = ?5 WHERE id = ?1")
                .map_err(|e| self.error(e))?;
            let mut advance = tx
                // State 3 (article text arrived) ends only with a match on the article text.
                .prepare_cached(
                    "UPDATE items SET match_state = CASE
                         WHEN match_state = 3 AND ?2 < 2 THEN 3
                         WHEN match_state = 3 THEN ?2
                         ELSE max(match_state, ?2) END
                     WHERE id = ?1",
                )
                .map_err(|e| self.error(e))?;
            // Indexing a batch of items in one transaction costs a quarter less than one
            // feed's items per refresh transaction did (fewer, larger FTS5 segments; issue 8).
            let mut index = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO items_fts (rowid, title, summary, text) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(|e| self.error(e))?;
            for item in batch {
                if let Some(text) = &item.index {
                    index
                        .execute(params![
                            item.item_id,
                            fts_fold(&text.title),
                            fts_fold(&text.summary),
                            fts_fold(&text.text)
                        ])
                        .map_err(|e| self.error(e))?;
                }
                let stage = if item.target_state >= 2 {
                    "article"
                } else {
                    "feed"
                };
                for record in &item.records {
                    let found: Option<(i64, f64)> = existing
                        .query_row(params![item.item_id, record.topic], |r| {
                            Ok((r.get(0)?, r.get(1)?))
                        })
                        .optional()
                        .map_err(|e| self.error(e))?;
                    match found {
                        None => {
                            insert
                                .execute(params![
                                    item.item_id,
                                    record.topic,
                                    record.score,
                                    record.terms,
                                    stage,
                                    backfill,
                                    now
                                ])
                                .map_err(|e| self.error(e))?;
                            let match_id = tx.last_insert_rowid();
                            new_ids.push(match_id);
                            if let Some(plan) = plan {
                                super::deliveries::enqueue(
                                    &tx,
                                    plan,
                                    &mut stories,
                                    item,
                                    &record.topic,
                                    match_id,
                                    backfill,
                                    now,
                                )
                                .map_err(|e| self.error(e))?;
                            }
                        }
                        Some((id, score)) if record.score > score => {
                            raise
                                .execute(params![id, record.score, record.terms, stage, now])
                                .map_err(|e| self.error(e))?;
                        }
                        Some(_) => {}
                    }
                }
                advance
                    .execute(params![item.item_id, item.target_state])
                    .map_err(|e| self.error(e))?;
            }
        }
        tx.commit().map_err(|e| self.error(e))?;
        Ok(new_ids)
    }

    /// The stored fingerprint of each topic as last applied.
    pub fn topic_fingerprints(&self) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.writer();
        let mut stmt = conn
            .prepare("SELECT name, fingerprint FROM topics")
            .map_err(|e| self.error(e))?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }

    pub fn set_topic_fingerprint(
        &self,
        name: &str,
        fingerprint: &str,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let conn = self.writer();
        conn.execute(
            "INSERT INTO topics (name, fingerprint, applied_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET fingerprint = excluded.fingerprint, applied_at = excluded.applied_at",
            params![name, fingerprint, now],
        )
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Matches, newest first, optionally of one topic and since a time.
    pub fn list_matches(
        &self,
        topic: Option<&str>,
        since: UnixTime,
        limit: usize,
    ) -> Result<Vec<StoredMatch>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {STORED_MATCH_COLUMNS}
                 FROM matches m JOIN items i ON i.id = m.item_id JOIN feeds f ON f.id = i.feed_id
                 WHERE (?1 IS NULL OR m.topic = ?1) AND i.published_at >= ?2
                 ORDER BY i.published_at DESC, m.id DESC LIMIT ?3"
            ))
            .map_err(|e| self.error(e))?;
        stmt.query_map(params![topic, since, limit as i64], |r| {
            stored_match_from_row(r)
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.error(e))
    }

    /// Items published since `since`, for `topics test` (newest first).
    pub fn items_since(
        &self,
        since: UnixTime,
        limit: usize,
    ) -> Result<Vec<MatchInput>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {INPUT_COLUMNS}, {INDEXED}
                 FROM items i JOIN feeds f ON f.id = i.feed_id
                 LEFT JOIN articles a ON a.item_id = i.id AND a.text IS NOT NULL AND a.text != ''
                 WHERE i.published_at >= ?1 ORDER BY i.published_at DESC LIMIT ?2"
            ))
            .map_err(|e| self.error(e))?;
        stmt.query_map(params![since, limit as i64], |r| input_from_row(r))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }
}
