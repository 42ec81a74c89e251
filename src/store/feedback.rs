//! Reader feedback on topics, backend-neutral: who said an item is (or is not) on a topic,
//! and the labelled items a topic's learned layer trains on. The SQL is in
//! `sqlite/feedback.rs` and `postgres/feedback.rs`.

use serde::Serialize;

use super::MatchInput;
use crate::model::{ItemId, UnixTime};

/// Where a label was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedbackOrigin {
    Cli,
    Api,
    Web,
}

impl FeedbackOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackOrigin::Cli => "cli",
            FeedbackOrigin::Api => "api",
            FeedbackOrigin::Web => "web",
        }
    }

    /// Reads a stored origin; an unknown word (a newer tidings wrote it) reads as `api`.
    pub fn from_stored(text: &str) -> FeedbackOrigin {
        match text {
            "cli" => FeedbackOrigin::Cli,
            "web" => FeedbackOrigin::Web,
            _ => FeedbackOrigin::Api,
        }
    }
}

/// Reads a reader's verdict as written on the command line or in an API body.
pub fn parse_verdict(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "relevant" | "on-topic" | "yes" | "1" | "true" => Ok(true),
        "irrelevant" | "not-relevant" | "off-topic" | "no" | "0" | "false" => Ok(false),
        other => Err(format!(
            "`{other}` is not a verdict: say `relevant` or `irrelevant`"
        )),
    }
}

/// One label: a reader's word on one item for one topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Feedback {
    pub topic: String,
    pub item_id: ItemId,
    pub relevant: bool,
    pub origin: FeedbackOrigin,
    /// When the label was last given (the last word wins).
    pub labelled_at: UnixTime,
}

/// A labelled item with the text the matcher reads: what a topic's learned layer trains on
/// and what `tidings topics labels` exports.
#[derive(Debug, Clone)]
pub struct LabelledItem {
    pub item: MatchInput,
    pub published_at: UnixTime,
    /// Whether the topic matched the item (a label on an unmatched item marks a miss).
    pub matched: bool,
    pub feedback: Feedback,
}
