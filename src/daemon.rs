//! Wiring and the polling loop: picks due feeds within the global and per-host limits, runs
//! their refreshes, reloads the config on SIGHUP, tells systemd how it is doing (`service`),
//! and stops cleanly on SIGTERM/SIGINT.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, FetchConfig};
use crate::fetch::Fetcher;
use crate::model::{Feed, FeedId};
use crate::pipeline::{Context, RefreshReport, refresh_feed};
use crate::scheduler::host_queue::{HostId, HostQueues, host_of};
use crate::service::Liveness;
use crate::store::{Store, WorkerOptions};

/// How long the loop sleeps at most between looks at the database.
const IDLE_TICK: Duration = Duration::from_secs(5);

/// Opens the database, trains the topics' learned layers on their labels and syncs the
/// config's feeds and topics into it.
pub fn open_context(mut config: Config) -> anyhow::Result<Context> {
    let store = open_store(&config)?;
    crate::pipeline::matching::train_topics(&mut config, &store)?;
    prepare_store(&config, &store)?;
    context(config, store)
}

/// For `tidings status`: as [`open_context`], but when the database cannot take writes now
/// (its disk full, its write lock held elsewhere) it is only read, and why is returned to be
/// shown; the config's feeds are synced when it can.
pub fn open_context_to_read(mut config: Config) -> anyhow::Result<(Context, Option<String>)> {
    let store = open_store(&config)?;
    let problem = store.write_problem()?;
    crate::pipeline::matching::train_topics(&mut config, &store)?;
    match &problem {
        None => prepare_store(&config, &store)?,
        Some(problem) => tracing::warn!(
            problem = %problem,
            "the database cannot take writes now; showing it as it is (the config's feeds are not synced)"
        ),
    }
    Ok((context(config, store)?, problem))
}

fn open_store(config: &Config) -> anyhow::Result<Store> {
    Ok(Store::open_location(
        &config.database,
        WorkerOptions {
            lease: config.claim_lease,
            per_host: config.fetch.per_host,
        },
    )?)
}

/// The writes every command starts with: the config's feeds synced, topic changes applied.
fn prepare_store(config: &Config, store: &Store) -> anyhow::Result<()> {
    let (added, disabled) =
        store.sync_config_feeds(&config.feeds, chrono::Utc::now().timestamp())?;
    if added > 0 || disabled > 0 {
        tracing::info!(added, disabled, "synced feeds from the config");
    }
    crate::pipeline::matching::apply_topic_changes(config, store)?;
    Ok(())
}

fn context(config: Config, store: Store) -> anyhow::Result<Context> {
    let fetcher = Fetcher::new(&config.fetch)?;
    let page_fetcher = Fetcher::new(&crate::config::FetchConfig {
        max_body_bytes: config.extract.max_page_bytes,
        per_host: config.extract.per_host,
        ..config.fetch.clone()
    })?;
    Ok(Context::new(config, Arc::new(store), fetcher, page_fetcher))
}

/// What a refresh tells the dispatcher: its answer is in (the fetch and host slots are free),
/// then it is stored (the feed may start again), with its report unless the store failed.
enum RefreshEvent {
    Fetched {
        host: HostId,
    },
    Finished {
        id: FeedId,
        report: Option<RefreshReport>,
        /// The store could not take the refresh for a reason that passes (disk full, write
        /// lock held elsewhere): what it said.
        store_unavailable: Option<String>,
    },
}

/// The first pause after the database refused writes; each pause that follows a resume
/// without a refresh stored in between doubles it.
const STORE_PAUSE_FIRST: Duration = Duration::from_secs(1);
const STORE_PAUSE_MAX: Duration = Duration::from_secs(30);
/// While paused, how often the database is asked whether it takes writes again.
const STORE_PROBE_EVERY: Duration = Duration::from_secs(1);

/// No refresh starts while the database cannot take writes (its disk full, its write lock
/// held by another process): fetching feeds whose items cannot be stored only costs their
/// servers. Polling resumes when the pause is over and a probe finds the database writable;
/// feeds not refreshed meanwhile are still due then, and what was stored stays stored.
#[derive(Debug)]
struct StorePause {
    since: std::time::Instant,
    /// No probe before this.
    until: std::time::Instant,
    /// What the database said last.
    reason: String,
}

