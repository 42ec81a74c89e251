//! The `matches` aggregate, backend-neutral: what the matching stage reads of an item, what
//! it hands back to be recorded, and a stored match as listings show it. The SQL is in
//! `sqlite/matches.rs` and `postgres/matches.rs`.

use super::rows::Columns;
use crate::model::{DeliveryPolicy, ItemId, Route, StoryKey, UnixTime};

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

/// Columns read into a [`MatchInput`] by [`input_from_row`] (items `i`, feeds `f`, articles
/// `a`), followed in every query by the backend's expression for "the item is in the
/// full-text index" (`INDEXED`).
pub const INPUT_COLUMNS: &str =
    "i.id, coalesce(f.title, f.feed_title, f.url), coalesce(i.url, ''), coalesce(i.title, ''),
     coalesce(i.summary, ''), coalesce(i.content, ''), coalesce(i.author, ''), a.text";

/// What the matcher needs of one item, from [`INPUT_COLUMNS`] and the indexed flag.
pub fn input_from_row<R: Columns>(row: &R) -> Result<MatchInput, R::Error> {
    let article_text: Option<String> = row.column(7)?;
    Ok(MatchInput {
        item_id: row.column(0)?,
        feed_title: row.column(1)?,
        url: row.column(2)?,
        title: row.column(3)?,
        summary: row.column(4)?,
        content: row.column(5)?,
        author: row.column(6)?,
        target_state: if article_text.is_some() { 2 } else { 1 },
        article_text,
        indexed: row.column(8)?,
    })
}

/// Columns read into a [`StoredMatch`] by [`stored_match_from_row`] (matches `m`, items `i`,
/// feeds `f`).
pub const STORED_MATCH_COLUMNS: &str =
    "m.id, m.item_id, m.topic, m.score, m.terms, m.stage, m.backfill, m.matched_at,
     i.title, i.url, coalesce(f.title, f.feed_title, f.url), i.published_at";

pub fn stored_match_from_row<R: Columns>(row: &R) -> Result<StoredMatch, R::Error> {
    let terms: String = row.column(4)?;
    Ok(StoredMatch {
        id: row.column(0)?,
        item_id: row.column(1)?,
        topic: row.column(2)?,
        score: row.column(3)?,
        terms: serde_json::from_str(&terms).unwrap_or(serde_json::Value::Null),
        stage: row.column(5)?,
        backfill: row.column(6)?,
        matched_at: row.column(7)?,
        title: row.column(8)?,
        url: row.column(9)?,
        feed: row.column(10)?,
        published_at: row.column(11)?,
    })
}
