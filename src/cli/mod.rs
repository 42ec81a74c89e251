//! The command line: runs each parsed command (`args` holds their shape), and prints tables.

use std::io::Write;
use std::sync::Arc;

use anyhow::bail;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::daemon;
use crate::scheduler::to_datetime;

mod archive;
mod args;
mod deliveries;
mod extract;
mod feedback;
mod feeds;
mod poll;
mod topics;

pub use archive::csv_field;
pub use args::{
    AddArgs, Cli, Command, DbCommand, DeliveriesCommand, DigestCommand, FeedsCommand, ItemsCommand,
    MatchesCommand, TopicsCommand,
};
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
        } => poll::poll(config, feeds, all, !no_extract, json).await,
        Command::Status { json } => {
            let (ctx, problem) = daemon::open_context_to_read(config)?;
            let feeds = ctx.store.list_feeds()?;
            let deliveries = ctx.store.delivery_counts()?;
            let database = feeds::DatabaseStatus { problem };
            feeds::print_status(&database, &feeds, &deliveries, json)?;
            Ok(0)
        }
        Command::Feeds(cmd) => feeds::feeds(config, cmd).await,
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

/// A Unix time as an RFC 3339 UTC timestamp, to the second.
fn iso(t: Option<i64>) -> Option<String> {
    t.map(|t| to_datetime(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
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
