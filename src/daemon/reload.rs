//! Config reload on SIGHUP: a valid new config is put in force (topics retrained, feeds synced,
//! schedules re-planned, changed topics re-evaluated); an invalid one changes nothing.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{describe_error, running_status};
use crate::config::{Config, FetchConfig};
use crate::pipeline::Context;
use crate::store::Store;

/// Reloads the config on each SIGHUP until `cancel` fires; wakes `wake` after a reload.
pub(super) async fn reload_on_hangup(
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
