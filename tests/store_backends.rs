//! The store test suite, run on both backends: every scenario runs once on a fresh SQLite
//! file and once on a fresh PostgreSQL database (`TIDINGS_TEST_POSTGRES`, started by
//! `.ci/test.sh`; missing, these tests fail). Then what only PostgreSQL does: claims shared by
//! several workers, per-host limits across them, leases that lapse.

mod common;

use std::time::Duration;

use common::pg::TestDatabase;
use tidings::config::{DatabaseLocation, FeedConfig};
use tidings::model::{
    ChannelKind, DeliveryPolicy, FeedSettings, FeedSource, NewItem, Route, StoryKey,
};
use tidings::store::{
    ArticleRecord, DeliveryPlan, DigestRun, MatchRecord, MatchedItem, SearchOrder, Store,
    WorkerOptions,
};

const NOW: i64 = 1_790_000_000;
const DAY: i64 = 86_400;

/// A store on one backend, with what keeps its database alive.
struct Backend {
    name: &'static str,
    store: Store,
    _sqlite: Option<tempfile::TempDir>,
    _postgres: Option<TestDatabase>,
}

fn sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.db")).unwrap();
    Backend {
        name: "sqlite",
        store,
        _sqlite: Some(dir),
        _postgres: None,
    }
}

fn postgres_with(options: WorkerOptions) -> (TestDatabase, Store) {
    let db = TestDatabase::create();
    let store = Store::open_location(&DatabaseLocation::Postgres(db.url.clone()), options).unwrap();
    (db, store)
}

fn postgres() -> Backend {
    let (db, store) = postgres_with(WorkerOptions::default());
    Backend {
        name: "postgres",
        store,
        _sqlite: None,
        _postgres: Some(db),
    }
}

/// Runs `scenario` on SQLite, then on PostgreSQL.
fn on_both(scenario: impl Fn(&str, &Store)) {
    for backend in [sqlite(), postgres()] {
        scenario(backend.name, &backend.store);
    }
}

fn settings(extract: bool) -> FeedSettings {
    FeedSettings {
        extract,
        ..FeedSettings::default()
    }
}

fn item(key: &str, title: &str, summary: &str, at: i64) -> NewItem {
    NewItem {
        dedup_key: key.to_string(),
        guid: Some(key.to_string()),
        url: Some(format!("https://news.example/{key}")),
        title: Some(title.to_string()),
        summary: Some(summary.to_string()),
        content: None,
        author: Some("Olga Kim".to_string()),
        published_original: Some(at),
        content_hash: format!("hash-{key}-{title}"),
        former_key: None,
    }
}

fn story(n: u64) -> StoryKey {
    StoryKey {
        url: Some(format!("https://news.example/story/{n}")),
        title_hash: n,
        title_words: 10,
        lead: vec![n as u32],
    }
}

#[test]
fn feeds_are_added_synced_listed_and_scheduled() {
    on_both(|name, store| {
        let config = |urls: &[&str]| -> Vec<FeedConfig> {
            urls.iter()
                .map(|u| FeedConfig {
                    url: url::Url::parse(u).unwrap(),
                    settings: FeedSettings {
                        tags: vec!["korea".into()],
                        ..FeedSettings::default()
                    },
                    header_secrets: Vec::new(),
                })
                .collect()
        };
        let a = "http://a.example/feed.xml";
        let b = "http://b.example/feed.xml";
        assert_eq!(
            store.sync_config_feeds(&config(&[a, b]), NOW).unwrap(),
            (2, 0),
            "{name}"
        );
        assert_eq!(
            store.sync_config_feeds(&config(&[a]), NOW + 1).unwrap(),
            (0, 1),
            "{name}"
        );
        let (c, new) = store
            .add_feed(
                "http://c.example/rss",
                FeedSource::Cli,
                &settings(true),
                NOW,
            )
            .unwrap();
        assert!(new, "{name}");
        assert_eq!(
            store
                .add_feed(
                    "http://c.example/rss",
                    FeedSource::Cli,
                    &settings(true),
                    NOW
                )
                .unwrap(),
            (c, false),
            "{name}"
        );
        let feeds = store.list_feeds().unwrap();
        assert_eq!(feeds.len(), 3, "{name}");
        assert_eq!(feeds[0].settings.tags, vec!["korea".to_string()], "{name}");
        assert_eq!(feeds[1].state.as_str(), "disabled", "{name}");
        assert_eq!(
            store.feed_by_url(a).unwrap().unwrap().id,
            feeds[0].id,
            "{name}"
        );
        assert!(
            store.feed_by_url("http://nowhere/").unwrap().is_none(),
            "{name}"
        );
        assert!(store.feed(9_999).is_err(), "{name}");

        // Scheduling: new feeds are due at once; a refresh moves them on.
        let due = store.due_feeds(NOW, 10, &[]).unwrap();
        assert_eq!(
            due.iter().map(|f| f.id).collect::<Vec<_>>(),
            vec![feeds[0].id, c],
            "{name}"
        );
        assert_eq!(store.due_feeds(NOW, 10, &[c]).unwrap().len(), 1, "{name}");
        let mut feed = store.feed(c).unwrap();
        feed.next_poll_at = NOW + 600;
        feed.last_status = Some(200);
        feed.last_result = Some("ok".into());
        feed.consecutive_errors = 0;
        store.record_fetch_state(&feed).unwrap();
        assert_eq!(store.due_feeds(NOW, 10, &[]).unwrap().len(), 1, "{name}");
        assert_eq!(store.next_due_at().unwrap(), Some(0), "{name}");
        assert!(store.advance_next_poll(c, NOW + 60).unwrap(), "{name}");
        assert!(!store.advance_next_poll(c, NOW + 120).unwrap(), "{name}");
        assert_eq!(store.feed(c).unwrap().next_poll_at, NOW + 60, "{name}");
        assert_eq!(store.feed(c).unwrap().last_status, Some(200), "{name}");
        assert_eq!(store.make_all_due().unwrap(), 2, "{name}");
        assert!(store.disable_feed(a).unwrap(), "{name}");
        assert!(!store.disable_feed("http://nowhere/").unwrap(), "{name}");
        assert!(store.feed_problems(NOW).unwrap().is_empty(), "{name}");
        store.probe_writer().unwrap();
        assert!(store.integrity_ok().unwrap(), "{name}");
        store.ping().unwrap();
    });
}

