//! Storage: the only module that writes SQL. [`Store`] is one interface over two backends:
//! SQLite (`sqlite/`, the default: one file, one process; `sqlite/mod.rs` opens it and one
//! file per aggregate holds its queries) and PostgreSQL (`postgres/`, mirroring those files,
//! for many cooperating workers that claim their work with `FOR UPDATE SKIP LOCKED` and
//! leases).
//! Methods are synchronous and speak in domain types; async callers use `spawn_blocking`.

mod articles;
mod deliveries;
mod feedback;
mod feeds;
mod items;
mod maintenance;
mod matches;
pub mod postgres;
mod reading;
mod rows;
mod search;
mod sqlite;
pub mod stories;

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

pub use articles::{ArticleRecord, PendingPage};
pub use deliveries::{DeliveryContent, DeliveryRow, DigestRun, delivery_key};
pub use feedback::{Feedback, FeedbackOrigin, LabelledItem, parse_verdict};
pub use feeds::{FeedProblem, FeedRow};
pub use maintenance::{ArchiveCounts, DbStats, PruneReport, TableStat};
pub use matches::{DeliveryPlan, IndexText, MatchInput, MatchRecord, MatchedItem, StoredMatch};
pub use postgres::PgStore;
pub use reading::{StorySource, TopicMatch, TopicStories};
pub use search::{
    ItemDetail, ItemMatch, RECENCY_PERIOD_SECS, SearchHit, SearchOrder, SearchSpec, TextFilter,
    TopicEntry,
};
pub use sqlite::search::fts_fold;
pub use sqlite::{SCHEMA_VERSION, SqliteStore};

use crate::config::{DatabaseLocation, FeedConfig};
use crate::model::{
    Feed, FeedId, FeedSettings, FeedSource, ItemId, NewItem, StoredCounts, UnixTime,
};

/// `PRAGMA application_id` marking a file as tidings' own ("tdgs").
pub const APPLICATION_ID: i32 = 0x7464_6773;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Sqlite {
        path: std::path::PathBuf,
        source: rusqlite::Error,
    },
    /// A PostgreSQL error; `message` carries the server's own text (`source` alone prints
    /// only "db error").
    #[error("database {database}: {message}")]
    Postgres {
        database: String,
        message: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(
        "database {path} is not a tidings database (application_id {found:#x}); refusing to touch it"
    )]
    Foreign {
        path: std::path::PathBuf,
        found: i32,
    },
    #[error("database {path} is not an SQLite file; refusing to touch it")]
    NotADatabase { path: std::path::PathBuf },
    #[error(
        "database {path} has schema version {found}, newer than this tidings ({supported}); upgrade tidings"
    )]
    TooNew {
        path: std::path::PathBuf,
        found: i32,
        supported: i32,
    },
    #[error("database {path}: migration {name} failed: {source}")]
    Migration {
        path: std::path::PathBuf,
        name: String,
        source: rusqlite::Error,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Refused(String),
}

impl StoreError {
    /// The database cannot take writes for now, for a reason that passes: its disk is full,
    /// another process holds its write lock, an I/O error, the server is unreachable. Work
    /// that failed so is tried again later, not given up; what is stored stays stored.
    pub fn is_unavailable(&self) -> bool {
        use rusqlite::ErrorCode;
        match self {
            StoreError::Sqlite {
                source: rusqlite::Error::SqliteFailure(e, _),
                ..
            } => matches!(
                e.code,
                ErrorCode::DiskFull
                    | ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::CannotOpen
            ),
            StoreError::Postgres { message, .. } => {
                let message = message.to_ascii_lowercase();
                [
                    "connection",
                    "could not extend",
                    "no space left",
                    "timed out",
                ]
                .iter()
                .any(|m| message.contains(m))
            }
            _ => false,
        }
    }
}

/// How a worker shares work with others on PostgreSQL (ignored by SQLite).
#[derive(Debug, Clone, Copy)]
pub struct WorkerOptions {
    /// How long a claim lasts before another worker may take the work over.
    pub lease: Duration,
    /// Refreshes running at once against one host, across all workers.
    pub per_host: usize,
}

