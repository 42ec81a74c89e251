//! A small archive built through the store API: two feeds (one failing), items with titles,
//! summaries, authors and one extracted article, and topic matches. Times are offsets from a
//! base instant, so tests can use the real clock or a fixed one.

use tidings::model::{FeedSettings, FeedSource, NewItem};
use tidings::store::{ArticleRecord, MatchRecord, MatchedItem, Store};

use super::Workspace;

pub const DAY: i64 = 86_400;
pub const KOREA_FEED: &str = "http://127.0.0.1:9/korea.xml";
pub const MOSCOW_FEED: &str = "http://127.0.0.1:9/moscow.xml";

/// The config the fixture's topics and aliases come from (append feeds/api as needed).
pub const TOPICS_TOML: &str = r#"
[aliases]
dprk = '"north korea" OR pyongyang OR dprk'

[[topic]]
name = "nk-russia"
title = "North Korea & Russia"
query = "lavrov OR vladivostok"
min_score = 0.1
"#;

/// Ids of the fixture's items, by role.
#[derive(Debug, Clone, Copy)]
pub struct Ids {
    pub summit: i64,
    pub roundup: i64,
    pub polish: i64,
    pub harvest: i64,
    pub cafe: i64,
    pub lavrov: i64,
    pub old: i64,
}

pub fn item(key: &str, title: &str, summary: &str, author: Option<&str>, at: i64) -> NewItem {
    NewItem {
        dedup_key: key.to_string(),
        guid: Some(key.to_string()),
        url: Some(format!("https://news.example/{key}")),
        title: Some(title.to_string()),
        summary: Some(summary.to_string()),
        content: None,
        author: author.map(str::to_string),
        published_original: Some(at),
        content_hash: format!("hash-{key}"),
        former_key: None,
    }
}

/// Builds the archive in the workspace's database; `base` is "now" for the item dates.
pub fn build(ws: &Workspace, base: i64) -> Ids {
    let store = Store::open(&ws.db()).unwrap();
    let settings = |title: &str| FeedSettings {
        title: Some(title.to_string()),
        extract: false,
        ..FeedSettings::default()
    };
    let (korea, _) = store
        .add_feed(
            KOREA_FEED,
            FeedSource::Cli,
            &settings("Korea Wire"),
            base - 500 * DAY,
        )
        .unwrap();
    let (moscow, _) = store
        .add_feed(
            MOSCOW_FEED,
            FeedSource::Cli,
            &settings("Moscow Daily"),
            base - 500 * DAY,
        )
        .unwrap();

    let mut feed = store.feed(korea).unwrap();
    feed.last_polled_at = Some(base - 3600);
    feed.last_success_at = Some(base - 3600);
    feed.last_result = Some("ok".into());
    feed.last_status = Some(200);
    let korea_items = vec![
        item(
            "summit",
            "Kim Jong-un meets Putin in Vladivostok",
            "<p>The North Korean leader arrived by armoured train.</p>",
            Some("Anna Lee"),
            base - DAY,
        ),
        item(
            "roundup",
            "Weekly economy roundup",
            "<p>Markets rose on grain, oil and steel. Elsewhere, Kim Jong Un was mentioned once \
             among many other topics: grain prices, oil futures, steel output, shipping rates, \
             retail sales, rice harvests, fisheries, tourism and the weather.</p>",
            None,
            base - 3600,
        ),
        item(
            "polish",
            "Północna Korea: nowe sankcje",
            "Sankcje wobec Korei Północnej",
            None,
            base - 10 * DAY,
        ),
        item(
            "harvest",
            "Grain harvest report",
            "Farmers in the south report a good year.",
            None,
            base - 40 * DAY,
        ),
        item(
            "cafe",
            "Café culture in Zürich, \"slow\" coffee",
            "Line one,\nline two",
            Some("Jane \"JJ\" Doe, editor"),
            base - 5 * DAY,
        ),
    ];
    let (_, ids_a) = store
        .commit_refresh(&feed, &korea_items, true, base - 3600)
        .unwrap();

    let mut feed = store.feed(moscow).unwrap();
    feed.last_polled_at = Some(base - 600);
    feed.last_result = Some("error".into());
    feed.last_status = Some(500);
    feed.consecutive_errors = 3;
    feed.last_error = Some("HTTP 500 Internal Server Error".into());
    let moscow_items = vec![
        item(
            "lavrov",
            "Lavrov visits Pyongyang",
            "Russian foreign minister Sergei Lavrov arrived in North Korea.",
            Some("Ivan Petrov"),
            base - 2 * DAY,
        ),
        item(
            "old",
            "Old news about Moscow traffic",
            "Traffic jams in Moscow.",
            None,
            base - 400 * DAY,
        ),
    ];
    let (_, ids_b) = store
        .commit_refresh(&feed, &moscow_items, true, base - 2 * DAY)
        .unwrap();
    // The feed's failure came after that successful poll.
    store.record_fetch_state(&feed).unwrap();

    let ids = Ids {
        summit: ids_a[0],
        roundup: ids_a[1],
        polish: ids_a[2],
        harvest: ids_a[3],
        cafe: ids_a[4],
        lavrov: ids_b[0],
        old: ids_b[1],
    };
    store
        .record_article(
            ids.harvest,
            &ArticleRecord {
                status: "ok".into(),
                method: Some("readability".into()),
                text: Some(
                    "The ministry in Pyongyang denied the numbers.\n\nAnalysts at the Triều Tiên \
                     desk in Hanoi disagreed."
                        .into(),
                ),
                ..ArticleRecord::default()
            },
            base - 39 * DAY,
        )
        .unwrap();
    // The matching stage (with no topics here) indexes the items for search, as in the daemon.
    let no_topics = tidings::config::Config::from_toml("", None).unwrap();
    tidings::pipeline::matching::match_pending(&no_topics, &store).unwrap();
    let matched = |item_id: i64, records: Vec<MatchRecord>| MatchedItem {
        item_id,
        target_state: 1,
        records,
        index: None,
        story: tidings::model::StoryKey::default(),
    };
    let record = |score: f64, term: &str| MatchRecord {
        topic: "nk-russia".into(),
        score,
        terms: format!(r#"[{{"term":"{term}","field":"title"}}]"#),
    };
    store
        .record_matches(
            &[
                matched(ids.summit, vec![record(4.0, "vladivostok")]),
                matched(ids.lavrov, vec![record(6.0, "lavrov")]),
            ],
            false,
            None,
            base - 600,
        )
        .unwrap();
    ids
}
