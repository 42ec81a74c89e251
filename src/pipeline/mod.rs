//! The one orchestrator: refreshes a feed (fetch → parse → decide the next poll → store) and
//! knows the order of stages. Holds no SQL and no HTTP details.

use std::sync::{Arc, RwLock};

use chrono::Utc;

use crate::config::Config;
use crate::fetch::{FetchError, FetchOutcome, FetchRequest, Fetcher, ResponseMeta};
use crate::model::{Feed, FeedState, ItemId, StoredCounts};
use crate::parse::{ParsedFeed, parse_response};
use crate::scheduler::{PollPlan, Schedule, ServerHints, next_poll_at};
use crate::store::{Store, StoreError};

pub mod articles;
pub mod matching;

/// Bodies above this size are parsed one at a time.
const LARGE_BODY_BYTES: usize = 1024 * 1024;
static LARGE_BODIES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Fetched feeds being parsed and stored at once: the cores, plus one.
static SETTLE_SLOTS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    tokio::sync::Semaphore::new(cores + 1)
});

/// Polls after which a permanent redirect is believed and the feed's URL updated.
pub const REDIRECT_POLLS_TO_LEARN: u32 = 3;

/// What the stages share.
pub struct Context {
    /// The config in force; swapped whole on reload (SIGHUP). Read it with `config()`.
    config: RwLock<Arc<Config>>,
    pub store: Arc<Store>,
    /// The client for feeds.
    pub fetcher: Fetcher,
    /// The same client with the page body cap, for article pages.
    pub page_fetcher: Fetcher,
}

impl Context {
    pub fn new(
        config: Config,
        store: Arc<Store>,
        fetcher: Fetcher,
        page_fetcher: Fetcher,
    ) -> Context {
        Context {
            config: RwLock::new(Arc::new(config)),
            store,
            fetcher,
            page_fetcher,
        }
    }

    /// The config in force now. Work that started keeps the config it started with.
    pub fn config(&self) -> Arc<Config> {
        // A panic while holding the lock cannot leave a half-written Arc behind.
        self.config
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Puts `config` in force for work that starts from now on (config reload).
    pub fn set_config(&self, config: Arc<Config>) {
        *self
            .config
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = config;
    }
}

/// The result of one feed refresh, for logs and `tidings poll`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RefreshReport {
    pub feed_id: i64,
    pub url: String,
    /// ok | not-modified | slow-down | gone | error
    pub result: String,
    pub status: Option<u16>,
    pub counts: StoredCounts,
    /// Entries of the document that could not be read and were left out (each is logged).
    pub entries_skipped: usize,
    pub error: Option<String>,
    #[serde(skip)]
    pub new_item_ids: Vec<ItemId>,
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("refresh task for feed {0} failed: {1}")]
    Task(i64, String),
}

/// Refreshes one feed and commits the outcome. Fetch and parse failures are recorded on the
/// feed (and reported), not returned: only a store failure is an error here. `fetched` is
/// called once the answer is in, before it is parsed and stored: the dispatcher then gives the
/// feed's fetch slot and host slot to the next feed. `last_for_host`: no other feed of its
/// host is waiting, so its connection is not kept for one.
pub async fn refresh_feed(
    ctx: &Context,
    feed: Feed,
    last_for_host: bool,
    fetched: impl FnOnce(),
) -> Result<RefreshReport, RefreshError> {
    let request = FetchRequest {
        trust_origin: true,
        etag: feed.etag.as_deref(),
        last_modified: feed.last_modified.as_deref(),
        headers: &feed.settings.headers,
        last_for_host,
    };
    let outcome = ctx.fetcher.fetch(&feed.url, &request).await;
    fetched();
    // On SQLite parsing and storing take CPU and the one writer: as many at once as there are
    // cores (plus one to cover a commit's fsync), however many fetches run. More at once only
    // made threads wait on the writer holding parsed feeds in memory. On PostgreSQL a refresh
    // mostly waits for the server, and the connection pool bounds how many store at once.
    let _settling = if ctx.store.is_postgres() {
        None
    } else {
        SETTLE_SLOTS.acquire().await.ok()
    };
    // Parsing holds several times a body's size in memory: large bodies take turns, which
    // bounds the peak however many refreshes run at once.
    let large = matches!(&outcome, Ok(FetchOutcome::Fetched(b)) if b.body.len() > LARGE_BODY_BYTES);
    let _turn = if large {
        LARGE_BODIES.acquire().await.ok()
    } else {
        None
    };
    let fetched = outcome;
    let config = ctx.config();
    let store = ctx.store.clone();
    let feed_id = feed.id;
    tokio::task::spawn_blocking(move || settle(&config, &store, feed, fetched))
        .await
        .map_err(|e| RefreshError::Task(feed_id, e.to_string()))?
}

