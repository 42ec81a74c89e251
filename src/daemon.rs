//! Wiring and the polling loop: picks due feeds within the global and per-host limits, runs
//! their refreshes, and stops cleanly on SIGTERM/SIGINT.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, DatabaseLocation};
use crate::fetch::Fetcher;
use crate::model::{Feed, FeedId};
use crate::pipeline::{Context, RefreshReport, refresh_feed};
use crate::store::Store;

/// How long the loop sleeps at most between looks at the database.
const IDLE_TICK: Duration = Duration::from_secs(5);

/// Opens the database and syncs the config's feeds into it.
pub fn open_context(config: Config) -> anyhow::Result<Context> {
    let DatabaseLocation::Sqlite(path) = &config.database;
    let store = Store::open(path)?;
    let (added, disabled) =
        store.sync_config_feeds(&config.feeds, chrono::Utc::now().timestamp())?;
    if added > 0 || disabled > 0 {
        tracing::info!(added, disabled, "synced feeds from the config");
    }
    let fetcher = Fetcher::new(&config.fetch)?;
    let page_fetcher = Fetcher::new(&crate::config::FetchConfig {
        max_body_bytes: config.extract.max_page_bytes,
        per_host: config.extract.per_host,
        ..config.fetch.clone()
    })?;
    crate::pipeline::matching::apply_topic_changes(&config, &store)?;
    Ok(Context {
        config: Arc::new(config),
        store: Arc::new(store),
        fetcher,
        page_fetcher,
    })
}

/// Tracks refreshes in flight against the global and per-host limits.
struct Dispatcher {
    ctx: Arc<Context>,
    tracker: TaskTracker,
    in_flight: HashSet<FeedId>,
    per_host: HashMap<String, usize>,
    done_tx: mpsc::UnboundedSender<(FeedId, String, Option<RefreshReport>)>,
    done_rx: mpsc::UnboundedReceiver<(FeedId, String, Option<RefreshReport>)>,
}

impl Dispatcher {
    fn new(ctx: Arc<Context>) -> Dispatcher {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        Dispatcher {
            ctx,
            tracker: TaskTracker::new(),
            in_flight: HashSet::new(),
            per_host: HashMap::new(),
            done_tx,
            done_rx,
        }
    }

    fn has_room(&self) -> bool {
        self.in_flight.len() < self.ctx.config.fetch.concurrency
    }

    /// Starts refreshing `feed` unless its host is at its limit; returns whether it started.
    fn try_start(&mut self, feed: Feed) -> bool {
        let host = host_of(&feed.url);
        let busy = self.per_host.get(&host).copied().unwrap_or(0);
        if busy >= self.ctx.config.fetch.per_host || self.in_flight.contains(&feed.id) {
            return false;
        }
        *self.per_host.entry(host.clone()).or_default() += 1;
        self.in_flight.insert(feed.id);
        let ctx = self.ctx.clone();
        let done = self.done_tx.clone();
        self.tracker.spawn(async move {
            let id = feed.id;
            let report = match refresh_feed(&ctx, feed).await {
                Ok(report) => Some(report),
                Err(e) => {
                    tracing::error!(feed_id = id, error = %e, "could not record feed refresh");
                    None
                }
            };
            let _ = done.send((id, host, report));
        });
        true
    }

    fn finish(&mut self, id: FeedId, host: &str) {
        self.in_flight.remove(&id);
        if let Some(n) = self.per_host.get_mut(host) {
            *n -= 1;
            if *n == 0 {
                self.per_host.remove(host);
            }
        }
    }

    /// Waits until in-flight refreshes end or `grace` passes; whatever is still running then is
    /// dropped (an uncommitted transaction rolls back).
    async fn drain(mut self, grace: Duration) -> Vec<RefreshReport> {
        self.tracker.close();
        let mut reports = Vec::new();
        let deadline = tokio::time::Instant::now() + grace;
        while !self.in_flight.is_empty() {
            match tokio::time::timeout_at(deadline, self.done_rx.recv()).await {
                Ok(Some((id, host, report))) => {
                    self.finish(id, &host);
                    reports.extend(report);
                }
                _ => {
                    tracing::warn!(
                        in_flight = self.in_flight.len(),
                        "shutdown grace over; abandoning refreshes in flight"
                    );
                    break;
                }
            }
        }
        reports
    }
}

fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0)))
        })
        .unwrap_or_default()
}

/// Polls each of `feeds` once, within the limits, and returns what happened (`tidings poll`).
pub async fn poll_once(
    ctx: Arc<Context>,
    feeds: Vec<Feed>,
    cancel: CancellationToken,
) -> Vec<RefreshReport> {
    let mut dispatcher = Dispatcher::new(ctx.clone());
    let mut waiting: std::collections::VecDeque<Feed> = feeds.into();
    let mut reports = Vec::new();
    while !waiting.is_empty() || !dispatcher.in_flight.is_empty() {
        // Start what the limits allow, keeping the order; feeds of a busy host wait.
        let mut skipped = std::collections::VecDeque::new();
        while dispatcher.has_room() {
            let Some(feed) = waiting.pop_front() else {
                break;
            };
            if !dispatcher.try_start(feed.clone()) {
                skipped.push_back(feed);
            }
        }
        skipped.extend(waiting.drain(..));
        waiting = skipped;
        tokio::select! {
            Some((id, host, report)) = dispatcher.done_rx.recv() => {
                dispatcher.finish(id, &host);
                reports.extend(report);
            }
            _ = cancel.cancelled() => {
                reports.extend(dispatcher.drain(ctx.config.shutdown_grace).await);
                return reports;
            }
        }
    }
    reports
}