#[test]
fn refreshes_store_items_once_update_edits_and_honour_tombstones() {
    on_both(|name, store| {
        let (id, _) = store
            .add_feed(
                "http://a.example/feed.xml",
                FeedSource::Cli,
                &settings(false),
                NOW,
            )
            .unwrap();
        let feed = store.feed(id).unwrap();
        let items = vec![
            item(
                "k1",
                "Summit in Vladivostok",
                "<p>Kim meets Putin</p>",
                NOW - 3600,
            ),
            item("k2", "Harvest report", "Rice", NOW - 7200),
        ];
        let (counts, ids) = store.commit_refresh(&feed, &items, true, NOW).unwrap();
        assert_eq!(
            (counts.new, counts.updated, counts.unchanged),
            (2, 0, 0),
            "{name}"
        );
        assert_eq!(ids.len(), 2, "{name}");
        let (counts, _) = store.commit_refresh(&feed, &items, false, NOW).unwrap();
        assert_eq!(
            (counts.new, counts.updated, counts.unchanged),
            (0, 0, 2),
            "{name}"
        );
        let mut edited = items.clone();
        edited[1] = item(
            "k2",
            "Harvest report (corrected)",
            "Rice and wheat",
            NOW - 7200,
        );
        let (counts, _) = store.commit_refresh(&feed, &edited, false, NOW).unwrap();
        assert_eq!(
            (counts.new, counts.updated, counts.unchanged),
            (0, 1, 1),
            "{name}"
        );
        assert_eq!(
            store.item_keys().unwrap(),
            vec![(id, "k1".to_string()), (id, "k2".to_string())],
            "{name}"
        );
        // An item dated in the future is dated when first seen.
        let (_, future) = store
            .commit_refresh(&feed, &[item("k3", "Later", "", NOW + DAY)], false, NOW)
            .unwrap();
        assert_eq!(
            store.item_detail(future[0]).unwrap().unwrap().published_at,
            NOW,
            "{name}"
        );

        // Pruning tombstones keys: the pruned item never comes back as new.
        let report = store.prune(NOW - 5000, false, NOW).unwrap();
        assert_eq!(report.items, 1, "{name}");
        let (counts, _) = store.commit_refresh(&feed, &edited, false, NOW).unwrap();
        assert_eq!((counts.new, counts.unchanged), (0, 2), "{name}");
        let c = store.counts().unwrap();
        assert_eq!((c.items, c.tombstones), (2, 1), "{name}");
        assert!(
            store
                .stats()
                .unwrap()
                .tables
                .iter()
                .any(|t| t.name == "items"),
            "{name}"
        );
    });
}

