//! `tidings search`, `tidings db prune|backup|stats`: the archive from the command line.

use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, bail};

use super::write_table;
use crate::config::Config;
use crate::query::{SearchRequest, hit_json, parse_when, rfc3339};
use crate::store::{SearchHit, SearchOrder, Store};

/// Output formats of `search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Ndjson,
    Csv,
}

/// Options of `tidings search`.
#[derive(Debug, Clone)]
pub struct SearchArgs {
    pub query: String,
    pub topic: Option<String>,
    pub feed: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: usize,
    pub format: Format,
}

pub fn search(config: &Config, store: &Store, args: &SearchArgs) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp();
    let when = |flag: &str, v: &Option<String>| -> anyhow::Result<Option<i64>> {
        v.as_deref()
            .map(|t| parse_when(t, now).map_err(|m| anyhow::anyhow!("{flag}: {m}")))
            .transpose()
    };
    if let Some(topic) = &args.topic
        && !config.topics.defs.iter().any(|d| &d.name == topic)
    {
        let known: Vec<&str> = config.topics.defs.iter().map(|d| d.name.as_str()).collect();
        bail!(
            "--topic: no topic named `{topic}` in the config (topics: {})",
            known.join(", ")
        );
    }
    let aliases =
        crate::matcher::Aliases::parse(&config.topics.aliases).context("the config's [aliases]")?;
    let req = SearchRequest {
        query: args.query.clone(),
        topic: args.topic.clone(),
        feed_url: args.feed.clone(),
        since: when("--since", &args.since)?,
        until: when("--until", &args.until)?,
        before: None,
        order: SearchOrder::Rank,
        limit: args.limit,
        now,
    };
    let hits = crate::query::search(store, &aliases, &req)?;
    let mut out = std::io::stdout().lock();
    print_hits(&mut out, &hits, args.format)?;
    Ok(())
}

/// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn print_hits(out: &mut impl Write, hits: &[SearchHit], format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            let list: Vec<_> = hits.iter().map(hit_json).collect();
            serde_json::to_writer_pretty(&mut *out, &list)?;
            writeln!(out)?;
        }
        Format::Ndjson => {
            for h in hits {
                serde_json::to_writer(&mut *out, &hit_json(h))?;
                writeln!(out)?;
            }
        }
        Format::Csv => {
            writeln!(out, "id,score,published,feed,title,url,snippet")?;
            for h in hits {
                let fields = [
                    h.id.to_string(),
                    format!("{:.4}", h.score),
                    rfc3339(h.published_at),
                    h.feed_title.clone(),
                    h.title.clone().unwrap_or_default(),
                    h.url.clone().unwrap_or_default(),
                    h.snippet.clone(),
                ];
                let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                writeln!(out, "{}", line.join(","))?;
            }
        }
        Format::Table => {
            for h in hits {
                writeln!(
                    out,
                    "{:>8.3}  {}  #{}  {}",
                    h.score,
                    &rfc3339(h.published_at)[..10],
                    h.id,
                    h.title.as_deref().unwrap_or("(untitled)")
                )?;
                writeln!(
                    out,
                    "          {} — {}",
                    h.feed_title,
                    h.url.as_deref().unwrap_or("")
                )?;
                let snippet = h.snippet.split_whitespace().collect::<Vec<_>>().join(" ");
                if !snippet.is_empty() {
                    writeln!(out, "          {snippet}")?;
                }
            }
            writeln!(out, "{} results", hits.len())?;
        }
    }
    Ok(())
}

/// `db prune [--older-than D]`: applies `[retention]` (or the given age) now.
pub fn prune(
    config: &Config,
    store: &Store,
    older_than: Option<&str>,
    keep_matched: Option<bool>,
) -> anyhow::Result<()> {
    let age = match older_than {
        Some(text) => humantime::parse_duration(text)
            .with_context(|| format!("--older-than `{text}` is not a duration like 365d"))?,
        None => match config.retention.keep_items {
            Some(age) => age,
            None => {
                println!("retention.keep_items is not set: items are kept forever; nothing pruned");
                return Ok(());
            }
        },
    };
    let keep_matched = keep_matched.unwrap_or(config.retention.keep_matched);
    let now = chrono::Utc::now().timestamp();
    let cutoff = now - age.as_secs() as i64;
    let report = store.prune(cutoff, keep_matched, now)?;
    println!(
        "pruned {} items published before {} ({} articles, {} matches{}); their keys are tombstoned",
        report.items,
        rfc3339(cutoff),
        report.articles,
        report.matches,
        if keep_matched {
            "; matched items kept"
        } else {
            ""
        }
    );
    Ok(())
}

pub fn backup(store: &Store, file: &Path) -> anyhow::Result<()> {
    store.backup(file)?;
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    println!(
        "backed up {} to {} ({size} bytes)",
        store.path().display(),
        file.display()
    );
    Ok(())
}

pub fn migrate_to(store: &Store, url: &str) -> anyhow::Result<()> {
    let copied = store.migrate_to_postgres(url)?;
    let target = crate::store::postgres::redact(url);
    for (table, rows) in &copied {
        println!("{table}: {rows} rows");
    }
    println!(
        "copied {} to {target}; set `database = \"{target}\"` in the config to use it",
        store.path().display()
    );
    Ok(())
}

pub fn stats(store: &Store, json: bool) -> anyhow::Result<()> {
    let stats = store.stats()?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &stats)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "database {}: {} bytes (+ {} bytes WAL), {} pages of {} bytes, {} free, schema {}",
        stats.path,
        stats.file_bytes,
        stats.wal_bytes,
        stats.page_count,
        stats.page_size,
        stats.freelist_count,
        stats.schema_version
    )?;
    let rows: Vec<Vec<String>> = stats
        .tables
        .iter()
        .map(|t| {
            vec![
                t.name.clone(),
                t.rows.map(|r| r.to_string()).unwrap_or_default(),
                t.bytes.to_string(),
            ]
        })
        .collect();
    write_table(&mut out, &["TABLE/INDEX", "ROWS", "BYTES"], &rows)?;
    Ok(())
}
