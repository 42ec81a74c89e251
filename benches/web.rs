//! Page render benchmark: the topic page (`/topic/{name}`) of a topic with 1,000 matches
//! (override with TIDINGS_BENCH_MATCHES), served by the real router on 127.0.0.1 over an
//! SQLite archive built through the store: 20 feeds, stories carried by up to three of them,
//! matches with three explained terms each. The page is requested TIDINGS_BENCH_RUNS times
//! (50 by default, after 3 warm-up runs); the server's own time comes from the
//! `Server-Timing` header.
//!
//! Baselines measured in the same runs, interleaved with the page so they share the machine's
//! load: the store reads the page makes, alone and in-process (matches, their stories'
//! sources, the labels given), and the API's Atom feed of the same topic (100 entries), an
//! existing answer of the same server.
//!
//! Run: `cargo bench --bench web` (TIDINGS_BENCH_DB=path keeps the archive built).

#[path = "common/measure.rs"]
mod measure;

use std::sync::Arc;
use std::time::Instant;

use measure::median;
use tidings::model::{FeedSettings, FeedSource, NewItem, StoryKey};
use tidings::store::{DeliveryPlan, MatchRecord, MatchedItem, Store};

const TOPIC: &str = "bench";
const WORDS: &[&str] = &[
    "north",
    "korea",
    "russia",
    "moscow",
    "pyongyang",
    "talks",
    "summit",
    "envoy",
    "treaty",
    "sanctions",
    "troops",
    "border",
    "shells",
    "drones",
    "minister",
    "visit",
    "delegation",
    "cooperation",
    "railway",
    "bridge",
    "port",
    "grain",
    "oil",
    "exports",
    "missile",
    "launch",
    "satellite",
    "workers",
    "embassy",
    "statement",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn words(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| WORDS[(self.next() % WORDS.len() as u64) as usize])
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The archive: `matches` items matched to the topic, every third one a copy of the story
/// before it in another feed.
fn build(path: &std::path::Path, matches: usize, now: i64) {
    let store = Store::open(path).unwrap();
    let mut rng = Rng(0x5eed);
    let feeds: Vec<i64> = (0..20)
        .map(|f| {
            let settings = FeedSettings {
                title: Some(format!("Bench feed {f}")),
                extract: false,
                ..FeedSettings::default()
            };
            store
                .add_feed(
                    &format!("https://feed{f}.example/rss"),
                    FeedSource::Cli,
                    &settings,
                    now,
                )
                .unwrap()
                .0
        })
        .collect();
    let mut per_feed: Vec<Vec<NewItem>> = vec![Vec::new(); feeds.len()];
    let mut stories = Vec::new();
    for i in 0..matches {
        let story = if i % 3 == 2 { i - 1 } else { i };
        let feed = i % feeds.len();
        let title = format!("{} {}", rng.words(8), i);
        per_feed[feed].push(NewItem {
            dedup_key: format!("item-{i}"),
            guid: Some(format!("item-{i}")),
            url: Some(format!("https://news{feed}.example/story/{story}/{i}")),
            title: Some(title),
            summary: Some(format!("<p>{}</p>", rng.words(40))),
            content: None,
            author: Some("Bench Writer".into()),
            published_original: Some(now - 3600 - i as i64 * 60),
            content_hash: format!("h{i}"),
            former_key: None,
        });
        stories.push(story as u64);
    }
    let mut ids = vec![0i64; matches];
    for (f, items) in per_feed.iter().enumerate() {
        let feed = store.feed(feeds[f]).unwrap();
        let (_, new_ids) = store.commit_refresh(&feed, items, false, now).unwrap();
        for (item, id) in items.iter().zip(new_ids) {
            let i: usize = item.dedup_key["item-".len()..].parse().unwrap();
            ids[i] = id;
        }
    }
    let same = |a: &StoryKey, b: &StoryKey| a.title_hash == b.title_hash;
    let plan = DeliveryPlan {
        routes: &[],
        policy: tidings::model::DeliveryPolicy {
            oldest_published: 0,
            story_window_secs: 300,
            story_lookback_secs: 30 * 86_400,
        },
        same_story: &same,
    };
    let batch: Vec<MatchedItem> = (0..matches)
        .map(|i| {
            let mut context = |w: &str| format!("…{} [{w}] {}…", rng.words(9), rng.words(9));
            let terms = serde_json::json!([
                {"term": "\"north korea\"", "field": "title", "count": 1, "context": context("North Korea")},
                {"term": "russia*", "field": "summary", "count": 2, "context": context("Russia")},
                {"term": "NEAR/10(@dprk, @russia)", "field": "summary", "count": 1, "context": context("Pyongyang")},
            ]);
            MatchedItem {
                item_id: ids[i],
                target_state: 1,
                records: vec![MatchRecord {
                    topic: TOPIC.into(),
                    score: 2.0 + (i % 70) as f64 / 10.0,
                    terms: terms.to_string(),
                }],
                story: StoryKey {
                    url: None,
                    title_hash: stories[i],
                    title_words: 10,
                    lead: vec![stories[i] as u32],
                },
                index: None,
            }
        })
        .collect();
    store
        .record_matches(&batch, false, Some(&plan), now)
        .unwrap();
}

/// CPU time of this whole process so far (every thread), in ms: unlike wall time, it does
/// not grow while other builds hold the cores.
fn process_cpu_ms() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 * 1000.0 + t.tv_nsec as f64 / 1e6
}