#[test]
fn extraction_queue_and_articles() {
    on_both(|name, store| {
        let (id, _) = store
            .add_feed(
                "http://a.example/feed.xml",
                FeedSource::Cli,
                &settings(true),
                NOW,
            )
            .unwrap();
        let feed = store.feed(id).unwrap();
        let (_, ids) = store
            .commit_refresh(
                &feed,
                &[item("k1", "One", "s1", NOW), item("k2", "Two", "s2", NOW)],
                false,
                NOW,
            )
            .unwrap();
        let pending = store.pending_pages(NOW, 10, &[]).unwrap();
        assert_eq!(
            pending.iter().map(|p| p.item_id).collect::<Vec<_>>(),
            vec![ids[1], ids[0]],
            "{name}"
        );
        assert_eq!(
            store.pending_pages(NOW, 10, &[ids[1]]).unwrap().len(),
            1,
            "{name}"
        );
        store
            .record_article(
                ids[1],
                &ArticleRecord {
                    status: "ok".into(),
                    method: Some("readability".into()),
                    text: Some("Lavrov arrived in Pyongyang on Tuesday.".into()),
                    http_status: Some(200),
                    ..ArticleRecord::default()
                },
                NOW,
            )
            .unwrap();
        store
            .record_article(
                ids[0],
                &ArticleRecord {
                    status: "retry".into(),
                    error: Some("timeout".into()),
                    next_attempt_at: Some(NOW + 600),
                    ..ArticleRecord::default()
                },
                NOW,
            )
            .unwrap();
        assert!(
            store.pending_pages(NOW, 10, &[]).unwrap().is_empty(),
            "{name}"
        );
        let retry = store.pending_pages(NOW + 600, 10, &[]).unwrap();
        assert_eq!((retry.len(), retry[0].attempts), (1, 1), "{name}");
        let article = store.article(ids[1]).unwrap().unwrap();
        assert_eq!(article.http_status, Some(200), "{name}");
        assert!(store.article(9_999).unwrap().is_none(), "{name}");
        // The article text is searchable once the matching stage has seen the item.
        run_matching_stage(store);
        let hits = search(store, "pyongyang");
        assert_eq!(hits, vec![ids[1]], "{name}");
    });
}

/// Reader feedback: one row per topic and item (the last word wins), read back with the
/// item's text for training and export; labelled items survive pruning (they are the topic's
/// training data).
#[test]
fn feedback_is_one_label_per_topic_and_item_and_survives_pruning() {
    on_both(|name, store| {
        let (id, _) = store
            .add_feed(
                "http://a.example/feed.xml",
                FeedSource::Cli,
                &settings(true),
                NOW,
            )
            .unwrap();
        let feed = store.feed(id).unwrap();
        let old = NOW - 400 * DAY;
        let (_, ids) = store
            .commit_refresh(
                &feed,
                &[
                    item(
                        "k1",
                        "Lavrov in Pyongyang",
                        "<p>Talks <b>began</b>.</p>",
                        old,
                    ),
                    item("k2", "Harvest", "Grain.", old),
                    item("k3", "Weather", "Rain.", old),
                ],
                false,
                NOW,
            )
            .unwrap();
        store
            .record_article(
                ids[0],
                &ArticleRecord {
                    status: "ok".into(),
                    text: Some("The minister arrived on Tuesday.".into()),
                    ..ArticleRecord::default()
                },
                NOW,
            )
            .unwrap();
        let origin = tidings::store::FeedbackOrigin::Web;
        store
            .record_feedback("nk-russia", ids[0], false, origin, NOW)
            .unwrap();
        store
            .record_feedback("nk-russia", ids[0], true, origin, NOW + 5)
            .unwrap();
        store
            .record_feedback(
                "nk-russia",
                ids[1],
                false,
                tidings::store::FeedbackOrigin::Cli,
                NOW + 9,
            )
            .unwrap();
        store
            .record_feedback("weather", ids[1], true, origin, NOW + 9)
            .unwrap();
        assert!(
            matches!(
                store.record_feedback("nk-russia", 9_999, true, origin, NOW),
                Err(tidings::store::StoreError::NotFound(_))
            ),
            "{name}"
        );
        let labels = store.topic_labels("nk-russia").unwrap();
        assert_eq!(labels.len(), 2, "{name}");
        assert_eq!(labels[0].item.item_id, ids[0], "{name}");
        assert!(labels[0].feedback.relevant, "{name}: the last word wins");
        assert_eq!(labels[0].feedback.labelled_at, NOW + 5, "{name}");
        assert_eq!(labels[0].item.title, "Lavrov in Pyongyang", "{name}");
        assert_eq!(
            labels[0].item.article_text.as_deref(),
            Some("The minister arrived on Tuesday."),
            "{name}"
        );
        assert_eq!(labels[0].published_at, old, "{name}");
        assert!(!labels[0].matched, "{name}");
        assert_eq!(
            labels[1].feedback.origin,
            tidings::store::FeedbackOrigin::Cli,
            "{name}"
        );
        let given = store.feedback_for_items(&[ids[1], ids[2]]).unwrap();
        let topics: Vec<(&str, bool)> = given
            .iter()
            .map(|f| (f.topic.as_str(), f.relevant))
            .collect();
        assert_eq!(
            topics,
            vec![("nk-russia", false), ("weather", true)],
            "{name}"
        );
        assert!(store.feedback_for_items(&[]).unwrap().is_empty(), "{name}");
        assert_eq!(store.match_target(9_999).unwrap(), None, "{name}");
        // Pruning takes the unlabelled old item only.
        let report = store.prune(NOW - DAY, true, NOW).unwrap();
        assert_eq!(report.items, 1, "{name}");
        assert_eq!(store.topic_labels("nk-russia").unwrap().len(), 2, "{name}");
    });
}

