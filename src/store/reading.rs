//! The reading pages' queries (`src/web/`), backend-neutral: a topic's matches with the
//! sources of their stories, what they read of a row, and their order. The SQL that differs
//! is in `sqlite/reading.rs` and `postgres/reading.rs`.

use super::rows::Columns;
use crate::model::{FeedId, ItemId, UnixTime};

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
pub fn topic_matches_sql(p: char) -> String {
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
pub const STORY_SOURCE_COLUMNS: &str = "i.story_id, i.id, i.feed_id, coalesce(f.title, f.feed_title, f.url), i.title, i.url, i.published_at";

/// Orders a topic's matches newest first, and lists the stories they belong to.
pub fn newest_first(matches: &mut [TopicMatch]) -> Vec<i64> {
    matches.sort_by_key(|m| std::cmp::Reverse((m.published_at, m.match_id)));
    let mut stories: Vec<i64> = matches.iter().filter_map(|m| m.story_id).collect();
    stories.sort_unstable();
    stories.dedup();
    stories
}

/// A topic match from [`topic_matches_sql`]'s row.
pub fn topic_match_from_row<R: Columns>(row: &R) -> Result<TopicMatch, R::Error> {
    Ok(TopicMatch {
        match_id: row.column(0)?,
        item_id: row.column(1)?,
        score: row.column(2)?,
        terms: row.column(3)?,
        stage: row.column(4)?,
        matched_at: row.column(5)?,
        title: row.column(6)?,
        url: row.column(7)?,
        feed_id: row.column(8)?,
        feed_title: row.column(9)?,
        published_at: row.column(10)?,
        story_id: row.column(11)?,
    })
}

/// A story's source from [`STORY_SOURCE_COLUMNS`].
pub fn story_source_from_row<R: Columns>(row: &R) -> Result<StorySource, R::Error> {
    Ok(StorySource {
        story_id: row.column(0)?,
        item_id: row.column(1)?,
        feed_id: row.column(2)?,
        feed_title: row.column(3)?,
        title: row.column(4)?,
        url: row.column(5)?,
        published_at: row.column(6)?,
    })
}