/// The daemon: polls due feeds until `cancel` fires, then lets refreshes in flight finish
/// (within the shutdown grace) and returns.
pub async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> anyhow::Result<()> {
    let mut dispatcher = Dispatcher::new(ctx.clone());
    tracing::info!(database = %ctx.store.path().display(), "tidings running");
    let stages_wake = Arc::new(tokio::sync::Notify::new());
    let stages = tokio::spawn(run_stages(ctx.clone(), stages_wake.clone(), cancel.clone()));
    let api = ctx.config.api.clone().map(|api| {
        let (ctx, cancel) = (ctx.clone(), cancel.clone());
        tokio::spawn(async move {
            if let Err(e) = crate::api::serve(ctx, api.listen, api.token, cancel).await {
                tracing::error!(error = %e, "the HTTP API stopped");
            }
        })
    });
    loop {
        if dispatcher.has_room() {
            let store = ctx.store.clone();
            let exclude: Vec<FeedId> = dispatcher.in_flight.iter().copied().collect();
            let want = ctx.config.fetch.concurrency * 4;
            let now = chrono::Utc::now().timestamp();
            let due =
                tokio::task::spawn_blocking(move || store.due_feeds(now, want, &exclude)).await??;
            for feed in due {
                if !dispatcher.has_room() {
                    break;
                }
                dispatcher.try_start(feed);
            }
        }
        let sleep_for = if dispatcher.has_room() {
            let store = ctx.store.clone();
            let next = tokio::task::spawn_blocking(move || store.next_due_at()).await??;
            let now = chrono::Utc::now().timestamp();
            match next {
                Some(t) if t > now => Duration::from_secs((t - now) as u64).min(IDLE_TICK),
                Some(_) => Duration::from_millis(200),
                None => IDLE_TICK,
            }
        } else {
            IDLE_TICK
        };
        tokio::select! {
            Some((id, host, report)) = dispatcher.done_rx.recv() => {
                dispatcher.finish(id, &host);
                if report.is_some_and(|r| r.counts.new + r.counts.updated > 0) {
                    stages_wake.notify_one();
                }
            }
            _ = tokio::time::sleep(sleep_for) => {}
            _ = cancel.cancelled() => break,
        }
    }
    tracing::info!(in_flight = dispatcher.in_flight.len(), "shutting down");
    let grace = ctx.config.shutdown_grace;
    dispatcher.drain(grace).await;
    if let Some(api) = api {
        let _ = tokio::time::timeout(grace, api).await;
    }
    if tokio::time::timeout(grace, stages).await.is_err() {
        tracing::warn!(
            "article extraction did not stop within the shutdown grace; pending pages stay queued"
        );
    }
    Ok(())
}

/// How often the stages look for work even when nothing woke them (retries come due).
const STAGES_TICK: Duration = Duration::from_secs(30);

/// The stages after a refresh, in order: match new items on their feed text, extract their
/// articles, match again on the article text. Woken by new items; the database is the queue.
async fn run_stages(ctx: Arc<Context>, wake: Arc<tokio::sync::Notify>, cancel: CancellationToken) {
    loop {
        if let Err(e) = process_items(&ctx, &cancel, true).await {
            tracing::error!(error = %e, "processing new items failed; will retry");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(STAGES_TICK) => {}
            _ = cancel.cancelled() => return,
        }
    }
}

/// Matches, extracts and matches again whatever is waiting. Returns (pages, new matches).
pub async fn process_items(
    ctx: &Arc<Context>,
    cancel: &CancellationToken,
    extract: bool,
) -> anyhow::Result<(usize, usize)> {
    let match_now = |ctx: Arc<Context>| async move {
        let matched = tokio::task::spawn_blocking(move || {
            crate::pipeline::matching::match_pending(&ctx.config, &ctx.store)
        })
        .await?;
        anyhow::Ok(matched?)
    };
    let mut new_matches = match_now(ctx.clone()).await?.len();
    let mut pages = 0;
    if extract {
        pages = crate::pipeline::articles::extract_pending(ctx, cancel).await?;
        if pages > 0 {
            new_matches += match_now(ctx.clone()).await?.len();
        }
    }
    Ok((pages, new_matches))
}

/// Cancels `token` on SIGTERM or SIGINT.
pub fn cancel_on_signals(token: CancellationToken) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = int.recv() => tracing::info!("SIGINT received"),
        }
        token.cancel();
    });
    Ok(())
}