/// Runs the matching stage with no topics: it moves new items on and (on SQLite, where the
/// refresh leaves it to the stage's batches) writes them to the full-text index.
fn run_matching_stage(store: &Store) {
    let no_topics = tidings::config::Config::from_toml("", None).unwrap();
    tidings::pipeline::matching::match_pending(&no_topics, store).unwrap();
}

fn search(store: &Store, query: &str) -> Vec<i64> {
    search_with(store, query, |_| {})
}

fn search_with(
    store: &Store,
    query: &str,
    change: impl Fn(&mut tidings::query::SearchRequest),
) -> Vec<i64> {
    let aliases = tidings::matcher::Aliases::parse(&[(
        "dprk".into(),
        "\"north korea\" OR pyongyang OR dprk".into(),
    )])
    .unwrap();
    let mut request = tidings::query::SearchRequest {
        query: query.into(),
        topic: None,
        feed_url: None,
        since: None,
        until: None,
        before: None,
        order: SearchOrder::Rank,
        limit: 50,
        now: NOW,
    };
    change(&mut request);
    let mut ids: Vec<i64> = tidings::query::search(store, &aliases, &request)
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .iter()
        .map(|h| h.id)
        .collect();
    if request.order == SearchOrder::Rank {
        ids.sort();
    }
    ids
}

#[test]
fn search_finds_the_same_items_on_both() {
    on_both(|name, store| {
        let (a, _) = store
            .add_feed(
                "http://korea.example/feed.xml",
                FeedSource::Cli,
                &settings(false),
                NOW,
            )
            .unwrap();
        let (b, _) = store
            .add_feed(
                "http://moscow.example/feed.xml",
                FeedSource::Cli,
                &settings(false),
                NOW,
            )
            .unwrap();
        let (_, ka) = store
            .commit_refresh(
                &store.feed(a).unwrap(),
                &[
                    item(
                        "s",
                        "Kim Jong-un and Putin meet in Vladivostok",
                        "North Korea and Russia sign a pact.",
                        NOW - DAY,
                    ),
                    item(
                        "p",
                        "Północna Korea",
                        "Łódź reports on the DPRK.",
                        NOW - 2 * DAY,
                    ),
                    item(
                        "h",
                        "Harvest in the north",
                        "Korea's rice. North of Seoul.",
                        NOW - 3 * DAY,
                    ),
                ],
                false,
                NOW,
            )
            .unwrap();
        let (_, kb) = store
            .commit_refresh(
                &store.feed(b).unwrap(),
                &[item(
                    "l",
                    "Lavrov visits Pyongyang",
                    "Talks with the DPRK foreign minister.",
                    NOW - 4 * DAY,
                )],
                false,
                NOW,
            )
            .unwrap();
        let (summit, polish, harvest, lavrov) = (ka[0], ka[1], ka[2], kb[0]);
        run_matching_stage(store);
        assert_eq!(search(store, "vladivostok"), vec![summit], "{name}");
        assert_eq!(search(store, "Kim Jong-un"), vec![summit], "{name}");
        assert_eq!(search(store, "polnocna"), vec![polish], "{name}");
        assert_eq!(search(store, "lodz"), vec![polish], "{name}");
        assert_eq!(search(store, "\"north korea\""), vec![summit], "{name}");
        assert_eq!(search(store, "vladi*"), vec![summit], "{name}");
        assert_eq!(search(store, "title:dprk"), Vec::<i64>::new(), "{name}");
        assert_eq!(
            search(store, "summary:dprk"),
            vec![polish, lavrov],
            "{name}"
        );
        assert_eq!(
            search(store, "@dprk"),
            vec![summit, polish, lavrov],
            "{name}"
        );
        assert_eq!(
            search(store, "@dprk NOT lavrov"),
            vec![summit, polish],
            "{name}"
        );
        assert_eq!(search(store, "NEAR/4(korea, pact)"), vec![summit], "{name}");
        assert_eq!(
            search(store, "NEAR/3(korea, pact)"),
            Vec::<i64>::new(),
            "{name}"
        );
        // Phrases never cross a sentence: "north. of" is not "north of".
        assert_eq!(
            search(store, "\"korea north\""),
            Vec::<i64>::new(),
            "{name}"
        );
        assert_eq!(
            search(store, "korea feed:moscow"),
            Vec::<i64>::new(),
            "{name}"
        );
        assert_eq!(
            search(store, "pyongyang feed:MOSCOW"),
            vec![lavrov],
            "{name}"
        );
        assert_eq!(
            search(store, "author:kim korea"),
            vec![summit, polish, harvest],
            "{name}"
        );
        // Newest first with keyset pages.
        let newest = |before| {
            search_with(store, "", |r| {
                r.order = SearchOrder::Newest;
                r.limit = 2;
                r.before = before;
            })
        };
        assert_eq!(newest(None), vec![summit, polish], "{name}");
        assert_eq!(
            newest(Some((NOW - 2 * DAY, polish))),
            vec![harvest, lavrov],
            "{name}"
        );
        // Ranking: a title match outranks a summary mention.
        let ranked = tidings::query::search(
            store,
            &Default::default(),
            &tidings::query::SearchRequest {
                query: "korea".into(),
                topic: None,
                feed_url: None,
                since: None,
                until: None,
                before: None,
                order: SearchOrder::Rank,
                limit: 10,
                now: NOW,
            },
        )
        .unwrap();
        assert_eq!(ranked[0].id, polish, "{name}");
        assert!(
            ranked[0].bm25 < 0.0 && ranked[0].score > 0.0,
            "{name}: {:?}",
            ranked[0]
        );
        assert!(
            ranked.iter().any(|h| h.snippet.contains('«')),
            "{name}: {ranked:?}"
        );
        let detail = store.item_detail(summit).unwrap().unwrap();
        assert_eq!(
            detail.title.as_deref(),
            Some("Kim Jong-un and Putin meet in Vladivostok"),
            "{name}"
        );
        assert!(store.item_detail(9_999).unwrap().is_none(), "{name}");
    });
}

