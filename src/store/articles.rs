//! The `articles` aggregate's types, shared by both backends: an item waiting for its page, and
//! what an extraction attempt produced.

use crate::model::{ItemId, UnixTime};

/// An item whose article page is to be fetched.
#[derive(Debug, Clone)]
pub struct PendingPage {
    pub item_id: ItemId,
    pub feed_id: i64,
    pub url: String,
    /// The feed's own content or summary (HTML), kept when the page gives less.
    pub feed_html: Option<String>,
    pub attempts: u32,
}

/// What an extraction attempt produced.
#[derive(Debug, Clone, Default)]
pub struct ArticleRecord {
    /// ok | failed | retry | skipped | not-html | feed-content
    pub status: String,
    pub method: Option<String>,
    pub text: Option<String>,
    pub title: Option<String>,
    pub byline: Option<String>,
    pub published: Option<String>,
    pub language: Option<String>,
    pub lead_image_url: Option<String>,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub next_attempt_at: Option<UnixTime>,
}