/// Starts refreshes within the global and per-host limits. Feeds wait in a queue per host
/// (their `host:port` read once, when they are queued); hosts with a free slot take turns, so
/// every decision is O(1) however many feeds share a host (issue 16: rescanning the waiting
/// feeds and parsing their URLs on every decision made a poll of feeds on one host
/// quadratic). The limits count fetches: a feed whose answer is in leaves its slots to the
/// next while it is parsed and stored, so when storing is the bottleneck the network still
/// does its share (issue 8). Fetched feeds waiting to be stored are capped at the
/// concurrency too, which bounds memory.
struct Dispatcher {
    ctx: Arc<Context>,
    tracker: TaskTracker,
    /// Every feed started and not yet stored.
    in_flight: HashSet<FeedId>,
    /// Feeds waiting to start, per host; its running count is the requests on the wire.
    queue: HostQueues<Feed>,
    events_tx: mpsc::UnboundedSender<RefreshEvent>,
    events_rx: mpsc::UnboundedReceiver<RefreshEvent>,
    /// When the daemon loop reads due feeds again (see `schedule_due`).
    next_read_at: Option<std::time::Instant>,
    /// Whether the last read of due feeds was cut off by its limit (more may be due).
    last_read_full: bool,
    /// How many due feeds a read asks for, in multiples of the concurrency (see `schedule_due`).
    read_width: usize,
    /// When the claims of the feeds in flight were last renewed (PostgreSQL leases).
    claims_renewed_at: Option<std::time::Instant>,
    /// Set by the daemon's loop (never by `tidings poll`) while the database refuses writes.
    pause: Option<StorePause>,
    /// The next pause's length: doubles with each refusal in a row, back to the first after a
    /// refresh is stored.
    next_pause: Duration,
    /// The last "cannot store" a finished refresh reported, for the daemon's loop to act on.
    store_unavailable: Option<String>,
}

/// How long due feeds read from the store may wait in the dispatcher before they are read again.
const DUE_FRESH: Duration = Duration::from_secs(1);

/// Due feeds read at once, as multiples of the concurrency: normally, and while the feeds read
/// all wait on busy hosts with fetch slots free.
const NARROW_READ: usize = 4;
const WIDE_READ: usize = 64;

impl Dispatcher {
    fn new(ctx: Arc<Context>) -> Dispatcher {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let per_host = ctx.config().fetch.per_host;
        Dispatcher {
            ctx,
            tracker: TaskTracker::new(),
            in_flight: HashSet::new(),
            queue: HostQueues::new(per_host),
            events_tx,
            events_rx,
            next_read_at: None,
            last_read_full: false,
            read_width: NARROW_READ,
            claims_renewed_at: None,
            pause: None,
            next_pause: STORE_PAUSE_FIRST,
            store_unavailable: None,
        }
    }

    /// Whether the global limits leave room for another refresh.
    fn has_room(&self) -> bool {
        if self.pause.is_some() {
            return false;
        }
        let concurrency = self.ctx.config().fetch.concurrency;
        self.queue.running() < concurrency && self.in_flight.len() < 2 * concurrency
    }

    /// Queues `feed` behind the other waiting feeds of its host.
    fn enqueue(&mut self, feed: Feed) {
        let host = host_of(&feed.url);
        self.queue.push(&host, feed);
    }

    /// Starts waiting feeds, in turn across hosts, while the limits allow.
    fn start_ready(&mut self) {
        self.queue.set_per_host(self.ctx.config().fetch.per_host);
        while self.has_room() {
            let Some((host, feed)) = self.queue.start_next() else {
                return;
            };
            if !self.in_flight.insert(feed.id) {
                // Already being refreshed (queued twice): its slot goes back.
                self.queue.finish(host);
                continue;
            }
            // A host with nothing more queued does not keep an idle connection: with
            // thousands of hosts of one or two feeds each, idle connections and their buffers
            // set the peak memory of a poll (issue 16).
            let last_for_host = self.queue.waiting_on(host) == 0;
            let ctx = self.ctx.clone();
            let events = self.events_tx.clone();
            self.tracker.spawn(async move {
                let id = feed.id;
                let fetched = || {
                    let _ = events.send(RefreshEvent::Fetched { host });
                };
                let (report, store_unavailable) =
                    match refresh_feed(&ctx, feed, last_for_host, fetched).await {
                        Ok(report) => (Some(report), None),
                        Err(e) => {
                            tracing::error!(feed_id = id, error = %e, "could not record feed refresh; the feed stays due");
                            let unavailable = matches!(&e, crate::pipeline::RefreshError::Store(s) if s.is_unavailable());
                            (None, unavailable.then(|| e.to_string()))
                        }
                    };
                let _ = events.send(RefreshEvent::Finished {
                    id,
                    report,
                    store_unavailable,
                });
            });
        }
    }