/// Parses what was fetched, decides the feed's new state and commits it with the items.
fn settle(
    config: &Config,
    store: &Store,
    mut feed: Feed,
    fetched: Result<FetchOutcome, FetchError>,
) -> Result<RefreshReport, RefreshError> {
    let now = Utc::now();
    // Items of a feed's first successful poll are old news: stored, matched, not delivered.
    let first_poll = feed.last_success_at.is_none() && feed.item_count == 0;
    feed.last_polled_at = Some(now.timestamp());
    let mut hints = ServerHints::default();
    let mut slow_down = false;
    let mut parsed: Option<ParsedFeed> = None;

    let failure: Option<(String, Option<u16>)> = match fetched {
        Ok(FetchOutcome::Fetched(body)) => {
            absorb_meta(&mut feed, &body.meta, &mut hints);
            match parse_response(
                &body.body,
                &body.meta.final_url,
                body.content_type.as_deref(),
            ) {
                Ok(p) => {
                    if let Some(total) = p.truncated_from {
                        tracing::warn!(feed_id = feed.id, url = %feed.url, entries = total, kept = crate::parse::MAX_ENTRIES, "feed has too many entries; kept the first ones");
                    }
                    for repair in &p.repairs {
                        tracing::info!(feed_id = feed.id, url = %feed.url, repair = %repair, "feed-rs rejected the document as served; repaired");
                    }
                    for skipped in &p.skipped {
                        tracing::warn!(feed_id = feed.id, url = %feed.url, entry = skipped.index, id = %skipped.label, error = %skipped.reason, "entry skipped: it could not be read (the other entries were stored)");
                    }
                    feed.entries_skipped = u32::try_from(p.skipped.len()).unwrap_or(u32::MAX);
                    feed.etag = body.meta.etag.clone();
                    feed.last_modified = body.meta.last_modified.clone();
                    if p.meta.title.is_some() {
                        feed.feed_title = p.meta.title.clone();
                    }
                    if p.meta.site_url.is_some() {
                        feed.site_url = p.meta.site_url.clone();
                    }
                    hints.ttl = p
                        .meta
                        .ttl_minutes
                        .map(|m| std::time::Duration::from_secs(u64::from(m) * 60));
                    parsed = Some(p);
                    feed.last_result = Some("ok".into());
                    None
                }
                Err(e) => Some((e.to_string(), Some(body.meta.status))),
            }
        }
        Ok(FetchOutcome::NotModified { meta }) => {
            absorb_meta(&mut feed, &meta, &mut hints);
            if meta.etag.is_some() {
                feed.etag = meta.etag.clone();
            }
            if meta.last_modified.is_some() {
                feed.last_modified = meta.last_modified.clone();
            }
            feed.last_result = Some("not-modified".into());
            None
        }
        Ok(FetchOutcome::SlowDown { meta, .. }) => {
            absorb_meta(&mut feed, &meta, &mut hints);
            slow_down = true;
            feed.last_result = Some("slow-down".into());
            None
        }
        Ok(FetchOutcome::Gone { meta }) => {
            absorb_meta(&mut feed, &meta, &mut hints);
            feed.state = FeedState::Gone;
            feed.last_result = Some("gone".into());
            feed.last_error = Some(format!(
                "{}: HTTP 410 Gone; polling stopped",
                meta.final_url
            ));
            None
        }
        Err(e) => Some((
            e.to_string(),
            match &e {
                FetchError::Status { status, .. } => Some(*status),
                _ => None,
            },
        )),
    };

    match &failure {
        Some((message, status)) => {
            feed.consecutive_errors += 1;
            feed.last_error = Some(message.clone());
            feed.last_result = Some("error".into());
            feed.last_status = *status;
            tracing::warn!(feed_id = feed.id, url = %feed.url, errors = feed.consecutive_errors, error = %message, "feed refresh failed");
        }
        None if !slow_down => {
            feed.consecutive_errors = 0;
            if feed.state != FeedState::Gone {
                feed.last_error = None;
            }
            feed.last_success_at = Some(now.timestamp());
        }
        None => {}
    }

    let schedule = feed_schedule(config, &feed);
    feed.next_poll_at = next_poll_at(
        now,
        &PollPlan {
            schedule: &schedule,
            offset_key: &feed.origin_url,
            hints,
            max_hint: config.schedule.max_hint,
            consecutive_errors: feed.consecutive_errors,
            backoff_base: config.schedule.error_backoff_base,
            backoff_max: config.schedule.error_backoff_max,
            slow_down,
        },
    );

    let (counts, new_item_ids) = match &parsed {
        Some(p) => store.commit_refresh(&feed, &p.items, first_poll, now.timestamp())?,
        None => {
            store.record_fetch_state(&feed)?;
            (StoredCounts::default(), Vec::new())
        }
    };
    let result = feed.last_result.clone().unwrap_or_default();
    if failure.is_none() {
        tracing::info!(
            feed_id = feed.id,
            url = %feed.url,
            status = feed.last_status,
            result = %result,
            new = counts.new,
            updated = counts.updated,
            skipped = parsed.as_ref().map_or(0, |p| p.skipped.len()),
            "feed refreshed"
        );
    }
    Ok(RefreshReport {
        feed_id: feed.id,
        url: feed.url.clone(),
        result,
        status: feed.last_status,
        counts,
        entries_skipped: parsed.as_ref().map_or(0, |p| p.skipped.len()),
        error: failure.map(|(m, _)| m).or_else(|| {
            (feed.state == FeedState::Gone)
                .then(|| feed.last_error.clone())
                .flatten()
        }),
        new_item_ids,
    })
}

