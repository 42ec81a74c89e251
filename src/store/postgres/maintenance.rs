//! Archive maintenance and gauges on PostgreSQL: retention pruning (with tombstones), table
//! sizes for `db stats`, the counts behind `/metrics` and `/healthz`. Backups are
//! PostgreSQL's own business (`pg_dump`).

use std::path::Path;

use super::{PgResult, PgStore};
use crate::model::UnixTime;
use crate::store::{ArchiveCounts, DbStats, PruneReport, StoreError, TableStat};

/// Items deleted per transaction while pruning.
const PRUNE_BATCH: i64 = 500;

async fn pairs(client: &tokio_postgres::Client, sql: &str) -> PgResult<Vec<(String, i64)>> {
    let rows = client.query(sql, &[]).await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

impl PgStore {
    pub fn prune(
        &self,
        cutoff: UnixTime,
        keep_matched: bool,
        now: UnixTime,
    ) -> Result<PruneReport, StoreError> {
        self.run(async {
            let mut report = PruneReport::default();
            let mut client = self.client().await?;
            loop {
                let tx = client.transaction().await?;
                let rows = tx
                    .query(
                        "SELECT id FROM items
                         WHERE published_at < $1
                           AND (NOT $2 OR NOT EXISTS (SELECT 1 FROM matches m WHERE m.item_id = items.id))
                           AND NOT EXISTS (SELECT 1 FROM topic_feedback fb WHERE fb.item_id = items.id)
                         LIMIT $3 FOR UPDATE SKIP LOCKED",
                        &[&cutoff, &keep_matched, &PRUNE_BATCH],
                    )
                    .await?;
                let ids: Vec<i64> = rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?;
                if ids.is_empty() {
                    break;
                }
                tx.execute(
                    "INSERT INTO item_tombstones (feed_id, dedup_key, pruned_at)
                     SELECT feed_id, dedup_key, $2 FROM items WHERE id = ANY($1)
                     ON CONFLICT DO NOTHING",
                    &[&ids, &now],
                )
                .await?;
                tx.execute(
                    "DELETE FROM deliveries WHERE match_id IN (SELECT id FROM matches WHERE item_id = ANY($1))",
                    &[&ids],
                )
                .await?;
                report.matches += tx
                    .execute("DELETE FROM matches WHERE item_id = ANY($1)", &[&ids])
                    .await? as usize;
                report.articles += tx
                    .execute("DELETE FROM articles WHERE item_id = ANY($1)", &[&ids])
                    .await? as usize;
                tx.execute("DELETE FROM items_fts WHERE item_id = ANY($1)", &[&ids])
                    .await?;
                tx.execute("DELETE FROM page_claims WHERE item_id = ANY($1)", &[&ids])
                    .await?;
                tx.execute("DELETE FROM match_claims WHERE item_id = ANY($1)", &[&ids])
                    .await?;
                tx.execute("DELETE FROM story_members WHERE item_id = ANY($1)", &[&ids])
                    .await?;
                report.items += tx
                    .execute("DELETE FROM items WHERE id = ANY($1)", &[&ids])
                    .await? as usize;
                tx.commit().await?;
            }
            Ok(report)
        })
    }

    pub fn backup(&self, dest: &Path) -> Result<(), StoreError> {
        Err(StoreError::Refused(format!(
            "backup to {}: the database is PostgreSQL; back it up with pg_dump",
            dest.display()
        )))
    }

    /// Row counts and on-disk sizes of every table (indexes and TOAST included).
    pub fn stats(&self) -> Result<DbStats, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT c.relname, pg_total_relation_size(c.oid)
                     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = current_schema() AND c.relkind = 'r'
                     ORDER BY c.relname",
                    &[],
                )
                .await?;
            let mut tables = Vec::new();
            for r in &rows {
                let name: String = r.try_get(0)?;
                let bytes: i64 = r.try_get(1)?;
                let count: i64 = client
                    .query_one(
                        &format!("SELECT count(*) FROM \"{}\"", name.replace('"', "\"\"")),
                        &[],
                    )
                    .await?
                    .try_get(0)?;
                tables.push(TableStat {
                    name,
                    rows: Some(count),
                    bytes,
                });
            }
            let size: i64 = client
                .query_one("SELECT pg_database_size(current_database())", &[])
                .await?
                .try_get(0)?;
            let version: i64 = client
                .query_one("SELECT version FROM tidings_schema", &[])
                .await?
                .try_get(0)?;
            Ok(DbStats {
                path: self.display_path().display().to_string(),
                file_bytes: size as u64,
                wal_bytes: 0,
                page_size: 8192,
                page_count: size / 8192,
                freelist_count: 0,
                schema_version: version as i32,
                tables,
            })
        })
    }

    pub fn ping(&self) -> Result<(), StoreError> {
        self.run(async {
            let client = self.client().await?;
            client.query_one("SELECT count(*) FROM feeds", &[]).await?;
            Ok(())
        })
    }

    pub fn counts(&self) -> Result<ArchiveCounts, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let one = async |sql: &str| -> PgResult<i64> {
                Ok(client.query_one(sql, &[]).await?.try_get(0)?)
            };
            Ok(ArchiveCounts {
                items: one("SELECT count(*) FROM items").await?,
                feeds_by_state: pairs(
                    &client,
                    "SELECT state, count(*) FROM feeds GROUP BY state ORDER BY state",
                )
                .await?,
                feeds_with_errors: one("SELECT count(*) FROM feeds WHERE consecutive_errors > 0")
                    .await?,
                matches_by_topic: pairs(
                    &client,
                    "SELECT topic, count(*) FROM matches GROUP BY topic ORDER BY topic",
                )
                .await?,
                articles_by_status: pairs(
                    &client,
                    "SELECT status, count(*) FROM articles GROUP BY status ORDER BY status",
                )
                .await?,
                pending_extractions: one(
                    "SELECT count(*) FROM items i JOIN feeds f ON f.id = i.feed_id
                     WHERE f.extract AND i.url IS NOT NULL
                       AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.item_id = i.id)",
                )
                .await?,
                pending_matches: one("SELECT count(*) FROM items WHERE match_state = 0").await?,
                tombstones: one("SELECT count(*) FROM item_tombstones").await?,
                deliveries_by_status: pairs(
                    &client,
                    "SELECT status, count(*) FROM deliveries GROUP BY status ORDER BY status",
                )
                .await?,
                last_poll_at: client
                    .query_one("SELECT max(last_polled_at) FROM feeds", &[])
                    .await?
                    .try_get(0)?,
            })
        })
    }
}
