//! The dispatcher: starts feed refreshes within the global and per-host limits, in turn across
//! hosts, reads due feeds from the store in batches, and pauses polling while the database
//! cannot take writes.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{IDLE_TICK, running_status};
use crate::model::{Feed, FeedId};
use crate::pipeline::{Context, RefreshReport, refresh_feed};
use crate::scheduler::host_queue::{HostId, HostQueues, host_of};

/// What a refresh tells the dispatcher: its answer is in (the fetch and host slots are free),
/// then it is stored (the feed may start again), with its report unless the store failed.
pub(super) enum RefreshEvent {
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
pub(super) struct StorePause {
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
pub(super) struct Dispatcher {
    ctx: Arc<Context>,
    tracker: TaskTracker,
    /// Every feed started and not yet stored.
    pub(super) in_flight: HashSet<FeedId>,
    /// Feeds waiting to start, per host; its running count is the requests on the wire.
    queue: HostQueues<Feed>,
    events_tx: mpsc::UnboundedSender<RefreshEvent>,
    pub(super) events_rx: mpsc::UnboundedReceiver<RefreshEvent>,
    /// When the daemon loop reads due feeds again (see `schedule_due`).
    next_read_at: Option<std::time::Instant>,
    /// Whether the last read of due feeds was cut off by its limit (more may be due).
    last_read_full: bool,
    /// How many due feeds a read asks for, in multiples of the concurrency (see `schedule_due`).
    read_width: usize,
    /// When the claims of the feeds in flight were last renewed (PostgreSQL leases).
    claims_renewed_at: Option<std::time::Instant>,
    /// Set by the daemon's loop (never by `tidings poll`) while the database refuses writes.
    pub(super) pause: Option<StorePause>,
    /// The next pause's length: doubles with each refusal in a row, back to the first after a
    /// refresh is stored.
    next_pause: Duration,
    /// The last "cannot store" a finished refresh reported, for the daemon's loop to act on.
    pub(super) store_unavailable: Option<String>,
}

/// How long due feeds read from the store may wait in the dispatcher before they are read again.
const DUE_FRESH: Duration = Duration::from_secs(1);

/// Due feeds read at once, as multiples of the concurrency: normally, and while the feeds read
/// all wait on busy hosts with fetch slots free.
const NARROW_READ: usize = 4;
const WIDE_READ: usize = 64;

impl Dispatcher {
    pub(super) fn new(ctx: Arc<Context>) -> Dispatcher {
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
    pub(super) fn handle(&mut self, event: RefreshEvent) -> Option<RefreshReport> {
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
    pub(super) async fn drain(mut self, grace: Duration) -> Vec<RefreshReport> {
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

/// The database refused a refresh for a reason that passes: no refresh starts for a while
/// (see [`StorePause`]). Says so in the log and to systemd.
pub(super) fn pause_for_store(ctx: &Context, dispatcher: &mut Dispatcher, error: String) {
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
pub(super) async fn watch_store_pause(ctx: &Arc<Context>, dispatcher: &mut Dispatcher) -> Duration {
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
pub(super) async fn schedule_due(
    ctx: &Arc<Context>,
    dispatcher: &mut Dispatcher,
) -> anyhow::Result<Duration> {
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
