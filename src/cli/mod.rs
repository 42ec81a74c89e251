//! The command line: clap commands, and their output as aligned tables or JSON.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, parse_feed_url};
use crate::daemon;
use crate::model::{Feed, FeedSettings, FeedSource};
use crate::pipeline::RefreshReport;
use crate::scheduler::to_datetime;

mod archive;
mod deliveries;
mod extract;
mod feedback;
mod topics;

pub use archive::csv_field;

#[derive(Debug, Parser)]
#[command(
    name = "tidings",
    version,
    about = "A feed aggregator daemon for people who watch a subject"
)]
pub struct Cli {
    /// Config file (TOML). Without one, the embedded example config is used.
    #[arg(long, global = true, env = "TIDINGS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(
        long,
        global = true,
        env = "TIDINGS_LOG_FORMAT",
        default_value = "text"
    )]
    pub log_format: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: poll feeds on their schedules until SIGTERM or SIGINT.
    Run,
    /// Poll due feeds (or the named ones) once, print what was found, and exit.
    Poll {
        /// Poll this feed now, due or not (repeatable).
        #[arg(long = "feed")]
        feeds: Vec<String>,
        /// Poll every active feed now, due or not.
        #[arg(long)]
        all: bool,
        /// Do not fetch article pages of new items (matching still runs).
        #[arg(long)]
        no_extract: bool,
        #[arg(long)]
        json: bool,
    },
    /// Manage feeds.
    #[command(subcommand)]
    Feeds(FeedsCommand),
    /// Show each feed's last poll, result, items, next poll and errors.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Validate the config and exit (the same checks as at start-up).
    CheckConfig,
    /// Backtest and score topics.
    #[command(subcommand)]
    Topics(TopicsCommand),
    /// List topic matches; label them relevant or not.
    #[command(subcommand)]
    Matches(MatchesCommand),
    /// Label any stored item for a topic (a search hit the topic missed).
    #[command(subcommand)]
    Items(ItemsCommand),
    /// The delivery outbox: list, retry, release old news.
    #[command(subcommand)]
    Deliveries(DeliveriesCommand),
    /// Email digests: preview or send now.
    #[command(subcommand)]
    Digest(DigestCommand),
    /// Show what the extractor keeps from one page (a URL, or an HTML file, .gz allowed).
    Extract {
        target: String,
        #[arg(long)]
        json: bool,
    },
    /// Full-text search of the archive, in the topic query language, best first.
    Search {
        /// Words, "phrases", AND/OR/NOT, (groups), prefix*, title:/summary:/text:,
        /// feed:/url:/author: filters, NEAR/n(a, b), @aliases from the config.
        query: String,
        /// Only items matched to this topic.
        #[arg(long)]
        topic: Option<String>,
        /// Only items of the feed with this URL.
        #[arg(long)]
        feed: Option<String>,
        /// Published since: a duration (7d, 12h) or a date (2026-01-31).
        #[arg(long)]
        since: Option<String>,
        /// Published before: a duration ago or a date.
        #[arg(long)]
        until: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long, value_enum, default_value = "table")]
        format: archive::Format,
    },
    /// Archive maintenance: prune, backup, stats.
    #[command(subcommand)]
    Db(DbCommand),
    /// Run only the HTTP API (`[api]` in the config), until SIGTERM or SIGINT.
    Serve {
        /// Listen here instead of `api.listen` (loopback only without `api.token`).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Delete items older than `[retention] keep_items` (their keys are tombstoned).
    Prune {
        /// Override the configured age, e.g. 90d.
        #[arg(long)]
        older_than: Option<String>,
        /// Also prune items that matched a topic.
        #[arg(long)]
        include_matched: bool,
    },
    /// Copy the database with SQLite's online backup (safe while the daemon runs).
    Backup { file: PathBuf },
    /// Row counts and sizes of tables and indexes, the full-text index included.
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Copy this SQLite archive into an empty PostgreSQL database (postgres://…), keeping
    /// every id; then point `database` at it.
    MigrateTo { url: String },
}

#[derive(Debug, Subcommand)]
pub enum TopicsCommand {
    /// List the configured topics.
    List,
    /// Run a topic over stored items and show each hit with its score and matched terms.
    Test {
        name: String,
        /// How far back: a duration (30d, 12h) or a date (2026-01-31).
        #[arg(long, default_value = "30d")]
        since: String,
        /// Show the full scoring explanation of each hit.
        #[arg(long)]
        explain: bool,
        #[arg(long)]
        json: bool,
    },
    /// Score a topic against labelled items (JSON lines with id, title, summary, text, label,
    /// date, source, borderline): as configured, and held out (--split date, --folds K).
    Eval(topics::EvalArgs),
    /// Train a topic's learned layer on labelled items and write the model file.
    Train {
        name: String,
        /// Labelled items, JSON lines.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The model file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Export the readers' labels of a topic as a labelled set (JSON lines, the shape
    /// `topics eval` reads), oldest label first.
    Labels {
        name: String,
        #[arg(long, default_value = "jsonl")]
        format: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeliveriesCommand {
    /// Deliveries, newest first (held, pending, sent, dead, backfill, expired).
    List {
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Send a delivery again (by ID), or every dead one.
    Retry {
        id: Option<i64>,
        #[arg(long)]
        dead: bool,
    },
    /// Release old news held back: matches from a feed's first poll, backfills, and items
    /// older than delivery.max_age.
    Backfill {
        #[arg(long)]
        topic: Option<String>,
        /// A channel, e.g. `webhook:ops` or `digest:morning`.
        #[arg(long)]
        channel: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DigestCommand {
    /// Render the next digest without sending or marking anything.
    Preview {
        name: String,
        /// Also write the HTML part to this file.
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Build the digest now and send it.
    Send { name: String },
}

#[derive(Debug, Subcommand)]
pub enum MatchesCommand {
    /// Matches, newest first.
    List {
        #[arg(long)]
        topic: Option<String>,
        #[arg(long, default_value = "30d")]
        since: String,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Label a match's item for its topic: `relevant` or `irrelevant`.
    Mark {
        /// The match id (`tidings matches list` shows it).
        id: i64,
        /// `relevant` or `irrelevant`.
        verdict: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ItemsCommand {
    /// Label an item for a topic, matched or not: `relevant` (on topic) or `irrelevant`.
    Mark {
        /// The item id (`tidings search` shows it).
        id: i64,
        #[arg(long)]
        topic: String,
        /// `relevant` or `irrelevant`.
        verdict: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum FeedsCommand {
    /// List feeds.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add a feed by its URL, or a web page whose feed is found from its <link rel="alternate">.
    Add(AddArgs),
    /// Stop polling a feed; its items are kept.
    Remove { url: String },
    /// Import feeds from an OPML file (folders and categories become tags).
    Import { file: PathBuf },
    /// Export feeds as OPML 2.0 (to stdout, or to a file).
    Export { file: Option<PathBuf> },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    pub url: String,
    #[arg(long)]
    pub title: Option<String>,
    /// Cron schedule, e.g. "*/15 * * * *".
    #[arg(long)]
    pub schedule: Option<String>,
    /// Do not fetch article pages for this feed.
    #[arg(long)]
    pub no_extract: bool,
    /// A tag (repeatable).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// An extra request header, `Name: value` (repeatable).
    #[arg(long = "header")]
    pub headers: Vec<String>,
}

/// Runs a parsed command line; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::CheckConfig => {
            // The same checks as at start-up, secrets read included.
            config.check_secrets()?;
            println!(
                "config {} is valid: {} feeds, database {:?}",
                config
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "<embedded example>".into()),
                config.feeds.len(),
                config.database
            );
            Ok(0)
        }
        Command::Run => {
            // The daemon uses every secret: a missing one stops it here, naming its key.
            config.check_secrets()?;
            let ctx = Arc::new(daemon::open_context(config)?);
            let cancel = CancellationToken::new();
            daemon::cancel_on_signals(cancel.clone())?;
            daemon::run(ctx, cancel).await?;
            Ok(0)
        }
        Command::Poll {
            feeds,
            all,
            no_extract,
            json,
        } => poll(config, feeds, all, !no_extract, json).await,
        Command::Status { json } => {
            let (ctx, problem) = daemon::open_context_to_read(config)?;
            let feeds = ctx.store.list_feeds()?;
            let deliveries = ctx.store.delivery_counts()?;
            let database = DatabaseStatus { problem };
            print_status(&database, &feeds, &deliveries, json)?;
            Ok(0)
        }
        Command::Feeds(cmd) => feeds(config, cmd).await,
        Command::Deliveries(cmd) => {
            let ctx = daemon::open_context(config)?;
            match cmd {
                DeliveriesCommand::List {
                    status,
                    limit,
                    json,
                } => deliveries::list(&ctx, status.as_deref(), limit, json)?,
                DeliveriesCommand::Retry { id, dead } => deliveries::retry(&ctx, id, dead)?,
                DeliveriesCommand::Backfill { topic, channel } => {
                    deliveries::backfill(&ctx, topic.as_deref(), channel.as_deref())?
                }
            }
            Ok(0)
        }
        Command::Digest(cmd) => {
            let ctx = daemon::open_context(config)?;
            match cmd {
                DigestCommand::Preview { name, html } => {
                    deliveries::preview(&ctx, &name, html.as_deref())?
                }
                DigestCommand::Send { name } => deliveries::send(&ctx, &name).await?,
            }
            Ok(0)
        }
        Command::Extract { target, json } => {
            extract::run(&config, &target, json).await?;
            Ok(0)
        }
        Command::Topics(TopicsCommand::Eval(args)) => {
            topics::eval(&config, &args)?;
            Ok(0)
        }
        Command::Topics(TopicsCommand::Train { name, files, out }) => {
            topics::train(&config, &name, &files, &out)?;
            Ok(0)
        }
        Command::Topics(TopicsCommand::Labels { name, format }) => {
            let ctx = daemon::open_context(config)?;
            feedback::export_labels(&ctx.config(), &ctx.store, &name, &format)?;
            Ok(0)
        }
        Command::Topics(TopicsCommand::List) => {
            let rows: Vec<Vec<String>> = config
                .topics
                .defs
                .iter()
                .map(|d| vec![d.name.clone(), format!("{}", d.min_score), d.title.clone()])
                .collect();
            write_table(
                &mut std::io::stdout().lock(),
                &["NAME", "MIN SCORE", "TITLE"],
                &rows,
            )?;
            Ok(0)
        }
        Command::Topics(TopicsCommand::Test {
            name,
            since,
            explain,
            json,
        }) => {
            let ctx = daemon::open_context(config)?;
            topics::test(&ctx.config(), &ctx.store, &name, &since, explain, json)?;
            Ok(0)
        }
        Command::Search {
            query,
            topic,
            feed,
            since,
            until,
            limit,
            format,
        } => {
            let ctx = daemon::open_context(config)?;
            let args = archive::SearchArgs {
                query,
                topic,
                feed,
                since,
                until,
                limit,
                format,
            };
            archive::search(&ctx.config(), &ctx.store, &args)?;
            Ok(0)
        }
        Command::Db(cmd) => {
            let ctx = daemon::open_context(config)?;
            match cmd {
                DbCommand::Prune {
                    older_than,
                    include_matched,
                } => archive::prune(
                    &ctx.config(),
                    &ctx.store,
                    older_than.as_deref(),
                    include_matched.then_some(false),
                )?,
                DbCommand::Backup { file } => archive::backup(&ctx.store, &file)?,
                DbCommand::Stats { json } => archive::stats(&ctx.store, json)?,
                DbCommand::MigrateTo { url } => archive::migrate_to(&ctx.store, &url)?,
            }
            Ok(0)
        }
        Command::Serve { listen } => {
            // `serve` uses only the API token, read here; webhook and SMTP secrets may be unset.
            let (listen, token) = match (&config.api, listen) {
                (Some(api), Some(listen)) => (listen, api.resolve_token()?),
                (Some(api), None) => (api.listen, api.resolve_token()?),
                (None, Some(listen)) => (listen, None),
                (None, None) => bail!("serve: no [api] section in the config and no --listen"),
            };
            if token.is_none() && !listen.ip().is_loopback() {
                bail!(
                    "serve: {listen} is not loopback; set api.token to serve beyond this machine"
                );
            }
            let ctx = Arc::new(daemon::open_context(config)?);
            let cancel = CancellationToken::new();
            daemon::cancel_on_signals(cancel.clone())?;
            crate::api::serve(ctx, listen, token, cancel).await?;
            Ok(0)
        }
        Command::Matches(MatchesCommand::List {
            topic,
            since,
            limit,
            json,
        }) => {
            let ctx = daemon::open_context(config)?;
            topics::list(&ctx.store, topic.as_deref(), &since, limit, json)?;
            Ok(0)
        }
        Command::Matches(MatchesCommand::Mark { id, verdict }) => {
            let ctx = daemon::open_context(config)?;
            feedback::mark_match(&ctx.store, id, &verdict)?;
            Ok(0)
        }
        Command::Items(ItemsCommand::Mark { id, topic, verdict }) => {
            let ctx = daemon::open_context(config)?;
            feedback::mark_item(&ctx.config(), &ctx.store, id, &topic, &verdict)?;
            Ok(0)
        }
    }
}

async fn poll(
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

async fn feeds(config: Config, cmd: FeedsCommand) -> anyhow::Result<i32> {
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

fn iso(t: Option<i64>) -> Option<String> {
    t.map(|t| to_datetime(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
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
struct DatabaseStatus {
    /// Why it cannot take writes now (full disk, write lock held elsewhere), if so.
    problem: Option<String>,
}

fn print_status(
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

/// Writes rows as left-aligned columns separated by two spaces.
pub fn write_table(
    out: &mut impl Write,
    header: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: Vec<&str>| -> std::io::Result<()> {
        let last = cells.len().saturating_sub(1);
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            text.push_str(cell);
            if i < last {
                text.push_str(&" ".repeat(w - cell.chars().count() + 2));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(out, header.to_vec())?;
    for row in rows {
        line(out, row.iter().map(String::as_str).collect())?;
    }
    Ok(())
}
