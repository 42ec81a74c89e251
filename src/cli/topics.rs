//! `tidings topics …` and `tidings matches …`: backtest and score topics, list matches.

use std::io::Write;

use anyhow::{Context as _, bail};

use super::{iso, write_table};
use crate::config::Config;
use crate::matcher::{Topic, eval_labelled, explain};
use crate::pipeline::matching::prepare_input;

pub(super) fn topic<'a>(config: &'a Config, name: &str) -> anyhow::Result<&'a Topic> {
    match config.topics.compiled.iter().find(|t| t.name == name) {
        Some(t) => Ok(t),
        None => {
            let known: Vec<&str> = config
                .topics
                .compiled
                .iter()
                .map(|t| t.name.as_str())
                .collect();
            bail!(
                "no topic named `{name}` in the config (topics: {})",
                known.join(", ")
            )
        }
    }
}

/// Reads `--since`: a duration back from now (`30d`), a date (`2026-01-31`) or a time.
pub fn since_arg(text: &str) -> anyhow::Result<i64> {
    crate::query::parse_when(text, chrono::Utc::now().timestamp())
        .map_err(|e| anyhow::anyhow!("--since: {e}"))
}

/// `topics test NAME`: runs the topic over stored items and shows each hit.
pub fn test(
    config: &Config,
    store: &crate::store::Store,
    name: &str,
    since: &str,
    show_explain: bool,
    json: bool,
) -> anyhow::Result<()> {
    let topic = topic(config, name)?;
    let items = store.items_since(since_arg(since)?, 1_000_000)?;
    let mut out = std::io::stdout().lock();
    let mut hits = Vec::new();
    for input in &items {
        let doc = prepare_input(input);
        if let Some(result) = topic.matches(&doc) {
            if json {
                hits.push(serde_json::json!({
                    "item_id": input.item_id, "title": input.title, "url": input.url, "feed": input.feed_title,
                    "score": result.score, "terms": result.terms,
                }));
            } else {
                writeln!(
                    out,
                    "{:>6.2}  {}  [{}]",
                    result.score, input.title, input.feed_title
                )?;
                writeln!(out, "        {}", input.url)?;
                if show_explain {
                    for line in explain(&topic.query, &doc, &result).lines() {
                        writeln!(out, "        {line}")?;
                    }
                } else {
                    let terms: Vec<String> = result
                        .terms
                        .iter()
                        .take(6)
                        .map(|t| format!("{} in {}: {}", t.term, t.field, t.snippet))
                        .collect();
                    for t in terms {
                        writeln!(out, "        {t}")?;
                    }
                }
            }
        }
    }
    if json {
        serde_json::to_writer_pretty(&mut out, &hits)?;
        writeln!(out)?;
    } else {
        let count = items
            .iter()
            .filter(|i| topic.is_match(&prepare_input(i)))
            .count();
        writeln!(
            out,
            "{count} of {} items since {since} match topic {name}",
            items.len()
        )?;
    }
    Ok(())
}

/// `topics eval NAME FILE.jsonl`: precision, recall and F1 against labelled items.
pub fn eval(config: &Config, name: &str, file: &std::path::Path, json: bool) -> anyhow::Result<()> {
    let topic = topic(config, name)?;
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("topics eval: cannot read {}", file.display()))?;
    let report =
        eval_labelled(topic, &text).with_context(|| format!("topics eval: {}", file.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(())
}

/// `matches list`.
pub fn list(
    store: &crate::store::Store,
    topic: Option<&str>,
    since: &str,
    limit: usize,
    json: bool,
) -> anyhow::Result<()> {
    let matches = store.list_matches(topic, since_arg(since)?, limit)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&matches)?);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = matches
        .iter()
        .map(|m| {
            let terms: Vec<String> = crate::notify::payload::terms_of(&m.terms)
                .into_iter()
                .take(4)
                .collect();
            vec![
                m.id.to_string(),
                m.topic.clone(),
                format!("{:.2}", m.score),
                iso(Some(m.published_at)).unwrap_or_default(),
                m.feed.chars().take(24).collect(),
                m.title
                    .clone()
                    .unwrap_or_default()
                    .chars()
                    .take(70)
                    .collect(),
                terms.join(" "),
            ]
        })
        .collect();
    write_table(
        &mut std::io::stdout().lock(),
        &[
            "ID",
            "TOPIC",
            "SCORE",
            "PUBLISHED",
            "FEED",
            "TITLE",
            "TERMS",
        ],
        &rows,
    )?;
    Ok(())
}
