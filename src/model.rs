//! Plain domain types and ids shared by every stage; no I/O.

use serde::Serialize;

/// Row id of a feed in the `feeds` table.
pub type FeedId = i64;
/// Row id of an item in the `items` table.
pub type ItemId = i64;

/// Seconds since the Unix epoch, UTC. The database stores every instant this way.
pub type UnixTime = i64;

/// Where a feed came from: the config file is re-synced at start and on reload; the
/// others live in the database alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedSource {
    Config,
    Cli,
    Opml,
}

impl FeedSource {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedSource::Config => "config",
            FeedSource::Cli => "cli",
            FeedSource::Opml => "opml",
        }
    }

    pub fn parse(s: &str) -> FeedSource {
        match s {
            "config" => FeedSource::Config,
            "opml" => FeedSource::Opml,
            _ => FeedSource::Cli,
        }
    }
}

/// Whether a feed is polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedState {
    /// Polled on its schedule.
    Active,
    /// Removed by the owner (or from the config); its items are kept.
    Disabled,
    /// The server answered 410 Gone; polling stopped.
    Gone,
}

impl FeedState {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedState::Active => "active",
            FeedState::Disabled => "disabled",
            FeedState::Gone => "gone",
        }
    }

    pub fn parse(s: &str) -> FeedState {
        match s {
            "disabled" => FeedState::Disabled,
            "gone" => FeedState::Gone,
            _ => FeedState::Active,
        }
    }
}

/// What the owner set for one feed (config, CLI or OPML).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FeedSettings {
    /// Title given by the owner; overrides the feed's own.
    pub title: Option<String>,
    /// Cron expression; `None` means the global default.
    pub schedule: Option<String>,
    /// Fetch and extract each item's article page.
    pub extract: bool,
    /// Extra request headers, e.g. a token for a private feed.
    pub headers: Vec<(String, String)>,
    pub tags: Vec<String>,
}

/// A feed as stored, with its fetch state.
#[derive(Debug, Clone, Serialize)]
pub struct Feed {
    pub id: FeedId,
    /// The URL the feed was added with (the config's key for it).
    pub origin_url: String,
    /// The URL polled now: differs from `origin_url` once a permanent redirect was learned.
    pub url: String,
    /// The URL polled before the last learned redirect.
    pub previous_url: Option<String>,
    pub source: FeedSource,
    pub state: FeedState,
    pub settings: FeedSettings,
    /// Title the feed gives itself.
    pub feed_title: Option<String>,
    pub site_url: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub next_poll_at: UnixTime,
    pub last_polled_at: Option<UnixTime>,
    pub last_success_at: Option<UnixTime>,
    pub last_status: Option<u16>,
    pub last_result: Option<String>,
    pub consecutive_errors: u32,
    pub last_error: Option<String>,
    /// A permanent redirect target seen on recent polls, and on how many in a row.
    pub redirect_url: Option<String>,
    pub redirect_seen: u32,
    /// Entries of the last parsed document that could not be read (each was logged).
    pub entries_skipped: u32,
    pub item_count: i64,
}

impl Feed {
    /// The title to show: the owner's, else the feed's own, else the URL.
    pub fn display_title(&self) -> &str {
        self.settings
            .title
            .as_deref()
            .or(self.feed_title.as_deref())
            .unwrap_or(&self.url)
    }
}

/// One entry of a parsed feed, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    /// Our own per-feed identity: guid, else canonical link, else hash of title and date.
    pub dedup_key: String,
    pub guid: Option<String>,
    /// The link with tracking parameters and fragment removed.
    pub url: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub content: Option<String>,
    pub author: Option<String>,
    /// The date the feed gave, if it gave one we could read.
    pub published_original: Option<UnixTime>,
    /// Hash of title, link, summary and content: a change means the item was edited.
    pub content_hash: String,
    /// The key an earlier version of tidings gave this entry, when it differs (a link once
    /// stored with its entities undecoded): a row stored under it is this item, re-keyed.
    pub former_key: Option<String>,
}

/// What the parser learned about the feed itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedMeta {
    pub title: Option<String>,
    pub site_url: Option<String>,
    /// RSS `<ttl>`, in minutes.
    pub ttl_minutes: Option<u32>,
}

/// The counts a refresh committed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StoredCounts {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// What identifies a story across feeds, computed from what the feed itself says of an item
/// (never from its article page, which arrives at a time of its own): the canonical URL, a
/// SimHash of the title, and the word 3-shingles of the lead of the feed's text (see
/// `notify::story`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoryKey {
    /// Canonical URL, if any.
    pub url: Option<String>,
    /// SimHash of the normalized title's words and word pairs.
    pub title_hash: u64,
    /// Number of normalized words in the title.
    pub title_words: u32,
    /// 32-bit hashes of the word 3-shingles of the first words of the feed's text (summary,
    /// else content), sorted and unique.
    pub lead: Vec<u32>,
}

/// Where matches of a topic are delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `webhook:NAME` or `digest:NAME`.
    pub channel: String,
    pub topic: String,
    pub kind: ChannelKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    Webhook,
    Digest,
}

/// The rules that decide a new delivery's status.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryPolicy {
    /// Items published before this are not delivered (status `expired`).
    pub oldest_published: UnixTime,
    /// Webhook deliveries wait until now + this for other copies of the story.
    pub story_window_secs: i64,
    /// How far back a new item looks for a story to join.
    pub story_lookback_secs: i64,
}
