//! The deliveries aggregate on PostgreSQL: as `store/sqlite/deliveries.rs`, plus claims. Due
//! webhook deliveries and due digest runs are claimed for this worker until the lease ends
//! (`FOR UPDATE SKIP LOCKED`); marking them sent or failed releases the claim. A digest run
//! is built once per (digest, slot) whoever builds it: the UNIQUE row is the claim.

use super::{PgResult, PgStore};
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
        None => super::stories::join_story(tx, plan, stories, item, now).await?,
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
        tx.execute(
            &format!(
                "INSERT INTO deliveries (delivery_key, channel, topic, story_id, match_id, status, due_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) {ON_EXISTING_DELIVERY}"
            ),
            &[
                &delivery_key(&d.channel, topic, story_id),
                &d.channel,
                &topic,
                &story_id,
                &match_id,
                &d.status,
                &d.due_at,
                &now,
            ],
        )
        .await?;
    }
    Ok(())
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
        row.other_sources = distinct_sources(
            sources
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<PgResult<Vec<_>>>()?,
        );
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
                    &format!(
                        "SELECT {DELIVERY_ROW_COLUMNS}
                         FROM deliveries d JOIN matches m ON m.id = d.match_id JOIN items i ON i.id = m.item_id
                         WHERE ($1::text IS NULL OR d.status = $1) ORDER BY d.id DESC LIMIT $2"
                    ),
                    &[&status, &(limit as i64)],
                )
                .await?;
            rows.iter().map(delivery_row_from_row).collect()
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
                    &format!(
                        "UPDATE digest_runs SET claimed_by = $2, claim_until = $3
                     WHERE id IN (SELECT id FROM digest_runs
                                   WHERE status = 'pending' AND due_at <= $1
                                     AND (claim_until IS NULL OR claim_until <= $1 OR claimed_by = $2)
                                   ORDER BY id FOR UPDATE SKIP LOCKED)
                     RETURNING {DIGEST_COLUMNS}"
                    ),
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
