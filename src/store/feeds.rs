//! The `feeds` aggregate, backend-neutral: a feed as read from its row, and which feeds the
//! owner should hear of (failing, gone, moved, silent). The SQL is in `sqlite/feeds.rs` and
//! `postgres/feeds.rs`.

use super::rows::{Columns, narrow};
use crate::model::{Feed, FeedSettings, FeedSource, FeedState, UnixTime};

/// Columns read into a `Feed`, in `feed_from_row` order.
pub const FEED_COLUMNS: &str = "feeds.id, origin_url, url, previous_url, source, state, title, schedule, extract, \
     headers, tags, feed_title, site_url, etag, last_modified, next_poll_at, last_polled_at, \
     last_success_at, last_status, last_result, consecutive_errors, last_error, redirect_url, \
     redirect_seen, entries_skipped, (SELECT count(*) FROM items WHERE items.feed_id = feeds.id)";

/// Alias kept for callers that name the row type.
pub type FeedRow = Feed;

pub fn feed_from_row<R: Columns>(row: &R) -> Result<Feed, R::Error> {
    let headers: String = row.column(9)?;
    let tags: String = row.column(10)?;
    Ok(Feed {
        id: row.column(0)?,
        origin_url: row.column(1)?,
        url: row.column(2)?,
        previous_url: row.column(3)?,
        source: FeedSource::parse(&row.column::<String>(4)?),
        state: FeedState::parse(&row.column::<String>(5)?),
        settings: FeedSettings {
            title: row.column(6)?,
            schedule: row.column(7)?,
            extract: row.column(8)?,
            headers: serde_json::from_str(&headers).unwrap_or_default(),
            tags: serde_json::from_str(&tags).unwrap_or_default(),
        },
        feed_title: row.column(11)?,
        site_url: row.column(12)?,
        etag: row.column(13)?,
        last_modified: row.column(14)?,
        next_poll_at: row.column(15)?,
        last_polled_at: row.column(16)?,
        last_success_at: row.column(17)?,
        last_status: row.column::<Option<i64>>(18)?.map(narrow),
        last_result: row.column(19)?,
        consecutive_errors: narrow(row.column(20)?),
        last_error: row.column(21)?,
        redirect_url: row.column(22)?,
        redirect_seen: narrow(row.column(23)?),
        entries_skipped: narrow(row.column(24)?),
        item_count: row.column(25)?,
    })
}

/// Something about a feed the owner should hear of in a digest.
#[derive(Debug, Clone)]
pub struct FeedProblem {
    pub title: String,
    pub url: String,
    pub problem: String,
}

/// What [`ProblemFacts`] reads of every feed that is not disabled (the same text on both
/// backends).
pub const PROBLEM_QUERY: &str = "SELECT coalesce(f.title, f.feed_title, f.url), f.url, f.state, f.consecutive_errors, f.last_error,
        coalesce(f.last_success_at, f.created_at), f.last_polled_at, f.url_changed_at, f.previous_url,
        (SELECT count(*) FROM items i WHERE i.feed_id = f.id),
        (SELECT min(first_seen_at) FROM items i WHERE i.feed_id = f.id),
        (SELECT max(first_seen_at) FROM items i WHERE i.feed_id = f.id)
 FROM feeds f WHERE f.state != 'disabled' ORDER BY f.id";

pub fn problem_facts_from_row<R: Columns>(row: &R) -> Result<ProblemFacts, R::Error> {
    Ok(ProblemFacts {
        title: row.column(0)?,
        url: row.column(1)?,
        state: row.column(2)?,
        errors: row.column(3)?,
        last_error: row.column(4)?,
        last_ok: row.column(5)?,
        polled: row.column(6)?,
        moved_at: row.column(7)?,
        previous: row.column(8)?,
        count: row.column(9)?,
        first: row.column(10)?,
        last: row.column(11)?,
    })
}

/// What `feed_problems` reads of one feed (on either backend).
pub struct ProblemFacts {
    pub title: String,
    pub url: String,
    pub state: String,
    pub errors: i64,
    pub last_error: Option<String>,
    /// Last success, else when the feed was added.
    pub last_ok: i64,
    pub polled: Option<i64>,
    pub moved_at: Option<i64>,
    pub previous: Option<String>,
    pub count: i64,
    pub first: Option<i64>,
    pub last: Option<i64>,
}

impl ProblemFacts {
    /// The problem the owner should hear of, if any.
    pub fn problem(self, now: UnixTime) -> Option<FeedProblem> {
        let day = 86_400;
        let ProblemFacts {
            title,
            url,
            state,
            errors,
            last_error,
            last_ok,
            polled,
            moved_at,
            previous,
            count,
            first,
            last,
        } = self;
        let problem = if state == "gone" && polled.is_some_and(|t| t > now - 7 * day) {
            Some("gone: the server answered 410; polling stopped".to_string())
        } else if errors > 0 && last_ok < now - day {
            Some(format!(
                "failing for {} days: {}",
                (now - last_ok) / day,
                last_error.unwrap_or_default()
            ))
        } else if let (Some(at), Some(previous)) = (moved_at, previous) {
            (at > now - 7 * day).then(|| format!("moved permanently from {previous}"))
        } else if let (Some(first), Some(last)) = (first, last) {
            let usual = if count > 1 {
                (last - first) / (count - 1)
            } else {
                0
            };
            let silent = now - last;
            (count >= 5 && silent > (10 * usual).max(7 * day)).then(|| {
                format!(
                    "silent for {} days (usually an item every {})",
                    silent / day,
                    human_gap(usual)
                )
            })
        } else {
            None
        };
        problem.map(|problem| FeedProblem {
            title,
            url,
            problem,
        })
    }
}

fn human_gap(secs: i64) -> String {
    match secs {
        s if s < 3600 => format!("{} minutes", (s / 60).max(1)),
        s if s < 86_400 => format!("{} hours", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}
