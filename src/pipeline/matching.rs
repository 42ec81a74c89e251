//! The matching stage: evaluates every topic on items waiting for it (their title and summary
//! when stored, their article text when it arrives) and records what matched; re-evaluates
//! recent items when a topic changed (backfill); trains the topics' learned layers on their
//! label files and the readers' feedback (at start and on reload).

use crate::config::Config;
use crate::matcher::{Document, LabelledExample, Prefilter, PreparedDocument, Topic, prepare};
use crate::model::{ChannelKind, DeliveryPolicy, Route, StoryKey};
use crate::notify::story::{same_story, story_key};
use crate::plaintext::html_to_text;
use crate::store::{
    DeliveryPlan, IndexText, LabelledItem, MatchInput, MatchRecord, MatchedItem, Store, StoreError,
};

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

/// Evaluates one item against `topics` (with `prefilter` built for them): what it reaches,
/// what matched, its story identity, and (for an item not in the full-text index yet) its
/// text for the index. Each HTML field is turned into plain text once, for all of these.
fn evaluate_item(topics: &[&Topic], prefilter: &Prefilter, input: &MatchInput) -> MatchedItem {
    let plain = (!topics.is_empty() || !input.indexed).then(|| PlainText::of(input));
    let records = match &plain {
        // Most items no topic can match: the prefilter rules them out on their raw text when
        // it can, before their fields are tokenized and indexed for the matcher.
        Some(plain) if !topics.is_empty() && !plain.ruled_out(prefilter, input) => {
            evaluate(topics, prefilter, &plain.prepare(input))
        }
        _ => Vec::new(),
    };
    // The story identity is only needed to deliver a match. It reads what the feed says of
    // the item, never the article page: the same copies must form one story whether each was
    // matched before its page arrived or after (issue 17).
    let story = match &plain {
        Some(plain) if !records.is_empty() => {
            let feed_text = if !plain.summary.trim().is_empty() {
                std::borrow::Cow::Borrowed(plain.summary.as_str())
            } else if input.article_text.is_none() {
                std::borrow::Cow::Borrowed(plain.text.as_str())
            } else {
                std::borrow::Cow::Owned(html_to_text(&input.content))
            };
            story_key(
                Some(input.url.as_str()).filter(|u| !u.is_empty()),
                &input.title,
                &feed_text,
            )
        }
        _ => StoryKey::default(),
    };
    let index = match plain {
        Some(plain) if !input.indexed => Some(IndexText {
            title: input.title.clone(),
            summary: plain.summary,
            text: plain.text,
        }),
        _ => None,
    };
    MatchedItem {
        item_id: input.item_id,
        target_state: input.target_state,
        records,
        story,
        index,
    }
}

/// Items evaluated per transaction.
const BATCH: usize = 500;

/// An item's summary and text as plain text: the article text when there is one, else the
/// feed's content.
struct PlainText {
    summary: String,
    text: String,
}

impl PlainText {
    fn of(input: &MatchInput) -> PlainText {
        PlainText {
            summary: html_to_text(&input.summary),
            text: match &input.article_text {
                Some(text) => text.clone(),
                None => html_to_text(&input.content),
            },
        }
    }

    fn document<'a>(&'a self, input: &'a MatchInput) -> Document<'a> {
        Document {
            title: &input.title,
            summary: &self.summary,
            text: &self.text,
            feed: &input.feed_title,
            url: &input.url,
            author: &input.author,
        }
    }

    fn prepare(&self, input: &MatchInput) -> PreparedDocument {
        prepare(&self.document(input))
    }

    /// True if `prefilter` tells from the raw text that none of its topics can match.
    fn ruled_out(&self, prefilter: &Prefilter, input: &MatchInput) -> bool {
        prefilter
            .possible_in_text(&self.document(input))
            .is_some_and(|possible| !possible.contains(&true))
    }
}

