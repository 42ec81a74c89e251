//! The `feeds` aggregate on PostgreSQL: as `store/sqlite/feeds.rs`, plus claims. `due_feeds`
//! claims the feeds it returns for this worker until the lease ends, never more than the
//! per-host limit of one host across all workers; committing a refresh releases the claim.

use tokio_postgres::types::ToSql;

use super::{PgError, PgResult, PgStore, host_of};
use crate::config::FeedConfig;
use crate::model::{Feed, FeedId, FeedSettings, FeedSource, UnixTime};
use crate::store::feeds::{FEED_COLUMNS, PROBLEM_QUERY, feed_from_row, problem_facts_from_row};
use crate::store::{FeedProblem, StoreError};

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

/// Serializes claims so per-host counts stay true while several workers claim at once.
const CLAIM_LOCK: i64 = 0x7464_6766;

impl PgStore {
    pub fn sync_config_feeds(
        &self,
        feeds: &[FeedConfig],
        now: UnixTime,
    ) -> Result<(usize, usize), StoreError> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let upsert = tx
                .prepare(
                    "INSERT INTO feeds (origin_url, url, host, source, title, schedule, extract, headers, tags, created_at)
                     VALUES ($1, $1, $2, 'config', $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (origin_url) DO UPDATE SET
                        source = 'config', title = excluded.title, schedule = excluded.schedule,
                        extract = excluded.extract, headers = excluded.headers, tags = excluded.tags,
                        state = CASE WHEN feeds.state = 'disabled' THEN 'active' ELSE feeds.state END,
                        next_poll_at = CASE WHEN feeds.schedule IS DISTINCT FROM excluded.schedule THEN 0 ELSE feeds.next_poll_at END
                     RETURNING (xmax = 0)",
                )
                .await?;
            let mut added = 0;
            for feed in feeds {
                let s = &feed.settings;
                let row = tx
                    .query_one(
                        &upsert,
                        &[
                            &feed.url.as_str(),
                            &host_of(feed.url.as_str()),
                            &s.title,
                            &s.schedule,
                            &s.extract,
                            &json(&s.headers),
                            &json(&s.tags),
                            &now,
                        ],
                    )
                    .await?;
                added += usize::from(row.try_get::<_, bool>(0)?);
            }
            let listed: Vec<&str> = feeds.iter().map(|f| f.url.as_str()).collect();
            let disabled = tx
                .execute(
                    "UPDATE feeds SET state = 'disabled'
                     WHERE source = 'config' AND state = 'active' AND NOT (origin_url = ANY($1))",
                    &[&listed],
                )
                .await? as usize;
            tx.commit().await?;
            Ok((added, disabled))
        })
    }

    pub fn add_feed(
        &self,
        url: &str,
        source: FeedSource,
        settings: &FeedSettings,
        now: UnixTime,
    ) -> Result<(FeedId, bool), StoreError> {
        self.run(async {
            let client = self.client().await?;
            let existing = client
                .query_opt(
                    "SELECT id FROM feeds WHERE origin_url = $1 OR url = $1 ORDER BY id LIMIT 1",
                    &[&url],
                )
                .await?;
            if let Some(row) = existing {
                let id: FeedId = row.try_get(0)?;
                client
                    .execute(
                        "UPDATE feeds SET state = CASE WHEN state = 'disabled' THEN 'active' ELSE state END,
                            title = coalesce($2, title),
                            tags = CASE WHEN $3 = '[]' THEN tags ELSE $3 END
                         WHERE id = $1",
                        &[&id, &settings.title, &json(&settings.tags)],
                    )
                    .await?;
                return Ok((id, false));
            }
            let row = client
                .query_one(
                    "INSERT INTO feeds (origin_url, url, host, source, title, schedule, extract, headers, tags, created_at)
                     VALUES ($1, $1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (origin_url) DO UPDATE SET origin_url = excluded.origin_url
                     RETURNING id, (xmax = 0)",
                    &[
                        &url,
                        &host_of(url),
                        &source.as_str(),
                        &settings.title,
                        &settings.schedule,
                        &settings.extract,
                        &json(&settings.headers),
                        &json(&settings.tags),
                        &now,
                    ],
                )
                .await?;
            Ok((row.try_get(0)?, row.try_get(1)?))
        })
    }

    pub fn disable_feed(&self, url: &str) -> Result<bool, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let n = client
                .execute(
                    "UPDATE feeds SET state = 'disabled' WHERE origin_url = $1 OR url = $1",
                    &[&url],
                )
                .await?;
            Ok(n > 0)
        })
    }

    pub fn list_feeds(&self) -> Result<Vec<Feed>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query(
                    &format!("SELECT {FEED_COLUMNS} FROM feeds ORDER BY id"),
                    &[],
                )
                .await?;
            rows.iter().map(feed_from_row).collect()
        })
    }

    pub fn feed_by_url(&self, url: &str) -> Result<Option<Feed>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let row = client
                .query_opt(
                    &format!("SELECT {FEED_COLUMNS} FROM feeds WHERE origin_url = $1 OR url = $1 ORDER BY id LIMIT 1"),
                    &[&url],
                )
                .await?;
            row.as_ref().map(feed_from_row).transpose()
        })
    }

    pub fn feed(&self, id: FeedId) -> Result<Feed, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let row = client
                .query_opt(
                    &format!("SELECT {FEED_COLUMNS} FROM feeds WHERE id = $1"),
                    &[&id],
                )
                .await?;
            match row {
                Some(row) => feed_from_row(&row),
                None => Err(PgError::Store(StoreError::NotFound(format!(
                    "no feed with id {id}"
                )))),
            }
        })
    }

    /// Claims up to `limit` due feeds for this worker (and returns those it holds already),
    /// earliest first, skipping `exclude`. A host never has more than `per_host` feeds claimed
    /// at once across all workers; claims serialize on an advisory lock for that count.
    pub fn due_feeds(
        &self,
        now: UnixTime,
        limit: usize,
        exclude: &[FeedId],
    ) -> Result<Vec<Feed>, StoreError> {
        let lease_until = now + self.lease_secs();
        let per_host = self.options.per_host.max(1) as i64;
        // `tidings poll` asks for every due feed.
        let limit = limit.min(1_000_000) as i64;
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CLAIM_LOCK]).await?;
            // The feeds in flight here (`exclude`) keep their claims: a heartbeat that stops
            // when this worker dies.
            tx.execute(
                "UPDATE feeds SET claim_until = $3 WHERE claimed_by = $2 AND id = ANY($1)",
                &[&exclude, &self.worker, &lease_until],
            )
            .await?;
            let claim = tx
                .prepare_cached(&format!(
                    "WITH busy AS (
                         SELECT host, count(*) AS n FROM feeds
                          WHERE claim_until > $1 AND claimed_by IS DISTINCT FROM $2 GROUP BY host),
                     candidates AS (
                         SELECT f.id, f.host, f.next_poll_at, coalesce(b.n, 0) AS busy
                           FROM feeds f LEFT JOIN busy b ON b.host = f.host
                          WHERE f.state = 'active' AND f.next_poll_at <= $1
                            AND (f.claim_until IS NULL OR f.claim_until <= $1 OR f.claimed_by = $2)
                            AND NOT (f.id = ANY($5))
                          ORDER BY f.next_poll_at, f.id
                          LIMIT $4::bigint * 8),
                     ranked AS (
                         SELECT id, next_poll_at, busy,
                                row_number() OVER (PARTITION BY host ORDER BY next_poll_at, id) AS nth
                           FROM candidates),
                     chosen AS (
                         SELECT id FROM ranked WHERE busy + nth <= $6
                          ORDER BY next_poll_at, id LIMIT $4::bigint)
                     UPDATE feeds SET claimed_by = $2, claim_until = $3
                       FROM chosen WHERE feeds.id = chosen.id
                     RETURNING {FEED_COLUMNS}"
                ))
                .await?;
            let rows = tx
                .query(
                    &claim,
                    &[&now, &self.worker, &lease_until, &limit, &exclude, &per_host],
                )
                .await?;
            tx.commit().await?;
            let mut feeds = rows.iter().map(feed_from_row).collect::<PgResult<Vec<_>>>()?;
            feeds.sort_by_key(|f| (f.next_poll_at, f.id));
            Ok(feeds)
        })
    }

    /// The earliest time an active feed is due and free for this worker: a feed another
    /// worker holds counts from the end of its claim.
    pub fn next_due_at(&self) -> Result<Option<UnixTime>, StoreError> {
        let now = chrono::Utc::now().timestamp();
        self.run(async {
            let client = self.client().await?;
            let row = client
                .query_one(
                    "SELECT min(CASE WHEN claim_until > $1 AND claimed_by IS DISTINCT FROM $2
                                     THEN greatest(next_poll_at, claim_until) ELSE next_poll_at END)
                     FROM feeds WHERE state = 'active'",
                    &[&now, &self.worker],
                )
                .await?;
            Ok(row.try_get(0)?)
        })
    }

    pub fn advance_next_poll(&self, id: FeedId, at: UnixTime) -> Result<bool, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let n = client
                .execute(
                    "UPDATE feeds SET next_poll_at = $2
                     WHERE id = $1 AND state = 'active' AND next_poll_at > $2",
                    &[&id, &at],
                )
                .await?;
            Ok(n > 0)
        })
    }

    pub fn make_all_due(&self) -> Result<usize, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let n = client
                .execute(
                    "UPDATE feeds SET next_poll_at = 0 WHERE state = 'active'",
                    &[],
                )
                .await?;
            Ok(n as usize)
        })
    }

    pub fn feed_problems(&self, now: UnixTime) -> Result<Vec<FeedProblem>, StoreError> {
        let rows = self.run(async {
            let client = self.client().await?;
            let rows = client.query(PROBLEM_QUERY, &[]).await?;
            rows.iter()
                .map(problem_facts_from_row)
                .collect::<PgResult<Vec<_>>>()
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|facts| facts.problem(now))
            .collect())
    }
}

