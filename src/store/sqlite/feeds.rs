//! The `feeds` aggregate on SQLite: config sync, CLI add/remove, listing, due feeds, fetch state.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::config::FeedConfig;
use crate::model::{Feed, FeedId, FeedSettings, FeedSource, UnixTime};
use crate::store::feeds::{FEED_COLUMNS, PROBLEM_QUERY, feed_from_row, problem_facts_from_row};
use crate::store::{FeedProblem, StoreError};

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

impl SqliteStore {
    /// Makes the database's feeds match the config: config feeds are added or updated (and
    /// re-enabled), config feeds no longer listed are disabled with their items kept.
    /// Returns (added, disabled).
    pub fn sync_config_feeds(
        &self,
        feeds: &[FeedConfig],
        now: UnixTime,
    ) -> Result<(usize, usize), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        let mut added = 0;
        {
            // "Added" is what the sync itself inserted (not a guess from `created_at`, which a
            // restart within the same second matches).
            let mut known = tx
                .prepare("SELECT EXISTS (SELECT 1 FROM feeds WHERE origin_url = ?1)")
                .map_err(|e| self.error(e))?;
            let mut upsert = tx
                .prepare(
                    "INSERT INTO feeds (origin_url, url, source, title, schedule, extract, headers, tags, created_at)
                     VALUES (?1, ?1, 'config', ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (origin_url) DO UPDATE SET
                        source = 'config', title = excluded.title, schedule = excluded.schedule,
                        extract = excluded.extract, headers = excluded.headers, tags = excluded.tags,
                        state = CASE WHEN feeds.state = 'disabled' THEN 'active' ELSE feeds.state END,
                        next_poll_at = CASE WHEN feeds.schedule IS NOT excluded.schedule THEN 0 ELSE feeds.next_poll_at END",
                )
                .map_err(|e| self.error(e))?;
            for feed in feeds {
                let s = &feed.settings;
                let existed: bool = known
                    .query_row([feed.url.as_str()], |r| r.get(0))
                    .map_err(|e| self.error(e))?;
                upsert
                    .execute(params![
                        feed.url.as_str(),
                        s.title,
                        s.schedule,
                        s.extract,
                        json(&s.headers),
                        json(&s.tags),
                        now
                    ])
                    .map_err(|e| self.error(e))?;
                added += usize::from(!existed);
            }
        }
        // Pages queued for a feed whose extraction was turned off will not be fetched.
        tx.execute(
            "DELETE FROM extraction_queue WHERE item_id IN (
                 SELECT q.item_id FROM extraction_queue q
                 JOIN items i ON i.id = q.item_id JOIN feeds f ON f.id = i.feed_id
                 WHERE f.extract = 0)",
            [],
        )
        .map_err(|e| self.error(e))?;
        let listed: Vec<&str> = feeds.iter().map(|f| f.url.as_str()).collect();
        let mut disabled = 0;
        {
            let mut stmt = tx
                .prepare(
                    "SELECT id, origin_url FROM feeds WHERE source = 'config' AND state = 'active'",
                )
                .map_err(|e| self.error(e))?;
            let rows: Vec<(FeedId, String)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect())
                .map_err(|e| self.error(e))?;
            for (id, origin) in rows {
                if !listed.contains(&origin.as_str()) {
                    tx.execute("UPDATE feeds SET state = 'disabled' WHERE id = ?1", [id])
                        .map_err(|e| self.error(e))?;
                    disabled += 1;
                }
            }
        }
        tx.commit().map_err(|e| self.error(e))?;
        Ok((added, disabled))
    }

    /// Adds a feed (or re-enables one that was removed). Returns its id and whether it is new.
    pub fn add_feed(
        &self,
        url: &str,
        source: FeedSource,
        settings: &FeedSettings,
        now: UnixTime,
    ) -> Result<(FeedId, bool), StoreError> {
        let conn = self.writer();
        let existing: Option<FeedId> = conn
            .query_row(
                "SELECT id FROM feeds WHERE origin_url = ?1 OR url = ?1",
                [url],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.error(e))?;
        if let Some(id) = existing {
            conn.execute(
                "UPDATE feeds SET state = CASE WHEN state = 'disabled' THEN 'active' ELSE state END,
                    title = coalesce(?2, title),
                    tags = CASE WHEN ?3 = '[]' THEN tags ELSE ?3 END
                 WHERE id = ?1",
                params![id, settings.title, json(&settings.tags)],
            )
            .map_err(|e| self.error(e))?;
            return Ok((id, false));
        }
        conn.execute(
            "INSERT INTO feeds (origin_url, url, source, title, schedule, extract, headers, tags, created_at)
             VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                url,
                source.as_str(),
                settings.title,
                settings.schedule,
                settings.extract,
                json(&settings.headers),
                json(&settings.tags),
                now
            ],
        )
        .map_err(|e| self.error(e))?;
        Ok((conn.last_insert_rowid(), true))
    }

    /// Stops polling a feed; its items stay. Returns false if no feed has that URL.
    pub fn disable_feed(&self, url: &str) -> Result<bool, StoreError> {
        let conn = self.writer();
        let n = conn
            .execute(
                "UPDATE feeds SET state = 'disabled' WHERE origin_url = ?1 OR url = ?1",
                [url],
            )
            .map_err(|e| self.error(e))?;
        Ok(n > 0)
    }

    /// Every feed, in id order.
    pub fn list_feeds(&self) -> Result<Vec<Feed>, StoreError> {
        let conn = self.writer();
        let mut stmt = conn
            .prepare(&format!("SELECT {FEED_COLUMNS} FROM feeds ORDER BY id"))
            .map_err(|e| self.error(e))?;
        stmt.query_map([], |r| feed_from_row(r))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }

    /// The feed whose original or current URL is `url`.
    pub fn feed_by_url(&self, url: &str) -> Result<Option<Feed>, StoreError> {
        let conn = self.writer();
        conn.query_row(
            &format!("SELECT {FEED_COLUMNS} FROM feeds WHERE origin_url = ?1 OR url = ?1 ORDER BY id LIMIT 1"),
            [url],
            |r| feed_from_row(r),
        )
        .optional()
        .map_err(|e| self.error(e))
    }

    pub fn feed(&self, id: FeedId) -> Result<Feed, StoreError> {
        let conn = self.writer();
        conn.query_row(
            &format!("SELECT {FEED_COLUMNS} FROM feeds WHERE id = ?1"),
            [id],
            |r| feed_from_row(r),
        )
        .optional()
        .map_err(|e| self.error(e))?
        .ok_or_else(|| StoreError::NotFound(format!("no feed with id {id}")))
    }

    /// Active feeds due at `now`, earliest first, skipping `exclude` (feeds in flight).
    pub fn due_feeds(
        &self,
        now: UnixTime,
        limit: usize,
        exclude: &[FeedId],
    ) -> Result<Vec<Feed>, StoreError> {
        let conn = self.writer();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {FEED_COLUMNS} FROM feeds WHERE state = 'active' AND next_poll_at <= ?1
                 ORDER BY next_poll_at, id LIMIT ?2"
            ))
            .map_err(|e| self.error(e))?;
        let rows: Vec<Feed> = stmt
            .query_map(params![now, (limit + exclude.len()) as i64], |r| {
                feed_from_row(r)
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))?;
        Ok(rows
            .into_iter()
            .filter(|f| !exclude.contains(&f.id))
            .take(limit)
            .collect())
    }

    /// The earliest `next_poll_at` of any active feed.
    pub fn next_due_at(&self) -> Result<Option<UnixTime>, StoreError> {
        let conn = self.writer();
        conn.query_row(
            "SELECT min(next_poll_at) FROM feeds WHERE state = 'active'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| self.error(e))
    }

    /// Moves an active feed's next poll earlier, to `at`; never later. Returns whether it moved.
    pub fn advance_next_poll(&self, id: FeedId, at: UnixTime) -> Result<bool, StoreError> {
        let conn = self.writer();
        conn.execute(
            "UPDATE feeds SET next_poll_at = ?2
             WHERE id = ?1 AND state = 'active' AND next_poll_at > ?2",
            params![id, at],
        )
        .map(|changed| changed > 0)
        .map_err(|e| self.error(e))
    }

    /// Makes every active feed due now (for `tidings poll --all`).
    pub fn make_all_due(&self) -> Result<usize, StoreError> {
        let conn = self.writer();
        conn.execute(
            "UPDATE feeds SET next_poll_at = 0 WHERE state = 'active'",
            [],
        )
        .map_err(|e| self.error(e))
    }
}

