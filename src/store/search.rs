//! The archive's read side, backend-neutral: what a search asks and returns, the filters it
//! applies (the same SQL conditions on both backends), and how result rows read. The SQL
//! that differs (FTS5 against tsvector) is in `sqlite/search.rs` and `postgres/search.rs`.

use super::rows::Columns;
use crate::model::{FeedId, ItemId, UnixTime};

/// Seconds in the recency half-weight period (30 days).
pub const RECENCY_PERIOD_SECS: i64 = 30 * 86_400;

/// A condition on a column outside the full-text index: the text contains the LIKE pattern
/// (`\` escapes; ASCII case-insensitive).
#[derive(Debug, Clone, PartialEq)]
pub enum TextFilter {
    /// The feed's title (owner's or own) or URL.
    Feed(String),
    Url(String),
    Author(String),
}

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOrder {
    /// Best score first (needs an FTS expression; newest first without one).
    Rank,
    /// Newest first by (published_at, id); pages continue with `before`.
    Newest,
}

/// What to search for. `fts` is a compiled FTS5 expression (see `query::fts`); never raw
/// user input.
#[derive(Debug, Clone)]
pub struct SearchSpec {
    pub fts: Option<String>,
    /// The same condition as a PostgreSQL tsquery (see `query::tsquery`), for that backend.
    pub tsquery: Option<String>,
    pub filters: Vec<TextFilter>,
    pub topic: Option<String>,
    /// The feed's current or original URL.
    pub feed_url: Option<String>,
    pub since: Option<UnixTime>,
    pub until: Option<UnixTime>,
    /// Keyset cursor for `Newest`: only items strictly before (published_at, id).
    pub before: Option<(UnixTime, ItemId)>,
    pub order: SearchOrder,
    pub limit: usize,
    /// "Now" for the recency boost.
    pub now: UnixTime,
}

/// One search result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SearchHit {
    pub id: ItemId,
    pub feed_id: FeedId,
    pub feed_title: String,
    pub feed_url: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub author: Option<String>,
    pub published_at: UnixTime,
    /// Text around the matched words, each marked «like this».
    pub snippet: String,
    /// relevance × recency (0 without a full-text query).
    pub score: f64,
    /// The raw bm25 value (negative; more negative is better).
    pub bm25: f64,
}

/// One item in full, with its article and matches.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ItemDetail {
    pub id: ItemId,
    pub feed_id: FeedId,
    pub feed_title: String,
    pub feed_url: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub author: Option<String>,
    pub published_at: UnixTime,
    pub first_seen_at: UnixTime,
    /// HTML as the feed gave it.
    pub summary: Option<String>,
    pub article_status: Option<String>,
    pub article_text: Option<String>,
    pub matches: Vec<ItemMatch>,
}

/// A topic match of one item.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ItemMatch {
    pub id: i64,
    pub topic: String,
    pub score: f64,
    pub terms: serde_json::Value,
    pub matched_at: UnixTime,
}

/// One entry of a topic's Atom feed.
#[derive(Debug, Clone)]
pub struct TopicEntry {
    pub match_id: i64,
    pub item_id: ItemId,
    pub title: Option<String>,
    pub url: Option<String>,
    pub author: Option<String>,
    pub feed_title: String,
    /// HTML as the feed gave it (the caller sanitizes or reduces it to text).
    pub summary: Option<String>,
    pub published_at: UnixTime,
    pub matched_at: UnixTime,
    pub updated_at: Option<UnixTime>,
}

const SNIPPET_CHARS: usize = 200;

/// A value bound into a search's SQL, whichever backend binds it.
pub enum SearchArg {
    Text(String),
    Integer(i64),
}

/// A search's filters as SQL conditions over `items i` and `feeds f`, the same on both
/// backends: feed, URL and author patterns (with the backend's `like` operator), topic, feed
/// URL, dates and the paging cursor. `arg` binds a value and returns its placeholder.
pub fn filter_conditions(
    spec: &SearchSpec,
    like: &str,
    mut arg: impl FnMut(SearchArg) -> String,
) -> Vec<String> {
    let mut conds = Vec::new();
    for filter in &spec.filters {
        let (column, pattern) = match filter {
            TextFilter::Feed(p) => (
                "(coalesce(f.title, '') || ' ' || coalesce(f.feed_title, '') || ' ' || f.url)",
                p,
            ),
            TextFilter::Url(p) => ("i.url", p),
            TextFilter::Author(p) => ("i.author", p),
        };
        conds.push(format!(
            "{column} {like} {} ESCAPE '\\'",
            arg(SearchArg::Text(pattern.clone()))
        ));
    }
    if let Some(topic) = &spec.topic {
        conds.push(format!(
            "i.id IN (SELECT item_id FROM matches WHERE topic = {})",
            arg(SearchArg::Text(topic.clone()))
        ));
    }
    if let Some(url) = &spec.feed_url {
        let p = arg(SearchArg::Text(url.clone()));
        conds.push(format!("(f.url = {p} OR f.origin_url = {p})"));
    }
    if let Some(since) = spec.since {
        conds.push(format!(
            "i.published_at >= {}",
            arg(SearchArg::Integer(since))
        ));
    }
    if let Some(until) = spec.until {
        conds.push(format!(
            "i.published_at < {}",
            arg(SearchArg::Integer(until))
        ));
    }
    if let Some((published, id)) = spec.before {
        let p = arg(SearchArg::Integer(published));
        let i = arg(SearchArg::Integer(id));
        conds.push(format!(
            "(i.published_at < {p} OR (i.published_at = {p} AND i.id < {i}))"
        ));
    }
    conds
}

