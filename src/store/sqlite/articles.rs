//! The `articles` aggregate: which items still need their page extracted, and the outcome of
//! each extraction (kept in the search index too).

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::model::{ItemId, UnixTime};
use crate::store::{ArticleRecord, PendingPage, StoreError};

impl SqliteStore {
    /// Queued items of feeds with extraction on that were never tried, or whose retry is due;
    /// newest first.
    pub fn pending_pages(
        &self,
        now: UnixTime,
        limit: usize,
        exclude: &[ItemId],
    ) -> Result<Vec<PendingPage>, StoreError> {
        let conn = self.writer();
        // Newest first, from the queue's own rows: the cost follows the queue, not the archive.
        let mut stmt = conn
            .prepare_cached(
                "SELECT i.id, i.feed_id, i.url, coalesce(i.content, i.summary), coalesce(a.attempts, 0)
                 FROM extraction_queue q
                 JOIN items i ON i.id = q.item_id
                 JOIN feeds f ON f.id = i.feed_id
                 LEFT JOIN articles a ON a.item_id = i.id
                 WHERE q.due_at <= ?1 AND f.extract = 1 AND i.url IS NOT NULL
                 ORDER BY q.item_id DESC LIMIT ?2",
            )
            .map_err(|e| self.error(e))?;
        let rows: Vec<PendingPage> = stmt
            .query_map(params![now, (limit + exclude.len()) as i64], |r| {
                Ok(PendingPage {
                    item_id: r.get(0)?,
                    feed_id: r.get(1)?,
                    url: r.get(2)?,
                    feed_html: r.get(3)?,
                    attempts: r.get(4)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))?;
        Ok(rows
            .into_iter()
            .filter(|p| !exclude.contains(&p.item_id))
            .take(limit)
            .collect())
    }

    /// Stores an extraction outcome; text that arrives replaces the feed's content in the
    /// full-text index (an item not indexed yet gets it from the matching stage) and queues the
    /// item for matching on it.
    pub fn record_article(
        &self,
        item_id: ItemId,
        article: &ArticleRecord,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        tx.execute(
            "INSERT INTO articles (item_id, status, method, text, title, byline, published, language,
                lead_image_url, http_status, error, attempts, next_attempt_at, extracted_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?12, ?13)
             ON CONFLICT (item_id) DO UPDATE SET status = excluded.status, method = excluded.method,
                text = excluded.text, title = excluded.title, byline = excluded.byline,
                published = excluded.published, language = excluded.language,
                lead_image_url = excluded.lead_image_url, http_status = excluded.http_status,
                error = excluded.error, attempts = articles.attempts + 1,
                next_attempt_at = excluded.next_attempt_at, extracted_at = excluded.extracted_at",
            params![
                item_id,
                article.status,
                article.method,
                article.text,
                article.title,
                article.byline,
                article.published,
                article.language,
                article.lead_image_url,
                article.http_status,
                article.error,
                article.next_attempt_at,
                now
            ],
        )
        .map_err(|e| self.error(e))?;
        // A retry stays queued until its time; any other outcome ends the item's turn.
        if article.status == "retry" {
            tx.execute(
                "UPDATE extraction_queue SET due_at = ?2 WHERE item_id = ?1",
                params![item_id, article.next_attempt_at.unwrap_or(now)],
            )
        } else {
            tx.execute("DELETE FROM extraction_queue WHERE item_id = ?1", [item_id])
        }
        .map_err(|e| self.error(e))?;
        if let Some(text) = article.text.as_deref().filter(|t| !t.is_empty()) {
            tx.execute(
                "UPDATE items_fts SET text = ?2 WHERE rowid = ?1",
                params![item_id, super::search::fts_fold(text)],
            )
            .map_err(|e| self.error(e))?;
            tx.execute(
                "UPDATE items SET match_state = CASE WHEN match_state = 0 THEN 0 ELSE 3 END WHERE id = ?1",
                [item_id],
            )
            .map_err(|e| self.error(e))?;
        }
        tx.commit().map_err(|e| self.error(e))
    }

    /// The stored article of an item, if any (status, method, text, error, attempts).
    pub fn article(&self, item_id: ItemId) -> Result<Option<ArticleRecord>, StoreError> {
        let conn = self.reader()?;
        conn.query_row(
            "SELECT status, method, text, error, http_status, next_attempt_at FROM articles WHERE item_id = ?1",
            [item_id],
            |r| {
                Ok(ArticleRecord {
                    status: r.get(0)?,
                    method: r.get(1)?,
                    text: r.get(2)?,
                    error: r.get(3)?,
                    http_status: r.get(4)?,
                    next_attempt_at: r.get(5)?,
                    ..ArticleRecord::default()
                })
            },
        )
        .optional()
        .map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FeedSettings, FeedSource, NewItem};

    fn item(key: &str, url: Option<&str>) -> NewItem {
        NewItem {
            dedup_key: key.to_string(),
            guid: Some(key.to_string()),
            url: url.map(str::to_string),
            title: Some(key.to_string()),
            summary: None,
            content: None,
            author: None,
            published_original: Some(1_700_000_000),
            content_hash: format!("hash-{key}"),
            former_key: None,
        }
    }

    fn feed_with(store: &SqliteStore, url: &str, extract: bool) -> crate::model::Feed {
        let settings = FeedSettings {
            extract,
            ..FeedSettings::default()
        };
        let (id, _) = store.add_feed(url, FeedSource::Cli, &settings, 0).unwrap();
        store.feed(id).unwrap()
    }

    fn pending_ids(store: &SqliteStore, now: UnixTime) -> Vec<ItemId> {
        let pages = store.pending_pages(now, 100, &[]).unwrap();
        pages.iter().map(|p| p.item_id).collect()
    }

    /// Only new items of extracting feeds that have a link are queued; an attempt that ends
    /// leaves the queue, a retry comes back when it is due.
    #[test]
    fn the_queue_holds_what_waits_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let extracting = feed_with(&store, "https://a.example/feed", true);
        let plain = feed_with(&store, "https://b.example/feed", false);
        let items = vec![
            item("one", Some("https://a.example/1")),
            item("two", Some("https://a.example/2")),
            item("linkless", None),
        ];
        let (_, ids) = store
            .commit_refresh(&extracting, &items, false, 100)
            .unwrap();
        store
            .commit_refresh(
                &plain,
                &[item("b", Some("https://b.example/1"))],
                false,
                100,
            )
            .unwrap();
        assert_eq!(pending_ids(&store, 100), vec![ids[1], ids[0]]);

        let done = ArticleRecord {
            status: "ok".into(),
            text: Some("The article".into()),
            ..ArticleRecord::default()
        };
        store.record_article(ids[1], &done, 110).unwrap();
        let retry = ArticleRecord {
            status: "retry".into(),
            next_attempt_at: Some(500),
            ..ArticleRecord::default()
        };
        store.record_article(ids[0], &retry, 110).unwrap();
        assert!(pending_ids(&store, 499).is_empty());
        let due = store.pending_pages(500, 100, &[]).unwrap();
        assert_eq!((due[0].item_id, due[0].attempts), (ids[0], 1));
        assert_eq!(store.counts().unwrap().pending_extractions, 0);

        store.record_article(ids[0], &done, 600).unwrap();
        assert!(pending_ids(&store, 10_000).is_empty());
        let queued: i64 = store
            .writer()
            .query_row("SELECT count(*) FROM extraction_queue", [], |r| r.get(0))
            .unwrap();
        assert_eq!(queued, 0);
    }
}