fn percentile(mut values: Vec<f64>, p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * p).round() as usize]
}

/// The server's own time from `Server-Timing` (the pages send it; the API does not).
fn server_ms(resp: &reqwest::Response) -> Option<f64> {
    resp.headers()
        .get("server-timing")?
        .to_str()
        .ok()?
        .trim_start_matches("app;dur=")
        .parse()
        .ok()
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let matches: usize = std::env::var("TIDINGS_BENCH_MATCHES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let runs: usize = std::env::var("TIDINGS_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir().unwrap();
    // TIDINGS_BENCH_DB=path keeps the archive (for a look with sqlite3); a new one each run.
    let db = std::env::var_os("TIDINGS_BENCH_DB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("web.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let now = chrono::Utc::now().timestamp();
    let started = Instant::now();
    build(&db, matches, now);
    println!(
        "archive: {matches} matches of one topic built in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let config = tidings::config::Config::from_toml(
        &format!(
            "database = \"{}\"\n[[topic]]\nname = \"{TOPIC}\"\ntitle = \"Bench topic\"\nquery = '\"north korea\" AND russia*'\n",
            db.display()
        ),
        None,
    )
    .unwrap();
    let ctx = Arc::new(tidings::daemon::open_context(config).unwrap());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let router = tidings::api::router(ctx.clone(), None);
    rt.spawn(async move { axum::serve(listener, router).await });
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");

    // One request of a page: (server ms, wall ms, body bytes).
    let fetch = |path: &str| -> (Option<f64>, f64, usize) {
        rt.block_on(async {
            let t = Instant::now();
            let resp = client.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{path}");
            let server = server_ms(&resp);
            let body = resp.text().await.unwrap();
            if path.starts_with("/topic/") {
                assert!(
                    body.contains(&format!("from {matches} matches")),
                    "the page shows every match"
                );
            }
            (server, t.elapsed().as_secs_f64() * 1000.0, body.len())
        })
    };
    // The page's store reads alone, in-process: (total, matches with their stories'
    // sources, labels) in ms.
    let reads = || -> [f64; 3] {
        let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
        let t = Instant::now();
        let stories = ctx
            .store
            .topic_stories(TOPIC, now - 30 * 86_400, 2_000)
            .unwrap();
        let stories_ms = ms(t);
        let items: Vec<i64> = stories.matches.iter().map(|m| m.item_id).collect();
        let t2 = Instant::now();
        let labels = ctx.store.feedback_for_items(&items).unwrap();
        let labels_ms = ms(t2);
        std::hint::black_box((stories, labels));
        [ms(t), stories_ms, labels_ms]
    };
    // The three are interleaved, so each run's figures share the machine's load.
    let page_path = format!("/topic/{TOPIC}?since=30d");
    let atom_path = format!("/topics/{TOPIC}.atom");
    let (mut page_server, mut page_wall, mut atom_wall) = (Vec::new(), Vec::new(), Vec::new());
    let mut parts: [Vec<f64>; 3] = Default::default();
    let (mut page_bytes, mut atom_bytes) = (0, 0);
    let (mut page_cpu, mut reads_cpu) = (Vec::new(), Vec::new());
    for run in 0..runs + 3 {
        let cpu = process_cpu_ms();
        let (server, wall, bytes) = fetch(&page_path);
        let cpu_page = process_cpu_ms() - cpu;
        let (_, atom, abytes) = fetch(&atom_path);
        let cpu = process_cpu_ms();
        let read = reads();
        let cpu_reads = process_cpu_ms() - cpu;
        // The first runs warm the caches.
        if run < 3 {
            continue;
        }
        page_server.push(server.expect("the pages send Server-Timing"));
        page_cpu.push(cpu_page);
        reads_cpu.push(cpu_reads);
        page_wall.push(wall);
        atom_wall.push(atom);
        for (part, value) in parts.iter_mut().zip(read) {
            part.push(value);
        }
        (page_bytes, atom_bytes) = (bytes, abytes);
    }
    let page_median = median(page_server.clone());
    let page_wall_median = median(page_wall);
    let atom_median = median(atom_wall);
    let [store_median, stories_ms, labels_ms] = parts.map(median);
    println!("runs: {runs} per page (after 3 warm-up runs)");
    println!(
        "topic page, {matches} matches ({} KiB): server median {page_median:.2} ms, p90 {:.2} ms; client wall median {page_wall_median:.2} ms",
        page_bytes / 1024,
        percentile(page_server, 0.9),
    );
    println!(
        "  baseline, the page's store reads alone: median {store_median:.2} ms (page / reads = {:.2})",
        page_median / store_median
    );
    println!(
        "    of which: matches with their stories' sources {stories_ms:.2} ms, labels given {labels_ms:.2} ms"
    );
    let (page_cpu, reads_cpu) = (median(page_cpu), median(reads_cpu));
    println!(
        "  CPU time (all threads, the client's share included): page median {page_cpu:.2} ms, store reads alone {reads_cpu:.2} ms (page / reads = {:.2})",
        page_cpu / reads_cpu
    );
    println!(
        "  baseline, the topic's Atom feed (100 entries, {} KiB): client wall median {atom_median:.2} ms (page / atom, wall = {:.2})",
        atom_bytes / 1024,
        page_wall_median / atom_median
    );
    println!(
        "target: topic page with 1,000 matches < 50 ms server time (median): {}",
        if page_median < 50.0 { "met" } else { "NOT met" }
    );
}
