//! The deliveries aggregate on PostgreSQL: as `store/sqlite/deliveries.rs`, plus claims. Due
//! webhook deliveries and due digest runs are claimed for this worker until the lease ends
//! (`FOR UPDATE SKIP LOCKED`); marking them sent or failed releases the claim. A digest run
//! is built once per (digest, slot) whoever builds it: the UNIQUE row is the claim.

use tokio_postgres::Row;

use super::{PgResult, PgStore, narrow};
use crate::model::{ChannelKind, StoryKey, UnixTime};
use crate::store::{
    DeliveryContent, DeliveryPlan, DeliveryRow, DigestRun, MatchedItem, StoreError, delivery_key,
};

/// Stories created within the lookback window, loaded once per transaction.
#[derive(Debug, Default)]
pub(super) struct RecentStories {
    stories: Vec<(i64, StoryKey)>,
}

impl RecentStories {
    pub(super) async fn load(
        tx: &deadpool_postgres::Transaction<'_>,
        since: UnixTime,
    ) -> PgResult<RecentStories> {
        let rows = tx
            .query(
                "SELECT id, url, title_hash, simhash, words FROM stories WHERE created_at >= $1",
                &[&since],
            )
            .await?;
        let stories = rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get(0)?,
                    StoryKey {
                        url: r.try_get(1)?,
                        title_hash: r.try_get::<_, i64>(2)? as u64,
                        simhash: r.try_get::<_, i64>(3)? as u64,
                        words: r.try_get::<_, i64>(4)? as usize,
                    },
                ))
            })
            .collect::<PgResult<Vec<_>>>()?;
        Ok(RecentStories { stories })
    }
}

/// Joins the item to a story and enqueues a delivery on every channel routing `topic`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn enqueue(
    tx: &deadpool_postgres::Transaction<'_>,
    plan: &DeliveryPlan<'_>,
    stories: &mut RecentStories,
    item: &MatchedItem,
    topic: &str,
    match_id: i64,
    backfill: bool,
    now: UnixTime,
) -> PgResult<()> {
    let row = tx
        .query_one(
            "SELECT published_at, first_poll, story_id FROM items WHERE id = $1",
            &[&item.item_id],
        )
        .await?;
    let published_at: i64 = row.try_get(0)?;
    let first_poll: bool = row.try_get(1)?;
    let story_id = match row.try_get::<_, Option<i64>>(2)? {
        Some(id) => id,
        None => {
            let found = stories
                .stories
                .iter()
                .find(|(_, key)| (plan.same_story)(key, &item.story))
                .map(|(id, _)| *id);
            let id = match found {
                Some(id) => id,
                None => {
                    let row = tx
                        .query_one(
                            "INSERT INTO stories (url, title_hash, simhash, words, created_at)
                             VALUES ($1, $2, $3, $4, $5) RETURNING id",
                            &[
                                &item.story.url,
                                &(item.story.title_hash as i64),
                                &(item.story.simhash as i64),
                                &(item.story.words as i64),
                                &now,
                            ],
                        )
                        .await?;
                    let id: i64 = row.try_get(0)?;
                    stories.stories.push((id, item.story.clone()));
                    id
                }
            };
            tx.execute(
                "UPDATE items SET story_id = $2 WHERE id = $1",
                &[&item.item_id, &id],
            )
            .await?;
            id
        }
    };
    for route in plan.routes.iter().filter(|r| r.topic == topic) {
        let (status, due_at) = if backfill || first_poll {
            ("backfill", now)
        } else if published_at < plan.policy.oldest_published {
            ("expired", now)
        } else {
            match route.kind {
                ChannelKind::Webhook => ("held", now + plan.policy.story_window_secs),
                ChannelKind::Digest => ("pending", now),
            }
        };
        tx.execute(
            "INSERT INTO deliveries (delivery_key, channel, topic, story_id, match_id, status, due_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (channel, topic, story_id) DO UPDATE SET status = excluded.status, due_at = excluded.due_at
             WHERE deliveries.status IN ('backfill', 'expired') AND excluded.status IN ('held', 'pending')",
            &[
                &delivery_key(&route.channel, topic, story_id),
                &route.channel,
                &topic,
                &story_id,
                &match_id,
                &status,
                &due_at,
                &now,
            ],
        )
        .await?;
    }
    Ok(())
}

const CONTENT_COLUMNS: &str = "d.id, d.delivery_key, d.batch_key, d.attempts, d.topic, d.story_id, m.backfill, m.score, m.terms,
     i.id, coalesce(i.title, ''), coalesce(i.url, ''), coalesce(f.title, f.feed_title, f.url), f.url, i.published_at,
     coalesce(i.summary, ''), a.text";

