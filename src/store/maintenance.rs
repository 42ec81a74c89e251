//! Maintenance reports, shared by both backends: what a prune removed, `db stats`, and the
//! gauges behind `/metrics` and `/healthz`.

use crate::model::UnixTime;

/// What a prune removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PruneReport {
    pub items: usize,
    pub articles: usize,
    pub matches: usize,
}

/// Row count and on-disk size of one table or index (FTS5 shadow tables are summed into
/// `items_fts`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TableStat {
    pub name: String,
    /// `None` for indexes and internal tables.
    pub rows: Option<i64>,
    pub bytes: i64,
}

/// `tidings db stats`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DbStats {
    pub path: String,
    pub file_bytes: u64,
    pub wal_bytes: u64,
    pub page_size: i64,
    pub page_count: i64,
    pub freelist_count: i64,
    pub schema_version: i32,
    pub tables: Vec<TableStat>,
}

/// Gauges for `/metrics`, all read from the database.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ArchiveCounts {
    pub items: i64,
    pub feeds_by_state: Vec<(String, i64)>,
    pub feeds_with_errors: i64,
    pub matches_by_topic: Vec<(String, i64)>,
    pub articles_by_status: Vec<(String, i64)>,
    pub pending_extractions: i64,
    pub pending_matches: i64,
    pub tombstones: i64,
    /// Absent until the deliveries table exists.
    pub deliveries_by_status: Vec<(String, i64)>,
    pub last_poll_at: Option<UnixTime>,
}
