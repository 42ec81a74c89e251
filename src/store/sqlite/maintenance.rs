//! Archive maintenance and gauges: retention pruning (with tombstones), online backup, table
//! and index sizes for `db stats`, the counts behind `/metrics` and `/healthz`, and the
//! deliveries listing (an empty list until the deliveries table exists).

use std::path::Path;

use rusqlite::{Connection, params};

use super::SqliteStore;
use crate::model::UnixTime;
use crate::store::{ArchiveCounts, DbStats, PruneReport, StoreError, TableStat};

/// Items deleted per transaction while pruning, so the writer is never held long.
const PRUNE_BATCH: i64 = 500;

fn table_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

fn pairs(conn: &Connection, sql: &str) -> rusqlite::Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare(sql)?;
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

impl SqliteStore {
    /// Deletes items published before `cutoff` with their article, index row and (unless
    /// `keep_matched`) matches; matched items are kept when `keep_matched`. Each deleted
    /// item's (feed, dedup key) goes into `item_tombstones`, so a later poll never stores it
    /// again. Runs in batches, one transaction each.
    pub fn prune(
        &self,
        cutoff: UnixTime,
        keep_matched: bool,
        now: UnixTime,
    ) -> Result<PruneReport, StoreError> {
        let mut report = PruneReport::default();
        loop {
            let mut conn = self.writer();
            let tx = conn.transaction().map_err(|e| self.error(e))?;
            let ids: Vec<i64> = {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT id FROM items
                         WHERE published_at < ?1
                           AND (?2 = 0 OR NOT EXISTS (SELECT 1 FROM matches m WHERE m.item_id = items.id))
                           AND NOT EXISTS (SELECT 1 FROM topic_feedback fb WHERE fb.item_id = items.id)
                         LIMIT ?3",
                    )
                    .map_err(|e| self.error(e))?;
                stmt.query_map(params![cutoff, keep_matched, PRUNE_BATCH], |r| r.get(0))
                    .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| self.error(e))?
            };
            if ids.is_empty() {
                break;
            }
            for id in &ids {
                let step = || -> rusqlite::Result<(usize, usize)> {
                    tx.prepare_cached(
                        "INSERT OR IGNORE INTO item_tombstones (feed_id, dedup_key, pruned_at)
                         SELECT feed_id, dedup_key, ?2 FROM items WHERE id = ?1",
                    )?
                    .execute(params![id, now])?;
                    tx.prepare_cached(
                        "DELETE FROM deliveries WHERE match_id IN (SELECT id FROM matches WHERE item_id = ?1)",
                    )?
                    .execute([id])?;
                    let matches = tx
                        .prepare_cached("DELETE FROM matches WHERE item_id = ?1")?
                        .execute([id])?;
                    let articles = tx
                        .prepare_cached("DELETE FROM articles WHERE item_id = ?1")?
                        .execute([id])?;
                    tx.prepare_cached("DELETE FROM extraction_queue WHERE item_id = ?1")?
                        .execute([id])?;
                    tx.prepare_cached("DELETE FROM items_fts WHERE rowid = ?1")?
                        .execute([id])?;
                    tx.prepare_cached("DELETE FROM story_members WHERE item_id = ?1")?
                        .execute([id])?;
                    tx.prepare_cached("DELETE FROM items WHERE id = ?1")?
                        .execute([id])?;
                    Ok((articles, matches))
                };
                let (articles, matches) = step().map_err(|e| self.error(e))?;
                report.articles += articles;
                report.matches += matches;
                report.items += 1;
            }
            tx.commit().map_err(|e| self.error(e))?;
        }
        Ok(report)
    }

    /// Copies the database to `dest` with SQLite's online backup API: consistent, and safe
    /// while the daemon writes. Refuses to overwrite an existing file.
    pub fn backup(&self, dest: &Path) -> Result<(), StoreError> {
        if dest.exists() {
            return Err(StoreError::Refused(format!(
                "backup target {} already exists; choose a new file",
                dest.display()
            )));
        }
        let source = self.reader()?;
        let err = |source| StoreError::Sqlite {
            path: dest.to_path_buf(),
            source,
        };
        let mut target = Connection::open(dest).map_err(err)?;
        let backup = rusqlite::backup::Backup::new_with_names(
            &source,
            rusqlite::MAIN_DB,
            &mut target,
            rusqlite::MAIN_DB,
        )
        .map_err(err)?;
        // All pages in one step: one read transaction, so the copy is consistent even while
        // the daemon writes (WAL readers never wait for the writer).
        match backup.step(-1).map_err(err)? {
            rusqlite::backup::StepResult::Done => Ok(()),
            other => Err(StoreError::Refused(format!(
                "backup to {}: SQLite answered {other:?}; try again",
                dest.display()
            ))),
        }
    }

    /// Row counts and sizes of every table, and the file's page figures.
    pub fn stats(&self) -> Result<DbStats, StoreError> {
        let conn = self.reader()?;
        let e = |e| self.error(e);
        let one = |sql: &str| -> Result<i64, StoreError> {
            conn.query_row(sql, [], |r| r.get(0)).map_err(e)
        };
        let page_size = one("PRAGMA page_size")?;
        let page_count = one("PRAGMA page_count")?;
        let freelist_count = one("PRAGMA freelist_count")?;
        let schema_version = one("PRAGMA user_version")? as i32;
        // dbstat gives each b-tree's size; FTS5 keeps its index in items_fts_* shadow tables.
        let sizes = pairs(
            &conn,
            "SELECT CASE WHEN name LIKE 'items\\_fts%' ESCAPE '\\' THEN 'items_fts' ELSE name END AS n,
                    sum(pgsize) FROM dbstat GROUP BY n ORDER BY n",
        )
        .map_err(e)?;
        let tables: Vec<String> = {
            let mut stmt = conn
                .prepare(
                    "SELECT name FROM sqlite_schema WHERE type = 'table'
                       AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
                       AND name NOT LIKE 'items\\_fts\\_%' ESCAPE '\\'",
                )
                .map_err(e)?;
            stmt.query_map([], |r| r.get(0))
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(e)?
        };
        let mut out = Vec::new();
        for (name, bytes) in sizes {
            let rows = if tables.contains(&name) {
                Some(one(&format!(
                    "SELECT count(*) FROM \"{}\"",
                    name.replace('"', "\"\"")
                ))?)
            } else {
                None
            };
            out.push(TableStat { name, rows, bytes });
        }
        let file_bytes = std::fs::metadata(self.path()).map(|m| m.len()).unwrap_or(0);
        let mut wal = self.path().as_os_str().to_owned();
        wal.push("-wal");
        let wal_bytes = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        Ok(DbStats {
            path: self.path().display().to_string(),
            file_bytes,
            wal_bytes,
            page_size,
            page_count,
            freelist_count,
            schema_version,
            tables: out,
        })
    }

    /// The database answers a trivial query.
    pub fn ping(&self) -> Result<(), StoreError> {
        let conn = self.reader()?;
        conn.query_row("SELECT count(*) FROM feeds", [], |r| r.get::<_, i64>(0))
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// The gauges behind `/metrics`.
    pub fn counts(&self) -> Result<ArchiveCounts, StoreError> {
        let conn = self.reader()?;
        let e = |e| self.error(e);
        let one = |sql: &str| -> Result<i64, StoreError> {
            conn.query_row(sql, [], |r| r.get(0)).map_err(e)
        };
        let deliveries_by_status = if table_exists(&conn, "deliveries").map_err(e)? {
            pairs(
                &conn,
                "SELECT status, count(*) FROM deliveries GROUP BY status ORDER BY status",
            )
            .map_err(e)?
        } else {
            Vec::new()
        };
        Ok(ArchiveCounts {
            items: one("SELECT count(*) FROM items")?,
            feeds_by_state: pairs(
                &conn,
                "SELECT state, count(*) FROM feeds GROUP BY state ORDER BY state",
            )
            .map_err(e)?,
            feeds_with_errors: one("SELECT count(*) FROM feeds WHERE consecutive_errors > 0")?,
            matches_by_topic: pairs(
                &conn,
                "SELECT topic, count(*) FROM matches GROUP BY topic ORDER BY topic",
            )
            .map_err(e)?,
            articles_by_status: pairs(
                &conn,
                "SELECT status, count(*) FROM articles GROUP BY status ORDER BY status",
            )
            .map_err(e)?,
            pending_extractions: one(
                "SELECT count(*) FROM extraction_queue q
                 JOIN items i ON i.id = q.item_id JOIN feeds f ON f.id = i.feed_id
                 WHERE f.extract = 1 AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.item_id = q.item_id)",
            )?,
            pending_matches: one("SELECT count(*) FROM items WHERE match_state IN (0, 3)")?,
            tombstones: one("SELECT count(*) FROM item_tombstones")?,
            deliveries_by_status,
            last_poll_at: conn
                .query_row("SELECT max(last_polled_at) FROM feeds", [], |r| r.get(0))
                .map_err(e)?,
        })
    }
}
