//! Reader feedback on topics, backend-neutral: who said an item is (or is not) on a topic,
//! and the labelled items a topic's learned layer trains on. The SQL is in
//! `sqlite/feedback.rs` and `postgres/feedback.rs`.

use serde::Serialize;

use super::MatchInput;
use super::matches::input_from_row;
use super::rows::Columns;
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

/// Columns read into a [`LabelledItem`] by [`labelled_from_row`], after the item's
/// `INPUT_COLUMNS` and indexed flag (`topic_feedback` `fb`, items `i`).
pub const LABEL_COLUMNS: &str = "i.published_at,
     EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id AND m.topic = fb.topic),
     fb.relevant, fb.origin, fb.updated_at";

pub fn labelled_from_row<R: Columns>(row: &R, topic: &str) -> Result<LabelledItem, R::Error> {
    Ok(LabelledItem {
        item: input_from_row(row)?,
        published_at: row.column(9)?,
        matched: row.column(10)?,
        feedback: Feedback {
            topic: topic.to_string(),
            item_id: row.column(0)?,
            relevant: row.column(11)?,
            origin: FeedbackOrigin::from_stored(&row.column::<String>(12)?),
            labelled_at: row.column(13)?,
        },
    })
}

/// Columns read into a [`Feedback`] by [`feedback_from_row`].
pub const FEEDBACK_COLUMNS: &str = "topic, item_id, relevant, origin, updated_at";

pub fn feedback_from_row<R: Columns>(row: &R) -> Result<Feedback, R::Error> {
    Ok(Feedback {
        topic: row.column(0)?,
        item_id: row.column(1)?,
        relevant: row.column(2)?,
        origin: FeedbackOrigin::from_stored(&row.column::<String>(3)?),
        labelled_at: row.column(4)?,
    })
}