#[test]
fn matches_enqueue_one_delivery_per_story_and_channel() {
    on_both(|name, store| {
        let (a, _) = store
            .add_feed(
                "http://a.example/feed.xml",
                FeedSource::Cli,
                &settings(false),
                NOW,
            )
            .unwrap();
        let (b, _) = store
            .add_feed(
                "http://b.example/feed.xml",
                FeedSource::Cli,
                &settings(false),
                NOW,
            )
            .unwrap();
        let (_, ia) = store
            .commit_refresh(
                &store.feed(a).unwrap(),
                &[
                    item("x", "Lavrov in Pyongyang", "", NOW - 60),
                    item("y", "Harvest", "", NOW - 60),
                ],
                false,
                NOW,
            )
            .unwrap();
        let (_, ib) = store
            .commit_refresh(
                &store.feed(b).unwrap(),
                &[item("x2", "Lavrov visits Pyongyang", "", NOW - 30)],
                false,
                NOW,
            )
            .unwrap();
        let pending = store.pending_matches(10).unwrap();
        assert_eq!(pending.len(), 3, "{name}");
        assert_eq!(pending[0].target_state, 1, "{name}");
        // The stage (no topics) indexes them for search; the matches below are recorded by hand.
        run_matching_stage(store);
        let routes = [
            Route {
                channel: "webhook:ops".into(),
                topic: "nk".into(),
                kind: ChannelKind::Webhook,
            },
            Route {
                channel: "digest:daily".into(),
                topic: "nk".into(),
                kind: ChannelKind::Digest,
            },
        ];
        let same = |x: &StoryKey, y: &StoryKey| x.title_hash == y.title_hash;
        let plan = DeliveryPlan {
            routes: &routes,
            policy: DeliveryPolicy {
                oldest_published: NOW - DAY,
                story_window_secs: 300,
                story_lookback_secs: DAY,
            },
            same_story: &same,
        };
        let matched = |id, s| MatchedItem {
            index: None,
            item_id: id,
            target_state: 1,
            records: vec![MatchRecord {
                topic: "nk".into(),
                score: 5.0,
                terms: "[]".into(),
            }],
            story: story(s),
        };
        let unmatched = MatchedItem {
            index: None,
            item_id: ia[1],
            target_state: 1,
            records: vec![],
            story: story(9),
        };
        let new = store
            .record_matches(
                &[matched(ia[0], 1), unmatched, matched(ib[0], 1)],
                false,
                Some(&plan),
                NOW,
            )
            .unwrap();
        assert_eq!(new.len(), 2, "{name}");
        assert!(store.pending_matches(10).unwrap().is_empty(), "{name}");
        // Matching again changes nothing; a higher score replaces the terms.
        let again = store
            .record_matches(&[matched(ia[0], 1)], false, Some(&plan), NOW)
            .unwrap();
        assert!(again.is_empty(), "{name}");
        // Two copies of one story: one delivery per channel.
        let deliveries = store.list_deliveries(None, 10).unwrap();
        assert_eq!(deliveries.len(), 2, "{name}: {deliveries:?}");
        assert_eq!(
            store.delivery_counts().unwrap(),
            vec![("held".to_string(), 1), ("pending".to_string(), 1)],
            "{name}"
        );
        let listed = store.list_matches(Some("nk"), 0, 10).unwrap();
        assert_eq!(listed.len(), 2, "{name}");
        assert_eq!(
            store.topic_match_counts().unwrap(),
            vec![("nk".to_string(), 2)],
            "{name}"
        );
        assert_eq!(store.topic_entries("nk", 10).unwrap().len(), 2, "{name}");
        assert_eq!(
            search_with(store, "lavrov", |r| r.topic = Some("nk".into())).len(),
            2,
            "{name}"
        );
        assert_eq!(store.items_since(NOW - 120, 10).unwrap().len(), 3, "{name}");
        assert_eq!(
            store.items_for_backfill(0, 0, 10).unwrap().len(),
            3,
            "{name}"
        );
        store.set_topic_fingerprint("nk", "f1", NOW).unwrap();
        store.set_topic_fingerprint("nk", "f2", NOW).unwrap();
        assert_eq!(
            store.topic_fingerprints().unwrap(),
            vec![("nk".into(), "f2".into())],
            "{name}"
        );

        // Webhook: held for the story window, then due; sent once.
        assert!(
            store
                .due_webhook_deliveries("webhook:ops", NOW, 10)
                .unwrap()
                .is_empty(),
            "{name}"
        );
        let due = store
            .due_webhook_deliveries("webhook:ops", NOW + 300, 10)
            .unwrap();
        assert_eq!(due.len(), 1, "{name}");
        assert_eq!(due[0].other_sources.len(), 1, "{name}: {:?}", due[0]);
        store.stamp_batch(&[due[0].id], "batch-1").unwrap();
        store
            .mark_failed(&[due[0].id], "503", Some(NOW + 400))
            .unwrap();
        let retry = store
            .due_webhook_deliveries("webhook:ops", NOW + 400, 10)
            .unwrap();
        assert_eq!(
            (retry[0].attempts, retry[0].batch_key.as_deref()),
            (1, Some("batch-1")),
            "{name}"
        );
        store.mark_sent(&[due[0].id], NOW + 400).unwrap();
        assert!(
            store
                .due_webhook_deliveries("webhook:ops", NOW + 900, 10)
                .unwrap()
                .is_empty(),
            "{name}"
        );
        assert!(
            store
                .endpoint_disabled("ops", "http://x/")
                .unwrap()
                .is_none(),
            "{name}"
        );
        store
            .disable_endpoint("ops", "http://x/", "410 Gone", NOW)
            .unwrap();
        assert_eq!(
            store
                .endpoint_disabled("ops", "http://x/")
                .unwrap()
                .as_deref(),
            Some("410 Gone"),
            "{name}"
        );

        // Digest: built once per slot; its deliveries are taken by the run.
        let entries = store.pending_digest_entries("digest:daily", 10).unwrap();
        assert_eq!(entries.len(), 1, "{name}");
        let run = DigestRun {
            id: 0,
            digest: "daily".into(),
            scheduled_for: NOW,
            message_id: "<m1@tidings>".into(),
            status: "pending".into(),
            attempts: 0,
            subject: "Daily".into(),
            body_text: "text".into(),
            body_html: "<p>html</p>".into(),
        };
        let run_id = store
            .create_digest_run(&run, &[entries[0].id], NOW)
            .unwrap()
            .unwrap();
        assert_eq!(
            store
                .create_digest_run(&run, &[entries[0].id], NOW)
                .unwrap(),
            None,
            "{name}"
        );
        assert_eq!(
            store.last_digest_slot("daily").unwrap(),
            Some(NOW),
            "{name}"
        );
        assert!(
            store
                .pending_digest_entries("digest:daily", 10)
                .unwrap()
                .is_empty(),
            "{name}"
        );
        let runs = store.due_digest_runs(NOW).unwrap();
        assert_eq!((runs.len(), runs[0].id), (1, run_id), "{name}");
        store
            .mark_digest_failed(run_id, "smtp down", Some(NOW + 60))
            .unwrap();
        assert!(store.due_digest_runs(NOW).unwrap().is_empty(), "{name}");
        assert_eq!(
            store.due_digest_runs(NOW + 60).unwrap()[0].attempts,
            1,
            "{name}"
        );
        store.mark_digest_sent(run_id, NOW + 60).unwrap();
        assert!(
            store.due_digest_runs(NOW + 120).unwrap().is_empty(),
            "{name}"
        );
        let counts: Vec<(String, i64)> = store.delivery_counts().unwrap();
        assert_eq!(counts, vec![("sent".to_string(), 2)], "{name}");
        assert_eq!(store.retry_deliveries(None, NOW).unwrap(), 0, "{name}");
        assert_eq!(
            store.release_backfill(None, None, NOW).unwrap(),
            0,
            "{name}"
        );
        let c = store.counts().unwrap();
        assert_eq!(
            c.deliveries_by_status,
            vec![("sent".to_string(), 2)],
            "{name}"
        );
    });
}

