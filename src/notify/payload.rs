//! Webhook JSON payload: the body sent for `match.created` deliveries.
//!
//! # Payload schema
//!
//! ```json
//! {
//!   "type": "match.created",
//!   "id": "msg_2f1c0d9e7b",                  // delivery id, same as the webhook-id header
//!   "created_at": "2026-11-26T06:00:00Z",    // RFC 3339, UTC, whole seconds
//!   "data": {
//!     "items": [                             // one item in "match" mode, several in "batch" mode
//!       {
//!         "topic": "nk-russia",              // topic id from the config
//!         "topic_title": "North Korea–Russia",
//!         "title": "North Korea ships artillery shells to Russia, US says",
//!         "link": "https://example.com/news/123",
//!         "source_feed": "Example News",     // feed title
//!         "source_feed_url": "https://example.com/rss.xml",
//!         "published": "2026-11-26T05:12:00Z",
//!         "summary": "Plain-text summary from the feed.",
//!         "excerpt": "Plain-text excerpt of the article around the match.",
//!         "score": 0.87,                     // match score (null if not a finite number)
//!         "matched_terms": ["North Korea", "Russia", "artillery"],  // each once
//!         "story_id": 4211,                  // items carrying the same story share this id
//!         "other_sources": [                 // other feeds carrying the same story
//!           {"source": "Wire Daily", "link": "https://wire.example/a/9"}
//!         ],
//!         "backfill": false                  // true when found while backfilling old items
//!       }
//!     ]
//!   }
//! }
//! ```
//!
//! `summary` and `excerpt` are plain text, never HTML. Receivers should verify the signature
//! (see `signature.rs`) and de-duplicate on `id`, since a delivery may be retried.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub struct OtherSource {
    pub source: String,
    pub link: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WebhookItem {
    pub topic: String,
    pub topic_title: String,
    pub title: String,
    pub link: String,
    pub source_feed: String,
    pub source_feed_url: String,
    pub published: DateTime<Utc>,
    pub summary: String,
    pub excerpt: String,
    pub score: f64,
    pub matched_terms: Vec<String>,
    pub story_id: i64,
    pub other_sources: Vec<OtherSource>,
    pub backfill: bool,
}

/// The `matched_terms` of a payload from a match's stored terms (a JSON array of
/// `{"term", "field", …}`, one entry per term and field): each term once, in the order the
/// matcher found them. A term found in the title and again in the summary is listed once
/// (issue 17: `"north korea*"` appeared twice). Unreadable JSON gives no terms.
pub fn matched_terms(stored: &str) -> Vec<String> {
    serde_json::from_str::<Value>(stored)
        .map(|v| terms_of(&v))
        .unwrap_or_default()
}

