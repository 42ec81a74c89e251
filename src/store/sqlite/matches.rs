//! The `matches` aggregate: items waiting to be matched (on their feed text, then again on
//! their article text), the matches found, topic fingerprints for backfill, and listings.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use super::search::fts_fold;
use crate::model::{DeliveryPolicy, ItemId, Route, StoryKey, UnixTime};
use crate::store::StoreError;

/// What the matcher needs of one item.
#[derive(Debug, Clone)]
pub struct MatchInput {
    pub item_id: ItemId,
    pub feed_title: String,
    pub url: String,
    pub title: String,
    /// HTML as the feed gave it.
    pub summary: String,
    pub content: String,
    pub author: String,
    pub article_text: Option<String>,
    /// The match state this evaluation reaches: 1 (feed text) or 2 (article text).
    pub target_state: i64,
    /// Whether the item is in the full-text index as it is now; new and edited items are
    /// not (they are indexed with the batch that matches them).
    pub indexed: bool,
}

/// An item's text for the full-text index, as plain text (folded by the store).
#[derive(Debug, Clone, Default)]
pub struct IndexText {
    pub title: String,
    pub summary: String,
    /// The article text when there is one, else the feed's content.
    pub text: String,
}

/// An evaluated item: the state it reaches, the topics that matched, and its story identity.
#[derive(Debug, Clone)]
pub struct MatchedItem {
    pub item_id: ItemId,
    pub target_state: i64,
    pub records: Vec<MatchRecord>,
    pub story: StoryKey,
    /// Written to the full-text index with the batch (new and edited items).
    pub index: Option<IndexText>,
}

/// How new matches become deliveries: the routes of each topic, the rules for their status,
/// and how two stories are compared.
pub struct DeliveryPlan<'a> {
    pub routes: &'a [Route],
    pub policy: DeliveryPolicy,
    pub same_story: &'a (dyn Fn(&StoryKey, &StoryKey) -> bool + Sync),
}

/// One topic that matched one item.
#[derive(Debug, Clone)]
pub struct MatchRecord {
    pub topic: String,
    pub score: f64,
    /// JSON array of the matched terms with field and context.
    pub terms: String,
}

/// A stored match with what a listing shows of its item.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredMatch {
    pub id: i64,
    pub item_id: ItemId,
    pub topic: String,
    pub score: f64,
    pub terms: serde_json::Value,
    pub stage: String,
    pub backfill: bool,
    pub matched_at: UnixTime,
    pub title: Option<String>,
    pub url: Option<String>,
    pub feed: String,
    pub published_at: UnixTime,
}

pub(super) const INPUT_COLUMNS: &str =
    "i.id, coalesce(f.title, f.feed_title, f.url), coalesce(i.url, ''), coalesce(i.title, ''),
     coalesce(i.summary, ''), coalesce(i.content, ''), coalesce(i.author, ''), a.text, i.match_state";

pub(super) fn input_from_row(row: &rusqlite::Row) -> rusqlite::Result<MatchInput> {
    let article_text: Option<String> = row.get(7)?;
    Ok(MatchInput {
        item_id: row.get(0)?,
        feed_title: row.get(1)?,
        url: row.get(2)?,
        title: row.get(3)?,
        summary: row.get(4)?,
        content: row.get(5)?,
        author: row.get(6)?,
        target_state: if article_text.is_some() { 2 } else { 1 },
        article_text,
        indexed: row.get::<_, i64>(8)? > 0,
    })
}

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
                 SELECT {INPUT_COLUMNS}
                 FROM pending p JOIN items i ON i.id = p.id JOIN feeds f ON f.id = i.feed_id
                 LEFT JOIN articles a ON a.item_id = i.id AND a.text IS NOT NULL AND a.text != ''
                 ORDER BY i.id"
            ))
            .map_err(|e| self.error(e))?;
        stmt.query_map([limit as i64], input_from_row)
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
                "SELECT {INPUT_COLUMNS}
                 FROM items i JOIN feeds f ON f.id = i.feed_id
                 LEFT JOIN articles a ON a.item_id = i.id AND a.text IS NOT NULL AND a.text != ''
                 WHERE i.first_seen_at >= ?1 AND i.id > ?2 AND i.match_state > 0
                 ORDER BY i.id LIMIT ?3"
            ))
            .map_err(|e| self.error(e))?;
        stmt.query_map(params![since, after_id, limit as i64], input_from_row)
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
            Some(plan) => {
                super::deliveries::RecentStories::load(&tx, now - plan.policy.story_lookback_secs)
                    .map_err(|e| self.error(e))?
            }
            None => super::deliveries::RecentStories::default(),
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
            .prepare(
                "SELECT m.id, m.item_id, m.topic, m.score, m.terms, m.stage, m.backfill, m.matched_at,
                        i.title, i.url, coalesce(f.title, f.feed_title, f.url), i.published_at
                 FROM matches m JOIN items i ON i.id = m.item_id JOIN feeds f ON f.id = i.feed_id
                 WHERE (?1 IS NULL OR m.topic = ?1) AND i.published_at >= ?2
                 ORDER BY i.published_at DESC, m.id DESC LIMIT ?3",
            )
            .map_err(|e| self.error(e))?;
        stmt.query_map(params![topic, since, limit as i64], |r| {
            let terms: String = r.get(4)?;
            Ok(StoredMatch {
                id: r.get(0)?,
                item_id: r.get(1)?,
                topic: r.get(2)?,
                score: r.get(3)?,
                terms: serde_json::from_str(&terms).unwrap_or(serde_json::Value::Null),
                stage: r.get(5)?,
                backfill: r.get(6)?,
                matched_at: r.get(7)?,
                title: r.get(8)?,
                url: r.get(9)?,
                feed: r.get(10)?,
                published_at: r.get(11)?,
            })
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
                "SELECT {INPUT_COLUMNS}
                 FROM items i JOIN feeds f ON f.id = i.feed_id
                 LEFT JOIN articles a ON a.item_id = i.id AND a.text IS NOT NULL AND a.text != ''
                 WHERE i.published_at >= ?1 ORDER BY i.published_at DESC LIMIT ?2"
            ))
            .map_err(|e| self.error(e))?;
        stmt.query_map(params![since, limit as i64], input_from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }
}