    /// Applies one event; returns the report of a refresh that finished.
    fn handle(&mut self, event: RefreshEvent) -> Option<RefreshReport> {
        match event {
            RefreshEvent::Fetched { host } => {
                self.queue.finish(host);
                None
            }
            RefreshEvent::Finished {
                id,
                report,
                store_unavailable,
            } => {
                self.in_flight.remove(&id);
                if report.is_some() && self.pause.is_none() {
                    self.next_pause = STORE_PAUSE_FIRST;
                }
                if store_unavailable.is_some() {
                    self.store_unavailable = store_unavailable;
                }
                report
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
            match tokio::time::timeout_at(deadline, self.events_rx.recv()).await {
                Ok(Some(event)) => reports.extend(self.handle(event)),
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

/// Polls each of `feeds` once, within the limits, and returns what happened (`tidings poll`).
pub async fn poll_once(
    ctx: Arc<Context>,
    feeds: Vec<Feed>,
    cancel: CancellationToken,
) -> Vec<RefreshReport> {
    let mut dispatcher = Dispatcher::new(ctx.clone());
    for feed in feeds {
        dispatcher.enqueue(feed);
    }
    let mut reports = Vec::new();
    while dispatcher.queue.waiting() > 0 || !dispatcher.in_flight.is_empty() {
        dispatcher.start_ready();
        tokio::select! {
            Some(event) = dispatcher.events_rx.recv() => {
                reports.extend(dispatcher.handle(event));
            }
            _ = cancel.cancelled() => {
                reports.extend(dispatcher.drain(ctx.config().shutdown_grace).await);
                return reports;
            }
        }
    }
    reports
}

/// The daemon: polls due feeds until `cancel` fires, then lets refreshes in flight finish
/// (within the shutdown grace) and returns. Reloads the config on SIGHUP. Under systemd it
/// sends READY=1 once the scheduler runs, WATCHDOG=1 while it makes progress, STOPPING=1.
pub async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    // Installed before READY=1, so a reload request can never kill the process.
    let hangup = signal(SignalKind::hangup())?;
    let mut dispatcher = Dispatcher::new(ctx.clone());
    tracing::info!(database = %ctx.store.path().display(), "tidings running");
    let stages_wake = Arc::new(tokio::sync::Notify::new());
    let loop_wake = Arc::new(tokio::sync::Notify::new());
    let stages = tokio::spawn(run_stages(ctx.clone(), stages_wake.clone(), cancel.clone()));
    let notify = tokio::spawn(crate::notify::dispatch::run(ctx.clone(), cancel.clone()));
    let retention = tokio::spawn(run_retention(ctx.clone(), cancel.clone()));

    let liveness = Arc::new(Liveness::new());
    let service_tasks = TaskTracker::new();
    let service_cancel = cancel.child_token();
    let watchdog = crate::service::watchdog_interval();
    // The loop goes round at least this often, so its liveness tick stays fresh.
    let heartbeat = watchdog
        .map(|w| (w / 4).clamp(Duration::from_millis(10), IDLE_TICK))
        .unwrap_or(IDLE_TICK);
    if let Some(interval) = watchdog {
        tracing::info!(
            watchdog_ms = interval.as_millis() as u64,
            "systemd watchdog on"
        );
        service_tasks.spawn(crate::service::probe_writer(
            ctx.store.clone(),
            liveness.clone(),
            heartbeat,
            service_cancel.clone(),
        ));
        service_tasks.spawn(crate::service::watchdog(
            liveness.clone(),
            interval,
            service_cancel.clone(),
        ));
    }
    service_tasks.spawn(reload_on_hangup(
        ctx.clone(),
        hangup,
        vec![loop_wake.clone(), stages_wake.clone()],
        service_cancel.clone(),
    ));
    let api = match ctx.config().api.clone() {
        Some(api) => Some((api.listen, api.resolve_token()?)),
        None => None,
    };
    let api = api.map(|(listen, token)| {
        let (ctx, cancel) = (ctx.clone(), cancel.clone());
        tokio::spawn(async move {
            if let Err(e) = crate::api::serve(ctx, listen, token, cancel).await {
                tracing::error!(error = %e, "the HTTP API stopped");
            }
        })
    });

    let mut ready = false;
    loop {
        if dispatcher.pause.is_some() {
            let wait = watch_store_pause(&ctx, &mut dispatcher).await;
            liveness.scheduler_tick();
            if dispatcher.pause.is_some() {
                tokio::select! {
                    Some(event) = dispatcher.events_rx.recv() => {
                        dispatcher.handle(event);
                        if let Some(error) = dispatcher.store_unavailable.take() {
                            pause_for_store(&ctx, &mut dispatcher, error);
                        }
                    }
                    _ = tokio::time::sleep(wait.min(heartbeat)) => {}
                    _ = cancel.cancelled() => break,
                }
                continue;
            }
        }
        let sleep_for = match schedule_due(&ctx, &mut dispatcher).await {
            Ok(sleep_for) => {
                liveness.scheduler_tick();
                if !ready {
                    ready = true;
                    crate::service::ready(&running_status(&ctx.config()));
                }
                sleep_for.min(heartbeat)
            }
            Err(e) => {
                // No tick (and no READY=1 yet if this is the first round): while the database
                // stays unusable the watchdog stops pinging and systemd restarts the service.
                tracing::error!(error = %describe_error(&e), "cannot read due feeds; retrying");
                heartbeat
            }
        };
        tokio::select! {
            Some(event) = dispatcher.events_rx.recv() => {
                let report = dispatcher.handle(event);
                if report.is_some_and(|r| r.counts.new + r.counts.updated > 0) {
                    stages_wake.notify_one();
                }
                if let Some(error) = dispatcher.store_unavailable.take() {
                    pause_for_store(&ctx, &mut dispatcher, error);
                }
            }
            _ = loop_wake.notified() => {}
            _ = tokio::time::sleep(sleep_for) => {}
            _ = cancel.cancelled() => break,
        }
    }
    let in_flight = dispatcher.in_flight.len();
    tracing::info!(in_flight, "shutting down");
    crate::service::stopping(&format!("stopping: {in_flight} feed refreshes in flight"));
    service_cancel.cancel();
    let grace = ctx.config().shutdown_grace;
    let deadline = tokio::time::Instant::now() + grace;
    dispatcher.drain(grace).await;
    if let Some(api) = api {
        let _ = tokio::time::timeout_at(deadline, api).await;
    }
    let _ = tokio::time::timeout_at(deadline, retention).await;
    if tokio::time::timeout_at(deadline, notify).await.is_err() {
        tracing::warn!(
            "a delivery in flight did not finish within the shutdown grace; it stays pending"
        );
    }
    if tokio::time::timeout_at(deadline, stages).await.is_err() {
        tracing::warn!(
            "article extraction did not stop within the shutdown grace; pending pages stay queued"
        );
    }
    service_tasks.close();
    let _ = tokio::time::timeout_at(deadline, service_tasks.wait()).await;
    tracing::info!("stopped");
    Ok(())
}

/// The database refused a refresh for a reason that passes: no refresh starts for a while
/// (see [`StorePause`]). Says so in the log and to systemd.
fn pause_for_store(ctx: &Context, dispatcher: &mut Dispatcher, error: String) {
    let now = std::time::Instant::now();
    match &mut dispatcher.pause {
        // Refreshes that started before the pause fail one after another: the same refusal.
        Some(pause) => pause.reason = error,
        None => {
            let wait = dispatcher.next_pause;
            dispatcher.next_pause = (wait * 2).min(STORE_PAUSE_MAX);
            tracing::error!(
                database = %ctx.store.path().display(),
                error = %error,
                pause_ms = wait.as_millis() as u64,
                "the database cannot take writes; polling paused until it can (stored items are safe; feeds stay due)"
            );
            crate::service::ready(&format!("paused: the database cannot take writes: {error}"));
            dispatcher.pause = Some(StorePause {
                since: now,
                until: now + wait,
                reason: error,
            });
        }
    }
}

/// While polling is paused: once the pause is over, asks the database whether it takes
/// writes again, and resumes polling if it does. Returns how long to wait before asking again.
async fn watch_store_pause(ctx: &Arc<Context>, dispatcher: &mut Dispatcher) -> Duration {
    let Some(pause) = &mut dispatcher.pause else {
        return Duration::ZERO;
    };
    let now = std::time::Instant::now();
    if now < pause.until {
        return pause.until - now;
    }
    let store = ctx.store.clone();
    let problem = match tokio::task::spawn_blocking(move || store.write_problem()).await {
        Ok(Ok(problem)) => problem,
        Ok(Err(e)) => Some(e.to_string()),
        Err(e) => Some(e.to_string()),
    };
    match problem {
        Some(problem) => {
            if problem != pause.reason {
                tracing::warn!(
                    database = %ctx.store.path().display(),
                    problem = %problem,
                    paused_secs = pause.since.elapsed().as_secs(),
                    "the database still cannot take writes; polling stays paused"
                );
                crate::service::ready(&format!("paused: {problem}"));
                pause.reason = problem;
            }
            pause.until = now + STORE_PROBE_EVERY;
            STORE_PROBE_EVERY
        }
        None => {
            tracing::info!(
                database = %ctx.store.path().display(),
                paused_ms = pause.since.elapsed().as_millis() as u64,
                "the database takes writes again; polling resumes"
            );
            crate::service::ready(&running_status(&ctx.config()));
            dispatcher.pause = None;
            Duration::ZERO
        }
    }
}

/// Starts the refreshes that are due and the limits allow; returns how long the loop may
/// sleep before it should look again (a finished refresh wakes it sooner).
///
/// Due feeds are read in batches of four times the concurrency and kept for up to a second
/// (reading a batch after every finished refresh cost more CPU than the refreshes themselves,
/// issue 8). A batch is read again sooner only when it has all started and was cut off by
/// its limit (more feeds are due); otherwise the store is not asked more than once a second.
/// When every feed of a full batch waits on a busy host while fetch slots are free (the
/// earliest due feeds all on one host, as after importing a list of one site's feeds), the
/// next read is wider, so other hosts' feeds start beside them.
async fn schedule_due(ctx: &Arc<Context>, dispatcher: &mut Dispatcher) -> anyhow::Result<Duration> {
    let now = std::time::Instant::now();
    if !dispatcher.has_room() {
        if dispatcher
            .claims_renewed_at
            .is_none_or(|t| now.duration_since(t) >= DUE_FRESH)
        {
            // No room for new work, but the feeds in flight (some waiting to be stored) keep
            // their claims: on PostgreSQL a lease that lapses lets another worker poll them
            // again. Every read of due feeds renews them; this one reads none.
            let store = ctx.store.clone();
            let exclude: Vec<FeedId> = dispatcher.in_flight.iter().copied().collect();
            let now = chrono::Utc::now().timestamp();
            tokio::task::spawn_blocking(move || store.due_feeds(now, 0, &exclude)).await??;
            dispatcher.claims_renewed_at = Some(std::time::Instant::now());
        }
        return Ok(IDLE_TICK);
    }
    let stale = dispatcher.next_read_at.is_none_or(|t| now >= t);
    let ran_dry = dispatcher.queue.waiting() == 0 && dispatcher.last_read_full;
    if stale || ran_dry {
        let store = ctx.store.clone();
        let exclude: Vec<FeedId> = dispatcher.in_flight.iter().copied().collect();
        let want = ctx.config().fetch.concurrency * dispatcher.read_width;
        let now_unix = chrono::Utc::now().timestamp();
        let due = tokio::task::spawn_blocking(move || store.due_feeds(now_unix, want, &exclude))
            .await??;
        dispatcher.last_read_full = due.len() >= want;
        if !dispatcher.last_read_full {
            dispatcher.read_width = NARROW_READ;
        }
        dispatcher.claims_renewed_at = Some(now);
        // The fresh batch replaces what was waiting (feeds since disabled or rescheduled
        // drop out; on PostgreSQL, the claims just renewed).
        dispatcher.queue.clear_waiting();
        let read_any = !due.is_empty();
        for feed in due {
            dispatcher.enqueue(feed);
        }
        let wait = if read_any || !dispatcher.in_flight.is_empty() {
            DUE_FRESH
        } else {
            // Nothing due and nothing running: sleep until the next feed comes due.
            let store = ctx.store.clone();
            let next = tokio::task::spawn_blocking(move || store.next_due_at()).await??;
            let now_unix = chrono::Utc::now().timestamp();
            match next {
                Some(t) if t > now_unix => {
                    Duration::from_secs((t - now_unix) as u64).clamp(DUE_FRESH, IDLE_TICK)
                }
                Some(_) => DUE_FRESH,
                None => IDLE_TICK,
            }
        };
        dispatcher.next_read_at = Some(now + wait);
    }
    dispatcher.start_ready();
    if !dispatcher.has_room() {
        return Ok(IDLE_TICK);
    }
    let host_bound = dispatcher.queue.waiting() > 0 && !dispatcher.queue.has_ready();
    if host_bound && dispatcher.last_read_full && dispatcher.read_width < WIDE_READ {
        dispatcher.read_width = WIDE_READ;
        dispatcher.next_read_at = Some(now);
    }
    let next_read = dispatcher.next_read_at.unwrap_or(now);
    Ok(next_read.saturating_duration_since(std::time::Instant::now()))
}

/// The `STATUS=` line while running.
fn running_status(config: &Config) -> String {
    format!(
        "running: {} config feeds, {} topics",
        config.feeds.len(),
        config.topics.defs.len()
    )
}

/// Reloads the config on each SIGHUP until `cancel` fires; wakes `wake` after a reload.
async fn reload_on_hangup(
    ctx: Arc<Context>,
    mut hangup: tokio::signal::unix::Signal,
    wake: Vec<Arc<tokio::sync::Notify>>,
    cancel: CancellationToken,
) {
    loop {
        tokio::select! {
            Some(()) = hangup.recv() => {}
            _ = cancel.cancelled() => return,
        }
        tracing::info!("SIGHUP received; reloading the config");
        crate::service::reloading();
        match reload(&ctx).await {
            Ok(config) => {
                crate::service::ready(&running_status(&config));
                for w in &wake {
                    w.notify_one();
                }
            }
            Err(e) => {
                let error = describe_error(&e);
                tracing::error!(error = %error, "config reload refused; the running config stays in force");
                crate::service::ready(&format!("running; last config reload refused: {error}"));
            }
        }
    }
}

/// Loads the config file again and, if it is valid, puts it in force: topics trained on their
/// labels, feeds synced (new ones due now, removed ones disabled, changed schedules
/// re-planned), changed topics re-evaluated. Work in
/// flight finishes under the config it started with. An invalid config changes nothing.
/// The database location and the HTTP client settings need a restart; a change is logged.
pub async fn reload(ctx: &Arc<Context>) -> anyhow::Result<Arc<Config>> {
    let old = ctx.config();
    let path = old.path.clone();
    let mut new = tokio::task::spawn_blocking(move || {
        let config = Config::load(path.as_deref())?;
        // As at start: a secret the new config names must be readable.
        config.check_secrets()?;
        Ok::<_, crate::config::ConfigError>(config)
    })
    .await??;
    if new.database != old.database {
        tracing::warn!(
            running = ?old.database,
            configured = ?new.database,
            "the database location changed in the config; it takes effect at the next restart"
        );
        new.database = old.database.clone();
    }
    if fetch_client_changed(&old.fetch, &new.fetch) {
        tracing::warn!(
            "fetch client settings (user agent, timeouts, body cap, redirects) changed; they take effect at the next restart"
        );
    }
    // The topics learn from the labels given since the last start or reload.
    let store = ctx.store.clone();
    let new = tokio::task::spawn_blocking(move || {
        crate::pipeline::matching::train_topics(&mut new, &store).map(|()| new)
    })
    .await??;
    let new = Arc::new(new);
    let store = ctx.store.clone();
    let config = new.clone();
    let (added, disabled) = tokio::task::spawn_blocking(move || {
        store.sync_config_feeds(&config.feeds, chrono::Utc::now().timestamp())
    })
    .await??;
    ctx.set_config(new.clone());
    tracing::info!(
        feeds = new.feeds.len(),
        added,
        disabled,
        topics = new.topics.defs.len(),
        "config reloaded"
    );
    if old.schedule.default.expression() != new.schedule.default.expression()
        || old.schedule.timezone != new.schedule.timezone
    {
        let store = ctx.store.clone();
        let config = new.clone();
        let moved = tokio::task::spawn_blocking(move || replan_polls(&config, &store)).await??;
        tracing::info!(
            feeds = moved,
            "the default schedule changed; moved next polls earlier"
        );
    }
    let store = ctx.store.clone();
    let config = new.clone();
    let topics = tokio::task::spawn_blocking(move || {
        crate::pipeline::matching::apply_topic_changes(&config, &store)
    })
    .await?;
    if let Err(e) = topics {
        // The changed topics keep their old fingerprints, so the next start or reload retries.
        tracing::error!(error = %e, "re-evaluating items for changed topics failed");
    }
    Ok(new)
}

/// After the default schedule (or time zone) changed: each active feed without errors whose
/// next poll under `config` comes sooner than planned is moved to that time. Later ones keep
/// their planned poll and follow the new schedule after it. Returns how many moved.
fn replan_polls(config: &Config, store: &Store) -> Result<usize, crate::store::StoreError> {
    let now = chrono::Utc::now();
    let mut moved = 0;
    for feed in store.list_feeds()? {
        if feed.state != crate::model::FeedState::Active || feed.consecutive_errors > 0 {
            continue;
        }
        let schedule = crate::pipeline::feed_schedule(config, &feed);
        let next = schedule.slot_after(now, &feed.origin_url).timestamp();
        moved += usize::from(store.advance_next_poll(feed.id, next)?);
    }
    Ok(moved)
}

/// Whether settings baked into the HTTP client at start-up differ.
fn fetch_client_changed(old: &FetchConfig, new: &FetchConfig) -> bool {
    old.user_agent != new.user_agent
        || old.connect_timeout != new.connect_timeout
        || old.timeout != new.timeout
        || old.read_timeout != new.read_timeout
        || old.max_body_bytes != new.max_body_bytes
        || old.max_redirects != new.max_redirects
}

/// How often the archive is pruned by `[retention]`.
const PRUNE_EVERY: Duration = Duration::from_secs(24 * 3600);

/// Prunes the archive by `[retention] keep_items` once a day (the first time an hour after
/// start), keeping tombstones so pruned items never come back.
async fn run_retention(ctx: Arc<Context>, cancel: CancellationToken) {
    let mut wait = Duration::from_secs(3600);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = cancel.cancelled() => return,
        }
        wait = PRUNE_EVERY;
        let config = ctx.config();
        let Some(keep) = config.retention.keep_items else {
            continue;
        };
        let store = ctx.store.clone();
        let keep_matched = config.retention.keep_matched;
        let now = chrono::Utc::now().timestamp();
        let cutoff = now - keep.as_secs() as i64;
        match tokio::task::spawn_blocking(move || store.prune(cutoff, keep_matched, now)).await {
            Ok(Ok(report)) => tracing::info!(?report, "pruned the archive"),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "pruning the archive failed; will retry tomorrow")
            }
            Err(e) => tracing::error!(error = %e, "pruning task failed"),
        }
    }
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

/// Matches what is waiting in full batches, again and again, until `done` fires (a poll in
/// progress); returns the number of new matches. The rest waits for the pass after the poll.
pub async fn match_until(ctx: Arc<Context>, done: CancellationToken) -> anyhow::Result<usize> {
    let mut new_matches = 0;
    while !done.is_cancelled() {
        let stage = ctx.clone();
        let matched = tokio::task::spawn_blocking(move || {
            crate::pipeline::matching::match_full_batches(&stage.config(), &stage.store)
        })
        .await??;
        new_matches += matched.len();
        tokio::select! {
            _ = done.cancelled() => {}
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
    Ok(new_matches)
}

/// Matches, extracts and matches again whatever is waiting. Returns (pages, new matches).
pub async fn process_items(
    ctx: &Arc<Context>,
    cancel: &CancellationToken,
    extract: bool,
) -> anyhow::Result<(usize, usize)> {
    let match_now = |ctx: Arc<Context>| async move {
        let matched = tokio::task::spawn_blocking(move || {
            crate::pipeline::matching::match_pending(&ctx.config(), &ctx.store)
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

/// An error and its causes in one line, each cause left out when the text before already
/// says it (many of our errors print their source themselves).
pub fn describe_error(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_error_does_not_repeat_a_cause_the_message_already_names() {
        let missing = Config::load(Some(std::path::Path::new("/nonexistent/tidings.toml")))
            .map_err(anyhow::Error::from)
            .unwrap_err();
        let text = describe_error(&missing);
        assert_eq!(text.matches("os error 2").count(), 1, "{text}");
        assert!(
            text.starts_with("config /nonexistent/tidings.toml: cannot read"),
            "{text}"
        );

        let wrapped = anyhow::anyhow!("inner cause").context("outer step");
        assert_eq!(describe_error(&wrapped), "outer step: inner cause");
    }
}
