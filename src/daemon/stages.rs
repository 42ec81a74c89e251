//! The stages after a refresh, run beside the polling loop: matching, article extraction,
//! matching again on the article text, and the daily retention prune.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::pipeline::Context;

/// How often the archive is pruned by `[retention]`.
const PRUNE_EVERY: Duration = Duration::from_secs(24 * 3600);

/// Prunes the archive by `[retention] keep_items` once a day (the first time an hour after
/// start), keeping tombstones so pruned items never come back.
pub(super) async fn run_retention(ctx: Arc<Context>, cancel: CancellationToken) {
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
pub(super) async fn run_stages(
    ctx: Arc<Context>,
    wake: Arc<tokio::sync::Notify>,
    cancel: CancellationToken,
) {
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
