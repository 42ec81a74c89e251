//! The archive's read side on PostgreSQL, and the full-text index behind it. The index row of
//! an item holds the plain text of its title, summary and article (for snippets) and a
//! `tsvector` built here from tidings' own tokenizer (`matcher::normalize`, the one topics
//! use), so a search matches the same words as on SQLite: diacritics folded, `Jong-un` =
//! `jong un`, phrases never across a sentence. Weights: title A, summary B, text C.
//!
//! Ranking (search order `Rank`): `relevance × recency` as on SQLite, with
//! `relevance = ts_rank(doc, query)` at weights title 1.0, summary 0.67, text 0.33 (the
//! same 3:2:1 as SQLite's bm25). `bm25` in a hit is `-relevance`, so that more negative is
//! better on both backends.

use std::fmt::Write as _;

use tokio_postgres::types::ToSql;

use super::{PgResult, PgStore};
use crate::matcher::normalize::tokenize;
use crate::model::{ItemId, NewItem};
use crate::store::search::{
    DETAIL_COLUMNS, ENTRY_COLUMNS, ITEM_MATCH_COLUMNS, RECENCY_PERIOD_SECS, SearchArg,
    detail_from_row, entry_from_row, filter_conditions, hit_from_row, item_match_from_row,
};
use crate::store::{ItemDetail, SearchHit, SearchOrder, SearchSpec, StoreError, TopicEntry};

/// PostgreSQL's largest tsvector position.
const MAX_POSITION: u32 = 16_383;
/// At most this many positions of one lexeme are kept (PostgreSQL's own limit).
const MAX_POSITIONS_PER_LEXEME: usize = 256;
/// The largest step between two positions: tidings' sentence gap (25) plus one. Paragraph
/// gaps (1,000) would use up PostgreSQL's 16,383 positions within a few paragraphs.
const MAX_STEP: u32 = 26;
/// Positions between two fields, so no phrase spans title and summary.
const FIELD_GAP: u32 = 100;

/// The tsvector literal of an item's three fields.
pub(super) fn document(title: &str, summary: &str, text: &str) -> String {
    let mut lexemes: std::collections::BTreeMap<String, Vec<(u32, char)>> = Default::default();
    let mut next = 1u32;
    for (field, weight) in [(title, 'A'), (summary, 'B'), (text, 'C')] {
        let tokens = tokenize(field);
        let mut prev_src: Option<u32> = None;
        let mut positions = Vec::with_capacity(tokens.tokens.len());
        for token in &tokens.tokens {
            let step = match prev_src {
                None => 0,
                Some(p) => (token.pos - p).clamp(1, MAX_STEP),
            };
            prev_src = Some(token.pos);
            next = (next + step).min(MAX_POSITION);
            positions.push(next);
        }
        for (i, pos) in positions.iter().enumerate() {
            lexemes
                .entry(tokens.text(i).to_string())
                .or_default()
                .push((*pos, weight));
        }
        next = (next + FIELD_GAP).min(MAX_POSITION);
    }
    let mut out = String::new();
    for (lexeme, mut positions) in lexemes {
        // PostgreSQL refuses lexemes of 2 KiB or more; such a "word" is no search term.
        if lexeme.len() >= 2046 {
            continue;
        }
        positions.sort_unstable();
        positions.dedup_by_key(|(p, _)| *p);
        positions.truncate(MAX_POSITIONS_PER_LEXEME);
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(
            out,
            "'{}':",
            lexeme.replace('\\', "\\\\").replace('\'', "''")
        );
        for (i, (pos, weight)) in positions.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{pos}{weight}");
        }
    }
    out
}

/// The plain text a new item is indexed with: title, summary and content (HTML reduced).
pub(super) fn index_text(item: &NewItem) -> (String, String, String) {
    let title = item.title.clone().unwrap_or_default();
    let summary = item
        .summary
        .as_deref()
        .map(crate::plaintext::html_to_text)
        .unwrap_or_default();
    let text = item
        .content
        .as_deref()
        .map(crate::plaintext::html_to_text)
        .unwrap_or_default();
    (title, summary, text)
}

