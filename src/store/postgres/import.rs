//! `tidings db migrate-to`: copies an SQLite archive into an empty PostgreSQL database,
//! keeping every id, then builds the PostgreSQL search index from the copied rows. The
//! SQLite side is read in one read transaction (a consistent snapshot even while a daemon
//! writes); the PostgreSQL side is written in batches, so a copy that fails half-way leaves
//! a partial database: empty it (or create a new one) and copy again.

use rusqlite::types::Value;
use tokio_postgres::types::ToSql;

use super::search::document;
use super::{PgError, PgResult, PgStore, host_of};
use crate::store::StoreError;

/// Tables in copy order (a row's references are copied before it).
const TABLES: &[&str] = &[
    "feeds",
    "items",
    "item_tombstones",
    "articles",
    "matches",
    "topics",
    "topic_feedback",
    "stories",
    "story_members",
    "deliveries",
    "digest_runs",
    "webhook_endpoints",
];

/// Tables whose `id` is an identity column, to be moved past the copied ids.
const IDENTITY_TABLES: &[&str] = &[
    "feeds",
    "items",
    "matches",
    "stories",
    "deliveries",
    "digest_runs",
];

/// Rows read and written per batch.
const BATCH: usize = 2_000;

type Param = Box<dyn ToSql + Sync + Send>;

/// An SQLite value as the PostgreSQL column type wants it.
fn convert(value: Value, pg_type: &str) -> Param {
    match (pg_type, value) {
        ("bigint", Value::Integer(i)) => Box::new(i),
        ("bigint", Value::Real(f)) => Box::new(f as i64),
        ("bigint", Value::Text(t)) => Box::new(t.trim().parse::<i64>().ok()),
        ("bigint", _) => Box::new(None::<i64>),
        ("boolean", Value::Integer(i)) => Box::new(i != 0),
        ("boolean", _) => Box::new(None::<bool>),
        ("double precision", Value::Real(f)) => Box::new(f),
        ("double precision", Value::Integer(i)) => Box::new(i as f64),
        ("double precision", _) => Box::new(None::<f64>),
        ("bytea", Value::Blob(b)) => Box::new(b),
        ("bytea", _) => Box::new(None::<Vec<u8>>),
        (_, Value::Text(t)) => Box::new(t),
        (_, Value::Integer(i)) => Box::new(i.to_string()),
        (_, Value::Real(f)) => Box::new(f.to_string()),
        (_, Value::Blob(b)) => Box::new(String::from_utf8_lossy(&b).into_owned()),
        (_, Value::Null) => Box::new(None::<String>),
    }
}

