//! The read side for the CLI and the API: search (the topic query language compiled to FTS5,
//! run by `store`), time arguments, and topic Atom feeds.
//!
//! - [`fts`] — pure compiler from a parsed query to an FTS5 MATCH expression plus filters.
//! - [`atom`] — pure renderer of a topic's matches as an Atom 1.0 feed.

pub mod atom;
pub mod fts;
pub mod tsquery;

use crate::matcher::{Aliases, Field, ParseError, parse_query};
use crate::model::UnixTime;
use crate::store::{SearchHit, SearchOrder, SearchSpec, Store, StoreError, TextFilter};

pub use fts::{CompileError, CompiledSearch, compile};

/// A search as the CLI or the API asks for it.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// tidings query language; empty = every item (filters still apply).
    pub query: String,
    pub topic: Option<String>,
    pub feed_url: Option<String>,
    pub since: Option<UnixTime>,
    pub until: Option<UnixTime>,
    pub before: Option<(UnixTime, i64)>,
    pub order: SearchOrder,
    pub limit: usize,
    pub now: UnixTime,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// A syntax error, with the query and a caret under the position.
    #[error("search query {error}\n  {query}\n  {caret}^", caret = " ".repeat(error.position))]
    Parse { query: String, error: ParseError },
    #[error(transparent)]
    Compile(#[from] CompileError),
    #[error("search failed: {0}")]
    Store(#[from] StoreError),
}

/// Parses and compiles `query` (empty = no full-text condition).
pub fn compile_query(query: &str, aliases: &Aliases) -> Result<CompiledSearch, SearchError> {
    if query.trim().is_empty() {
        return Ok(CompiledSearch::default());
    }
    let parsed = parse_query(query, aliases).map_err(|error| SearchError::Parse {
        query: query.to_string(),
        error,
    })?;
    Ok(compile(&parsed)?)
}

/// Runs a search against the store.
pub fn search(
    store: &Store,
    aliases: &Aliases,
    req: &SearchRequest,
) -> Result<Vec<SearchHit>, SearchError> {
    let compiled = compile_query(&req.query, aliases)?;
    let filters = compiled
        .filters
        .into_iter()
        .map(|f| match f.field {
            Field::Feed => TextFilter::Feed(f.like),
            Field::Url => TextFilter::Url(f.like),
            _ => TextFilter::Author(f.like),
        })
        .collect();
    let spec = SearchSpec {
        fts: compiled.fts,
        tsquery: compiled.tsquery,
        filters,
        topic: req.topic.clone(),
        feed_url: req.feed_url.clone(),
        since: req.since,
        until: req.until,
        before: req.before,
        order: req.order,
        limit: req.limit,
        now: req.now,
    };
    Ok(store.search(&spec)?)
}

/// Reads a point in time: a duration before `now` (`7d`, `12h`), a date (`2026-01-31`, at
/// midnight UTC), an RFC 3339 time, or unix seconds.
pub fn parse_when(text: &str, now: UnixTime) -> Result<UnixTime, String> {
    let text = text.trim();
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp());
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp());
    }
    if let Ok(secs) = text.parse::<i64>() {
        return Ok(secs);
    }
    humantime::parse_duration(text)
        .map(|d| now - d.as_secs() as i64)
        .map_err(|_| {
            format!(
                "`{text}` is neither a duration like 7d, a date like 2026-01-31 nor an RFC 3339 time"
            )
        })
}

/// One search hit as JSON, the same in `tidings search --format jsonl` and `GET /api/search`.
pub fn hit_json(h: &SearchHit) -> serde_json::Value {
    serde_json::json!({
        "id": h.id,
        "score": h.score,
        "bm25": h.bm25,
        "published": rfc3339(h.published_at),
        "feed_id": h.feed_id,
        "feed_title": h.feed_title,
        "feed_url": h.feed_url,
        "title": h.title,
        "url": h.url,
        "author": h.author,
        "snippet": h.snippet,
    })
}

/// RFC 3339 in UTC, seconds precision.
pub fn rfc3339(t: UnixTime) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_show_the_position() {
        let e = compile_query("korea AND (russia", &Aliases::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "search query at 17: expected ')', found end of query\n  korea AND (russia\n                   ^"
        );
    }

    #[test]
    fn when_forms() {
        let now = 1_000_000;
        assert_eq!(parse_when("1d", now).unwrap(), now - 86_400);
        assert_eq!(parse_when("2026-01-31", now).unwrap(), 1_769_817_600);
        assert_eq!(
            parse_when("2026-01-31T00:00:00Z", now).unwrap(),
            1_769_817_600
        );
        assert!(parse_when("soon", now).unwrap_err().contains("soon"));
    }
}
