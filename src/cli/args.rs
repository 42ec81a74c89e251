//! The command line's shape: clap's commands, subcommands and their arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
        format: super::archive::Format,
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
    Eval(super::topics::EvalArgs),
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
