//! The archive's read side on SQLite: full-text search over `items_fts` with filters and ranking,
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
use crate::model::ItemId;
use crate::store::search::{
    DETAIL_COLUMNS, ENTRY_COLUMNS, ITEM_MATCH_COLUMNS, RECENCY_PERIOD_SECS, SearchArg,
    detail_from_row, entry_from_row, filter_conditions, hit_from_row, item_match_from_row,
};
use crate::store::{ItemDetail, SearchHit, SearchOrder, SearchSpec, StoreError, TopicEntry};

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
            .query_map(params_from_iter(args.iter()), |r| hit_from_row(r))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.error(e))?;
        Ok(rows)
    }

    /// One item with its feed, article and matches; `None` if there is no such item.
    pub fn item_detail(&self, id: ItemId) -> Result<Option<ItemDetail>, StoreError> {
        let conn = self.reader()?;
        let item = conn
            .query_row(
                &format!(
                    "SELECT {DETAIL_COLUMNS}
                     FROM items i JOIN feeds f ON f.id = i.feed_id
                     LEFT JOIN articles a ON a.item_id = i.id
                     WHERE i.id = ?1"
                ),
                [id],
                |r| detail_from_row(r),
            )
            .optional()
            .map_err(|e| self.error(e))?;
        let Some(mut item) = item else {
            return Ok(None);
        };
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {ITEM_MATCH_COLUMNS} FROM matches WHERE item_id = ?1 ORDER BY topic"
            ))
            .map_err(|e| self.error(e))?;
        item.matches = stmt
            .query_map([id], |r| item_match_from_row(r))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.error(e))?;
        Ok(Some(item))
    }

    /// The newest matches of `topic` (by match time), for its Atom feed.
    pub fn topic_entries(&self, topic: &str, limit: usize) -> Result<Vec<TopicEntry>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare(
                &format!(
                    "SELECT {ENTRY_COLUMNS}, max(coalesce(m.updated_at, 0), coalesce(i.updated_at, 0))
                     FROM matches m JOIN items i ON i.id = m.item_id JOIN feeds f ON f.id = i.feed_id
                     WHERE m.topic = ?1
                     ORDER BY m.matched_at DESC, m.id DESC LIMIT ?2"
                ),
            )
            .map_err(|e| self.error(e))?;
        stmt.query_map(rusqlite::params![topic, limit as i64], |r| {
            entry_from_row(r)
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