fn worker(db: &TestDatabase, lease_secs: u64, per_host: usize) -> Store {
    Store::open_location(
        &DatabaseLocation::Postgres(db.url.clone()),
        WorkerOptions {
            lease: Duration::from_secs(lease_secs),
            per_host,
        },
    )
    .unwrap()
}

#[test]
fn postgres_workers_share_due_feeds_through_claims() {
    let (db, first) = postgres_with(WorkerOptions {
        lease: Duration::from_secs(60),
        per_host: 100,
    });
    let second = worker(&db, 60, 100);
    for n in 0..10 {
        first
            .add_feed(
                &format!("http://h{n}.example/feed.xml"),
                FeedSource::Cli,
                &settings(false),
                NOW,
            )
            .unwrap();
    }
    let a = first.due_feeds(NOW, 6, &[]).unwrap();
    let b = second.due_feeds(NOW, 6, &[]).unwrap();
    assert_eq!((a.len(), b.len()), (6, 4));
    assert!(a.iter().all(|f| b.iter().all(|g| g.id != f.id)));
    // A worker reading again gets its own claims back, and nothing of the other's.
    assert_eq!(first.due_feeds(NOW + 1, 10, &[]).unwrap().len(), 6);
    assert_eq!(second.due_feeds(NOW + 1, 10, &[]).unwrap().len(), 4);
    // A committed refresh releases the claim and moves the feed on.
    let mut done = a[0].clone();
    done.next_poll_at = NOW + 3600;
    first
        .commit_refresh(&done, &[item("k", "t", "s", NOW)], false, NOW)
        .unwrap();
    assert_eq!(first.due_feeds(NOW + 2, 10, &[]).unwrap().len(), 5);
    // The first worker dies: after its lease (renewed by its last read at NOW + 2) its feeds
    // go to the second.
    drop(first);
    assert_eq!(second.due_feeds(NOW + 61, 20, &[]).unwrap().len(), 4);
    assert_eq!(second.due_feeds(NOW + 62, 20, &[]).unwrap().len(), 9);
}

