//! The `topic_feedback` aggregate on SQLite: readers' labels per topic and item.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use super::matches::{INPUT_COLUMNS, input_from_row};
use crate::model::{ItemId, UnixTime};
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
                "SELECT {INPUT_COLUMNS}, i.published_at,
                        EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id AND m.topic = fb.topic),
                        fb.relevant, fb.origin, fb.updated_at
                 FROM topic_feedback fb
                 JOIN items i ON i.id = fb.item_id JOIN feeds f ON f.id = i.feed_id
                 LEFT JOIN articles a ON a.item_id = i.id AND a.text IS NOT NULL AND a.text != ''
                 WHERE fb.topic = ?1
                 ORDER BY fb.updated_at, fb.item_id"
            ))
            .map_err(|e| self.error(e))?;
        stmt.query_map([topic], |r| {
            Ok(LabelledItem {
                item: input_from_row(r)?,
                published_at: r.get(9)?,
                matched: r.get(10)?,
                feedback: Feedback {
                    topic: topic.to_string(),
                    item_id: r.get(0)?,
                    relevant: r.get(11)?,
                    origin: FeedbackOrigin::from_stored(&r.get::<_, String>(12)?),
                    labelled_at: r.get(13)?,
                },
            })
        })
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
            .prepare(
                "SELECT topic, item_id, relevant, origin, updated_at FROM topic_feedback
                 WHERE item_id IN (SELECT value FROM json_each(?1))
                 ORDER BY item_id, topic",
            )
            .map_err(|e| self.error(e))?;
        stmt.query_map([ids], |r| {
            Ok(Feedback {
                topic: r.get(0)?,
                item_id: r.get(1)?,
                relevant: r.get(2)?,
                origin: FeedbackOrigin::from_stored(&r.get::<_, String>(3)?),
                labelled_at: r.get(4)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.error(e))
    }
}