/// [`matched_terms`] of the stored JSON already parsed.
pub fn terms_of(stored: &Value) -> Vec<String> {
    let Value::Array(entries) = stored else {
        return Vec::new();
    };
    let mut terms: Vec<String> = Vec::with_capacity(entries.len());
    for term in entries.iter().filter_map(|e| e["term"].as_str()) {
        if !terms.iter().any(|t| t == term) {
            terms.push(term.to_string());
        }
    }
    terms
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn item_json(item: &WebhookItem) -> Value {
    let others: Vec<Value> = item
        .other_sources
        .iter()
        .map(|o| json!({"source": o.source, "link": o.link}))
        .collect();
    json!({
        "topic": item.topic,
        "topic_title": item.topic_title,
        "title": item.title,
        "link": item.link,
        "source_feed": item.source_feed,
        "source_feed_url": item.source_feed_url,
        "published": timestamp(item.published),
        "summary": item.summary,
        "excerpt": item.excerpt,
        "score": item.score,
        "matched_terms": item.matched_terms,
        "story_id": item.story_id,
        "other_sources": others,
        "backfill": item.backfill,
    })
}

/// Builds the delivery body (schema in the module docs).
pub fn payload(
    event: &str,
    delivery_id: &str,
    items: &[WebhookItem],
    created_at: DateTime<Utc>,
) -> Value {
    let items: Vec<Value> = items.iter().map(item_json).collect();
    json!({
        "type": event,
        "id": delivery_id,
        "created_at": timestamp(created_at),
        "data": {"items": items},
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn item(n: i64) -> WebhookItem {
        WebhookItem {
            topic: "nk-russia".into(),
            topic_title: "North Korea–Russia".into(),
            title: format!("Story {n} with \"quotes\" & <b>"),
            link: format!("https://example.com/news/{n}"),
            source_feed: "Example News".into(),
            source_feed_url: "https://example.com/rss.xml".into(),
            published: Utc.with_ymd_and_hms(2026, 11, 26, 5, 12, 0).unwrap(),
            summary: "Summary.".into(),
            excerpt: "Excerpt.".into(),
            score: 0.87,
            matched_terms: vec!["North Korea".into(), "Russia".into()],
            story_id: 4200 + n,
            other_sources: vec![OtherSource {
                source: "Wire Daily".into(),
                link: "https://wire.example/a/9".into(),
            }],
            backfill: false,
        }
    }

    #[test]
    fn single_item_payload() {
        let created = Utc.with_ymd_and_hms(2026, 11, 26, 6, 0, 0).unwrap()
            + chrono::Duration::milliseconds(250);
        let v = payload("match.created", "msg_1", &[item(1)], created);
        let expected = json!({
            "type": "match.created",
            "id": "msg_1",
            "created_at": "2026-11-26T06:00:00Z",
            "data": {"items": [{
                "topic": "nk-russia",
                "topic_title": "North Korea–Russia",
                "title": "Story 1 with \"quotes\" & <b>",
                "link": "https://example.com/news/1",
                "source_feed": "Example News",
                "source_feed_url": "https://example.com/rss.xml",
                "published": "2026-11-26T05:12:00Z",
                "summary": "Summary.",
                "excerpt": "Excerpt.",
                "score": 0.87,
                "matched_terms": ["North Korea", "Russia"],
                "story_id": 4201,
                "other_sources": [{"source": "Wire Daily", "link": "https://wire.example/a/9"}],
                "backfill": false
            }]}
        });
        assert_eq!(v, expected);
    }

    #[test]
    fn batch_payload_round_trips_through_text() {
        let mut second = item(2);
        second.backfill = true;
        second.other_sources.clear();
        second.score = f64::NAN;
        let created = Utc.with_ymd_and_hms(2026, 11, 26, 6, 0, 0).unwrap();
        let v = payload("match.created", "msg_2", &[item(1), second], created);
        let text = serde_json::to_string(&v).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        let items = back["data"]["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1]["backfill"], json!(true));
        assert_eq!(items[1]["other_sources"], json!([]));
        assert_eq!(items[1]["score"], Value::Null);
        assert_eq!(items[0]["story_id"], json!(4201));
    }

    /// Issue 17: the matcher stores one entry per term and field; the payload names each term once.
    #[test]
    fn issue_17_matched_terms_are_listed_once_in_match_order() {
        let stored = r#"[
            {"term": "\"north korea*\"", "field": "title", "count": 1, "context": "…"},
            {"term": "russia", "field": "title", "count": 1, "context": "…"},
            {"term": "\"north korea*\"", "field": "summary", "count": 2, "context": "…"},
            {"term": "pyongyang", "field": "text", "count": 1, "context": "…"},
            {"term": "russia", "field": "text", "count": 3, "context": "…"}
        ]"#;
        assert_eq!(
            matched_terms(stored),
            vec!["\"north korea*\"", "russia", "pyongyang"]
        );
        assert!(matched_terms("not json").is_empty());
        assert!(matched_terms("[]").is_empty());
    }

    #[test]
    fn empty_batch() {
        let created = Utc.with_ymd_and_hms(2026, 11, 26, 6, 0, 0).unwrap();
        let v = payload("match.created", "msg_3", &[], created);
        assert_eq!(v["data"]["items"], json!([]));
    }
}