/// A reader's label as a labelled example, with the text the matcher reads (the same plain
/// summary and article text as matching uses, so training sees what matching will see).
pub fn feedback_example(label: &LabelledItem) -> LabelledExample {
    let plain = PlainText::of(&label.item);
    LabelledExample {
        id: format!("tidings-{}", label.item.item_id),
        date: chrono::DateTime::from_timestamp(label.published_at, 0)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        source: label.item.feed_title.clone(),
        title: label.item.title.clone(),
        summary: plain.summary,
        text: plain.text,
        link: label.item.url.clone(),
        lang: String::new(),
        label: label.feedback.relevant,
        borderline: false,
    }
}

/// Trains every topic's learned layer on its label files and the readers' labels in the
/// store, and puts the trained topics in force in `config` (at start and on reload, before
/// the config is used). Topics without labels or a model decide by their query alone.
pub fn train_topics(config: &mut Config, store: &Store) -> Result<(), StoreError> {
    let mut feedback = std::collections::HashMap::new();
    for def in &config.topics.defs {
        let labels = store.topic_labels(&def.name)?;
        let examples: Vec<LabelledExample> = labels.iter().map(feedback_example).collect();
        feedback.insert(def.name.clone(), examples);
    }
    let started = std::time::Instant::now();
    let trained = config
        .topics
        .train(|name| feedback.remove(name).unwrap_or_default());
    for (topic, labels) in trained {
        let layer = config
            .topics
            .compiled
            .iter()
            .find(|t| t.name == topic)
            .and_then(|t| t.learned.clone());
        if let Some(layer) = layer {
            tracing::info!(
                topic = %topic,
                labels,
                candidates = layer.trained_on,
                weights = layer.model.weights().len(),
                "trained the topic's learned layer"
            );
        }
    }
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "topics trained");
    Ok(())
}

/// Normalizes one stored item for the matcher (once for all topics).
pub fn prepare_input(input: &MatchInput) -> PreparedDocument {
    PlainText::of(input).prepare(input)
}