/// Writes a feed's fetch state inside the refresh transaction.
pub(super) fn write_fetch_state(tx: &rusqlite::Transaction, feed: &Feed) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "UPDATE feeds SET url = ?2, previous_url = ?3, state = ?4, feed_title = ?5, site_url = ?6,
            etag = ?7, last_modified = ?8, next_poll_at = ?9, last_polled_at = ?10, last_success_at = ?11,
            last_status = ?12, last_result = ?13, consecutive_errors = ?14, last_error = ?15,
            redirect_url = ?16, redirect_seen = ?17, entries_skipped = ?18,
            url_changed_at = CASE WHEN url != ?2 THEN ?10 ELSE url_changed_at END
         WHERE id = ?1",
    )?;
    stmt.execute(params![
        feed.id,
        feed.url,
        feed.previous_url,
        feed.state.as_str(),
        feed.feed_title,
        feed.site_url,
        feed.etag,
        feed.last_modified,
        feed.next_poll_at,
        feed.last_polled_at,
        feed.last_success_at,
        feed.last_status,
        feed.last_result,
        feed.consecutive_errors,
        feed.last_error,
        feed.redirect_url,
        feed.redirect_seen,
        feed.entries_skipped,
    ])?;
    Ok(())
}

impl SqliteStore {
    /// Feeds that need the owner: failing for more than a day, gone (410) this week, moved (a
    /// learned 301) this week, or silent for far longer than their usual gap between items.
    pub fn feed_problems(&self, now: UnixTime) -> Result<Vec<FeedProblem>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare(PROBLEM_QUERY).map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map([], |r| problem_facts_from_row(r))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.error(e))?;
        Ok(rows.into_iter().filter_map(|f| f.problem(now)).collect())
    }
}
