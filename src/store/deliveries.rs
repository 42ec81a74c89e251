//! The deliveries aggregate, backend-neutral: the outbox rows as the CLI, the API, webhooks
//! and digests see them, and the decisions both backends carry out: a new delivery's status,
//! when a fresh copy makes a held-back story deliverable, the receiver's idempotency key.

use super::rows::{Columns, narrow};
use crate::model::{ChannelKind, ItemId, Route, UnixTime};

/// The receiver's idempotency key of a delivery: stable for (channel, topic, story).
pub fn delivery_key(channel: &str, topic: &str, story_id: i64) -> String {
    let basis = format!("{channel}\u{0}{topic}\u{0}{story_id}");
    format!("dlv_{:016x}", xxhash_rust::xxh3::xxh3_64(basis.as_bytes()))
}

/// One delivery a new match enqueues on a channel routing its topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub channel: String,
    pub status: &'static str,
    pub due_at: UnixTime,
}

/// What a new match enqueues: on every route of `topic`, a delivery whose status says when it
/// goes out. Matches from a feed's first poll and backfills are held back as `backfill`; items
/// published before the policy's oldest date are `expired`; webhooks wait for other copies of
/// the story (`held` until the story window ends); digests take it at their next run.
pub fn new_deliveries(
    routes: &[Route],
    policy: &crate::model::DeliveryPolicy,
    topic: &str,
    backfill: bool,
    first_poll: bool,
    published_at: UnixTime,
    now: UnixTime,
) -> Vec<NewDelivery> {
    routes
        .iter()
        .filter(|r| r.topic == topic)
        .map(|route| {
            let (status, due_at) = if backfill || first_poll {
                ("backfill", now)
            } else if published_at < policy.oldest_published {
                ("expired", now)
            } else {
                match route.kind {
                    ChannelKind::Webhook => ("held", now + policy.story_window_secs),
                    ChannelKind::Digest => ("pending", now),
                }
            };
            NewDelivery {
                channel: route.channel.clone(),
                status,
                due_at,
            }
        })
        .collect()
}

/// The end of both backends' insert of a new delivery: the story already has one on this
/// channel and topic, so nothing new is sent, except that a fresh copy makes a story held back
/// as old news (`backfill`, `expired`) deliverable.
pub const ON_EXISTING_DELIVERY: &str = "ON CONFLICT (channel, topic, story_id) DO UPDATE
     SET status = excluded.status, due_at = excluded.due_at
     WHERE deliveries.status IN ('backfill', 'expired') AND excluded.status IN ('held', 'pending')";

/// The other sources of a story as a delivery lists them: each (feed title, link) once, in
/// the order first seen.
pub fn distinct_sources(sources: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut seen = std::collections::HashSet::new();
    sources
        .into_iter()
        .filter(|s| seen.insert(s.clone()))
        .collect()
}

/// A delivery as listed by the CLI and the API.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub delivery_key: String,
    pub channel: String,
    pub topic: String,
    pub story_id: i64,
    pub status: String,
    pub attempts: u32,
    pub due_at: UnixTime,
    pub last_error: Option<String>,
    pub created_at: UnixTime,
    pub sent_at: Option<UnixTime>,
    pub title: Option<String>,
}

/// Everything a webhook or digest shows of one delivery.
#[derive(Debug, Clone)]
pub struct DeliveryContent {
    pub id: i64,
    pub delivery_key: String,
    pub batch_key: Option<String>,
    pub attempts: u32,
    pub topic: String,
    pub story_id: i64,
    pub backfill: bool,
    pub score: f64,
    /// JSON array of matched terms.
    pub terms: String,
    pub item_id: ItemId,
    pub title: String,
    pub link: String,
    pub feed_title: String,
    pub feed_url: String,
    pub published_at: UnixTime,
    /// HTML as the feed gave it.
    pub summary: String,
    pub article_text: Option<String>,
    /// Other copies of the story: (feed title, link).
    pub other_sources: Vec<(String, String)>,
}

/// A built digest email.
#[derive(Debug, Clone)]
pub struct DigestRun {
    pub id: i64,
    pub digest: String,
    pub scheduled_for: UnixTime,
    pub message_id: String,
    pub status: String,
    pub attempts: u32,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
}

/// Columns read into a [`DeliveryContent`] by [`content_from_row`] (deliveries `d`, matches
/// `m`, items `i`, feeds `f`, articles `a`).
pub const CONTENT_COLUMNS: &str = "d.id, d.delivery_key, d.batch_key, d.attempts, d.topic, d.story_id, m.backfill, m.score, m.terms,
     i.id, coalesce(i.title, ''), coalesce(i.url, ''), coalesce(f.title, f.feed_title, f.url), f.url, i.published_at,
     coalesce(i.summary, ''), a.text";

/// A delivery with what it shows, from [`CONTENT_COLUMNS`]; its other sources come after.
pub fn content_from_row<R: Columns>(row: &R) -> Result<DeliveryContent, R::Error> {
    Ok(DeliveryContent {
        id: row.column(0)?,
        delivery_key: row.column(1)?,
        batch_key: row.column(2)?,
        attempts: narrow(row.column(3)?),
        topic: row.column(4)?,
        story_id: row.column(5)?,
        backfill: row.column(6)?,
        score: row.column(7)?,
        terms: row.column(8)?,
        item_id: row.column(9)?,
        title: row.column(10)?,
        link: row.column(11)?,
        feed_title: row.column(12)?,
        feed_url: row.column(13)?,
        published_at: row.column(14)?,
        summary: row.column(15)?,
        article_text: row.column(16)?,
        other_sources: Vec::new(),
    })
}

/// Columns read into a [`DigestRun`] by [`digest_from_row`].
pub const DIGEST_COLUMNS: &str =
    "id, digest, scheduled_for, message_id, status, attempts, subject, body_text, body_html";

pub fn digest_from_row<R: Columns>(row: &R) -> Result<DigestRun, R::Error> {
    Ok(DigestRun {
        id: row.column(0)?,
        digest: row.column(1)?,
        scheduled_for: row.column(2)?,
        message_id: row.column(3)?,
        status: row.column(4)?,
        attempts: narrow(row.column(5)?),
        subject: row.column::<Option<String>>(6)?.unwrap_or_default(),
        body_text: row.column::<Option<String>>(7)?.unwrap_or_default(),
        body_html: row.column::<Option<String>>(8)?.unwrap_or_default(),
    })
}

/// Columns read into a [`DeliveryRow`] by [`delivery_row_from_row`] (deliveries `d`, the
/// match's item `i`).
pub const DELIVERY_ROW_COLUMNS: &str = "d.id, d.delivery_key, d.channel, d.topic, d.story_id, d.status, d.attempts, d.due_at, d.last_error,
     d.created_at, d.sent_at, i.title";

pub fn delivery_row_from_row<R: Columns>(row: &R) -> Result<DeliveryRow, R::Error> {
    Ok(DeliveryRow {
        id: row.column(0)?,
        delivery_key: row.column(1)?,
        channel: row.column(2)?,
        topic: row.column(3)?,
        story_id: row.column(4)?,
        status: row.column(5)?,
        attempts: narrow(row.column(6)?),
        due_at: row.column(7)?,
        last_error: row.column(8)?,
        created_at: row.column(9)?,
        sent_at: row.column(10)?,
        title: row.column(11)?,
    })
}
