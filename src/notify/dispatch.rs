//! The outbox dispatcher, part of the daemon: every second it sends due webhook deliveries,
//! builds the digest of any schedule slot that came, and sends digests that are due.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::{email, webhook};
use crate::pipeline::Context;

const TICK: Duration = Duration::from_secs(1);

/// Runs until `cancel` fires. Errors are logged and retried on the next tick.
pub async fn run(ctx: Arc<Context>, cancel: CancellationToken) {
    // Built once; a reload that changes webhooks is picked up by `tick`, which reads the
    // current config every time.
    let client = match webhook::client(&ctx.config()) {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook client; deliveries stay queued");
            return;
        }
    };
    let started = Utc::now().timestamp();
    loop {
        if let Err(e) = tick(&ctx, &client, started).await {
            tracing::error!(error = %format!("{e:#}"), "delivery dispatch failed; will retry");
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = cancel.cancelled() => return,
        }
    }
}

/// One pass: webhooks, digest slots, digest sends.
pub async fn tick(ctx: &Context, client: &reqwest::Client, started: i64) -> anyhow::Result<()> {
    let config = ctx.config();
    let config = &config;
    for hook in &config.webhooks {
        webhook::dispatch(config, &ctx.store, client, hook).await?;
    }
    let now = Utc::now().timestamp();
    for digest in &config.digests {
        let last = ctx.store.last_digest_slot(&digest.name)?;
        if let Some(slot) = email::due_slot(digest, last, started, now) {
            email::build_run(config, &ctx.store, digest, slot, now)?;
        }
    }
    email::send_due(config, &ctx.store).await?;
    Ok(())
}
