//! The matching stage: evaluates every topic on items waiting for it (their title and summary
//! when stored, their article text when it arrives) and records what matched; re-evaluates
//! recent items when a topic changed (backfill).

use crate::config::Config;
use crate::matcher::{Document, PreparedDocument, Topic, prepare};
use crate::model::{ChannelKind, DeliveryPolicy, Route, StoryKey};
use crate::notify::story::{same_story, story_key};
use crate::plaintext::html_to_text;
use crate::store::{DeliveryPlan, MatchInput, MatchRecord, MatchedItem, Store, StoreError};

/// How far back a new item looks for a story to join (copies arrive within hours).
const STORY_LOOKBACK_SECS: i64 = 3 * 24 * 3600;

/// Every (channel, topic) route of the config's webhooks and digests.
pub fn routes(config: &Config) -> Vec<Route> {
    let mut routes = Vec::new();
    for hook in &config.webhooks {
        for topic in &hook.topics {
            routes.push(Route {
                channel: format!("webhook:{}", hook.name),
                topic: topic.clone(),
                kind: ChannelKind::Webhook,
            });
        }
    }
    for digest in &config.digests {
        for topic in &digest.topics {
            routes.push(Route {
                channel: format!("digest:{}", digest.name),
                topic: topic.clone(),
                kind: ChannelKind::Digest,
            });
        }
    }
    routes
}

fn policy(config: &Config, now: i64) -> DeliveryPolicy {
    DeliveryPolicy {
        oldest_published: now - config.delivery.max_age.as_secs() as i64,
        story_window_secs: config.delivery.story_window.as_secs() as i64,
        story_lookback_secs: STORY_LOOKBACK_SECS,
    }
}

/// Evaluates one item against `topics`: what it reaches, what matched, its story identity.
fn evaluate_item(topics: &[&Topic], input: &MatchInput) -> MatchedItem {
    // Without topics there is nothing to prepare; the item only moves on.
    let records = if topics.is_empty() {
        Vec::new()
    } else {
        evaluate(topics, &prepare_input(input))
    };
    // The story identity is only needed to deliver a match.
    let story = if records.is_empty() {
        StoryKey {
            url: None,
            title_hash: 0,
            simhash: 0,
            words: 0,
        }
    } else {
        let text = match &input.article_text {
            Some(text) => text.clone(),
            None => html_to_text(if input.content.is_empty() {
                &input.summary
            } else {
                &input.content
            }),
        };
        story_key(
            Some(input.url.as_str()).filter(|u| !u.is_empty()),
            &input.title,
            &text,
        )
    };
    MatchedItem {
        item_id: input.item_id,
        target_state: input.target_state,
        records,
        story,
    }
}

/// Items evaluated per transaction.
const BATCH: usize = 500;

/// Normalizes one stored item for the matcher (once for all topics).
pub fn prepare_input(input: &MatchInput) -> PreparedDocument {
    let summary = html_to_text(&input.summary);
    let text = match &input.article_text {
        Some(text) => text.clone(),
        None => html_to_text(&input.content),
    };
    prepare(&Document {
        title: &input.title,
        summary: &summary,
        text: &text,
        feed: &input.feed_title,
        url: &input.url,
        author: &input.author,
    })
}

/// The topics among `topics` that match `doc`, as records to store.
pub fn evaluate(topics: &[&Topic], doc: &PreparedDocument) -> Vec<MatchRecord> {
    topics
        .iter()
        .filter_map(|topic| {
            let result = topic.matches(doc)?;
            let terms: Vec<serde_json::Value> = result
                .terms
                .iter()
                .map(|t| serde_json::json!({"term": t.term, "field": t.field.name(), "count": t.count, "context": t.snippet}))
                .collect();
            Some(MatchRecord {
                topic: topic.name.clone(),
                score: (result.score * 100.0).round() / 100.0,
                terms: serde_json::Value::Array(terms).to_string(),
            })
        })
        .collect()
}

/// Matches every waiting item and enqueues the deliveries of new matches; returns the ids of
/// new matches.
pub fn match_pending(config: &Config, store: &Store) -> Result<Vec<i64>, StoreError> {
    let topics: Vec<&Topic> = config.topics.compiled.iter().collect();
    let routes = routes(config);
    let mut new_matches = Vec::new();
    loop {
        let batch = store.pending_matches(BATCH)?;
        if batch.is_empty() {
            return Ok(new_matches);
        }
        let results: Vec<MatchedItem> = batch
            .iter()
            .map(|input| evaluate_item(&topics, input))
            .collect();
        let now = chrono::Utc::now().timestamp();
        let plan = DeliveryPlan {
            routes: &routes,
            policy: policy(config, now),
            same_story: &same_story,
        };
        new_matches.extend(store.record_matches(&results, false, Some(&plan), now)?);
    }
}

/// Re-evaluates items of the backfill window for topics that are new or changed since the
/// database last saw them; matches found that way are marked as backfill (their deliveries
/// wait for the owner). Returns the names of the topics re-evaluated and the number of
/// matches found.
pub fn apply_topic_changes(
    config: &Config,
    store: &Store,
) -> Result<(Vec<String>, usize), StoreError> {
    let stored = store.topic_fingerprints()?;
    let now = chrono::Utc::now().timestamp();
    let changed: Vec<&Topic> = config
        .topics
        .compiled
        .iter()
        .filter(|t| {
            let current = config.topics.fingerprint(&t.name);
            stored
                .iter()
                .find(|(name, _)| *name == t.name)
                .map(|(_, f)| Some(f.clone()))
                != Some(current)
        })
        .collect();
    if changed.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let since = now - config.topics.backfill_window.as_secs() as i64;
    let routes = routes(config);
    let plan = DeliveryPlan {
        routes: &routes,
        policy: policy(config, now),
        same_story: &same_story,
    };
    let mut after = 0;
    let mut found = 0;
    loop {
        let batch = store.items_for_backfill(since, after, BATCH)?;
        let Some(last) = batch.last() else { break };
        after = last.item_id;
        let results: Vec<MatchedItem> = batch
            .iter()
            .map(|input| evaluate_item(&changed, input))
            .collect();
        found += store
            .record_matches(&results, true, Some(&plan), now)?
            .len();
    }
    let names: Vec<String> = changed.iter().map(|t| t.name.clone()).collect();
    for name in &names {
        if let Some(fingerprint) = config.topics.fingerprint(name) {
            store.set_topic_fingerprint(name, &fingerprint, now)?;
        }
    }
    tracing::info!(topics = ?names, matches = found, "re-evaluated recent items for changed topics");
    Ok((names, found))
}