#[test]
fn postgres_per_host_limits_hold_across_workers() {
    let (db, first) = postgres_with(WorkerOptions {
        lease: Duration::from_secs(60),
        per_host: 2,
    });
    let second = worker(&db, 60, 2);
    for n in 0..5 {
        first
            .add_feed(
                &format!("http://busy.example/{n}.xml"),
                FeedSource::Cli,
                &settings(false),
                NOW,
            )
            .unwrap();
    }
    first
        .add_feed(
            "http://quiet.example/feed.xml",
            FeedSource::Cli,
            &settings(false),
            NOW,
        )
        .unwrap();
    let a = first.due_feeds(NOW, 10, &[]).unwrap();
    assert_eq!(a.len(), 3, "two of busy.example and quiet.example: {a:?}");
    assert!(second.due_feeds(NOW, 10, &[]).unwrap().is_empty());
    let mut done = a.iter().find(|f| f.url.contains("busy")).unwrap().clone();
    done.next_poll_at = NOW + 3600;
    first.record_fetch_state(&done).unwrap();
    let b = second.due_feeds(NOW, 10, &[]).unwrap();
    assert_eq!(b.len(), 1, "one slot of busy.example came free: {b:?}");
}

#[test]
fn postgres_pages_and_items_to_match_are_claimed_once() {
    let (db, first) = postgres_with(WorkerOptions {
        lease: Duration::from_secs(60),
        per_host: 2,
    });
    let second = worker(&db, 60, 2);
    let (id, _) = first
        .add_feed(
            "http://a.example/feed.xml",
            FeedSource::Cli,
            &settings(true),
            NOW,
        )
        .unwrap();
    let items: Vec<NewItem> = (0..6)
        .map(|n| item(&format!("k{n}"), "t", "s", NOW))
        .collect();
    first
        .commit_refresh(&first.feed(id).unwrap(), &items, false, NOW)
        .unwrap();
    // Items to match are split the same way.
    let ma = first.pending_matches(4).unwrap();
    let mb = second.pending_matches(4).unwrap();
    assert_eq!((ma.len(), mb.len()), (4, 2));
    assert!(ma.iter().all(|m| mb.iter().all(|n| n.item_id != m.item_id)));
    let a = first.pending_pages(NOW, 4, &[]).unwrap();
    let b = second.pending_pages(NOW, 4, &[]).unwrap();
    assert_eq!((a.len(), b.len()), (4, 2));
    assert!(a.iter().all(|p| b.iter().all(|q| q.item_id != p.item_id)));
    // After the lease, the first worker's unfinished pages return to the pool.
    second
        .record_article(
            b[0].item_id,
            &ArticleRecord {
                status: "ok".into(),
                ..Default::default()
            },
            NOW,
        )
        .unwrap();
    assert_eq!(second.pending_pages(NOW + 61, 10, &[]).unwrap().len(), 5);
}

