//! systemd integration: `READY=1`, `RELOADING=1`, `STOPPING=1` and `STATUS=` notifications, and
//! a watchdog that pings (`WATCHDOG=1`) only while the daemon makes progress: the scheduler loop
//! and the database writer must both have ticked within half of `WatchdogSec`.
//!
//! Everything here is a no-op outside systemd (no `NOTIFY_SOCKET`, no `WATCHDOG_USEC`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sd_notify::NotifyState;
use tokio_util::sync::CancellationToken;

use crate::store::Store;

/// When the two kinds of progress the watchdog vouches for last happened.
#[derive(Debug)]
pub struct Liveness {
    start: Instant,
    /// Milliseconds after `start` of the last tick, plus one; 0 = never.
    scheduler: AtomicU64,
    writer: AtomicU64,
}

impl Default for Liveness {
    fn default() -> Self {
        Liveness::new()
    }
}

impl Liveness {
    pub fn new() -> Liveness {
        Liveness {
            start: Instant::now(),
            scheduler: AtomicU64::new(0),
            writer: AtomicU64::new(0),
        }
    }

    /// The scheduler loop went round once.
    pub fn scheduler_tick(&self) {
        self.scheduler.store(self.now_mark(), Ordering::Relaxed);
    }

    /// The database writer took and released the write lock.
    pub fn writer_tick(&self) {
        self.writer.store(self.now_mark(), Ordering::Relaxed);
    }

    /// Both the scheduler and the writer ticked within `within`.
    pub fn fresh(&self, within: Duration) -> bool {
        let recent = |mark: &AtomicU64| {
            self.age(mark.load(Ordering::Relaxed))
                .is_some_and(|age| age <= within)
        };
        recent(&self.scheduler) && recent(&self.writer)
    }

    /// How long ago the scheduler and the writer last ticked (`None`: never).
    pub fn ages(&self) -> (Option<Duration>, Option<Duration>) {
        (
            self.age(self.scheduler.load(Ordering::Relaxed)),
            self.age(self.writer.load(Ordering::Relaxed)),
        )
    }

    fn now_mark(&self) -> u64 {
        self.start.elapsed().as_millis() as u64 + 1
    }

    fn age(&self, mark: u64) -> Option<Duration> {
        let ticked = mark.checked_sub(1)?;
        Some(
            self.start
                .elapsed()
                .saturating_sub(Duration::from_millis(ticked)),
        )
    }
}

/// Sends `states` to the service manager; failures are logged, never fatal.
fn notify(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        let socket = std::env::var("NOTIFY_SOCKET").unwrap_or_default();
        tracing::warn!(socket = %socket, error = %e, "cannot notify the service manager");
    }
}

/// The database is open and the scheduler runs.
pub fn ready(status: &str) {
    notify(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// A config reload starts; `ready` must follow when it is over.
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => notify(&[
            NotifyState::Reloading,
            now,
            NotifyState::Status("reloading the config"),
        ]),
        Err(_) => notify(&[
            NotifyState::Reloading,
            NotifyState::Status("reloading the config"),
        ]),
    }
}

/// Shutdown began.
pub fn stopping(status: &str) {
    notify(&[NotifyState::Stopping, NotifyState::Status(status)]);
}

/// A line for `systemctl status`.
pub fn status(status: &str) {
    notify(&[NotifyState::Status(status)]);
}

/// `WatchdogSec` as systemd passed it (`WATCHDOG_USEC`, for this process), if the watchdog is on.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled().filter(|d| !d.is_zero())
}

/// Every `every`, takes the database's write lock on the writer connection (off the runtime)
/// and records a writer tick once it got it. A probe stuck behind a lock holder just finishes
/// late: the watchdog judges by completed ticks, so it stops pinging meanwhile.
pub async fn probe_writer(
    store: Arc<Store>,
    liveness: Arc<Liveness>,
    every: Duration,
    cancel: CancellationToken,
) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = cancel.cancelled() => return,
        }
        let probe_store = store.clone();
        let started = Instant::now();
        let mut probe = tokio::task::spawn_blocking(move || probe_store.probe_writer());
        let mut warned = false;
        let result = loop {
            tokio::select! {
                result = &mut probe => break result,
                _ = tokio::time::sleep(every * 4), if !warned => {
                    warned = true;
                    tracing::warn!(
                        database = %store.path().display(),
                        waited_ms = started.elapsed().as_millis() as u64,
                        "the database writer is stalled: no write lock yet; watchdog pings paused"
                    );
                }
                _ = cancel.cancelled() => return,
            }
        };
        match result {
            Ok(Ok(())) => {
                liveness.writer_tick();
                if warned {
                    tracing::info!(
                        waited_ms = started.elapsed().as_millis() as u64,
                        "the database writer got the write lock again"
                    );
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "database writer probe failed"),
            Err(e) => tracing::warn!(error = %e, "database writer probe task failed"),
        }
    }
}

/// Pings the watchdog (`WATCHDOG=1`) every quarter of `interval`, but only while both the
/// scheduler and the writer ticked within half of it; otherwise systemd's watchdog fires and
/// restarts the service. Stops when `cancel` fires.
pub async fn watchdog(liveness: Arc<Liveness>, interval: Duration, cancel: CancellationToken) {
    let mut ticker = tokio::time::interval(interval / 4);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut was_fresh = true;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = cancel.cancelled() => return,
        }
        let fresh = liveness.fresh(interval / 2);
        if fresh {
            notify(&[NotifyState::Watchdog]);
        } else if was_fresh {
            let (scheduler, writer) = liveness.ages();
            tracing::warn!(
                scheduler_ms = scheduler.map(|d| d.as_millis() as u64),
                writer_ms = writer.map(|d| d.as_millis() as u64),
                "no progress lately; withholding watchdog pings"
            );
        }
        was_fresh = fresh;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_only_when_both_ticked_recently() {
        let live = Liveness::new();
        assert!(!live.fresh(Duration::from_secs(60)), "never ticked");
        live.scheduler_tick();
        assert!(!live.fresh(Duration::from_secs(60)), "writer never ticked");
        live.writer_tick();
        assert!(live.fresh(Duration::from_secs(60)));
        std::thread::sleep(Duration::from_millis(30));
        assert!(!live.fresh(Duration::from_millis(10)), "ticks are stale");
        live.scheduler_tick();
        assert!(!live.fresh(Duration::from_millis(10)), "writer still stale");
        live.writer_tick();
        assert!(live.fresh(Duration::from_millis(10)));
    }
}
