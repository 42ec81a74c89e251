//! The `feeds` aggregate: config sync, CLI add/remove, listing, due feeds, fetch state.

use rusqlite::{OptionalExtension, Row, params};

use super::SqliteStore;
use crate::config::FeedConfig;
use crate::model::{Feed, FeedId, FeedSettings, FeedSource, FeedState, UnixTime};
use crate::store::StoreError;

/// Columns read into a `Feed`, in `feed_from_row` order.
const FEED_COLUMNS: &str = "id, origin_url, url, previous_url, source, state, title, schedule, extract, \
     headers, tags, feed_title, site_url, etag, last_modified, next_poll_at, last_polled_at, \
     last_success_at, last_status, last_result, consecutive_errors, last_error, redirect_url, \
     redirect_seen, entries_skipped, (SELECT count(*) FROM items WHERE items.feed_id = feeds.id)";

/// Alias kept for callers that name the row type.
pub type FeedRow = Feed;

fn feed_from_row(row: &Row) -> rusqlite::Result<Feed> {
    let headers: String = row.get(9)?;
    let tags: String = row.get(10)?;
    Ok(Feed {
        id: row.get(0)?,
        origin_url: row.get(1)?,
        url: row.get(2)?,
        previous_url: row.get(3)?,
        source: FeedSource::parse(&row.get::<_, String>(4)?),
        state: FeedState::parse(&row.get::<_, String>(5)?),
        settings: FeedSettings {
            title: row.get(6)?,
            schedule: row.get(7)?,
            extract: row.get(8)?,
            headers: serde_json::from_str(&headers).unwrap_or_default(),
            tags: serde_json::from_str(&tags).unwrap_or_default(),
        },
        feed_title: row.get(11)?,
        site_url: row.get(12)?,
        etag: row.get(13)?,
        last_modified: row.get(14)?,
        next_poll_at: row.get(15)?,
        last_polled_at: row.get(16)?,
        last_success_at: row.get(17)?,
        last_status: row.get(18)?,
        last_result: row.get(19)?,
        consecutive_errors: row.get(20)?,
        last_error: row.get(21)?,
        redirect_url: row.get(22)?,
        redirect_seen: row.get(23)?,
        entries_skipped: row.get(24)?,
        item_count: row.get(25)?,
    })
}

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
        stmt.query_map([], feed_from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }

    /// The feed whose original or current URL is `url`.
    pub fn feed_by_url(&self, url: &str) -> Result<Option<Feed>, StoreError> {
        let conn = self.writer();
        conn.query_row(
            &format!("SELECT {FEED_COLUMNS} FROM feeds WHERE origin_url = ?1 OR url = ?1 ORDER BY id LIMIT 1"),
            [url],
            feed_from_row,
        )
        .optional()
        .map_err(|e| self.error(e))
    }

    pub fn feed(&self, id: FeedId) -> Result<Feed, StoreError> {
        let conn = self.writer();
        conn.query_row(
            &format!("SELECT {FEED_COLUMNS} FROM feeds WHERE id = ?1"),
            [id],
            feed_from_row,
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
            .query_map(params![now, (limit + exclude.len()) as i64], feed_from_row)
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

/// Something about a feed the owner should hear of in a digest.
#[derive(Debug, Clone)]
pub struct FeedProblem {
    pub title: String,
    pub url: String,
    pub problem: String,
}

impl SqliteStore {
    /// Feeds that need the owner: failing for more than a day, gone (410) this week, moved (a
    /// learned 301) this week, or silent for far longer than their usual gap between items.
    pub fn feed_problems(&self, now: UnixTime) -> Result<Vec<FeedProblem>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare(
                "SELECT coalesce(f.title, f.feed_title, f.url), f.url, f.state, f.consecutive_errors, f.last_error,
                        coalesce(f.last_success_at, f.created_at), f.last_polled_at, f.url_changed_at, f.previous_url,
                        (SELECT count(*) FROM items i WHERE i.feed_id = f.id),
                        (SELECT min(first_seen_at) FROM items i WHERE i.feed_id = f.id),
                        (SELECT max(first_seen_at) FROM items i WHERE i.feed_id = f.id)
                 FROM feeds f WHERE f.state != 'disabled' ORDER BY f.id",
            )
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ProblemFacts {
                    title: r.get(0)?,
                    url: r.get(1)?,
                    state: r.get(2)?,
                    errors: r.get(3)?,
                    last_error: r.get(4)?,
                    last_ok: r.get(5)?,
                    polled: r.get(6)?,
                    moved_at: r.get(7)?,
                    previous: r.get(8)?,
                    count: r.get(9)?,
                    first: r.get(10)?,
                    last: r.get(11)?,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.error(e))?;
        Ok(rows.into_iter().filter_map(|f| f.problem(now)).collect())
    }
}

/// What `feed_problems` reads of one feed (on either backend).
pub(in crate::store) struct ProblemFacts {
    pub title: String,
    pub url: String,
    pub state: String,
    pub errors: i64,
    pub last_error: Option<String>,
    /// Last success, else when the feed was added.
    pub last_ok: i64,
    pub polled: Option<i64>,
    pub moved_at: Option<i64>,
    pub previous: Option<String>,
    pub count: i64,
    pub first: Option<i64>,
    pub last: Option<i64>,
}

impl ProblemFacts {
    /// The problem the owner should hear of, if any.
    pub(in crate::store) fn problem(self, now: UnixTime) -> Option<FeedProblem> {
        let day = 86_400;
        let ProblemFacts {
            title,
            url,
            state,
            errors,
            last_error,
            last_ok,
            polled,
            moved_at,
            previous,
            count,
            first,
            last,
        } = self;
        let problem = if state == "gone" && polled.is_some_and(|t| t > now - 7 * day) {
            Some("gone: the server answered 410; polling stopped".to_string())
        } else if errors > 0 && last_ok < now - day {
            Some(format!(
                "failing for {} days: {}",
                (now - last_ok) / day,
                last_error.unwrap_or_default()
            ))
        } else if let (Some(at), Some(previous)) = (moved_at, previous) {
            (at > now - 7 * day).then(|| format!("moved permanently from {previous}"))
        } else if let (Some(first), Some(last)) = (first, last) {
            let usual = if count > 1 {
                (last - first) / (count - 1)
            } else {
                0
            };
            let silent = now - last;
            (count >= 5 && silent > (10 * usual).max(7 * day)).then(|| {
                format!(
                    "silent for {} days (usually an item every {})",
                    silent / day,
                    human_gap(usual)
                )
            })
        } else {
            None
        };
        problem.map(|problem| FeedProblem {
            title,
            url,
            problem,
        })
    }
}

fn human_gap(secs: i64) -> String {
    match secs {
        s if s < 3600 => format!("{} minutes", (s / 60).max(1)),
        s if s < 86_400 => format!("{} hours", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}