/// The first words of an item's summary, when there is no full-text snippet.
pub fn lead(summary: Option<&str>) -> String {
    let text = summary
        .map(crate::plaintext::html_to_text)
        .unwrap_or_default();
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= SNIPPET_CHARS {
        flat
    } else {
        let cut: String = flat.chars().take(SNIPPET_CHARS).collect();
        format!("{cut}…")
    }
}

/// A search hit as both backends select it: the item and its feed, the snippet (or NULL),
/// the summary (for a lead when there is no snippet), bm25 and the score.
pub fn hit_from_row<R: Columns>(row: &R) -> Result<SearchHit, R::Error> {
    let snippet: Option<String> = row.column(8)?;
    let summary: Option<String> = row.column(9)?;
    Ok(SearchHit {
        id: row.column(0)?,
        feed_id: row.column(1)?,
        feed_title: row.column(2)?,
        feed_url: row.column(3)?,
        title: row.column(4)?,
        url: row.column(5)?,
        author: row.column(6)?,
        published_at: row.column(7)?,
        snippet: snippet
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| lead(summary.as_deref())),
        bm25: row.column(10)?,
        score: row.column(11)?,
    })
}

/// Columns read into an [`ItemDetail`] by [`detail_from_row`] (items `i`, feeds `f`,
/// articles `a`).
pub const DETAIL_COLUMNS: &str =
    "i.id, i.feed_id, coalesce(f.title, f.feed_title, f.url), f.url, i.title, i.url,
     i.author, i.published_at, i.first_seen_at, i.summary, a.status, a.text";

pub fn detail_from_row<R: Columns>(row: &R) -> Result<ItemDetail, R::Error> {
    Ok(ItemDetail {
        id: row.column(0)?,
        feed_id: row.column(1)?,
        feed_title: row.column(2)?,
        feed_url: row.column(3)?,
        title: row.column(4)?,
        url: row.column(5)?,
        author: row.column(6)?,
        published_at: row.column(7)?,
        first_seen_at: row.column(8)?,
        summary: row.column(9)?,
        article_status: row.column(10)?,
        article_text: row.column(11)?,
        matches: Vec::new(),
    })
}

/// Columns of `matches` read into an [`ItemMatch`] by [`item_match_from_row`].
pub const ITEM_MATCH_COLUMNS: &str = "id, topic, score, terms, matched_at";

pub fn item_match_from_row<R: Columns>(row: &R) -> Result<ItemMatch, R::Error> {
    let terms: String = row.column(3)?;
    Ok(ItemMatch {
        id: row.column(0)?,
        topic: row.column(1)?,
        score: row.column(2)?,
        terms: serde_json::from_str(&terms).unwrap_or(serde_json::Value::Null),
        matched_at: row.column(4)?,
    })
}

/// Columns read into a [`TopicEntry`] by [`entry_from_row`] (matches `m`, items `i`, feeds
/// `f`), followed by the backend's "last updated" expression (0 when never).
pub const ENTRY_COLUMNS: &str =
    "m.id, i.id, i.title, i.url, i.author, coalesce(f.title, f.feed_title, f.url),
     i.summary, i.published_at, m.matched_at";

pub fn entry_from_row<R: Columns>(row: &R) -> Result<TopicEntry, R::Error> {
    let updated: i64 = row.column(9)?;
    Ok(TopicEntry {
        match_id: row.column(0)?,
        item_id: row.column(1)?,
        title: row.column(2)?,
        url: row.column(3)?,
        author: row.column(4)?,
        feed_title: row.column(5)?,
        summary: row.column(6)?,
        published_at: row.column(7)?,
        matched_at: row.column(8)?,
        updated_at: (updated > 0).then_some(updated),
    })
}