/// The topics among `topics` that match `doc`, as records to store; `prefilter` (built for
/// `topics`) spares the topics whose terms are not in the item.
pub fn evaluate(
    topics: &[&Topic],
    prefilter: &Prefilter,
    doc: &PreparedDocument,
) -> Vec<MatchRecord> {
    let possible = prefilter.possible(doc);
    topics
        .iter()
        .zip(possible)
        .filter(|(_, possible)| *possible)
        .filter_map(|(topic, _)| {
            let result = topic.matches(doc)?;
            let mut terms: Vec<serde_json::Value> = result
                .terms
                .iter()
                .map(|t| serde_json::json!({"term": t.term, "field": t.field.name(), "count": t.count, "context": t.snippet}))
                .collect();
            // A learned topic's decision: the model's probability and what weighed most.
            if let Some(model) = &result.model {
                let top: Vec<serde_json::Value> = model
                    .top
                    .iter()
                    .map(|c| serde_json::json!({"feature": c.feature, "contribution": (c.amount() * 100.0).round() / 100.0}))
                    .collect();
                terms.push(serde_json::json!({
                    "term": "model",
                    "field": "model",
                    "probability": (model.probability * 1000.0).round() / 1000.0,
                    "features": top,
                }));
            }
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
    match_batches(config, store, 1)
}

/// [`match_pending`], in full batches only: while a poll is still storing items, a smaller
/// batch waits to grow (each batch writes one full-text segment; small ones cost more).
pub fn match_full_batches(config: &Config, store: &Store) -> Result<Vec<i64>, StoreError> {
    match_batches(config, store, BATCH)
}

fn match_batches(config: &Config, store: &Store, at_least: usize) -> Result<Vec<i64>, StoreError> {
    let topics: Vec<&Topic> = config.topics.compiled.iter().collect();
    let prefilter = &config.topics.prefilter;
    let routes = routes(config);
    let mut new_matches = Vec::new();
    loop {
        let batch = store.pending_matches(BATCH)?;
        if batch.is_empty() || batch.len() < at_least {
            return Ok(new_matches);
        }
        let results: Vec<MatchedItem> = batch
            .iter()
            .map(|input| evaluate_item(&topics, prefilter, input))
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
    let prefilter = Prefilter::new(&changed);
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
            .map(|input| evaluate_item(&changed, &prefilter, input))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FeedSettings, FeedSource, NewItem};

    fn item(text: &str, hash: &str) -> NewItem {
        NewItem {
            dedup_key: "story".into(),
            guid: Some("story".into()),
            url: Some("https://example.org/story".into()),
            title: Some("Harbour report".into()),
            summary: Some(format!("<p>{text}</p>")),
            content: None,
            author: None,
            published_original: Some(1_700_000_000),
            content_hash: hash.into(),
            former_key: None,
        }
    }

    fn found(store: &Store, word: &str) -> Vec<i64> {
        let conn = store.reader().unwrap();
        let mut stmt = conn
            .prepare("SELECT rowid FROM items_fts WHERE items_fts MATCH ?1")
            .unwrap();
        stmt.query_map([word], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// A new item is searchable once the matching stage has seen it (even with no topics); an
    /// edited item is indexed again with its new text, and its old words no longer find it.
    #[test]
    fn the_stage_indexes_new_and_edited_items_for_search() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let (feed_id, _) = store
            .add_feed(
                "https://example.org/feed",
                FeedSource::Cli,
                &FeedSettings::default(),
                0,
            )
            .unwrap();
        let feed = store.feed(feed_id).unwrap();
        let config = Config::from_toml("", None).unwrap();

        let (_, ids) = store
            .commit_refresh(&feed, &[item("Cranes at Rajin", "h1")], false, 100)
            .unwrap();
        assert!(
            found(&store, "rajin").is_empty(),
            "indexed by the stage, not the refresh"
        );
        match_pending(&config, &store).unwrap();
        assert_eq!(found(&store, "rajin"), ids);
        assert_eq!(found(&store, "harbour"), ids);

        store
            .commit_refresh(&feed, &[item("Cranes at Nakhodka", "h2")], false, 200)
            .unwrap();
        match_pending(&config, &store).unwrap();
        assert_eq!(found(&store, "nakhodka"), ids);
        assert!(found(&store, "rajin").is_empty());
        let conn = store.reader().unwrap();
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM items_fts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1);
    }

    /// The prefilter never rules out an item the shipped topic would weigh (its query
    /// matches, or its learned layer takes it as a candidate), on the labelled development
    /// items; where it reads an item's raw text, it decides as on the prepared item.
    #[test]
    fn the_prefilter_keeps_every_item_the_shipped_topic_weighs() {
        use crate::matcher::read_labelled;
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/tidings.example.toml");
        let config = Config::load(Some(std::path::Path::new(path))).unwrap();
        let topics: Vec<&Topic> = config.topics.compiled.iter().collect();
        let prefilter = &config.topics.prefilter;
        let mut items = Vec::new();
        for name in ["nk-russia-dev.jsonl", "nk-russia-more.jsonl"] {
            let path = format!("{}/../shared/topics-dev/{name}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            items.extend(read_labelled(&text).unwrap());
        }
        let (mut weighed, mut ruled_out, mut quick) = (0, 0, 0);
        for ex in &items {
            let document = ex.document();
            let doc = prepare(&document);
            let possible = prefilter.possible(&doc);
            if let Some(read) = prefilter.possible_in_text(&document) {
                assert_eq!(read, possible, "{}", ex.id);
                quick += 1;
            }
            for (topic, possible) in topics.iter().zip(&possible) {
                let weighs = topic.query_matches(&doc)
                    || topic.learned.as_ref().is_some_and(|l| l.is_candidate(&doc));
                if weighs {
                    weighed += 1;
                    assert!(possible, "{} ruled out for {}", ex.id, topic.name);
                } else if !possible {
                    ruled_out += 1;
                }
            }
        }
        eprintln!(
            "{} items: {weighed} weighed, {ruled_out} ruled out, {quick} read quickly",
            items.len()
        );
        assert!(weighed > 100 && ruled_out > 100 && quick > 100);
    }
}