#[test]
fn postgres_refuses_a_foreign_database() {
    let db = TestDatabase::create();
    common::pg::query(&db.url, "CREATE TABLE other (x int)");
    let err = Store::open_location(
        &DatabaseLocation::Postgres(db.url.clone()),
        WorkerOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("refusing"), "{err}");
}

#[test]
fn postgres_store_calls_work_inside_an_async_task() {
    let (_db, store) = postgres_with(WorkerOptions::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // Directly on the runtime's thread (as the CLI does), and from spawn_blocking.
        assert!(store.list_feeds().unwrap().is_empty());
        let store = std::sync::Arc::new(store);
        let s = store.clone();
        tokio::task::spawn_blocking(move || s.ping().unwrap())
            .await
            .unwrap();
    });
}

/// Issue 19: "added" is what the config sync inserted, even when it runs again within the same
/// second (it was guessed from `created_at == now`).
#[test]
fn issue_19_config_sync_counts_what_it_added() {
    on_both(|name, store| {
        let feeds: Vec<FeedConfig> = ["http://a.example/feed.xml", "http://b.example/feed.xml"]
            .iter()
            .map(|u| FeedConfig {
                url: url::Url::parse(u).unwrap(),
                settings: FeedSettings::default(),
                header_secrets: Vec::new(),
            })
            .collect();
        assert_eq!(
            store.sync_config_feeds(&feeds, NOW).unwrap(),
            (2, 0),
            "{name}"
        );
        assert_eq!(
            store.sync_config_feeds(&feeds, NOW).unwrap(),
            (0, 0),
            "{name}"
        );
        assert_eq!(
            store.sync_config_feeds(&feeds[..1], NOW).unwrap(),
            (0, 1),
            "{name}"
        );
        assert_eq!(
            store.sync_config_feeds(&feeds, NOW).unwrap(),
            (0, 0),
            "{name}"
        );
    });
}

/// Issue 19: an item stored under the key an earlier version gave it (a double-escaped link
/// keyed undecoded) is re-keyed, not stored a second time.
#[test]
fn issue_19_items_under_a_former_key_are_rekeyed_not_stored_twice() {
    on_both(|name, store| {
        let (id, _) = store
            .add_feed(
                "http://a.example/feed.xml",
                FeedSource::Cli,
                &settings(false),
                NOW,
            )
            .unwrap();
        let feed = store.feed(id).unwrap();
        let old = item("u:https://e.org/a?id=7&amp%3Bref=rss", "A", "", NOW - 60);
        let (counts, _) = store.commit_refresh(&feed, &[old], false, NOW).unwrap();
        assert_eq!(counts.new, 1, "{name}");
        let mut new = item("u:https://e.org/a?id=7&ref=rss", "A", "", NOW - 60);
        new.url = Some("https://e.org/a?id=7&ref=rss".into());
        new.former_key = Some("u:https://e.org/a?id=7&amp%3Bref=rss".into());
        for _ in 0..2 {
            let (counts, ids) = store
                .commit_refresh(&feed, std::slice::from_ref(&new), false, NOW)
                .unwrap();
            assert_eq!(
                (counts.new, counts.updated, counts.unchanged, ids.len()),
                (0, 0, 1, 0),
                "{name}"
            );
        }
        assert_eq!(
            store.item_keys().unwrap(),
            vec![(id, "u:https://e.org/a?id=7&ref=rss".to_string())],
            "{name}"
        );
    });
}
