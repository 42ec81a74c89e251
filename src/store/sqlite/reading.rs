//! The reading pages' queries (`src/web/`): a topic's matches with the sources of their
//! stories, the sources of stories, the deliveries of a story, and one item as the matcher
//! reads it (to explain a match again). Read-only.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use super::deliveries::DeliveryRow;
use super::matches::MatchInput;
use crate::model::{FeedId, ItemId, UnixTime};
use crate::store::StoreError;

/// One match of a topic with what the topic page shows of its item and story.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TopicMatch {
    pub match_id: i64,
    pub item_id: ItemId,
    pub score: f64,
    /// JSON array of the matched terms (`term`, `field`, `count`, `context`), as stored.
    pub terms: String,
    /// `feed` (matched on title and summary) or `article` (on the article text).
    pub stage: String,
    pub matched_at: UnixTime,
    pub title: Option<String>,
    pub url: Option<String>,
    pub feed_id: FeedId,
    pub feed_title: String,
    pub published_at: UnixTime,
    /// The story the item belongs to (every matched item gets one).
    pub story_id: Option<i64>,
}

/// One item of a story: a source that carried it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StorySource {
    pub story_id: i64,
    pub item_id: ItemId,
    pub feed_id: FeedId,
    pub feed_title: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub published_at: UnixTime,
}

/// A topic's matches with the sources of their stories (see `Store::topic_stories`).
#[derive(Debug, Clone, Default)]
pub struct TopicStories {
    /// Newest first (by the item's date, then the match id).
    pub matches: Vec<TopicMatch>,
    /// Every item of the matches' stories, by story, oldest first.
    pub sources: Vec<StorySource>,
}

/// The query for a topic's newest matches, in two steps: the page's match ids are ordered
/// alone (a small sort), then their rows are read with the stored terms. Ordering the whole
/// rows made the sort copy every match's terms. `{p}` stands for the backend's placeholder
/// prefix (`?` or `$`); the rows come in no particular order.
pub(in crate::store) fn topic_matches_sql(p: char) -> String {
    format!(
        "WITH page AS MATERIALIZED (
             SELECT m.id AS match_id FROM matches m JOIN items i ON i.id = m.item_id
             WHERE m.topic = {p}1 AND i.published_at >= {p}2
             ORDER BY i.published_at DESC, m.id DESC LIMIT {p}3)
         SELECT m.id, m.item_id, m.score, m.terms, m.stage, m.matched_at, i.title, i.url, i.feed_id,
                coalesce(f.title, f.feed_title, f.url), i.published_at, i.story_id
         FROM page JOIN matches m ON m.id = page.match_id JOIN items i ON i.id = m.item_id
         JOIN feeds f ON f.id = i.feed_id"
    )
}

/// The columns of a [`StorySource`], in its field order.
pub(in crate::store) const STORY_SOURCE_COLUMNS: &str = "i.story_id, i.id, i.feed_id, coalesce(f.title, f.feed_title, f.url), i.title, i.url, i.published_at";

/// Orders a topic's matches newest first, and lists the stories they belong to.
pub(in crate::store) fn newest_first(matches: &mut [TopicMatch]) -> Vec<i64> {
    matches.sort_by_key(|m| std::cmp::Reverse((m.published_at, m.match_id)));
    let mut stories: Vec<i64> = matches.iter().filter_map(|m| m.story_id).collect();
    stories.sort_unstable();
    stories.dedup();
    stories
}

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
    stmt.query_map([ids], |r| {
        Ok(StorySource {
            story_id: r.get(0)?,
            item_id: r.get(1)?,
            feed_id: r.get(2)?,
            feed_title: r.get(3)?,
            title: r.get(4)?,
            url: r.get(5)?,
            published_at: r.get(6)?,
        })
    })?
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
                Ok(TopicMatch {
                    match_id: r.get(0)?,
                    item_id: r.get(1)?,
                    score: r.get(2)?,
                    terms: r.get(3)?,
                    stage: r.get(4)?,
                    matched_at: r.get(5)?,
                    title: r.get(6)?,
                    url: r.get(7)?,
                    feed_id: r.get(8)?,
                    feed_title: r.get(9)?,
                    published_at: r.get(10)?,
                    story_id: r.get(11)?,
                })
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
                "SELECT d.id, d.delivery_key, d.channel, d.topic, d.story_id, d.status, d.attempts, d.due_at, d.last_error,
                        d.created_at, d.sent_at, i.title
                 FROM deliveries d JOIN matches m ON m.id = d.match_id JOIN items i ON i.id = m.item_id
                 WHERE d.story_id = ?1 ORDER BY d.channel, d.topic",
            )
            .map_err(|e| self.error(e))?;
        stmt.query_map([story_id], |r| {
            Ok(DeliveryRow {
                id: r.get(0)?,
                delivery_key: r.get(1)?,
                channel: r.get(2)?,
                topic: r.get(3)?,
                story_id: r.get(4)?,
                status: r.get(5)?,
                attempts: r.get(6)?,
                due_at: r.get(7)?,
                last_error: r.get(8)?,
                created_at: r.get(9)?,
                sent_at: r.get(10)?,
                title: r.get(11)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.error(e))
    }

    /// One item as the matcher reads it (feed text and article text), to explain its matches.
    pub fn match_input(&self, item_id: ItemId) -> Result<Option<MatchInput>, StoreError> {
        let conn = self.reader()?;
        conn.query_row(
            &format!(
                "SELECT {}
                 FROM items i JOIN feeds f ON f.id = i.feed_id
                 LEFT JOIN articles a ON a.item_id = i.id AND a.text IS NOT NULL AND a.text != ''
                 WHERE i.id = ?1",
                super::matches::INPUT_COLUMNS
            ),
            [item_id],
            super::matches::input_from_row,
        )
        .optional()
        .map_err(|e| self.error(e))
    }
}
