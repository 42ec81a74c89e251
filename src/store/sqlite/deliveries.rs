//! The deliveries aggregate on SQLite: the outbox rows a new match enqueues (in the match's
//! transaction), webhook endpoint state, and digest runs. The decisions are in
//! `store/deliveries.rs`.

use rusqlite::{OptionalExtension, Transaction, params};

use super::SqliteStore;
use crate::model::UnixTime;
use crate::store::deliveries::{
    CONTENT_COLUMNS, DELIVERY_ROW_COLUMNS, DIGEST_COLUMNS, ON_EXISTING_DELIVERY, content_from_row,
    delivery_row_from_row, digest_from_row, distinct_sources, new_deliveries,
};
use crate::store::stories::RecentStories;
use crate::store::{
    DeliveryContent, DeliveryPlan, DeliveryRow, DigestRun, MatchedItem, StoreError, delivery_key,
};

/// Joins the item to its story (see `stories.rs`) unless it has one, and enqueues the new
/// deliveries `new_deliveries` decides on every channel that routes `topic`.
#[allow(clippy::too_many_arguments)]
pub(super) fn enqueue(
    tx: &Transaction,
    plan: &DeliveryPlan,
    stories: &mut RecentStories,
    item: &MatchedItem,
    topic: &str,
    match_id: i64,
    backfill: bool,
    now: UnixTime,
) -> rusqlite::Result<()> {
    let (published_at, first_poll, story_id): (i64, bool, Option<i64>) = tx
        .prepare_cached("SELECT published_at, first_poll, story_id FROM items WHERE id = ?1")?
        .query_row([item.item_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let story_id = match story_id {
        Some(id) => id,
        None => super::stories::join_story(tx, plan, stories, item, now)?,
    };
    let deliveries = new_deliveries(
        plan.routes,
        &plan.policy,
        topic,
        backfill,
        first_poll,
        published_at,
        now,
    );
    for d in deliveries {
        tx.prepare_cached(&format!(
            "INSERT INTO deliveries (delivery_key, channel, topic, story_id, match_id, status, due_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) {ON_EXISTING_DELIVERY}"
        ))?
        .execute(params![
            delivery_key(&d.channel, topic, story_id),
            d.channel,
            topic,
            story_id,
            match_id,
            d.status,
            d.due_at,
            now
        ])?;
    }
    Ok(())
}

impl SqliteStore {
    fn with_sources(
        &self,
        conn: &rusqlite::Connection,
        mut rows: Vec<DeliveryContent>,
    ) -> Result<Vec<DeliveryContent>, StoreError> {
        let mut stmt = conn
            .prepare_cached(
                "SELECT coalesce(f.title, f.feed_title, f.url), coalesce(i.url, '') FROM items i JOIN feeds f ON f.id = i.feed_id
                 WHERE i.story_id = ?1 AND i.id != ?2 ORDER BY i.first_seen_at, i.id",
            )
            .map_err(|e| self.error(e))?;
        for row in &mut rows {
            row.other_sources = distinct_sources(
                stmt.query_map(params![row.story_id, row.item_id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .and_then(|r| r.collect())
                .map_err(|e| self.error(e))?,
            );
        }
        Ok(rows)
    }

    /// Webhook deliveries of `channel` that are due (held past their story window, or a retry
    /// whose time came), oldest first.
    pub fn due_webhook_deliveries(
        &self,
        channel: &str,
        now: UnixTime,
        limit: usize,
    ) -> Result<Vec<DeliveryContent>, StoreError> {
        let conn = self.writer();
        let rows = {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {CONTENT_COLUMNS}
                     FROM deliveries d JOIN matches m ON m.id = d.match_id JOIN items i ON i.id = m.item_id
                     JOIN feeds f ON f.id = i.feed_id LEFT JOIN articles a ON a.item_id = i.id
                     WHERE d.channel = ?1 AND d.status IN ('held', 'pending') AND d.due_at <= ?2
                     ORDER BY d.due_at, d.id LIMIT ?3"
                ))
                .map_err(|e| self.error(e))?;
            stmt.query_map(params![channel, now, limit as i64], |r| content_from_row(r))
                .and_then(|r| r.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| self.error(e))?
        };
        self.with_sources(&conn, rows)
    }

    /// Gives deliveries a batch key (once: a retried batch keeps its key and its members).
    pub fn stamp_batch(&self, ids: &[i64], batch_key: &str) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        for id in ids {
            tx.execute(
                "UPDATE deliveries SET batch_key = ?2 WHERE id = ?1 AND batch_key IS NULL",
                params![id, batch_key],
            )
            .map_err(|e| self.error(e))?;
        }
        tx.commit().map_err(|e| self.error(e))
    }

    /// The receiver accepted these deliveries.
    pub fn mark_sent(&self, ids: &[i64], now: UnixTime) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        for id in ids {
            tx.execute(
                "UPDATE deliveries SET status = 'sent', sent_at = ?2, attempts = attempts + 1, last_error = NULL WHERE id = ?1",
                params![id, now],
            )
            .map_err(|e| self.error(e))?;
        }
        tx.commit().map_err(|e| self.error(e))
    }

    /// An attempt failed: retry at `next` or, with `None`, give up (status `dead`).
    pub fn mark_failed(
        &self,
        ids: &[i64],
        error: &str,
        next: Option<UnixTime>,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        for id in ids {
            tx.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = ?2,
                    status = CASE WHEN ?3 IS NULL THEN 'dead' ELSE 'pending' END, due_at = coalesce(?3, due_at)
                 WHERE id = ?1",
                params![id, error, next],
            )
            .map_err(|e| self.error(e))?;
        }
        tx.commit().map_err(|e| self.error(e))
    }

    /// Marks a webhook endpoint disabled (it answered 410 Gone) and its waiting deliveries dead.
    pub fn disable_endpoint(
        &self,
        name: &str,
        url: &str,
        reason: &str,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        tx.execute(
            "INSERT INTO webhook_endpoints (name, url, disabled_at, reason) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO UPDATE SET url = excluded.url, disabled_at = excluded.disabled_at, reason = excluded.reason",
            params![name, url, now, reason],
        )
        .map_err(|e| self.error(e))?;
        tx.execute(
            "UPDATE deliveries SET status = 'dead', last_error = ?2 WHERE channel = ?1 AND status IN ('held', 'pending')",
            params![format!("webhook:{name}"), reason],
        )
        .map_err(|e| self.error(e))?;
        tx.commit().map_err(|e| self.error(e))
    }

    /// Whether the endpoint is disabled for this URL (a changed URL in the config re-enables it).
    pub fn endpoint_disabled(&self, name: &str, url: &str) -> Result<Option<String>, StoreError> {
        let conn = self.writer();
        conn.query_row(
            "SELECT reason FROM webhook_endpoints WHERE name = ?1 AND url = ?2 AND disabled_at IS NOT NULL",
            params![name, url],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| self.error(e))
    }

    /// Deliveries, newest first, optionally of one status.
    pub fn list_deliveries(
        &self,
        status: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare(
                &format!(
                    "SELECT {DELIVERY_ROW_COLUMNS}
                     FROM deliveries d JOIN matches m ON m.id = d.match_id JOIN items i ON i.id = m.item_id
                     WHERE (?1 IS NULL OR d.status = ?1) ORDER BY d.id DESC LIMIT ?2"
                ),
            )
            .map_err(|e| self.error(e))?;
        stmt.query_map(params![status, limit as i64], |r| delivery_row_from_row(r))
            .and_then(|r| r.collect())
            .map_err(|e| self.error(e))
    }

    /// Counts of deliveries by status.
    pub fn delivery_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare("SELECT status, count(*) FROM deliveries GROUP BY status ORDER BY status")
            .map_err(|e| self.error(e))?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|r| r.collect())
            .map_err(|e| self.error(e))
    }

    /// Makes deliveries due now again: one by id, or every dead one. Returns how many.
    pub fn retry_deliveries(&self, id: Option<i64>, now: UnixTime) -> Result<usize, StoreError> {
        let conn = self.writer();
        let n = match id {
            Some(id) => conn.execute(
                "UPDATE deliveries SET status = 'pending', due_at = ?2, attempts = 0, digest_run_id = NULL
                 WHERE id = ?1 AND status != 'sent'",
                params![id, now],
            ),
            None => conn.execute(
                "UPDATE deliveries SET status = 'pending', due_at = ?1, attempts = 0, digest_run_id = NULL WHERE status = 'dead'",
                [now],
            ),
        }
        .map_err(|e| self.error(e))?;
        Ok(n)
    }

    /// Releases old-news deliveries (first polls, backfills, expired) the owner asked for.
    pub fn release_backfill(
        &self,
        topic: Option<&str>,
        channel: Option<&str>,
        now: UnixTime,
    ) -> Result<usize, StoreError> {
        let conn = self.writer();
        conn.execute(
            "UPDATE deliveries SET status = 'pending', due_at = ?3
             WHERE status IN ('backfill', 'expired') AND (?1 IS NULL OR topic = ?1) AND (?2 IS NULL OR channel = ?2)",
            params![topic, channel, now],
        )
        .map_err(|e| self.error(e))
    }

    /// Digest deliveries of `channel` not yet taken by a digest, best first.
    pub fn pending_digest_entries(
        &self,
        channel: &str,
        limit: usize,
    ) -> Result<Vec<DeliveryContent>, StoreError> {
        let conn = self.writer();
        let rows = {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {CONTENT_COLUMNS}
                     FROM deliveries d JOIN matches m ON m.id = d.match_id JOIN items i ON i.id = m.item_id
                     JOIN feeds f ON f.id = i.feed_id LEFT JOIN articles a ON a.item_id = i.id
                     WHERE d.channel = ?1 AND d.status = 'pending' AND d.digest_run_id IS NULL
                     ORDER BY m.score DESC, i.published_at DESC LIMIT ?2"
                ))
                .map_err(|e| self.error(e))?;
            stmt.query_map(params![channel, limit as i64], |r| content_from_row(r))
                .and_then(|r| r.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| self.error(e))?
        };
        self.with_sources(&conn, rows)
    }

    /// The latest schedule slot a digest was built for.
    pub fn last_digest_slot(&self, digest: &str) -> Result<Option<UnixTime>, StoreError> {
        let conn = self.writer();
        conn.query_row(
            "SELECT max(scheduled_for) FROM digest_runs WHERE digest = ?1",
            [digest],
            |r| r.get(0),
        )
        .map_err(|e| self.error(e))
    }

    /// Stores a built digest and claims its deliveries, once per (digest, slot). Returns the
    /// run id, or `None` if that slot was already built.
    pub fn create_digest_run(
        &self,
        run: &DigestRun,
        delivery_ids: &[i64],
        now: UnixTime,
    ) -> Result<Option<i64>, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        let inserted = tx
            .execute(
                "INSERT OR IGNORE INTO digest_runs (digest, scheduled_for, message_id, status, due_at, subject, body_text, body_html, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?5)",
                params![run.digest, run.scheduled_for, run.message_id, run.status, now, run.subject, run.body_text, run.body_html],
            )
            .map_err(|e| self.error(e))?;
        if inserted == 0 {
            return Ok(None);
        }
        let run_id = tx.last_insert_rowid();
        for id in delivery_ids {
            tx.execute(
                "UPDATE deliveries SET digest_run_id = ?2 WHERE id = ?1 AND digest_run_id IS NULL",
                params![id, run_id],
            )
            .map_err(|e| self.error(e))?;
        }
        tx.commit().map_err(|e| self.error(e))?;
        Ok(Some(run_id))
    }

    /// Digest runs waiting to be sent (new or retried) whose time came.
    pub fn due_digest_runs(&self, now: UnixTime) -> Result<Vec<DigestRun>, StoreError> {
        let conn = self.writer();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {DIGEST_COLUMNS}
                 FROM digest_runs WHERE status = 'pending' AND due_at <= ?1 ORDER BY id"
            ))
            .map_err(|e| self.error(e))?;
        stmt.query_map([now], |r| digest_from_row(r))
            .and_then(|r| r.collect())
            .map_err(|e| self.error(e))
    }

    /// The SMTP server accepted the digest: the run and its deliveries are sent.
    pub fn mark_digest_sent(&self, run_id: i64, now: UnixTime) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        tx.execute(
            "UPDATE digest_runs SET status = 'sent', sent_at = ?2, attempts = attempts + 1, last_error = NULL WHERE id = ?1",
            params![run_id, now],
        )
        .map_err(|e| self.error(e))?;
        tx.execute(
            "UPDATE deliveries SET status = 'sent', sent_at = ?2, attempts = attempts + 1 WHERE digest_run_id = ?1",
            params![run_id, now],
        )
        .map_err(|e| self.error(e))?;
        tx.commit().map_err(|e| self.error(e))
    }

    /// A digest send failed: retried at `next` with the same content, or dead.
    pub fn mark_digest_failed(
        &self,
        run_id: i64,
        error: &str,
        next: Option<UnixTime>,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        tx.execute(
            "UPDATE digest_runs SET attempts = attempts + 1, last_error = ?2,
                status = CASE WHEN ?3 IS NULL THEN 'dead' ELSE 'pending' END, due_at = coalesce(?3, due_at)
             WHERE id = ?1",
            params![run_id, error, next],
        )
        .map_err(|e| self.error(e))?;
        tx.execute(
            "UPDATE deliveries SET attempts = attempts + 1, last_error = ?2,
                status = CASE WHEN ?3 IS NULL THEN 'dead' ELSE status END
             WHERE digest_run_id = ?1",
            params![run_id, error, next],
        )
        .map_err(|e| self.error(e))?;
        tx.commit().map_err(|e| self.error(e))
    }
}
