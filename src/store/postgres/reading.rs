//! The reading pages' queries on PostgreSQL: as `store/sqlite/reading.rs`.

use super::matches::INDEXED;
use super::{PgResult, PgStore};
use crate::model::{ItemId, UnixTime};
use crate::store::deliveries::{DELIVERY_ROW_COLUMNS, delivery_row_from_row};
use crate::store::matches::{INPUT_COLUMNS, input_from_row};
use crate::store::reading::{
    STORY_SOURCE_COLUMNS, newest_first, story_source_from_row, topic_match_from_row,
    topic_matches_sql,
};
use crate::store::{DeliveryRow, MatchInput, StoreError, StorySource, TopicStories};

async fn story_sources_on(
    client: &deadpool_postgres::Object,
    story_ids: &[i64],
) -> PgResult<Vec<StorySource>> {
    let rows = client
        .query(
            &format!(
                "SELECT {STORY_SOURCE_COLUMNS}
                 FROM items i JOIN feeds f ON f.id = i.feed_id
                 WHERE i.story_id = ANY($1)
                 ORDER BY i.story_id, i.published_at, i.id"
            ),
            &[&story_ids],
        )
        .await?;
    rows.iter().map(story_source_from_row).collect()
}

impl PgStore {
    pub fn topic_stories(
        &self,
        topic: &str,
        since: UnixTime,
        limit: usize,
    ) -> Result<TopicStories, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query(&topic_matches_sql('$'), &[&topic, &since, &(limit as i64)])
                .await?;
            let mut matches = rows
                .iter()
                .map(topic_match_from_row)
                .collect::<PgResult<Vec<_>>>()?;
            let stories = newest_first(&mut matches);
            let sources = if stories.is_empty() {
                Vec::new()
            } else {
                story_sources_on(&client, &stories).await?
            };
            Ok(TopicStories { matches, sources })
        })
    }

    pub fn story_sources(&self, story_ids: &[i64]) -> Result<Vec<StorySource>, StoreError> {
        if story_ids.is_empty() {
            return Ok(Vec::new());
        }
        self.run(async {
            let client = self.client().await?;
            story_sources_on(&client, story_ids).await
        })
    }

    pub fn item_story(&self, item_id: ItemId) -> Result<Option<i64>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let row = client
                .query_opt("SELECT story_id FROM items WHERE id = $1", &[&item_id])
                .await?;
            Ok(match row {
                Some(r) => r.try_get(0)?,
                None => None,
            })
        })
    }

    pub fn story_deliveries(&self, story_id: i64) -> Result<Vec<DeliveryRow>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query(
                    &format!(
                        "SELECT {DELIVERY_ROW_COLUMNS}
                         FROM deliveries d JOIN matches m ON m.id = d.match_id JOIN items i ON i.id = m.item_id
                         WHERE d.story_id = $1 ORDER BY d.channel, d.topic"
                    ),
                    &[&story_id],
                )
                .await?;
            rows.iter().map(delivery_row_from_row).collect()
        })
    }

    pub fn match_input(&self, item_id: ItemId) -> Result<Option<MatchInput>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let row = client
                .query_opt(
                    &format!(
                        "SELECT {INPUT_COLUMNS}, {INDEXED}
                         FROM items i JOIN feeds f ON f.id = i.feed_id
                         LEFT JOIN articles a ON a.item_id = i.id AND a.text IS NOT NULL AND a.text != ''
                         WHERE i.id = $1"
                    ),
                    &[&item_id],
                )
                .await?;
            row.as_ref().map(input_from_row).transpose()
        })
    }
}
