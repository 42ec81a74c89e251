//! `tidings poll`: polls feeds once and prints what each refresh did.

use std::io::Write;
use std::sync::Arc;

use anyhow::bail;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::daemon;
use crate::model::Feed;
use crate::pipeline::RefreshReport;

use super::write_table;

pub(super) async fn poll(
    config: Config,
    urls: Vec<String>,
    all: bool,
    extract: bool,
    json: bool,
) -> anyhow::Result<i32> {
    let ctx = Arc::new(daemon::open_context(config)?);
    let now = chrono::Utc::now().timestamp();
    let feeds: Vec<Feed> = if !urls.is_empty() {
        let mut feeds = Vec::new();
        for url in &urls {
            match ctx.store.feed_by_url(url)? {
                Some(feed) => feeds.push(feed),
                None => bail!("no feed with URL {url}; add it with `tidings feeds add {url}`"),
            }
        }
        feeds
    } else if all {
        ctx.store
            .list_feeds()?
            .into_iter()
            .filter(|f| f.state == crate::model::FeedState::Active)
            .collect()
    } else {
        ctx.store.due_feeds(now, usize::MAX / 4, &[])?
    };
    let cancel = CancellationToken::new();
    daemon::cancel_on_signals(cancel.clone())?;
    // Matching (which also indexes new items for search) runs beside the refreshes, as in the
    // daemon, so that its CPU overlaps the network; extraction and a last pass follow.
    let polled = CancellationToken::new();
    let matching = tokio::spawn(daemon::match_until(ctx.clone(), polled.clone()));
    let reports = daemon::poll_once(ctx.clone(), feeds, cancel.clone()).await;
    polled.cancel();
    let matched_early = matching.await??;
    let (pages, matches) = daemon::process_items(&ctx, &cancel, extract).await?;
    let matches = matched_early + matches;
    print_poll(&reports, json)?;
    if !json {
        println!("{pages} article pages extracted, {matches} new topic matches");
    }
    Ok(0)
}

fn print_poll(reports: &[RefreshReport], json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, reports)?;
        writeln!(out)?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            vec![
                r.feed_id.to_string(),
                r.result.clone(),
                r.status.map(|s| s.to_string()).unwrap_or_default(),
                r.counts.new.to_string(),
                r.counts.updated.to_string(),
                r.entries_skipped.to_string(),
                r.url.clone(),
                r.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    write_table(
        &mut out,
        &[
            "ID", "RESULT", "HTTP", "NEW", "EDITED", "SKIPPED", "URL", "ERROR",
        ],
        &rows,
    )?;
    let new: usize = reports.iter().map(|r| r.counts.new).sum();
    let errors = reports.iter().filter(|r| r.result == "error").count();
    writeln!(
        out,
        "{} feeds polled, {new} new items, {errors} errors",
        reports.len()
    )?;
    Ok(())
}
