//! The SQLite backend's connection handling: opening and checking the file, migrations from
//! `migrations/`, WAL, one writer connection and readers on demand. The aggregate files
//! (`feeds.rs`, `items.rs`, …) add the SQLite queries to [`SqliteStore`].

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::rows::{Columns, Value};
use super::{APPLICATION_ID, StoreError};

pub(super) mod articles;
pub(super) mod deliveries;
mod feedback;
pub(super) mod feeds;
mod items;
pub(super) mod maintenance;
pub(super) mod matches;
pub(super) mod reading;
pub(super) mod search;
mod stories;

impl Columns for rusqlite::Row<'_> {
    type Error = rusqlite::Error;

    fn column<T: Value>(&self, index: usize) -> Result<T, rusqlite::Error> {
        self.get(index)
    }
}

/// Schema migrations, applied in order; the schema version is their count.
pub(super) const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_feeds_items.sql",
        include_str!("../../../migrations/0001_feeds_items.sql"),
    ),
    (
        "0002_articles_matches_search.sql",
        include_str!("../../../migrations/0002_articles_matches_search.sql"),
    ),
    (
        "0003_views_retention.sql",
        include_str!("../../../migrations/0003_views_retention.sql"),
    ),
    (
        "0004_deliveries.sql",
        include_str!("../../../migrations/0004_deliveries.sql"),
    ),
    (
        "0005_work_queues.sql",
        include_str!("../../../migrations/0005_work_queues.sql"),
    ),
    (
        "0006_fts_hashsize.sql",
        include_str!("../../../migrations/0006_fts_hashsize.sql"),
    ),
    (
        "0007_topic_feedback.sql",
        include_str!("../../../migrations/0007_topic_feedback.sql"),
    ),
    (
        "0008_story_members.sql",
        include_str!("../../../migrations/0008_story_members.sql"),
    ),
    (
        "0009_feed_entries_skipped.sql",
        include_str!("../../../migrations/0009_feed_entries_skipped.sql"),
    ),
    (
        "0010_fts_automerge.sql",
        include_str!("../../../migrations/0010_fts_automerge.sql"),
    ),
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// The database: one writer connection (callers run it off the async runtime), readers opened
/// on demand.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `path`. A file that is not
    /// tidings' own, or whose schema is newer, is refused before anything is written.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let err = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        if path.exists()
            && std::fs::metadata(path)
                .map(|m| m.len() > 0)
                .unwrap_or(false)
        {
            check_existing(path)?;
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path).map_err(err)?;
        configure(&conn).map_err(err)?;
        // A checkpoint every 4,000 pages (16 MiB of WAL) instead of SQLite's 1,000: a cold poll
        // commits once per feed, and each checkpoint copied the same hot index pages again.
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 4000;")
            .map_err(err)?;
        migrate(&conn, path)?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: Mutex::new(conn),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The writer connection. Hold it only for one short unit of work.
    pub(crate) fn writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (the transaction rolls back).
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A new read-only connection, for queries that must not wait on the writer.
    pub fn reader(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(|e| self.error(e))?;
        configure(&conn).map_err(|e| self.error(e))?;
        Ok(conn)
    }

    /// A read-only connection for copying the archive elsewhere.
    pub(super) fn reader_for_copy(&self) -> Result<Connection, StoreError> {
        self.reader()
    }

    pub(crate) fn error(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Takes the write lock and lets it go (`BEGIN IMMEDIATE; COMMIT`), writing nothing: proof
    /// that the writer connection can still write. Waits as long as the busy timeout allows.
    pub fn probe_writer(&self) -> Result<(), StoreError> {
        let conn = self.writer();
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.error(e))?;
        conn.execute_batch("COMMIT").map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            self.error(e)
        })
    }

    /// Why writes fail now, found without writing and without waiting on the writer: free
    /// space on the database's filesystem below [`MIN_FREE_BYTES`], the page cap reached
    /// ([`MAX_PAGE_COUNT_ENV`]), or the write lock held by another connection for longer than
    /// a commit takes.
    pub fn write_problem(&self) -> Result<Option<String>, StoreError> {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if let Some(free) = free_bytes(dir)
            && free < MIN_FREE_BYTES
        {
            return Ok(Some(format!(
                "the filesystem holding {} is full ({free} bytes free)",
                self.path.display()
            )));
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| self.error(e))?;
        conn.busy_timeout(Duration::from_millis(500))
            .map_err(|e| self.error(e))?;
        if let Some(cap) = max_page_count() {
            let pages: i64 = conn
                .query_row("PRAGMA page_count", [], |r| r.get(0))
                .map_err(|e| self.error(e))?;
            let freelist: i64 = conn
                .query_row("PRAGMA freelist_count", [], |r| r.get(0))
                .map_err(|e| self.error(e))?;
            if pages.saturating_sub(freelist) + 16 >= cap {
                return Ok(Some(format!(
                    "{} reached its size cap ({pages} of {cap} pages, {MAX_PAGE_COUNT_ENV})",
                    self.path.display()
                )));
            }
        }
        match conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => {
                let _ = conn.execute_batch("ROLLBACK");
                Ok(None)
            }
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                Ok(Some(format!(
                    "another process holds the write lock of {}",
                    self.path.display()
                )))
            }
            Err(e) => Ok(Some(self.error(e).to_string())),
        }
    }

    /// `PRAGMA integrity_check` says ok.
    pub fn integrity_ok(&self) -> Result<bool, StoreError> {
        let conn = self.writer();
        let result: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| self.error(e))?;
        Ok(result == "ok")
    }
}

