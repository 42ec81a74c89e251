//! The `matches` aggregate on PostgreSQL: as `store/sqlite/matches.rs`. Two workers matching the
//! same item record one match: the insert yields to UNIQUE (item_id, topic).

use super::deliveries::enqueue;
use super::stories::load_recent;
use super::{PgResult, PgStore};
use crate::model::{ItemId, UnixTime};
use crate::store::matches::{
    INPUT_COLUMNS, STORED_MATCH_COLUMNS, input_from_row, stored_match_from_row,
};
use crate::store::stories::RecentStories;
use crate::store::{DeliveryPlan, MatchInput, MatchedItem, StoreError, StoredMatch};

/// PostgreSQL indexes an item (its tsvector) in the refresh that stores or edits it.
pub(super) const INDEXED: &str = "TRUE";

/// Serializes the claiming of items to match ("tdmt").
const MATCH_LOCK: i64 = 0x7464_6d74;

/// Serializes transactions that join items to stories ("tdst").
const STORY_LOCK: i64 = 0x7464_7374;

impl PgStore {
    /// Items not matched yet (or whose article text arrived since), claimed for this worker
    /// until its matches are stored or the lease ends, so workers never match one item twice.
    pub fn pending_matches(&self, limit: usize) -> Result<Vec<MatchInput>, StoreError> {
        let now = chrono::Utc::now().timestamp();
        let lease_until = now + self.lease_secs();
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MATCH_LOCK])
                .await?;
            let stmt = tx
                .prepare_cached(&format!(
                    // Each branch reads at most `limit` ids in id order from an index (the
                    // batch must not cost a scan of the whole backlog, issue 8), skipping items
                    // another worker holds.
                    "WITH free(id) AS (
                         (SELECT i.id FROM items i
                           WHERE i.match_state = 0
                             AND NOT EXISTS (SELECT 1 FROM match_claims c WHERE c.item_id = i.id
                                               AND c.claim_until > $2 AND c.claimed_by != $3)
                           ORDER BY i.id LIMIT $1)
                         UNION
                         (SELECT a.item_id FROM articles a JOIN items i ON i.id = a.item_id
                           WHERE i.match_state = 1 AND a.text IS NOT NULL AND a.text != ''
                             AND NOT EXISTS (SELECT 1 FROM match_claims c WHERE c.item_id = a.item_id
                                               AND c.claim_until > $2 AND c.claimed_by != $3)
                           ORDER BY a.item_id LIMIT $1)
                         ORDER BY 1 LIMIT $1)
                     SELECT {INPUT_COLUMNS}, {INDEXED}
                     FROM free p JOIN items i ON i.id = p.id JOIN feeds f ON f.id = i.feed_id
                     LEFT JOIN articles a ON a.item_id = i.id AND a.text IS NOT NULL AND a.text != ''
                     ORDER BY i.id"
                ))
                .await?;
            let rows = tx
                .query(&stmt, &[&(limit as i64), &now, &self.worker])
                .await?;
            let inputs = rows.iter().map(input_from_row).collect::<PgResult<Vec<_>>>()?;
            let ids: Vec<ItemId> = inputs.iter().map(|m| m.item_id).collect();
            tx.execute(
                "INSERT INTO match_claims (item_id, claimed_by, claim_until)
                 SELECT unnest($1::bigint[]), $2, $3
                 ON CONFLICT (item_id) DO UPDATE SET claimed_by = excluded.claimed_by,
                    claim_until = excluded.claim_until",
                &[&ids, &self.worker, &lease_until],
            )
            .await?;
            tx.commit().await?;
            Ok(inputs)
        })
    }

    pub fn items_for_backfill(
        &self,
        since: UnixTime,
        after_id: ItemId,
        limit: usize,
    ) -> Result<Vec<MatchInput>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query(
                    &format!(
                        "SELECT {INPUT_COLUMNS}, {INDEXED}
                         FROM items i JOIN feeds f ON f.id = i.feed_id
                         LEFT JOIN articles a ON a.item_id = i.id AND a.text IS NOT NULL AND a.text != ''
                         WHERE i.first_seen_at >= $1 AND i.id > $2 AND i.match_state > 0
                         ORDER BY i.id LIMIT $3"
                    ),
                    &[&since, &after_id, &(limit as i64)],
                )
                .await?;
            rows.iter().map(input_from_row).collect()
        })
    }

    pub fn record_matches(
        &self,
        batch: &[MatchedItem],
        backfill: bool,
        plan: Option<&DeliveryPlan>,
        now: UnixTime,
    ) -> Result<Vec<i64>, StoreError> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let mut new_ids = Vec::new();
            if plan.is_some() && batch.iter().any(|item| !item.records.is_empty()) {
                // Stories are found among the recent ones read below: two workers joining
                // copies of one story at once would each start it anew.
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&STORY_LOCK]).await?;
            }
            let mut stories = match plan {
                Some(plan) => load_recent(&tx, now - plan.policy.story_lookback_secs).await?,
                None => RecentStories::default(),
            };
            let existing = tx
                .prepare_cached("SELECT id, score FROM matches WHERE item_id = $1 AND topic = $2")
                .await?;
            let insert = tx
                .prepare_cached(
                    "INSERT INTO matches (item_id, topic, score, terms, stage, backfill, matched_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (item_id, topic) DO NOTHING RETURNING id",
                )
                .await?;
            let raise = tx
                .prepare_cached(
                    "UPDATE matches SET score = $2, terms = $3, stage = $4, updated_at = $5 WHERE id = $1",
                )
                .await?;
            let advance = tx
                .prepare_cached("UPDATE items SET match_state = greatest(match_state, $2) WHERE id = $1")
                .await?;
            for item in batch {
                let stage = if item.target_state >= 2 { "article" } else { "feed" };
                for record in &item.records {
                    let found = tx
                        .query_opt(&existing, &[&item.item_id, &record.topic])
                        .await?;
                    match found {
                        None => {
                            let inserted = tx
                                .query_opt(
                                    &insert,
                                    &[
                                        &item.item_id,
                                        &record.topic,
                                        &record.score,
                                        &record.terms,
                                        &stage,
                                        &backfill,
                                        &now,
                                    ],
                                )
                                .await?;
                            let Some(row) = inserted else {
                                continue;
                            };
                            let match_id: i64 = row.try_get(0)?;
                            new_ids.push(match_id);
                            if let Some(plan) = plan {
                                enqueue(&tx, plan, &mut stories, item, &record.topic, match_id, backfill, now)
                                    .await?;
                            }
                        }
                        Some(row) if record.score > row.try_get::<_, f64>(1)? => {
                            let id: i64 = row.try_get(0)?;
                            tx.execute(&raise, &[&id, &record.score, &record.terms, &stage, &now])
                                .await?;
                        }
                        Some(_) => {}
                    }
                }
                tx.execute(&advance, &[&item.item_id, &item.target_state]).await?;
            }
            let ids: Vec<ItemId> = batch.iter().map(|m| m.item_id).collect();
            tx.execute("DELETE FROM match_claims WHERE item_id = ANY($1)", &[&ids])
                .await?;
            tx.commit().await?;
            Ok(new_ids)
        })
    }

    pub fn topic_fingerprints(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query("SELECT name, fingerprint FROM topics", &[])
                .await?;
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<PgResult<Vec<_>>>()
        })
    }

    pub fn set_topic_fingerprint(
        &self,
        name: &str,
        fingerprint: &str,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        self.run(async {
            let client = self.client().await?;
            client
                .execute(
                    "INSERT INTO topics (name, fingerprint, applied_at) VALUES ($1, $2, $3)
                     ON CONFLICT (name) DO UPDATE SET fingerprint = excluded.fingerprint, applied_at = excluded.applied_at",
                    &[&name, &fingerprint, &now],
                )
                .await?;
            Ok(())
        })
    }

    pub fn list_matches(
        &self,
        topic: Option<&str>,
        since: UnixTime,
        limit: usize,
    ) -> Result<Vec<StoredMatch>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query(
                    &format!(
                        "SELECT {STORED_MATCH_COLUMNS}
                         FROM matches m JOIN items i ON i.id = m.item_id JOIN feeds f ON f.id = i.feed_id
                         WHERE ($1::text IS NULL OR m.topic = $1) AND i.published_at >= $2
                         ORDER BY i.published_at DESC, m.id DESC LIMIT $3"
                    ),
                    &[&topic, &since, &(limit as i64)],
                )
                .await?;
            rows.iter()
                .map(stored_match_from_row)
                .collect::<PgResult<Vec<_>>>()
        })
    }

    pub fn items_since(
        &self,
        since: UnixTime,
        limit: usize,
    ) -> Result<Vec<MatchInput>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query(
                    &format!(
                        "SELECT {INPUT_COLUMNS}, {INDEXED}
                         FROM items i JOIN feeds f ON f.id = i.feed_id
                         LEFT JOIN articles a ON a.item_id = i.id AND a.text IS NOT NULL AND a.text != ''
                         WHERE i.published_at >= $1 ORDER BY i.published_at DESC LIMIT $2"
                    ),
                    &[&since, &(limit as i64)],
                )
                .await?;
            rows.iter().map(input_from_row).collect()
        })
    }
}