/// Takes the status, server hints and redirect news of any answer.
fn absorb_meta(feed: &mut Feed, meta: &ResponseMeta, hints: &mut ServerHints) {
    feed.last_status = Some(meta.status);
    *hints = meta.hints;
    learn_redirect(feed, meta.permanent_redirect.as_deref());
}

/// A permanent redirect moves the feed only after `REDIRECT_POLLS_TO_LEARN` polls in a row
/// saw the same one; the old URL is kept as `previous_url`.
pub fn learn_redirect(feed: &mut Feed, permanent: Option<&str>) {
    match permanent {
        Some(target) if target != feed.url => {
            if feed.redirect_url.as_deref() == Some(target) {
                feed.redirect_seen += 1;
            } else {
                feed.redirect_url = Some(target.to_string());
                feed.redirect_seen = 1;
            }
            if feed.redirect_seen >= REDIRECT_POLLS_TO_LEARN {
                tracing::info!(feed_id = feed.id, from = %feed.url, to = %target, "learned permanent redirect");
                feed.previous_url = Some(std::mem::replace(&mut feed.url, target.to_string()));
                feed.redirect_url = None;
                feed.redirect_seen = 0;
            }
        }
        _ => {
            feed.redirect_url = None;
            feed.redirect_seen = 0;
        }
    }
}

/// The feed's own schedule, else the global default. A schedule stored in the database that no
/// longer parses falls back to the default (it was validated when added).
pub fn feed_schedule(config: &Config, feed: &Feed) -> Schedule {
    feed.settings
        .schedule
        .as_deref()
        .and_then(|expr| Schedule::parse(expr, &config.schedule.timezone).ok())
        .unwrap_or_else(|| config.schedule.default.clone())
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{url} answered HTTP {status}, not a feed or a page")]
    NoBody { url: String, status: u16 },
    #[error(
        "{url} is neither a feed nor a page that links to one (no <link rel=\"alternate\"> feed)"
    )]
    NoFeed { url: String },
}

/// For `feeds add`: returns `url` if it serves a feed, else the first feed the page at `url`
/// links to with `<link rel="alternate">`.
pub async fn resolve_feed_url(
    fetcher: &Fetcher,
    url: &url::Url,
    headers: &[(String, String)],
) -> Result<url::Url, DiscoverError> {
    // The owner typed this URL: it is trusted at its host and port, like a feed.
    let request = FetchRequest {
        trust_origin: true,
        headers,
        ..FetchRequest::default()
    };
    let body = match fetcher.fetch(url.as_str(), &request).await? {
        FetchOutcome::Fetched(body) => body,
        FetchOutcome::NotModified { meta }
        | FetchOutcome::SlowDown { meta, .. }
        | FetchOutcome::Gone { meta } => {
            return Err(DiscoverError::NoBody {
                url: url.to_string(),
                status: meta.status,
            });
        }
    };
    if crate::discover::looks_like_feed(&body.body, body.content_type.as_deref()) {
        return Ok(url.clone());
    }
    let page_url = url::Url::parse(&body.meta.final_url).unwrap_or_else(|_| url.clone());
    let html = String::from_utf8_lossy(&body.body);
    crate::discover::discover_feeds(&html, &page_url)
        .into_iter()
        .next()
        .map(|found| found.url)
        .ok_or_else(|| DiscoverError::NoFeed {
            url: url.to_string(),
        })
}