/// Below this much free space on its filesystem the database is reported as full: a refresh
/// writes a few hundred KiB of WAL at most.
const MIN_FREE_BYTES: u64 = 256 * 1024;

/// Caps the database file at this many pages (`PRAGMA max_page_count`) on every connection, as
/// a full disk would: for trying out (and testing) what a full disk does where no small
/// filesystem can be mounted.
pub const MAX_PAGE_COUNT_ENV: &str = "TIDINGS_SQLITE_MAX_PAGE_COUNT";

fn max_page_count() -> Option<i64> {
    std::env::var(MAX_PAGE_COUNT_ENV)
        .ok()
        .and_then(|v| v.trim().parse().ok())
}

/// Bytes free to unprivileged writers on the filesystem holding `dir`.
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // Safe: `path` is NUL-terminated and `stat` is a valid out-pointer.
    if unsafe { libc::statvfs(path.as_ptr(), &mut stat) } != 0 {
        return None;
    }
    #[allow(clippy::useless_conversion)] // u32 on some targets
    Some(u64::from(stat.f_bavail) * u64::from(stat.f_frsize))
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    if let Some(cap) = max_page_count() {
        conn.pragma_update(None, "max_page_count", cap)?;
    }
    // Used by migrations that index stored HTML.
    conn.create_scalar_function(
        "tidings_plain_text",
        1,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8
            | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let html: Option<String> = ctx.get(0)?;
            Ok(html.map(|h| crate::plaintext::html_to_text(&h)))
        },
    )?;
    // Used by the migration that folds letters the FTS tokenizer keeps (ł, ø, ß …).
    conn.create_scalar_function(
        "tidings_fts_fold",
        1,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8
            | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let text: Option<String> = ctx.get(0)?;
            Ok(text.map(|t| search::fts_fold(&t).into_owned()))
        },
    )?;
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA synchronous = NORMAL;
         PRAGMA cache_size = -16000;
         PRAGMA temp_store = MEMORY;",
    )
}

/// Refuses a file that is not SQLite, belongs to another program or has a newer schema,
/// reading it without write access.
fn check_existing(path: &Path) -> Result<(), StoreError> {
    let conn =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|source| {
            StoreError::Sqlite {
                path: path.to_path_buf(),
                source,
            }
        })?;
    conn.busy_timeout(Duration::from_secs(10)).ok();
    let app_id: i32 = match conn.query_row("PRAGMA application_id", [], |r| r.get(0)) {
        Ok(id) => id,
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            return Err(StoreError::NotADatabase {
                path: path.to_path_buf(),
            });
        }
        Err(source) => {
            return Err(StoreError::Sqlite {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(|source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        })?;
    if app_id != APPLICATION_ID && (app_id != 0 || tables > 0) {
        return Err(StoreError::Foreign {
            path: path.to_path_buf(),
            found: app_id,
        });
    }
    let version: i32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        })?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// Applies the migrations the file has not seen yet, each in its own transaction together