fn content_from_row(row: &Row) -> PgResult<DeliveryContent> {
    Ok(DeliveryContent {
        id: row.try_get(0)?,
        delivery_key: row.try_get(1)?,
        batch_key: row.try_get(2)?,
        attempts: narrow(row.try_get(3)?),
        topic: row.try_get(4)?,
        story_id: row.try_get(5)?,
        backfill: row.try_get(6)?,
        score: row.try_get(7)?,
        terms: row.try_get(8)?,
        item_id: row.try_get(9)?,
        title: row.try_get(10)?,
        link: row.try_get(11)?,
        feed_title: row.try_get(12)?,
        feed_url: row.try_get(13)?,
        published_at: row.try_get(14)?,
        summary: row.try_get(15)?,
        article_text: row.try_get(16)?,
        other_sources: Vec::new(),
    })
}

fn digest_from_row(r: &Row) -> PgResult<DigestRun> {
    Ok(DigestRun {
        id: r.try_get(0)?,
        digest: r.try_get(1)?,
        scheduled_for: r.try_get(2)?,
        message_id: r.try_get(3)?,
        status: r.try_get(4)?,
        attempts: narrow(r.try_get(5)?),
        subject: r.try_get::<_, Option<String>>(6)?.unwrap_or_default(),
        body_text: r.try_get::<_, Option<String>>(7)?.unwrap_or_default(),
        body_html: r.try_get::<_, Option<String>>(8)?.unwrap_or_default(),
    })
}

async fn with_sources(
    client: &tokio_postgres::Client,
    mut rows: Vec<DeliveryContent>,
) -> PgResult<Vec<DeliveryContent>> {
    for row in &mut rows {
        let sources = client
            .query(
                "SELECT coalesce(f.title, f.feed_title, f.url), coalesce(i.url, '') FROM items i JOIN feeds f ON f.id = i.feed_id
                 WHERE i.story_id = $1 AND i.id != $2 ORDER BY i.first_seen_at, i.id",
                &[&row.story_id, &row.item_id],
            )
            .await?;
        row.other_sources = sources
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<PgResult<Vec<_>>>()?;
        row.other_sources.dedup();
    }
    Ok(rows)
}

