//! `tidings feeds …` and `tidings status`: adding, listing and changing feeds, and how they are doing.

use std::io::Write;

use anyhow::{Context as _, bail};

use super::{FeedsCommand, iso, write_table};
use crate::config::{Config, parse_feed_url};
use crate::daemon;
use crate::model::{Feed, FeedSettings, FeedSource};
use crate::scheduler::to_datetime;

pub(super) async fn feeds(config: Config, cmd: FeedsCommand) -> anyhow::Result<i32> {
    let ctx = daemon::open_context(config)?;
    let now = chrono::Utc::now().timestamp();
    match cmd {
        FeedsCommand::List { json } => {
            let feeds = ctx.store.list_feeds()?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &feeds.iter().map(status_json).collect::<Vec<_>>()
                    )?
                );
            } else {
                let rows: Vec<Vec<String>> = feeds
                    .iter()
                    .map(|f| {
                        vec![
                            f.id.to_string(),
                            f.state.as_str().into(),
                            f.source.as_str().into(),
                            f.item_count.to_string(),
                            f.settings.tags.join(","),
                            f.display_title().to_string(),
                            f.url.clone(),
                        ]
                    })
                    .collect();
                write_table(
                    &mut std::io::stdout().lock(),
                    &["ID", "STATE", "SOURCE", "ITEMS", "TAGS", "TITLE", "URL"],
                    &rows,
                )?;
            }
        }
        FeedsCommand::Add(args) => {
            let url = parse_feed_url(&args.url).map_err(|m| anyhow::anyhow!("feeds add: {m}"))?;
            if let Some(expr) = &args.schedule {
                crate::scheduler::Schedule::parse(expr, &ctx.config().schedule.timezone)
                    .with_context(|| "feeds add: --schedule")?;
            }
            let mut headers = Vec::new();
            for h in &args.headers {
                let (name, value) = h.split_once(':').ok_or_else(|| {
                    anyhow::anyhow!("feeds add: --header `{h}` is not `Name: value`")
                })?;
                headers.push((name.trim().to_string(), value.trim().to_string()));
            }
            let feed_url = crate::pipeline::resolve_feed_url(&ctx.fetcher, &url, &headers).await?;
            let settings = FeedSettings {
                title: args.title,
                schedule: args.schedule,
                extract: !args.no_extract,
                headers,
                tags: args.tags,
            };
            let (id, created) =
                ctx.store
                    .add_feed(feed_url.as_str(), FeedSource::Cli, &settings, now)?;
            if feed_url != url {
                println!("found feed {feed_url} on page {url}");
            }
            println!(
                "{} feed {id}: {feed_url}",
                if created { "added" } else { "already present:" }
            );
        }
        FeedsCommand::Remove { url } => {
            if !ctx.store.disable_feed(&url)? {
                bail!("feeds remove: no feed with URL {url}");
            }
            println!("removed {url} (its items are kept)");
        }
        FeedsCommand::Import { file } => {
            let bytes = std::fs::read(&file)
                .with_context(|| format!("feeds import: cannot read {}", file.display()))?;
            let entries = crate::opml::parse_opml(&bytes)
                .with_context(|| format!("feeds import {}", file.display()))?;
            let (mut added, mut skipped) = (0, 0);
            for entry in &entries {
                let Ok(url) = parse_feed_url(&entry.xml_url) else {
                    eprintln!("skipped {}: not an http(s) URL", entry.xml_url);
                    skipped += 1;
                    continue;
                };
                let settings = FeedSettings {
                    title: entry.title.clone(),
                    extract: true,
                    tags: entry.tags.clone(),
                    ..FeedSettings::default()
                };
                let (_, created) =
                    ctx.store
                        .add_feed(url.as_str(), FeedSource::Opml, &settings, now)?;
                added += usize::from(created);
            }
            println!(
                "imported {} feeds from {} ({added} new, {skipped} skipped)",
                entries.len(),
                file.display()
            );
        }
        FeedsCommand::Export { file } => {
            let feeds: Vec<crate::opml::OpmlFeed> = ctx
                .store
                .list_feeds()?
                .into_iter()
                .filter(|f| f.state != crate::model::FeedState::Disabled)
                .map(|f| crate::opml::OpmlFeed {
                    xml_url: f.url.clone(),
                    title: Some(f.display_title().to_string()),
                    html_url: f.site_url.clone(),
                    tags: f.settings.tags.clone(),
                })
                .collect();
            let text = crate::opml::write_opml("tidings feeds", &feeds);
            match file {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("feeds export: cannot write {}", path.display()))?,
                None => print!("{text}"),
            }
        }
    }
    Ok(0)
}