impl Default for WorkerOptions {
    fn default() -> WorkerOptions {
        WorkerOptions {
            lease: Duration::from_secs(120),
            per_host: 2,
        }
    }
}

/// The database, on either backend.
#[derive(Debug)]
pub struct Store {
    backend: Backend,
}

#[derive(Debug)]
enum Backend {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Store {
    /// Opens (creating if missing) and migrates the SQLite database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Sqlite(SqliteStore::open(path)?),
        })
    }

    /// Opens and migrates the database the config names: an SQLite file or PostgreSQL.
    pub fn open_location(
        location: &DatabaseLocation,
        options: WorkerOptions,
    ) -> Result<Store, StoreError> {
        match location {
            DatabaseLocation::Sqlite(path) => Store::open(path),
            DatabaseLocation::Postgres(url) => Ok(Store {
                backend: Backend::Postgres(PgStore::open(url, options)?),
            }),
        }
    }

    /// The SQLite file, or for PostgreSQL its URL with any password removed.
    pub fn path(&self) -> &Path {
        match &self.backend {
            Backend::Sqlite(s) => s.path(),
            Backend::Postgres(p) => p.display_path(),
        }
    }

    /// Whether this store is PostgreSQL (shared by several workers).
    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Copies this SQLite archive into the empty PostgreSQL database at `url` (migrating it
    /// first), keeping every id; returns the rows copied per table.
    pub fn migrate_to_postgres(&self, url: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let Backend::Sqlite(source) = &self.backend else {
            return Err(StoreError::Refused(
                "migrate-to copies an SQLite archive; this database is PostgreSQL already".into(),
            ));
        };
        let target = PgStore::open(url, WorkerOptions::default())?;
        let mut conn = source.reader_for_copy()?;
        target.import_sqlite(&mut conn, &source.path().display().to_string())
    }

    /// A new read-only SQLite connection (SQLite only: for tools that read the file).
    pub fn reader(&self) -> Result<Connection, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.reader(),
            Backend::Postgres(p) => Err(StoreError::Refused(format!(
                "database {}: a PostgreSQL store has no SQLite reader",
                p.display_path().display()
            ))),
        }
    }
}