impl PgStore {
    /// Copies everything from the SQLite connection `source` (a tidings archive at the current
    /// schema) into this database, which must hold no feeds yet. Returns rows per table.
    pub fn import_sqlite(
        &self,
        source: &mut rusqlite::Connection,
        source_name: &str,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let sqlite_err = |e: rusqlite::Error| StoreError::Sqlite {
            path: source_name.into(),
            source: e,
        };
        let existing: i64 = self.run(async {
            let client = self.client().await?;
            Ok(client
                .query_one("SELECT count(*) FROM feeds", &[])
                .await?
                .try_get(0)?)
        })?;
        if existing > 0 {
            return Err(StoreError::Refused(format!(
                "database {} already holds {existing} feeds; migrate-to copies into an empty database only",
                self.display_path().display()
            )));
        }
        let tx = source.transaction().map_err(sqlite_err)?;
        let mut report = Vec::new();
        for table in TABLES {
            let pg_columns: Vec<(String, String)> = self.run(async {
                let client = self.client().await?;
                let rows = client
                    .query(
                        "SELECT column_name::text, data_type::text FROM information_schema.columns
                         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
                        &[table],
                    )
                    .await?;
                rows.iter()
                    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                    .collect::<PgResult<Vec<_>>>()
            })?;
            let sqlite_columns: Vec<String> = tx
                .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                .map_err(sqlite_err)?;
            let columns: Vec<(String, String)> = pg_columns
                .into_iter()
                .filter(|(name, _)| sqlite_columns.contains(name))
                .collect();
            let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
            // One statement over the whole table; batches go to PostgreSQL as they fill.
            let select = format!("SELECT {} FROM {table}", names.join(", "));
            let insert = format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                names.join(", "),
                (1..=names.len())
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut stmt = tx.prepare(&select).map_err(sqlite_err)?;
            let mut rows = stmt.query([]).map_err(sqlite_err)?;
            let mut copied = 0u64;
            let mut batch: Vec<Vec<Param>> = Vec::new();
            loop {
                let done = match rows.next().map_err(sqlite_err)? {
                    Some(row) => {
                        let mut params = Vec::with_capacity(columns.len());
                        for (i, (_, pg_type)) in columns.iter().enumerate() {
                            let value: Value = row.get(i).map_err(sqlite_err)?;
                            params.push(convert(value, pg_type));
                        }
                        batch.push(params);
                        false
                    }
                    None => true,
                };
                if batch.len() >= BATCH || (done && !batch.is_empty()) {
                    copied += batch.len() as u64;
                    self.run(async {
                        let mut client = self.client().await?;
                        let pg = client.transaction().await?;
                        let stmt = pg.prepare(&insert).await?;
                        for row in &batch {
                            let params: Vec<&(dyn ToSql + Sync)> = row
                                .iter()
                                .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                                .collect();
                            pg.execute(&stmt, &params).await?;
                        }
                        pg.commit().await?;
                        Ok(())
                    })?;
                    batch.clear();
                }
                if done {
                    break;
                }
            }
            report.push((table.to_string(), copied));
        }
        // SQLite marks "article text arrived since the item was matched" with state 3 (its
        // own index-driven queue, migration 0005); on PostgreSQL that is state 1 with text.
        self.run(async {
            let client = self.client().await?;
            client
                .execute(
                    "UPDATE items SET match_state = 1 WHERE match_state = 3",
                    &[],
                )
                .await?;
            Ok(())
        })?;
        self.import_hosts_and_index(&tx, &sqlite_err)?;
        self.run(async {
            let client = self.client().await?;
            for table in IDENTITY_TABLES {
                client
                    .execute(
                        &format!(
                            "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                                           greatest(coalesce(max(id), 0), 1), max(id) IS NOT NULL)
                             FROM {table}"
                        ),
                        &[],
                    )
                    .await?;
            }
            Ok(())
        })?;
        Ok(report)
    }

    /// Sets each feed's host and builds the search index of every item.
    fn import_hosts_and_index(
        &self,
        tx: &rusqlite::Transaction,
        sqlite_err: &dyn Fn(rusqlite::Error) -> StoreError,
    ) -> Result<(), StoreError> {
        let feeds: Vec<(i64, String)> = tx
            .prepare("SELECT id, url FROM feeds")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(sqlite_err)?;
        self.run(async {
            let client = self.client().await?;
            let stmt = client
                .prepare("UPDATE feeds SET host = $2 WHERE id = $1")
                .await?;
            for (id, url) in &feeds {
                client.execute(&stmt, &[id, &host_of(url)]).await?;
            }
            Ok(())
        })?;
        let mut after = i64::MIN;
        loop {
            let rows: Vec<(i64, String, String, String)> = tx
                .prepare(
                    "SELECT i.id, i.title, i.summary, i.content, a.text FROM items i
                     LEFT JOIN articles a ON a.item_id = i.id AND a.text IS NOT NULL AND a.text != ''
                     WHERE i.id > ?1 ORDER BY i.id LIMIT ?2",
                )
                .and_then(|mut s| {
                    s.query_map(rusqlite::params![after, BATCH as i64], |r| {
                        let summary: Option<String> = r.get(2)?;
                        let content: Option<String> = r.get(3)?;
                        let article: Option<String> = r.get(4)?;
                        Ok((
                            r.get(0)?,
                            r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                            summary
                                .as_deref()
                                .map(crate::plaintext::html_to_text)
                                .unwrap_or_default(),
                            article.unwrap_or_else(|| {
                                content
                                    .as_deref()
                                    .map(crate::plaintext::html_to_text)
                                    .unwrap_or_default()
                            }),
                        ))
                    })?
                    .collect()
                })
                .map_err(sqlite_err)?;
            let Some(last) = rows.last() else {
                break;
            };
            after = last.0;
            self.run(async {
                let mut client = self.client().await?;
                let pg = client.transaction().await?;
                let stmt = pg
                    .prepare(
                        "INSERT INTO items_fts (item_id, title, summary, text, doc)
                         VALUES ($1, $2, $3, $4, $5::text::tsvector)",
                    )
                    .await?;
                for (id, title, summary, text) in &rows {
                    pg.execute(
                        &stmt,
                        &[id, title, summary, text, &document(title, summary, text)],
                    )
                    .await?;
                }
                pg.commit().await?;
                Ok::<(), PgError>(())
            })?;
        }
        Ok(())
    }
}
