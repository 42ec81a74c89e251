//! The daemon: wiring and the polling loop. It runs the dispatcher (`dispatcher`), the stages
//! after a refresh (`stages`), config reloads on SIGHUP (`reload`), tells systemd how it is
//! doing (`service`), and stops cleanly on SIGTERM/SIGINT.

mod context;
mod dispatcher;
mod reload;
mod stages;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::pipeline::Context;
use crate::service::Liveness;

pub use context::{open_context, open_context_to_read};
pub use dispatcher::poll_once;
pub use reload::reload;
pub use stages::{match_until, process_items};

use dispatcher::{Dispatcher, pause_for_store, schedule_due, watch_store_pause};
use reload::reload_on_hangup;
use stages::{run_retention, run_stages};

/// How long the loop sleeps at most between looks at the database.
const IDLE_TICK: Duration = Duration::from_secs(5);

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

/// The `STATUS=` line while running.
fn running_status(config: &Config) -> String {
    format!(
        "running: {} config feeds, {} topics",
        config.feeds.len(),
        config.topics.defs.len()
    )
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
