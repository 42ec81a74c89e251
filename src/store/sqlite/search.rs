//! The archive's read side: full-text search over `items_fts` with filters and ranking,
//! newest-first listing with keyset pagination, one item in full, topic feed entries.
//!
//! Ranking (search order `Rank`): `relevance × recency`, where
//! `relevance = −bm25(items_fts, 3.0, 2.0, 1.0)` (title weighs 3, summary 2, article text 1;
//! SQLite's bm25 is negative, more negative = better, so it is negated) and
//! `recency = 0.5 + 0.5 / (1 + age_days / 30)`: an item published now keeps its full
//! relevance, one 30 days old three quarters, a very old one tends to half. Recency can at
//! most double an item's standing, so a strong title match still beats a passing mention in a
//! newer item.

use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params_from_iter};

use super::SqliteStore;
use crate::model::{FeedId, ItemId, UnixTime};
use crate::store::StoreError;

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
pub(in crate::store) enum SearchArg {
    Text(String),
    Integer(i64),
}

/// A search's filters as SQL conditions over `items i` and `feeds f`, the same on both
/// backends: feed, URL and author patterns (with the backend's `like` operator), topic, feed
/// URL, dates and the paging cursor. `arg` binds a value and returns its placeholder.
pub(in crate::store) fn filter_conditions(
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

impl SqliteStore {
    /// Runs a search; see the module docs for the ranking.
    pub fn search(&self, spec: &SearchSpec) -> Result<Vec<SearchHit>, StoreError> {
        let conn = self.reader()?;
        let mut args: Vec<Value> = Vec::new();
        let mut arg = |v: Value| {
            args.push(v);
            format!("?{}", args.len())
        };
        let mut conds: Vec<String> = Vec::new();
        let (from, snippet, bm25) = match &spec.fts {
            Some(fts) => {
                conds.push(format!("items_fts MATCH {}", arg(Value::Text(fts.clone()))));
                (
                    "items_fts JOIN items i ON i.id = items_fts.rowid",
                    "snippet(items_fts, -1, '«', '»', '…', 24)",
                    "bm25(items_fts, 3.0, 2.0, 1.0)",
                )
            }
            None => ("items i", "NULL", "0.0"),
        };
        let now = arg(Value::Integer(spec.now));
        let score = format!(
            "(-{bm25}) * (0.5 + 0.5 / (1.0 + max(0, {now} - i.published_at) / {}.0))",
            RECENCY_PERIOD_SECS
        );
        conds.extend(filter_conditions(spec, "LIKE", |value| {
            arg(match value {
                SearchArg::Text(text) => Value::Text(text),
                SearchArg::Integer(n) => Value::Integer(n),
            })
        }));
        let order = match (spec.order, spec.fts.is_some()) {
            (SearchOrder::Rank, true) => "score DESC, i.id DESC",
            _ => "i.published_at DESC, i.id DESC",
        };
        let limit = arg(Value::Integer(spec.limit as i64));
        let where_clause = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        // Two phases: rank every match (bm25 only reads the index), then build snippets,
        // which re-read the text, for the page alone.
        let sql = match &spec.fts {
            Some(_) => format!(
                "WITH ranked AS (
                    SELECT i.id AS id, {bm25} AS bm25, {score} AS score, i.published_at AS published_at
                    FROM {from} JOIN feeds f ON f.id = i.feed_id
                    {where_clause}
                    ORDER BY {order} LIMIT {limit})
                 SELECT i.id, i.feed_id, coalesce(f.title, f.feed_title, f.url), f.url, i.title, i.url,
                        i.author, i.published_at, {snippet}, i.summary, r.bm25, r.score
                 FROM ranked r
                 JOIN items_fts ON items_fts.rowid = r.id
                 JOIN items i ON i.id = r.id
                 JOIN feeds f ON f.id = i.feed_id
                 WHERE items_fts MATCH ?1
                 ORDER BY {outer_order}",
                outer_order = match spec.order {
                    SearchOrder::Rank => "r.score DESC, r.id DESC",
                    SearchOrder::Newest => "r.published_at DESC, r.id DESC",
                }
            ),
            None => format!(
                "SELECT i.id, i.feed_id, coalesce(f.title, f.feed_title, f.url), f.url, i.title, i.url,
                        i.author, i.published_at, NULL, i.summary, 0.0, 0.0
                 FROM items i JOIN feeds f ON f.id = i.feed_id
                 {where_clause}
                 ORDER BY {order} LIMIT {limit}"
            ),
        };
        let mut stmt = conn.prepare(&sql).map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map(params_from_iter(args.iter()), |r| {
                let snippet: Option<String> = r.get(8)?;
                let summary: Option<String> = r.get(9)?;
                Ok(SearchHit {
                    id: r.get(0)?,
                    feed_id: r.get(1)?,
                    feed_title: r.get(2)?,
                    feed_url: r.get(3)?,
                    title: r.get(4)?,
                    url: r.get(5)?,
                    author: r.get(6)?,
                    published_at: r.get(7)?,
                    snippet: snippet.unwrap_or_else(|| lead(summary.as_deref())),
                    bm25: r.get(10)?,
                    score: r.get(11)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.error(e))?;
        Ok(rows)
    }

    /// One item with its feed, article and matches; `None` if there is no such item.
    pub fn item_detail(&self, id: ItemId) -> Result<Option<ItemDetail>, StoreError> {
        let conn = self.reader()?;
        let item = conn
            .query_row(
                "SELECT i.id, i.feed_id, coalesce(f.title, f.feed_title, f.url), f.url, i.title, i.url,
                        i.author, i.published_at, i.first_seen_at, i.summary, a.status, a.text
                 FROM items i JOIN feeds f ON f.id = i.feed_id
                 LEFT JOIN articles a ON a.item_id = i.id
                 WHERE i.id = ?1",
                [id],
                |r| {
                    Ok(ItemDetail {
                        id: r.get(0)?,
                        feed_id: r.get(1)?,
                        feed_title: r.get(2)?,
                        feed_url: r.get(3)?,
                        title: r.get(4)?,
                        url: r.get(5)?,
                        author: r.get(6)?,
                        published_at: r.get(7)?,
                        first_seen_at: r.get(8)?,
                        summary: r.get(9)?,
                        article_status: r.get(10)?,
                        article_text: r.get(11)?,
                        matches: Vec::new(),
                    })
                },
            )
            .optional()
            .map_err(|e| self.error(e))?;
        let Some(mut item) = item else {
            return Ok(None);
        };
        let mut stmt = conn
            .prepare(
                "SELECT id, topic, score, terms, matched_at FROM matches WHERE item_id = ?1 ORDER BY topic",
            )
            .map_err(|e| self.error(e))?;
        item.matches = stmt
            .query_map([id], |r| {
                let terms: String = r.get(3)?;
                Ok(ItemMatch {
                    id: r.get(0)?,
                    topic: r.get(1)?,
                    score: r.get(2)?,
                    terms: serde_json::from_str(&terms).unwrap_or(serde_json::Value::Null),
                    matched_at: r.get(4)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.error(e))?;
        Ok(Some(item))
    }

    /// The newest matches of `topic` (by match time), for its Atom feed.
    pub fn topic_entries(&self, topic: &str, limit: usize) -> Result<Vec<TopicEntry>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare(
                "SELECT m.id, i.id, i.title, i.url, i.author, coalesce(f.title, f.feed_title, f.url),
                        i.summary, i.published_at, m.matched_at, max(coalesce(m.updated_at, 0), coalesce(i.updated_at, 0))
                 FROM matches m JOIN items i ON i.id = m.item_id JOIN feeds f ON f.id = i.feed_id
                 WHERE m.topic = ?1
                 ORDER BY m.matched_at DESC, m.id DESC LIMIT ?2",
            )
            .map_err(|e| self.error(e))?;
        stmt.query_map(rusqlite::params![topic, limit as i64], |r| {
            let updated: i64 = r.get(9)?;
            Ok(TopicEntry {
                match_id: r.get(0)?,
                item_id: r.get(1)?,
                title: r.get(2)?,
                url: r.get(3)?,
                author: r.get(4)?,
                feed_title: r.get(5)?,
                summary: r.get(6)?,
                published_at: r.get(7)?,
                matched_at: r.get(8)?,
                updated_at: (updated > 0).then_some(updated),
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.error(e))
    }

    /// Number of matches per topic name.
    pub fn topic_match_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare("SELECT topic, count(*) FROM matches GROUP BY topic ORDER BY topic")
            .map_err(|e| self.error(e))?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }
}

/// Letters SQLite's `unicode61 remove_diacritics 2` tokenizer keeps but tidings' matcher
/// folds (they are not base letter + accent in Unicode), with their folded forms.
const FTS_FOLDS: &[(char, &str)] = &[
    ('ł', "l"),
    ('Ł', "L"),
    ('đ', "d"),
    ('Đ', "D"),
    ('ø', "o"),
    ('Ø', "O"),
    ('ß', "ss"),
    ('ẞ', "SS"),
    ('æ', "ae"),
    ('Æ', "AE"),
    ('œ', "oe"),
    ('Œ', "OE"),
    ('ı', "i"),
    ('ħ', "h"),
    ('Ħ', "H"),
    ('þ', "th"),
    ('Þ', "TH"),
];

/// Text as it goes into `items_fts`: the letters above folded (`Łódź` → `Lodz` after the
/// tokenizer), so the index agrees with the query normalizer (`Północna` = `polnocna`).
pub fn fts_fold(text: &str) -> std::borrow::Cow<'_, str> {
    // Every folded letter is outside ASCII: most text is checked with one fast pass.
    if text.is_ascii()
        || !text
            .chars()
            .any(|c| !c.is_ascii() && FTS_FOLDS.iter().any(|(f, _)| *f == c))
    {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match FTS_FOLDS.iter().find(|(f, _)| *f == c) {
            Some((_, to)) => out.push_str(to),
            None => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The first words of an item's summary, when there is no full-text snippet.
pub(in crate::store) fn lead(summary: Option<&str>) -> String {
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