/// with the version bump.
fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let err = |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let version: i32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(err)?;
    for (index, (name, sql)) in MIGRATIONS.iter().enumerate() {
        let target = index as i32 + 1;
        if target <= version {
            continue;
        }
        let apply = || -> rusqlite::Result<()> {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            let result = conn.execute_batch(sql).and_then(|_| {
                conn.execute_batch(&format!(
                    "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {target};"
                ))
            });
            match result {
                Ok(()) => conn.execute_batch("COMMIT"),
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    Err(e)
                }
            }
        };
        apply().map_err(|source| StoreError::Migration {
            path: path.to_path_buf(),
            name: name.to_string(),
            source,
        })?;
        tracing::info!(
            migration = name,
            version = target,
            "applied database migration"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(SqliteStore::open(&path).unwrap());
        let store = SqliteStore::open(&path).unwrap();
        let conn = store.writer();
        let id: i32 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .unwrap();
        assert_eq!(id, APPLICATION_ID);
    }

    /// A setting of the full-text index, as FTS5 keeps it in `items_fts_config`.
    fn fts_setting(key: &str) -> i64 {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        store
            .writer()
            .query_row("SELECT v FROM items_fts_config WHERE k = ?1", [key], |r| {
                r.get(0)
            })
            .unwrap_or_else(|e| panic!("items_fts_config {key}: {e}"))
    }

    /// Migration 6: FTS5 buffers 8 MiB of index entries before writing a segment.
    #[test]
    fn full_text_index_buffers_a_batch() {
        assert_eq!(fts_setting("hashsize"), 8 * 1024 * 1024);
    }

    /// Migration 10: FTS5 merges its segments sixteen at a time.
    #[test]
    fn full_text_index_merges_sixteen_segments_at_a_time() {
        assert_eq!(fts_setting("automerge"), 16);
    }

    #[test]
    fn migration_3_refolds_the_index_and_adds_views() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.db");
        {
            let conn = Connection::open(&path).unwrap();
            configure(&conn).unwrap();
            for (_, sql) in &MIGRATIONS[..2] {
                conn.execute_batch(sql).unwrap();
            }
            conn.execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 2;
                 INSERT INTO feeds (origin_url, url, source, created_at) VALUES ('u', 'u', 'cli', 0);
                 INSERT INTO items (feed_id, dedup_key, title, published_at, first_seen_at, content_hash)
                     VALUES (1, 'k', 'Łódź and Straße', 0, 0, 'h');
                 INSERT INTO items_fts (rowid, title, summary, text) VALUES (1, 'Łódź and Straße', '', '');"
            ))
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let conn = store.reader().unwrap();
        let title: String = conn
            .query_row(
                "SELECT title FROM items_fts WHERE items_fts MATCH 'lodz strasse'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(title, "Lódź and Strasse");
        let n: i64 = conn
            .query_row("SELECT count(*) FROM v_items", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn refuses_foreign_and_newer_files_without_writing() {
        let dir = tempfile::tempdir().unwrap();
        let foreign = dir.path().join("foreign.db");
        Connection::open(&foreign)
            .unwrap()
            .execute_batch("CREATE TABLE x(a)")
            .unwrap();
        let before = std::fs::read(&foreign).unwrap();
        assert!(matches!(
            SqliteStore::open(&foreign),
            Err(StoreError::Foreign { .. })
        ));
        assert_eq!(before, std::fs::read(&foreign).unwrap());

        let text = dir.path().join("notes.txt");
        std::fs::write(
            &text,
            "this is not a database, just some notes that are long enough",
        )
        .unwrap();
        let err = SqliteStore::open(&text).unwrap_err();
        assert!(matches!(err, StoreError::NotADatabase { .. }), "{err}");
        assert!(
            std::fs::read_to_string(&text)
                .unwrap()
                .starts_with("this is not")
        );

        let newer = dir.path().join("newer.db");
        drop(SqliteStore::open(&newer).unwrap());
        Connection::open(&newer)
            .unwrap()
            .execute_batch("PRAGMA user_version = 999")
            .unwrap();
        let err = SqliteStore::open(&newer).unwrap_err();
        assert!(err.to_string().contains("999"), "{err}");
    }
}