/// Keeps the index in step with an item, in the caller's transaction. An edited item keeps
/// its article text in the index if it has one.
pub(super) async fn index_item(
    tx: &deadpool_postgres::Transaction<'_>,
    id: ItemId,
    item: &NewItem,
    replace: bool,
) -> PgResult<()> {
    let title = item.title.as_deref().unwrap_or("");
    let summary = item
        .summary
        .as_deref()
        .map(crate::plaintext::html_to_text)
        .unwrap_or_default();
    let article = if replace {
        tx.query_opt(
            "SELECT text FROM articles WHERE item_id = $1 AND text IS NOT NULL",
            &[&id],
        )
        .await?
        .map(|r| r.try_get::<_, String>(0))
        .transpose()?
    } else {
        None
    };
    let text = article.unwrap_or_else(|| {
        item.content
            .as_deref()
            .map(crate::plaintext::html_to_text)
            .unwrap_or_default()
    });
    let stmt = tx
        .prepare_cached(
            "INSERT INTO items_fts (item_id, title, summary, text, doc) VALUES ($1, $2, $3, $4, $5::text::tsvector)
             ON CONFLICT (item_id) DO UPDATE SET title = excluded.title, summary = excluded.summary,
                text = excluded.text, doc = excluded.doc",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &id,
            &title,
            &summary,
            &text,
            &document(title, &summary, &text),
        ],
    )
    .await?;
    Ok(())
}

/// Puts an article's text into an item's index row.
pub(super) async fn index_article_text(
    tx: &deadpool_postgres::Transaction<'_>,
    id: ItemId,
    text: &str,
) -> PgResult<()> {
    let row = tx
        .query_opt(
            "SELECT title, summary FROM items_fts WHERE item_id = $1",
            &[&id],
        )
        .await?;
    let (title, summary): (String, String) = match row {
        Some(r) => (r.try_get(0)?, r.try_get(1)?),
        None => (String::new(), String::new()),
    };
    tx.execute(
        "INSERT INTO items_fts (item_id, title, summary, text, doc) VALUES ($1, $2, $3, $4, $5::text::tsvector)
         ON CONFLICT (item_id) DO UPDATE SET text = excluded.text, doc = excluded.doc",
        &[&id, &title, &summary, &text, &document(&title, &summary, text)],
    )
    .await?;
    Ok(())
}

/// `ts_rank`'s weights, in its order {D, C, B, A}: text 1/3, summary 2/3, title 1.
const RANK_WEIGHTS: &str = "'{0, 0.333, 0.667, 1.0}'::float4[]";

