//! The reading pages' queries on PostgreSQL: as `store/sqlite/reading.rs`.

use tokio_postgres::Row;

use super::matches::{INPUT_COLUMNS, input_from_row};
use super::{PgResult, PgStore, narrow};
use crate::model::{ItemId, UnixTime};
use crate::store::sqlite::reading::{STORY_SOURCE_COLUMNS, newest_first, topic_matches_sql};
use crate::store::{DeliveryRow, MatchInput, StoreError, StorySource, TopicMatch, TopicStories};

fn topic_match(r: &Row) -> PgResult<TopicMatch> {
    Ok(TopicMatch {
        match_id: r.try_get(0)?,
        item_id: r.try_get(1)?,
        score: r.try_get(2)?,
        terms: r.try_get(3)?,
        stage: r.try_get(4)?,
        matched_at: r.try_get(5)?,
        title: r.try_get(6)?,
        url: r.try_get(7)?,
        feed_id: r.try_get(8)?,
        feed_title: r.try_get(9)?,
        published_at: r.try_get(10)?,
        story_id: r.try_get(11)?,
    })
}

fn story_source(r: &Row) -> PgResult<StorySource> {
    Ok(StorySource {
        story_id: r.try_get(0)?,
        item_id: r.try_get(1)?,
        feed_id: r.try_get(2)?,
        feed_title: r.try_get(3)?,
        title: r.try_get(4)?,
        url: r.try_get(5)?,
        published_at: r.try_get(6)?,
    })
}

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
    rows.iter().map(story_source).collect()
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
            let mut matches = rows.iter().map(topic_match).collect::<PgResult<Vec<_>>>()?;
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
                    "SELECT d.id, d.delivery_key, d.channel, d.topic, d.story_id, d.status, d.attempts, d.due_at, d.last_error,
                            d.created_at, d.sent_at, i.title
                     FROM deliveries d JOIN matches m ON m.id = d.match_id JOIN items i ON i.id = m.item_id
                     WHERE d.story_id = $1 ORDER BY d.channel, d.topic",
                    &[&story_id],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(DeliveryRow {
                        id: r.try_get(0)?,
                        delivery_key: r.try_get(1)?,
                        channel: r.try_get(2)?,
                        topic: r.try_get(3)?,
                        story_id: r.try_get(4)?,
                        status: r.try_get(5)?,
                        attempts: narrow(r.try_get(6)?),
                        due_at: r.try_get(7)?,
                        last_error: r.try_get(8)?,
                        created_at: r.try_get(9)?,
                        sent_at: r.try_get(10)?,
                        title: r.try_get(11)?,
                    })
                })
                .collect()
        })
    }

    pub fn match_input(&self, item_id: ItemId) -> Result<Option<MatchInput>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let row = client
                .query_opt(
                    &format!(
                        "SELECT {INPUT_COLUMNS}
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
