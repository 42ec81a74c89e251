//! The PostgreSQL backend: a connection pool (deadpool-postgres over tokio-postgres) on a
//! small runtime of its own, migrations from `migrations/postgres/`, and the worker identity
//! under which due feeds, pending pages and deliveries are claimed. One file per aggregate
//! mirrors the SQLite files.
//!
//! Store methods are synchronous. Each call runs its async body on a short-lived scoped
//! thread that blocks on the backend's own runtime, so a call is safe from anywhere: plain
//! threads, `spawn_blocking`, or directly inside an async task (where blocking on a runtime
//! would otherwise panic with "cannot start a runtime from within a runtime").

mod articles;
mod deliveries;
mod feedback;
mod feeds;
mod import;
mod items;
mod maintenance;
pub(super) mod matches;
pub mod migrate;
mod reading;
mod search;
mod stories;

use std::future::Future;
use std::path::{Path, PathBuf};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};

pub(super) use super::rows::narrow;
use super::rows::{Columns, Value};
use super::{StoreError, WorkerOptions};

/// Schema migrations for PostgreSQL, numbered as the SQLite ones.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_feeds_items.sql",
        include_str!("../../../migrations/postgres/0001_feeds_items.sql"),
    ),
    (
        "0002_articles_matches_search.sql",
        include_str!("../../../migrations/postgres/0002_articles_matches_search.sql"),
    ),
    (
        "0003_views_retention.sql",
        include_str!("../../../migrations/postgres/0003_views_retention.sql"),
    ),
    (
        "0004_deliveries.sql",
        include_str!("../../../migrations/postgres/0004_deliveries.sql"),
    ),
    (
        "0005_topic_feedback.sql",
        include_str!("../../../migrations/postgres/0005_topic_feedback.sql"),
    ),
    (
        "0006_story_members.sql",
        include_str!("../../../migrations/postgres/0006_story_members.sql"),
    ),
    (
        "0007_feed_entries_skipped.sql",
        include_str!("../../../migrations/postgres/0007_feed_entries_skipped.sql"),
    ),
];

impl Columns for tokio_postgres::Row {
    type Error = PgError;

    fn column<T: Value>(&self, index: usize) -> Result<T, PgError> {
        Ok(self.try_get(index)?)
    }
}

/// Connections one worker keeps at most.
const POOL_SIZE: usize = 8;

/// Marks the schema table's row as tidings' own (the SQLite `application_id`).
const APPLICATION: &str = "tidings";

/// An error inside a PostgreSQL call, before it is given the database's name.
#[derive(Debug)]
pub(crate) enum PgError {
    Db(tokio_postgres::Error),
    Pool(deadpool_postgres::PoolError),
    Store(StoreError),
}

impl From<tokio_postgres::Error> for PgError {
    fn from(e: tokio_postgres::Error) -> PgError {
        PgError::Db(e)
    }
}

impl From<deadpool_postgres::PoolError> for PgError {
    fn from(e: deadpool_postgres::PoolError) -> PgError {
        PgError::Pool(e)
    }
}

pub(super) type PgResult<T> = Result<T, PgError>;

/// A PostgreSQL database shared by any number of workers.
pub struct PgStore {
    /// The URL without its password, for messages.
    display: PathBuf,
    /// Always `Some` until dropped (see `Drop`).
    runtime: Option<tokio::runtime::Runtime>,
    pool: Pool,
    /// This process's name in claims.
    worker: String,
    options: WorkerOptions,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("database", &self.display)
            .field("worker", &self.worker)
            .finish()
    }
}

impl Drop for PgStore {
    /// Lets the runtime go without waiting: dropping a runtime blocks, which panics when the
    /// last owner of the store goes away inside an async task.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// `url` with its password (if any) replaced by `***`.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

impl PgStore {
    /// Connects to `url`, checks the schema is tidings' own and not newer, and migrates it.
    pub fn open(url: &str, options: WorkerOptions) -> Result<PgStore, StoreError> {
        let database = redact(url);
        let fail = |message: String, source: Box<dyn std::error::Error + Send + Sync>| {
            StoreError::Postgres {
                database: database.clone(),
                message,
                source,
            }
        };
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| fail(e.to_string(), Box::new(e)))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("tidings-postgres")
            .enable_all()
            .build()
            .map_err(|e| fail(format!("cannot start its runtime: {e}"), Box::new(e)))?;
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| fail(e.to_string(), Box::new(e)))?;
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "host".into());
        let store = PgStore {
            display: PathBuf::from(&database),
            runtime: Some(runtime),
            pool,
            worker: format!("{host}:{}:{:08x}", std::process::id(), fastrand::u32(..)),
            options,
        };
        store.run(async { migrate::migrate(&store.pool, MIGRATIONS, APPLICATION).await })?;
        Ok(store)
    }

    pub(super) fn display_path(&self) -> &Path {
        &self.display
    }

    /// This worker's name in claims.
    pub fn worker(&self) -> &str {
        &self.worker
    }

    fn lease_secs(&self) -> i64 {
        self.options.lease.as_secs().max(1) as i64
    }

    /// Runs `body` to completion on the backend's runtime (see the module docs).
    fn run<T: Send>(
        &self,
        body: impl Future<Output = PgResult<T>> + Send,
    ) -> Result<T, StoreError> {
        let joined = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("tidings-pg-call".into())
                .spawn_scoped(scope, || self.runtime().block_on(body))
                .map(|handle| handle.join())
        });
        match joined {
            Ok(Ok(result)) => result.map_err(|e| self.error(e)),
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(e) => Err(StoreError::Postgres {
                database: self.display.display().to_string(),
                message: format!("cannot start a thread for the call: {e}"),
                source: Box::new(e),
            }),
        }
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime
            .as_ref()
            .expect("the runtime is only taken when the store is dropped")
    }

    async fn client(&self) -> PgResult<deadpool_postgres::Object> {
        Ok(self.pool.get().await?)
    }

    fn error(&self, e: PgError) -> StoreError {
        let database = self.display.display().to_string();
        match e {
            PgError::Db(e) => StoreError::Postgres {
                database,
                message: describe(&e),
                source: Box::new(e),
            },
            PgError::Pool(e) => StoreError::Postgres {
                database,
                message: format!("connection pool: {e}"),
                source: Box::new(e),
            },
            PgError::Store(e) => e,
        }
    }

    /// Runs a trivial write transaction: proof the database takes writes.
    pub fn probe_writer(&self) -> Result<(), StoreError> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute("SELECT 1", &[]).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The server answers a write transaction, or why not.
    pub fn write_problem(&self) -> Result<Option<String>, StoreError> {
        Ok(self.probe_writer().err().map(|e| e.to_string()))
    }

    /// PostgreSQL keeps its own consistency; this checks the server answers and the schema
    /// table says tidings.
    pub fn integrity_ok(&self) -> Result<bool, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let row = client
                .query_one(
                    "SELECT count(*) FROM tidings_schema WHERE application = $1",
                    &[&APPLICATION],
                )
                .await?;
            Ok(row.try_get::<_, i64>(0)? == 1)
        })
    }
}

/// The server's own message (with detail and hint) when there is one.
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut text = format!("{}: {}", db.severity(), db.message());
            if let Some(detail) = db.detail() {
                text.push_str(&format!(" ({detail})"));
            }
            if let Some(hint) = db.hint() {
                text.push_str(&format!("; hint: {hint}"));
            }
            text
        }
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            text
        }
    }
}

/// `host:port` of a URL, the key of per-host limits: the daemon's own function, so workers
/// count claims per host exactly as the dispatcher does.
pub(super) use crate::scheduler::host_queue::host_of;
