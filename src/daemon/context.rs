//! Opening the daemon's context: the database, the topics trained on their labels, the config's
//! feeds and topic changes synced in, the HTTP clients for feeds and pages.

use std::sync::Arc;

use crate::config::Config;
use crate::fetch::Fetcher;
use crate::pipeline::Context;
use crate::store::{Store, WorkerOptions};

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
