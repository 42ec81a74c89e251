//! The `topic_feedback` aggregate on PostgreSQL: as `store/sqlite/feedback.rs`.

use super::matches::INDEXED;
use super::{PgResult, PgStore};
use crate::model::{ItemId, UnixTime};
use crate::store::feedback::{
    FEEDBACK_COLUMNS, LABEL_COLUMNS, feedback_from_row, labelled_from_row,
};
use crate::store::matches::INPUT_COLUMNS;
use crate::store::{Feedback, FeedbackOrigin, LabelledItem, StoreError};

impl PgStore {
    /// Stores a reader's label of an item for a topic; a later label replaces an earlier one.
    pub fn record_feedback(
        &self,
        topic: &str,
        item_id: ItemId,
        relevant: bool,
        origin: FeedbackOrigin,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let stored = self.run(async {
            let client = self.client().await?;
            let inserted = client
                .execute(
                    "INSERT INTO topic_feedback (topic, item_id, relevant, origin, created_at, updated_at)
                     SELECT $1, id, $3, $4, $5, $5 FROM items WHERE id = $2
                     ON CONFLICT (topic, item_id) DO UPDATE SET
                         relevant = excluded.relevant, origin = excluded.origin, updated_at = excluded.updated_at",
                    &[&topic, &item_id, &relevant, &origin.as_str(), &now],
                )
                .await?;
            Ok(inserted > 0)
        })?;
        if stored {
            Ok(())
        } else {
            Err(StoreError::NotFound(format!("no item with id {item_id}")))
        }
    }

    /// The topic and item of a match.
    pub fn match_target(&self, match_id: i64) -> Result<Option<(String, ItemId)>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let row = client
                .query_opt(
                    "SELECT topic, item_id FROM matches WHERE id = $1",
                    &[&match_id],
                )
                .await?;
            row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
        })
    }

    /// Every label given for `topic`, with the item's text, oldest label first.
    pub fn topic_labels(&self, topic: &str) -> Result<Vec<LabelledItem>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query(
                    &format!(
                        "SELECT {INPUT_COLUMNS}, {INDEXED}, {LABEL_COLUMNS}
                         FROM topic_feedback fb
                         JOIN items i ON i.id = fb.item_id JOIN feeds f ON f.id = i.feed_id
                         LEFT JOIN articles a ON a.item_id = i.id AND a.text IS NOT NULL AND a.text <> ''
                         WHERE fb.topic = $1
                         ORDER BY fb.updated_at, fb.item_id"
                    ),
                    &[&topic],
                )
                .await?;
            rows.iter()
                .map(|r| labelled_from_row(r, topic))
                .collect::<PgResult<Vec<_>>>()
        })
    }

    /// The labels given for any of `items`, on any topic.
    pub fn feedback_for_items(&self, items: &[ItemId]) -> Result<Vec<Feedback>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query(
                    &format!(
                        "SELECT {FEEDBACK_COLUMNS} FROM topic_feedback
                         WHERE item_id = ANY($1) ORDER BY item_id, topic"
                    ),
                    &[&items],
                )
                .await?;
            rows.iter()
                .map(feedback_from_row)
                .collect::<PgResult<Vec<_>>>()
        })
    }
}