impl PgStore {
    /// Claims the due webhook deliveries of `channel` for this worker, oldest first.
    pub fn due_webhook_deliveries(
        &self,
        channel: &str,
        now: UnixTime,
        limit: usize,
    ) -> Result<Vec<DeliveryContent>, StoreError> {
        let lease_until = now + self.lease_secs();
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute(
                "UPDATE deliveries SET claimed_by = $2, claim_until = $3
                 WHERE id IN (SELECT id FROM deliveries
                               WHERE channel = $1 AND status IN ('held', 'pending') AND due_at <= $4
                                 AND (claim_until IS NULL OR claim_until <= $4 OR claimed_by = $2)
                               ORDER BY due_at, id LIMIT $5
                               FOR UPDATE SKIP LOCKED)",
                &[&channel, &self.worker, &lease_until, &now, &(limit as i64)],
            )
            .await?;
            let rows = tx
                .query(
                    &format!(
                        "SELECT {CONTENT_COLUMNS}
                         FROM deliveries d JOIN matches m ON m.id = d.match_id JOIN items i ON i.id = m.item_id
                         JOIN feeds f ON f.id = i.feed_id LEFT JOIN articles a ON a.item_id = i.id
                         WHERE d.channel = $1 AND d.status IN ('held', 'pending') AND d.due_at <= $2
                           AND d.claimed_by = $3 AND d.claim_until > $2
                         ORDER BY d.due_at, d.id LIMIT $4"
                    ),
                    &[&channel, &now, &self.worker, &(limit as i64)],
                )
                .await?;
            tx.commit().await?;
            let rows = rows.iter().map(content_from_row).collect::<PgResult<Vec<_>>>()?;
            with_sources(&client, rows).await
        })
    }

    pub fn stamp_batch(&self, ids: &[i64], batch_key: &str) -> Result<(), StoreError> {
        self.run(async {
            let client = self.client().await?;
            client
                .execute(
                    "UPDATE deliveries SET batch_key = $2 WHERE id = ANY($1) AND batch_key IS NULL",
                    &[&ids, &batch_key],
                )
                .await?;
            Ok(())
        })
    }

    pub fn mark_sent(&self, ids: &[i64], now: UnixTime) -> Result<(), StoreError> {
        self.run(async {
            let client = self.client().await?;
            client
                .execute(
                    "UPDATE deliveries SET status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = NULL,
                        claimed_by = NULL, claim_until = NULL
                     WHERE id = ANY($1)",
                    &[&ids, &now],
                )
                .await?;
            Ok(())
        })
    }

    pub fn mark_failed(
        &self,
        ids: &[i64],
        error: &str,
        next: Option<UnixTime>,
    ) -> Result<(), StoreError> {
        self.run(async {
            let client = self.client().await?;
            client
                .execute(
                    "UPDATE deliveries SET attempts = attempts + 1, last_error = $2,
                        status = CASE WHEN $3::bigint IS NULL THEN 'dead' ELSE 'pending' END,
                        due_at = coalesce($3, due_at), claimed_by = NULL, claim_until = NULL
                     WHERE id = ANY($1)",
                    &[&ids, &error, &next],
                )
                .await?;
            Ok(())
        })
    }

    pub fn disable_endpoint(
        &self,
        name: &str,
        url: &str,
        reason: &str,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute(
                "INSERT INTO webhook_endpoints (name, url, disabled_at, reason) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (name) DO UPDATE SET url = excluded.url, disabled_at = excluded.disabled_at, reason = excluded.reason",
                &[&name, &url, &now, &reason],
            )
            .await?;
            tx.execute(
                "UPDATE deliveries SET status = 'dead', last_error = $2 WHERE channel = $1 AND status IN ('held', 'pending')",
                &[&format!("webhook:{name}"), &reason],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    pub fn endpoint_disabled(&self, name: &str, url: &str) -> Result<Option<String>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let row = client
                .query_opt(
                    "SELECT reason FROM webhook_endpoints WHERE name = $1 AND url = $2 AND disabled_at IS NOT NULL",
                    &[&name, &url],
                )
                .await?;
            Ok(row.map(|r| r.try_get(0)).transpose()?.flatten())
        })
    }

    pub fn list_deliveries(
        &self,
        status: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT d.id, d.delivery_key, d.channel, d.topic, d.story_id, d.status, d.attempts, d.due_at, d.last_error,
                            d.created_at, d.sent_at, i.title
                     FROM deliveries d JOIN matches m ON m.id = d.match_id JOIN items i ON i.id = m.item_id
                     WHERE ($1::text IS NULL OR d.status = $1) ORDER BY d.id DESC LIMIT $2",
                    &[&status, &(limit as i64)],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(DeliveryRow {
                        id: r.try_get(0)?,
                        delivery_key: r.try_get(1)?,
                        channel: r.try_get(2)?,
                        topic: r.try_get(3)?,
                        story_id: r.try_get(4)?,
                        status: r.try_get(5)?,
                        attempts: narrow(r.try_get(6)?),
                        due_at: r.try_get(7)?,
                        last_error: r.try_get(8)?,
                        created_at: r.try_get(9)?,
                        sent_at: r.try_get(10)?,
                        title: r.try_get(11)?,
                    })
                })
                .collect()
        })
    }

    pub fn delivery_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT status, count(*) FROM deliveries GROUP BY status ORDER BY status",
                    &[],
                )
                .await?;
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<PgResult<Vec<_>>>()
        })
    }

    pub fn retry_deliveries(&self, id: Option<i64>, now: UnixTime) -> Result<usize, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let n = match id {
                Some(id) => {
                    client
                        .execute(
                            "UPDATE deliveries SET status = 'pending', due_at = $2, attempts = 0, digest_run_id = NULL
                             WHERE id = $1 AND status != 'sent'",
                            &[&id, &now],
                        )
                        .await?
                }
                None => {
                    client
                        .execute(
                            "UPDATE deliveries SET status = 'pending', due_at = $1, attempts = 0, digest_run_id = NULL
                             WHERE status = 'dead'",
                            &[&now],
                        )
                        .await?
                }
            };
            Ok(n as usize)
        })
    }

    pub fn release_backfill(
        &self,
        topic: Option<&str>,
        channel: Option<&str>,
        now: UnixTime,
    ) -> Result<usize, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let n = client
                .execute(
                    "UPDATE deliveries SET status = 'pending', due_at = $3
                     WHERE status IN ('backfill', 'expired') AND ($1::text IS NULL OR topic = $1)
                       AND ($2::text IS NULL OR channel = $2)",
                    &[&topic, &channel, &now],
                )
                .await?;
            Ok(n as usize)
        })
    }

    pub fn pending_digest_entries(
        &self,
        channel: &str,
        limit: usize,
    ) -> Result<Vec<DeliveryContent>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query(
                    &format!(
                        "SELECT {CONTENT_COLUMNS}
                         FROM deliveries d JOIN matches m ON m.id = d.match_id JOIN items i ON i.id = m.item_id
                         JOIN feeds f ON f.id = i.feed_id LEFT JOIN articles a ON a.item_id = i.id
                         WHERE d.channel = $1 AND d.status = 'pending' AND d.digest_run_id IS NULL
                         ORDER BY m.score DESC, i.published_at DESC LIMIT $2"
                    ),
                    &[&channel, &(limit as i64)],
                )
                .await?;
            let rows = rows.iter().map(content_from_row).collect::<PgResult<Vec<_>>>()?;
            with_sources(&client, rows).await
        })
    }

    pub fn last_digest_slot(&self, digest: &str) -> Result<Option<UnixTime>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let row = client
                .query_one(
                    "SELECT max(scheduled_for) FROM digest_runs WHERE digest = $1",
                    &[&digest],
                )
                .await?;
            Ok(row.try_get(0)?)
        })
    }

    pub fn create_digest_run(
        &self,
        run: &DigestRun,
        delivery_ids: &[i64],
        now: UnixTime,
    ) -> Result<Option<i64>, StoreError> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let inserted = tx
                .query_opt(
                    "INSERT INTO digest_runs (digest, scheduled_for, message_id, status, due_at, subject, body_text, body_html, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $5)
                     ON CONFLICT (digest, scheduled_for) DO NOTHING RETURNING id",
                    &[
                        &run.digest,
                        &run.scheduled_for,
                        &run.message_id,
                        &run.status,
                        &now,
                        &run.subject,
                        &run.body_text,
                        &run.body_html,
                    ],
                )
                .await?;
            let Some(row) = inserted else {
                return Ok(None);
            };
            let run_id: i64 = row.try_get(0)?;
            tx.execute(
                "UPDATE deliveries SET digest_run_id = $2 WHERE id = ANY($1) AND digest_run_id IS NULL",
                &[&delivery_ids, &run_id],
            )
            .await?;
            tx.commit().await?;
            Ok(Some(run_id))
        })
    }

    /// Claims the digest runs due for sending, for this worker.
    pub fn due_digest_runs(&self, now: UnixTime) -> Result<Vec<DigestRun>, StoreError> {
        let lease_until = now + self.lease_secs();
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query(
                    "UPDATE digest_runs SET claimed_by = $2, claim_until = $3
                     WHERE id IN (SELECT id FROM digest_runs
                                   WHERE status = 'pending' AND due_at <= $1
                                     AND (claim_until IS NULL OR claim_until <= $1 OR claimed_by = $2)
                                   ORDER BY id FOR UPDATE SKIP LOCKED)
                     RETURNING id, digest, scheduled_for, message_id, status, attempts, subject, body_text, body_html",
                    &[&now, &self.worker, &lease_until],
                )
                .await?;
            let mut runs = rows.iter().map(digest_from_row).collect::<PgResult<Vec<_>>>()?;
            runs.sort_by_key(|r| r.id);
            Ok(runs)
        })
    }

    pub fn mark_digest_sent(&self, run_id: i64, now: UnixTime) -> Result<(), StoreError> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute(
                "UPDATE digest_runs SET status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = NULL,
                    claimed_by = NULL, claim_until = NULL
                 WHERE id = $1",
                &[&run_id, &now],
            )
            .await?;
            tx.execute(
                "UPDATE deliveries SET status = 'sent', sent_at = $2, attempts = attempts + 1 WHERE digest_run_id = $1",
                &[&run_id, &now],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    pub fn mark_digest_failed(
        &self,
        run_id: i64,
        error: &str,
        next: Option<UnixTime>,
    ) -> Result<(), StoreError> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute(
                "UPDATE digest_runs SET attempts = attempts + 1, last_error = $2,
                    status = CASE WHEN $3::bigint IS NULL THEN 'dead' ELSE 'pending' END,
                    due_at = coalesce($3, due_at), claimed_by = NULL, claim_until = NULL
                 WHERE id = $1",
                &[&run_id, &error, &next],
            )
            .await?;
            tx.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = $2,
                    status = CASE WHEN $3::bigint IS NULL THEN 'dead' ELSE status END
                 WHERE digest_run_id = $1",
                &[&run_id, &error, &next],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }
}