impl PgStore {
    pub fn search(&self, spec: &SearchSpec) -> Result<Vec<SearchHit>, StoreError> {
        let tsquery = match (&spec.fts, &spec.tsquery) {
            (Some(_), None) => {
                return Err(StoreError::Refused(
                    "a full-text search on PostgreSQL needs the query compiled to tsquery".into(),
                ));
            }
            (_, q) => q.clone(),
        };
        let mut args: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        let mut arg = |v: Box<dyn ToSql + Sync + Send>| {
            args.push(v);
            format!("${}", args.len())
        };
        let mut conds: Vec<String> = Vec::new();
        let now = arg(Box::new(spec.now));
        let (from, relevance) = match &tsquery {
            Some(q) => {
                let q = arg(Box::new(q.clone()));
                conds.push(format!("x.doc @@ {q}::text::tsquery"));
                (
                    "items_fts x JOIN items i ON i.id = x.item_id".to_string(),
                    format!("ts_rank({RANK_WEIGHTS}, x.doc, {q}::text::tsquery)"),
                )
            }
            None => ("items i".to_string(), "0.0::float8".to_string()),
        };
        let score = format!(
            "({relevance})::float8 * (0.5 + 0.5 / (1.0 + greatest(0, {now} - i.published_at) / {}.0))",
            RECENCY_PERIOD_SECS
        );
        // SQLite's LIKE is ASCII case-insensitive; ILIKE is the nearest.
        conds.extend(filter_conditions(spec, "ILIKE", |value| {
            arg(match value {
                SearchArg::Text(text) => Box::new(text),
                SearchArg::Integer(n) => Box::new(n),
            })
        }));
        let order = match (spec.order, tsquery.is_some()) {
            (SearchOrder::Rank, true) => "score DESC, id DESC",
            _ => "published_at DESC, id DESC",
        };
        let limit = arg(Box::new(spec.limit as i64));
        let where_clause = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        let snippet = match &tsquery {
            Some(_) => "ts_headline('simple', concat_ws(' ', nullif(x.summary, ''), nullif(x.text, ''), x.title), $2::text::tsquery,
                    'StartSel=«, StopSel=», MaxWords=24, MinWords=12, ShortWord=0, MaxFragments=1, FragmentDelimiter=…')"
                .to_string(),
            None => "NULL::text".to_string(),
        };
        let join_fts = if tsquery.is_some() {
            "JOIN items_fts x ON x.item_id = r.id"
        } else {
            ""
        };
        // Rank every match, then build snippets for the page alone.
        let sql = format!(
            "WITH ranked AS (
                SELECT i.id AS id, {relevance}::float8 AS relevance, {score} AS score, i.published_at AS published_at
                FROM {from} JOIN feeds f ON f.id = i.feed_id
                {where_clause}
                ORDER BY {order} LIMIT {limit})
             SELECT i.id, i.feed_id, coalesce(f.title, f.feed_title, f.url), f.url, i.title, i.url,
                    i.author, i.published_at, {snippet}, i.summary, -r.relevance, r.score
             FROM ranked r
             {join_fts}
             JOIN items i ON i.id = r.id
             JOIN feeds f ON f.id = i.feed_id
             ORDER BY {outer_order}",
            outer_order = match (spec.order, tsquery.is_some()) {
                (SearchOrder::Rank, true) => "r.score DESC, r.id DESC",
                _ => "r.published_at DESC, r.id DESC",
            }
        );
        self.run(async {
            let client = self.client().await?;
            let params: Vec<&(dyn ToSql + Sync)> = args
                .iter()
                .map(|a| a.as_ref() as &(dyn ToSql + Sync))
                .collect();
            let rows = client.query(&sql, &params).await?;
            rows.iter().map(hit_from_row).collect::<PgResult<Vec<_>>>()
        })
    }

    pub fn item_detail(&self, id: ItemId) -> Result<Option<ItemDetail>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let row = client
                .query_opt(
                    &format!(
                        "SELECT {DETAIL_COLUMNS}
                         FROM items i JOIN feeds f ON f.id = i.feed_id
                         LEFT JOIN articles a ON a.item_id = i.id
                         WHERE i.id = $1"
                    ),
                    &[&id],
                )
                .await?;
            let Some(r) = row else {
                return Ok(None);
            };
            let mut item = detail_from_row(&r)?;
            let rows = client
                .query(
                    &format!(
                        "SELECT {ITEM_MATCH_COLUMNS} FROM matches WHERE item_id = $1 ORDER BY topic"
                    ),
                    &[&id],
                )
                .await?;
            item.matches = rows
                .iter()
                .map(item_match_from_row)
                .collect::<PgResult<Vec<_>>>()?;
            Ok(Some(item))
        })
    }

    pub fn topic_entries(&self, topic: &str, limit: usize) -> Result<Vec<TopicEntry>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query(
                    &format!(
                        "SELECT {ENTRY_COLUMNS}, greatest(coalesce(m.updated_at, 0), coalesce(i.updated_at, 0))
                         FROM matches m JOIN items i ON i.id = m.item_id JOIN feeds f ON f.id = i.feed_id
                         WHERE m.topic = $1
                         ORDER BY m.matched_at DESC, m.id DESC LIMIT $2"
                    ),
                    &[&topic, &(limit as i64)],
                )
                .await?;
            rows.iter()
                .map(entry_from_row)
                .collect::<PgResult<Vec<_>>>()
        })
    }

    pub fn topic_match_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT topic, count(*) FROM matches GROUP BY topic ORDER BY topic",
                    &[],
                )
                .await?;
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<PgResult<Vec<_>>>()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::document;

    #[test]
    fn document_weights_fields_and_folds_words() {
        let doc = document("Kim Jong-un", "Północna", "");
        assert!(doc.contains("'kim':1A"), "{doc}");
        assert!(doc.contains("'jong':2A"), "{doc}");
        assert!(doc.contains("'un':3A"), "{doc}");
        // As in SQLite's index, a hyphenated word is its parts only.
        assert!(!doc.contains("jongun"), "{doc}");
        assert!(doc.contains("'polnocna':103B"), "{doc}");
    }
}
