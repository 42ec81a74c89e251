//! `tidings matches mark`, `tidings items mark` and `tidings topics labels`: a reader's labels
//! of items for a topic, and their export as a labelled set (the dev-set JSONL shape that
//! `tidings topics eval` reads).

use std::io::Write;

use anyhow::Context as _;
use serde_json::json;

use crate::config::Config;
use crate::store::{FeedbackOrigin, LabelledItem, Store, StoreError, parse_verdict};

fn verdict_word(relevant: bool) -> &'static str {
    if relevant { "relevant" } else { "irrelevant" }
}

/// `matches mark ID relevant|irrelevant`: labels the item of a match for the match's topic.
pub fn mark_match(store: &Store, match_id: i64, verdict: &str) -> anyhow::Result<()> {
    let relevant = parse_verdict(verdict).map_err(anyhow::Error::msg)?;
    let (topic, item_id) = store.match_target(match_id)?.with_context(|| {
        format!("no match with id {match_id}; `tidings matches list` shows them")
    })?;
    let now = chrono::Utc::now().timestamp();
    store.record_feedback(&topic, item_id, relevant, FeedbackOrigin::Cli, now)?;
    println!(
        "match {match_id} (topic {topic}, item {item_id}): {}",
        verdict_word(relevant)
    );
    Ok(())
}

/// `items mark ITEM_ID --topic NAME relevant|irrelevant`: labels any item, matched or not
/// (how a reader marks what a topic missed).
pub fn mark_item(
    config: &Config,
    store: &Store,
    item_id: i64,
    topic: &str,
    verdict: &str,
) -> anyhow::Result<()> {
    let relevant = parse_verdict(verdict).map_err(anyhow::Error::msg)?;
    super::topics::topic(config, topic)?;
    let now = chrono::Utc::now().timestamp();
    match store.record_feedback(topic, item_id, relevant, FeedbackOrigin::Cli, now) {
        Err(StoreError::NotFound(_)) => {
            anyhow::bail!("no item with id {item_id}; `tidings search` shows item ids")
        }
        other => other?,
    }
    println!("item {item_id} (topic {topic}): {}", verdict_word(relevant));
    Ok(())
}

/// One label as a line of a labelled set, in the shape of `../shared/topics-dev`.
pub fn label_line(label: &LabelledItem) -> serde_json::Value {
    let item = &label.item;
    let date = chrono::DateTime::from_timestamp(label.published_at, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    json!({
        "id": format!("tidings-{}", item.item_id),
        "source": item.feed_title,
        "date": date,
        "title": item.title,
        "summary": crate::plaintext::html_to_text(&item.summary),
        "link": item.url,
        "label": i64::from(label.feedback.relevant),
        "borderline": false,
        "text": item.article_text,
        "note": format!(
            "labelled {} in tidings ({}); {}",
            verdict_word(label.feedback.relevant),
            label.feedback.origin.as_str(),
            if label.matched { "the topic matched it" } else { "the topic had not matched it" }
        ),
        "provenance": format!("tidings:item:{}", item.item_id),
    })
}

/// `topics labels NAME --format jsonl`: every label of the topic, oldest first.
pub fn export_labels(
    config: &Config,
    store: &Store,
    topic: &str,
    format: &str,
) -> anyhow::Result<()> {
    super::topics::topic(config, topic)?;
    if format != "jsonl" {
        anyhow::bail!("--format {format}: the labels export is `jsonl`");
    }
    let labels = store.topic_labels(topic)?;
    let mut out = std::io::stdout().lock();
    for label in &labels {
        writeln!(out, "{}", label_line(label))?;
    }
    Ok(())
}