/// One feed in `status --json` and `feeds list --json`; the shape is documented in the README.
fn status_json(f: &Feed) -> serde_json::Value {
    serde_json::json!({
        "id": f.id,
        "url": f.url,
        "origin_url": f.origin_url,
        "previous_url": f.previous_url,
        "title": f.display_title(),
        "source": f.source,
        "state": f.state,
        "tags": f.settings.tags,
        "schedule": f.settings.schedule,
        "extract": f.settings.extract,
        "items": f.item_count,
        "last_polled_at": iso(f.last_polled_at),
        "last_success_at": iso(f.last_success_at),
        "last_status": f.last_status,
        "last_result": f.last_result,
        "next_poll_at": iso((f.state == crate::model::FeedState::Active).then_some(f.next_poll_at)),
        "consecutive_errors": f.consecutive_errors,
        "last_error": f.last_error,
        "entries_skipped": f.entries_skipped,
        "redirect": f.redirect_url.as_ref().map(|u| serde_json::json!({"to": u, "seen": f.redirect_seen})),
    })
}

/// The database as `tidings status` finds it.
pub(super) struct DatabaseStatus {
    /// Why it cannot take writes now (full disk, write lock held elsewhere), if so.
    pub(super) problem: Option<String>,
}

pub(super) fn print_status(
    database: &DatabaseStatus,
    feeds: &[Feed],
    deliveries: &[(String, i64)],
    json: bool,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let counts: serde_json::Map<String, serde_json::Value> = deliveries
            .iter()
            .map(|(s, n)| (s.clone(), (*n).into()))
            .collect();
        let value = serde_json::json!({
            "database": {
                "writable": database.problem.is_none(),
                "problem": database.problem,
            },
            "feeds": feeds.iter().map(status_json).collect::<Vec<_>>(),
            "deliveries": counts,
        });
        serde_json::to_writer_pretty(&mut out, &value)?;
        writeln!(out)?;
        return Ok(());
    }
    if let Some(problem) = &database.problem {
        writeln!(
            out,
            "DATABASE CANNOT TAKE WRITES: {problem}\n(polling waits until it can; stored items are safe)\n"
        )?;
    }
    let short = |t: Option<i64>| {
        t.map(|t| to_datetime(t).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "-".into())
    };
    let rows: Vec<Vec<String>> = feeds
        .iter()
        .map(|f| {
            vec![
                f.id.to_string(),
                f.state.as_str().into(),
                short(f.last_polled_at),
                f.last_result.clone().unwrap_or_else(|| "-".into()),
                f.item_count.to_string(),
                if f.state == crate::model::FeedState::Active {
                    short(Some(f.next_poll_at))
                } else {
                    "-".into()
                },
                f.consecutive_errors.to_string(),
                f.entries_skipped.to_string(),
                f.display_title().chars().take(40).collect(),
                f.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    write_table(
        &mut out,
        &[
            "ID",
            "STATE",
            "LAST POLL",
            "RESULT",
            "ITEMS",
            "NEXT",
            "ERRS",
            "SKIPPED",
            "TITLE",
            "LAST ERROR",
        ],
        &rows,
    )?;
    if !deliveries.is_empty() {
        let counts: Vec<String> = deliveries.iter().map(|(s, n)| format!("{n} {s}")).collect();
        writeln!(out, "deliveries: {}", counts.join(", "))?;
        if deliveries.iter().any(|(s, n)| s == "dead" && *n > 0) {
            writeln!(
                out,
                "dead deliveries need you: `tidings deliveries list --status dead`, then `tidings deliveries retry --dead`"
            )?;
        }
    }
    Ok(())
}
