//! The reading pages' queries on SQLite (`src/web/`; the decisions are in `store/reading.rs`): a topic's matches with the sources of their
//! stories, the sources of stories, the deliveries of a story, and one item as the matcher
//! reads it (to explain a match again). Read-only.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use super::matches::INDEXED;
use crate::model::{ItemId, UnixTime};
use crate::store::deliveries::{DELIVERY_ROW_COLUMNS, delivery_row_from_row};
use crate::store::matches::{INPUT_COLUMNS, input_from_row};
use crate::store::reading::{
    STORY_SOURCE_COLUMNS, newest_first, story_source_from_row, topic_match_from_row,
    topic_matches_sql,
};
use crate::store::{DeliveryRow, MatchInput, StoreError, StorySource, TopicMatch, TopicStories};

fn story_sources_on(
    conn: &rusqlite::Connection,
    story_ids: &[i64],
) -> rusqlite::Result<Vec<StorySource>> {
    if story_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = serde_json::to_string(story_ids).expect("ids serialize");
    let mut stmt = conn.prepare(&format!(
        "SELECT {STORY_SOURCE_COLUMNS}
         FROM items i JOIN feeds f ON f.id = i.feed_id
         WHERE i.story_id IN (SELECT value FROM json_each(?1))
         ORDER BY i.story_id, i.published_at, i.id"
    ))?;
    stmt.query_map([ids], |r| story_source_from_row(r))?
        .collect()
}

impl SqliteStore {
    /// The matches of `topic` whose item was published since `since` (the newest `limit`),
    /// with every source of their stories, read on one connection.
    pub fn topic_stories(
        &self,
        topic: &str,
        since: UnixTime,
        limit: usize,
    ) -> Result<TopicStories, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare(&topic_matches_sql('?'))
            .map_err(|e| self.error(e))?;
        let mut matches: Vec<TopicMatch> = stmt
            .query_map(params![topic, since, limit as i64], |r| {
                topic_match_from_row(r)
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))?;
        let stories = newest_first(&mut matches);
        let sources = story_sources_on(&conn, &stories).map_err(|e| self.error(e))?;
        Ok(TopicStories { matches, sources })
    }

    /// Every item of the given stories, by story, oldest first.
    pub fn story_sources(&self, story_ids: &[i64]) -> Result<Vec<StorySource>, StoreError> {
        if story_ids.is_empty() {
            return Ok(Vec::new());
        }
        let conn = self.reader()?;
        story_sources_on(&conn, story_ids).map_err(|e| self.error(e))
    }

    /// The story an item belongs to (`None` until it matched a topic, or with no such item).
    pub fn item_story(&self, item_id: ItemId) -> Result<Option<i64>, StoreError> {
        let conn = self.reader()?;
        conn.query_row("SELECT story_id FROM items WHERE id = ?1", [item_id], |r| {
            r.get(0)
        })
        .optional()
        .map(Option::flatten)
        .map_err(|e| self.error(e))
    }

    /// The deliveries of a story, one per channel and topic, by channel.
    pub fn story_deliveries(&self, story_id: i64) -> Result<Vec<DeliveryRow>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare(
                &format!(
                    "SELECT {DELIVERY_ROW_COLUMNS}
                     FROM deliveries d JOIN matches m ON m.id = d.match_id JOIN items i ON i.id = m.item_id
                     WHERE d.story_id = ?1 ORDER BY d.channel, d.topic"
                ),
            )
            .map_err(|e| self.error(e))?;
        stmt.query_map([story_id], |r| delivery_row_from_row(r))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }

    /// One item as the matcher reads it (feed text and article text), to explain its matches.
    pub fn match_input(&self, item_id: ItemId) -> Result<Option<MatchInput>, StoreError> {
        let conn = self.reader()?;
        conn.query_row(
            &format!(
                "SELECT {INPUT_COLUMNS}, {INDEXED}
                 FROM items i JOIN feeds f ON f.id = i.feed_id
                 LEFT JOIN articles a ON a.item_id = i.id AND a.text IS NOT NULL AND a.text != ''
                 WHERE i.id = ?1"
            ),
            [item_id],
            |r| input_from_row(r),
        )
        .optional()
        .map_err(|e| self.error(e))
    }
}