/// Each listed method forwards to the backend's method of the same name and signature.
macro_rules! forward {
    ($( $(#[$doc:meta])* fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty; )*) => {
        impl Store {
            $(
                $(#[$doc])*
                pub fn $name(&self $(, $arg: $ty)*) -> $ret {
                    match &self.backend {
                        Backend::Sqlite(s) => s.$name($($arg),*),
                        Backend::Postgres(p) => p.$name($($arg),*),
                    }
                }
            )*
        }
    };
}

forward! {
    /// Takes the write lock and lets it go, writing nothing: proof the database can write.
    fn probe_writer(&self) -> Result<(), StoreError>;
    /// The database's own consistency check says ok.
    fn integrity_ok(&self) -> Result<bool, StoreError>;
    /// Why the database cannot take writes now (its filesystem full, its size cap reached, its
    /// write lock held by another process), or `None`. Quick, and writes nothing.
    fn write_problem(&self) -> Result<Option<String>, StoreError>;

    // feeds
    /// Makes the database's feeds match the config; returns (added, disabled).
    fn sync_config_feeds(&self, feeds: &[FeedConfig], now: UnixTime) -> Result<(usize, usize), StoreError>;
    /// Adds a feed (or re-enables one that was removed); returns its id and whether it is new.
    fn add_feed(&self, url: &str, source: FeedSource, settings: &FeedSettings, now: UnixTime) -> Result<(FeedId, bool), StoreError>;
    /// Stops polling a feed; its items stay. False if no feed has that URL.
    fn disable_feed(&self, url: &str) -> Result<bool, StoreError>;
    /// Every feed, in id order.
    fn list_feeds(&self) -> Result<Vec<Feed>, StoreError>;
    /// The feed whose original or current URL is `url`.
    fn feed_by_url(&self, url: &str) -> Result<Option<Feed>, StoreError>;
    fn feed(&self, id: FeedId) -> Result<Feed, StoreError>;
    /// Active feeds due at `now`, earliest first, skipping `exclude`. On PostgreSQL the feeds
    /// returned are claimed by this worker for the lease (within the per-host limit).
    fn due_feeds(&self, now: UnixTime, limit: usize, exclude: &[FeedId]) -> Result<Vec<Feed>, StoreError>;
    /// The earliest `next_poll_at` of any active feed.
    fn next_due_at(&self) -> Result<Option<UnixTime>, StoreError>;
    /// Moves an active feed's next poll earlier, to `at`; never later.
    fn advance_next_poll(&self, id: FeedId, at: UnixTime) -> Result<bool, StoreError>;
    /// Makes every active feed due now.
    fn make_all_due(&self) -> Result<usize, StoreError>;
    /// Feeds that need the owner's attention.
    fn feed_problems(&self, now: UnixTime) -> Result<Vec<FeedProblem>, StoreError>;

    // items
    /// Commits one refresh (fetch state and items) in one transaction; releases the claim.
    fn commit_refresh(&self, feed: &Feed, items: &[NewItem], first_poll: bool, now: UnixTime) -> Result<(StoredCounts, Vec<ItemId>), StoreError>;
    /// Writes a feed's fetch state after a poll that stored no items; releases the claim.
    fn record_fetch_state(&self, feed: &Feed) -> Result<(), StoreError>;
    /// Every stored (feed id, dedup key) pair.
    fn item_keys(&self) -> Result<Vec<(i64, String)>, StoreError>;

    // articles
    /// Items whose page is to be extracted (claimed on PostgreSQL), newest first.
    fn pending_pages(&self, now: UnixTime, limit: usize, exclude: &[ItemId]) -> Result<Vec<PendingPage>, StoreError>;
    /// Stores an extraction outcome.
    fn record_article(&self, item_id: ItemId, article: &ArticleRecord, now: UnixTime) -> Result<(), StoreError>;
    /// The stored article of an item, if any.
    fn article(&self, item_id: ItemId) -> Result<Option<ArticleRecord>, StoreError>;

    // matches
    /// Items not matched yet, or whose article text arrived since.
    fn pending_matches(&self, limit: usize) -> Result<Vec<MatchInput>, StoreError>;
    /// Matched items first seen since `since`, in id order after `after_id`.
    fn items_for_backfill(&self, since: UnixTime, after_id: ItemId, limit: usize) -> Result<Vec<MatchInput>, StoreError>;
    /// Records a batch's matches and their deliveries in one transaction.
    fn record_matches(&self, batch: &[MatchedItem], backfill: bool, plan: Option<&DeliveryPlan>, now: UnixTime) -> Result<Vec<i64>, StoreError>;
    fn topic_fingerprints(&self) -> Result<Vec<(String, String)>, StoreError>;
    fn set_topic_fingerprint(&self, name: &str, fingerprint: &str, now: UnixTime) -> Result<(), StoreError>;
    /// Matches, newest first.
    fn list_matches(&self, topic: Option<&str>, since: UnixTime, limit: usize) -> Result<Vec<StoredMatch>, StoreError>;
    /// Items published since `since`, newest first.
    fn items_since(&self, since: UnixTime, limit: usize) -> Result<Vec<MatchInput>, StoreError>;

    // deliveries
    /// Due webhook deliveries of `channel` (claimed on PostgreSQL), oldest first.
    fn due_webhook_deliveries(&self, channel: &str, now: UnixTime, limit: usize) -> Result<Vec<DeliveryContent>, StoreError>;
    fn stamp_batch(&self, ids: &[i64], batch_key: &str) -> Result<(), StoreError>;
    fn mark_sent(&self, ids: &[i64], now: UnixTime) -> Result<(), StoreError>;
    fn mark_failed(&self, ids: &[i64], error: &str, next: Option<UnixTime>) -> Result<(), StoreError>;
    fn disable_endpoint(&self, name: &str, url: &str, reason: &str, now: UnixTime) -> Result<(), StoreError>;
    fn endpoint_disabled(&self, name: &str, url: &str) -> Result<Option<String>, StoreError>;
    fn list_deliveries(&self, status: Option<&str>, limit: usize) -> Result<Vec<DeliveryRow>, StoreError>;
    fn delivery_counts(&self) -> Result<Vec<(String, i64)>, StoreError>;
    fn retry_deliveries(&self, id: Option<i64>, now: UnixTime) -> Result<usize, StoreError>;
    fn release_backfill(&self, topic: Option<&str>, channel: Option<&str>, now: UnixTime) -> Result<usize, StoreError>;
    fn pending_digest_entries(&self, channel: &str, limit: usize) -> Result<Vec<DeliveryContent>, StoreError>;
    fn last_digest_slot(&self, digest: &str) -> Result<Option<UnixTime>, StoreError>;
    /// Stores a built digest once per (digest, slot); `None` if another run took the slot.
    fn create_digest_run(&self, run: &DigestRun, delivery_ids: &[i64], now: UnixTime) -> Result<Option<i64>, StoreError>;
    /// Digest runs waiting to be sent (claimed on PostgreSQL).
    fn due_digest_runs(&self, now: UnixTime) -> Result<Vec<DigestRun>, StoreError>;
    fn mark_digest_sent(&self, run_id: i64, now: UnixTime) -> Result<(), StoreError>;
    fn mark_digest_failed(&self, run_id: i64, error: &str, next: Option<UnixTime>) -> Result<(), StoreError>;

    // reader feedback
    /// Stores a reader's label of an item for a topic (the last word wins); `NotFound` if
    /// there is no such item.
    fn record_feedback(&self, topic: &str, item_id: ItemId, relevant: bool, origin: FeedbackOrigin, now: UnixTime) -> Result<(), StoreError>;
    /// The topic and item of a match, if there is such a match.
    fn match_target(&self, match_id: i64) -> Result<Option<(String, ItemId)>, StoreError>;
    /// Every label given for a topic, with the item's text, oldest label first.
    fn topic_labels(&self, topic: &str) -> Result<Vec<LabelledItem>, StoreError>;
    /// The labels given for any of these items, on any topic.
    fn feedback_for_items(&self, items: &[ItemId]) -> Result<Vec<Feedback>, StoreError>;

    // search
    /// Runs a search (FTS5 on SQLite, tsvector on PostgreSQL).
    fn search(&self, spec: &SearchSpec) -> Result<Vec<SearchHit>, StoreError>;
    fn item_detail(&self, id: ItemId) -> Result<Option<ItemDetail>, StoreError>;
    fn topic_entries(&self, topic: &str, limit: usize) -> Result<Vec<TopicEntry>, StoreError>;
    fn topic_match_counts(&self) -> Result<Vec<(String, i64)>, StoreError>;

    // reading (the web pages)
    /// The newest `limit` matches of `topic` whose item was published since `since`, with
    /// every source of their stories.
    fn topic_stories(&self, topic: &str, since: UnixTime, limit: usize) -> Result<TopicStories, StoreError>;
    /// Every item of the given stories (their sources), by story, oldest first.
    fn story_sources(&self, story_ids: &[i64]) -> Result<Vec<StorySource>, StoreError>;
    /// The story an item belongs to (`None` until it matched a topic).
    fn item_story(&self, item_id: ItemId) -> Result<Option<i64>, StoreError>;
    /// The deliveries of a story, by channel.
    fn story_deliveries(&self, story_id: i64) -> Result<Vec<DeliveryRow>, StoreError>;
    /// One item as the matcher reads it, to explain its matches again.
    fn match_input(&self, item_id: ItemId) -> Result<Option<MatchInput>, StoreError>;

    // maintenance
    /// Deletes items published before `cutoff` (tombstoning their keys).
    fn prune(&self, cutoff: UnixTime, keep_matched: bool, now: UnixTime) -> Result<PruneReport, StoreError>;
    /// A consistent copy to a new SQLite file (SQLite only; use pg_dump for PostgreSQL).
    fn backup(&self, dest: &Path) -> Result<(), StoreError>;
    fn stats(&self) -> Result<DbStats, StoreError>;
    fn ping(&self) -> Result<(), StoreError>;
    fn counts(&self) -> Result<ArchiveCounts, StoreError>;
}