/// Writes a feed's fetch state inside the refresh transaction and releases its claim.
pub(super) async fn write_fetch_state(
    tx: &deadpool_postgres::Transaction<'_>,
    feed: &Feed,
) -> PgResult<()> {
    let stmt = tx
        .prepare_cached(
            "UPDATE feeds SET url = $2, previous_url = $3, state = $4, feed_title = $5, site_url = $6,
                etag = $7, last_modified = $8, next_poll_at = $9, last_polled_at = $10, last_success_at = $11,
                last_status = $12, last_result = $13, consecutive_errors = $14, last_error = $15,
                redirect_url = $16, redirect_seen = $17, host = $18, entries_skipped = $19,
                url_changed_at = CASE WHEN url != $2 THEN $10 ELSE url_changed_at END,
                claimed_by = NULL, claim_until = NULL
             WHERE id = $1",
        )
        .await?;
    let params: [&(dyn ToSql + Sync); 19] = [
        &feed.id,
        &feed.url,
        &feed.previous_url,
        &feed.state.as_str(),
        &feed.feed_title,
        &feed.site_url,
        &feed.etag,
        &feed.last_modified,
        &feed.next_poll_at,
        &feed.last_polled_at,
        &feed.last_success_at,
        &feed.last_status.map(i64::from),
        &feed.last_result,
        &i64::from(feed.consecutive_errors),
        &feed.last_error,
        &feed.redirect_url,
        &i64::from(feed.redirect_seen),
        &host_of(&feed.url),
        &i64::from(feed.entries_skipped),
    ];
    tx.execute(&stmt, &params).await?;
    Ok(())
}
