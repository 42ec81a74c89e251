//! The `topic_feedback` aggregate on SQLite: readers' labels per topic and item.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use super::matches::INDEXED;
use crate::model::{ItemId, UnixTime};
use crate::store::feedback::{
    FEEDBACK_COLUMNS, LABEL_COLUMNS, feedback_from_row, labelled_from_row,
};
use crate::store::matches::INPUT_COLUMNS;
use crate::store::{Feedback, FeedbackOrigin, LabelledItem, StoreError};

impl SqliteStore {
    /// Stores a reader's label of an item for a topic; a later label replaces an earlier one.
    pub fn record_feedback(
        &self,
        topic: &str,
        item_id: ItemId,
        relevant: bool,
        origin: FeedbackOrigin,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let conn = self.writer();
        let exists: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM items WHERE id = ?1)",
                [item_id],
                |r| r.get(0),
            )
            .map_err(|e| self.error(e))?;
        if !exists {
            return Err(StoreError::NotFound(format!("no item with id {item_id}")));
        }
        conn.execute(
            "INSERT INTO topic_feedback (topic, item_id, relevant, origin, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)
             ON CONFLICT (topic, item_id) DO UPDATE SET
                 relevant = excluded.relevant, origin = excluded.origin, updated_at = excluded.updated_at",
            params![topic, item_id, relevant, origin.as_str(), now],
        )
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// The topic and item of a match.
    pub fn match_target(&self, match_id: i64) -> Result<Option<(String, ItemId)>, StoreError> {
        let conn = self.reader()?;
        conn.query_row(
            "SELECT topic, item_id FROM matches WHERE id = ?1",
            [match_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(|e| self.error(e))
    }

    /// Every label given for `topic`, with the item's text, oldest label first.
    pub fn topic_labels(&self, topic: &str) -> Result<Vec<LabelledItem>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {INPUT_COLUMNS}, {INDEXED}, {LABEL_COLUMNS}
                 FROM topic_feedback fb
                 JOIN items i ON i.id = fb.item_id JOIN feeds f ON f.id = i.feed_id
                 LEFT JOIN articles a ON a.item_id = i.id AND a.text IS NOT NULL AND a.text != ''
                 WHERE fb.topic = ?1
                 ORDER BY fb.updated_at, fb.item_id"
            ))
            .map_err(|e| self.error(e))?;
        stmt.query_map([topic], |r| labelled_from_row(r, topic))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }

    /// The labels given for any of `items`, on any topic.
    pub fn feedback_for_items(&self, items: &[ItemId]) -> Result<Vec<Feedback>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let conn = self.reader()?;
        let ids = serde_json::to_string(items).expect("ids serialize");
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {FEEDBACK_COLUMNS} FROM topic_feedback
                 WHERE item_id IN (SELECT value FROM json_each(?1))
                 ORDER BY item_id, topic"
            ))
            .map_err(|e| self.error(e))?;
        stmt.query_map([ids], |r| feedback_from_row(r))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }
}
