//! Search benchmark: builds an archive of 1,000,000 items (override with
//! TIDINGS_BENCH_ITEMS) directly through the store, with text drawn from a word list plus
//! real names, then measures median and p99 latency of typical searches (each run
//! TIDINGS_BENCH_RUNS times, 50 by default) and the full-text index size per item.
//!
//! Run: `cargo bench --bench search` or `TIDINGS_BENCH_ITEMS=100000 cargo bench --bench search`.
//! Set TIDINGS_BENCH_DB=path to keep (and reuse) the generated database.

use std::time::Instant;

use tidings::matcher::Aliases;
use tidings::model::{FeedSettings, FeedSource, NewItem};
use tidings::query::{SearchRequest, search};
use tidings::store::{ArticleRecord, MatchRecord, MatchedItem, SearchOrder, Store};

const WORDS: &str = "the of and to in a is that for on with as was by at from his her it an were are \
which this be or has had not but have its they their been who after said would will more than \
government minister president country talks meeting week year people officials state military \
economic trade deal report news city border forces leader capital security agency foreign \
defence defense policy market prices energy oil gas grain workers factory election parliament \
court police protest rally summit visit delegation envoy treaty agreement sanctions sanction \
sanctioned missile missiles launch test nuclear weapons army navy troops soldiers war conflict \
peace ceasefire aid food harvest drought flood storm weather season region province village \
rail bridge port shipping cargo exports imports tariff bank currency inflation budget tax \
investment company industry technology satellite space research university students school \
hospital health ministry statement spokesman analyst analysts experts sources media television \
newspaper agency reported according official international united nations council general \
secretary committee party congress central plenary cooperation relations partnership strategic \
comprehensive alliance exercise drills joint naval air coast guard fishing boats island \
dispute territory claims history memorial anniversary celebration festival culture music film \
sports football team match coach season championship olympic games tourism tourists hotel \
flights airline airport train station highway road construction housing apartments prices \
rent wages pensions labour unions strike negotiations compromise opposition coalition vote \
ballot campaign candidate governor mayor council district residents community families children";

const NAMES: &[&str] = &[
    "Pyongyang",
    "North Korea",
    "Kim Jong-un",
    "Kim Jong Un",
    "Vladimir Putin",
    "Moscow",
    "Russia",
    "Russian",
    "Sergei Lavrov",
    "Sergei Shoigu",
    "Choe Son Hui",
    "Vladivostok",
    "Seoul",
    "Beijing",
    "Washington",
    "Tokyo",
    "Kursk",
    "Ukraine",
    "Zürich",
    "Północna",
    "Rason",
    "Khasan",
];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Text {
    words: Vec<&'static str>,
    rng: fastrand::Rng,
}

impl Text {
    /// `n` words, skewed towards the start of the list (Zipf-ish), with a name now and then.
    fn sentence(&mut self, n: usize, name_chance: f64) -> String {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            if self.rng.f64() < name_chance {
                out.push(NAMES[self.rng.usize(..NAMES.len())].to_string());
            } else {
                let r = self.rng.f64();
                let i = ((r * r * r) * self.words.len() as f64) as usize;
                out.push(self.words[i.min(self.words.len() - 1)].to_string());
            }
        }
        let mut s = out.join(" ");
        if let Some(first) = s.get(..1) {
            s.replace_range(..1, &first.to_uppercase());
        }
        s
    }
}

fn build(store: &Store, items: usize, now: i64) {
    let feeds = 200;
    let no_topics = tidings::config::Config::from_toml("", None).unwrap();
    let mut text = Text {
        words: WORDS.split_whitespace().collect(),
        rng: fastrand::Rng::with_seed(42),
    };
    let settings = FeedSettings {
        extract: false,
        ..FeedSettings::default()
    };
    let mut feed_ids = Vec::new();
    for f in 0..feeds {
        let (id, _) = store
            .add_feed(
                &format!("http://127.0.0.1:9/feed{f}.xml"),
                FeedSource::Cli,
                &settings,
                now,
            )
            .unwrap();
        feed_ids.push(id);
    }
    let span = 2 * 365 * 86_400; // two years of news
    let batch = 1000;
    let started = Instant::now();
    let mut done = 0;
    while done < items {
        let n = batch.min(items - done);
        let feed = store.feed(feed_ids[(done / batch) % feeds]).unwrap();
        let new: Vec<NewItem> = (0..n)
            .map(|k| {
                let i = done + k;
                let published = now - span + (i as i64 * span / items as i64);
                NewItem {
                    dedup_key: format!("item-{i}"),
                    guid: Some(format!("item-{i}")),
                    url: Some(format!("https://news.example/{i}")),
                    title: Some(text.sentence(9, 0.08)),
                    summary: Some(format!("<p>{}.</p>", text.sentence(45, 0.03))),
                    content: None,
                    author: None,
                    published_original: Some(published),
                    content_hash: format!("h{i}"),
                    former_key: None,
                }
            })
            .collect();
        let (_, ids) = store.commit_refresh(&feed, &new, false, now).unwrap();
        // One item in ten gets article text; one in a hundred a topic match.
        for id in &ids {
            if id % 10 == 0 {
                let body = (0..4)
                    .map(|_| text.sentence(40, 0.02))
                    .collect::<Vec<_>>()
                    .join(".\n\n");
                store
                    .record_article(
                        *id,
                        &ArticleRecord {
                            status: "ok".into(),
                            text: Some(body),
                            ..ArticleRecord::default()
                        },
                        now,
                    )
                    .unwrap();
            }
        }
        // The matching stage (with no topics) indexes the items for search, as in the daemon.
        tidings::pipeline::matching::match_pending(&no_topics, store).unwrap();
        let matched: Vec<_> = ids
            .iter()
            .filter(|id| *id % 100 == 7)
            .map(|id| MatchedItem {
                item_id: *id,
                target_state: 1,
                index: None,
                records: vec![MatchRecord {
                    topic: "nk-russia".into(),
                    score: 5.0,
                    terms: "[]".into(),
                }],
                story: tidings::model::StoryKey::default(),
            })
            .collect();
        store.record_matches(&matched, false, None, now).unwrap();
        done += n;
        if done % 100_000 == 0 {
            eprintln!(
                "  {done} items stored ({:.0} items/s)",
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let items = env_usize("TIDINGS_BENCH_ITEMS", 1_000_000);
    let runs = env_usize("TIDINGS_BENCH_RUNS", 50);
    let dir = tempfile::tempdir().unwrap();
    let path = match std::env::var_os("TIDINGS_BENCH_DB") {
        Some(p) => std::path::PathBuf::from(p),
        None => dir.path().join("bench.db"),
    };
    let now = chrono::Utc::now().timestamp();
    let fresh = !path.exists();
    let store = Store::open(&path).unwrap();
    if fresh {
        eprintln!("building an archive of {items} items in {}", path.display());
        let started = Instant::now();
        build(&store, items, now);
        eprintln!("built in {:.1} s", started.elapsed().as_secs_f64());
    }
    let stats = store.stats().unwrap();
    let stored = stats
        .tables
        .iter()
        .find(|t| t.name == "items")
        .and_then(|t| t.rows)
        .unwrap_or(0);
    let fts_bytes = stats
        .tables
        .iter()
        .find(|t| t.name == "items_fts")
        .map(|t| t.bytes)
        .unwrap_or(0);

    let aliases = Aliases::parse(&[
        (
            "dprk".into(),
            "\"north korea\" OR pyongyang OR \"kim jong un\"".into(),
        ),
        (
            "russia".into(),
            "russia* OR moscow OR putin OR lavrov OR kremlin".into(),
        ),
    ])
    .unwrap();
    let cases: &[(&str, &str, Option<&str>, Option<i64>)] = &[
        ("single word", "pyongyang", None, None),
        ("phrase", "\"foreign minister\"", None, None),
        ("two-word AND", "missile launch", None, None),
        ("prefix", "sanction*", None, None),
        ("topic-style OR group", "@dprk AND @russia", None, None),
        ("NEAR", "NEAR/5(@dprk, @russia)", None, None),
        (
            "word, --since 7d",
            "pyongyang",
            None,
            Some(now - 7 * 86_400),
        ),
        ("word, --topic", "pyongyang", Some("nk-russia"), None),
        ("list-tail word", "children", None, None),
    ];
    println!();
    println!(
        "search benchmark: {stored} items, {runs} runs per query, limit 20, ranked (bm25 × recency)"
    );
    println!(
        "| {:<22} | {:<28} | {:>7} | {:>11} | {:>11} |",
        "query", "text", "fts hits", "median ms", "p99 ms"
    );
    println!(
        "|{:-<24}|{:-<30}|{:->9}|{:->13}|{:->13}|",
        "", "", "", "", ""
    );
    let conn = store.reader().unwrap();
    for (label, q, topic, since) in cases {
        let req = SearchRequest {
            query: q.to_string(),
            topic: topic.map(str::to_string),
            feed_url: None,
            since: *since,
            until: None,
            before: None,
            order: SearchOrder::Rank,
            limit: 20,
            now,
        };
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let started = Instant::now();
            let found = search(&store, &aliases, &req).unwrap();
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            assert!(found.len() <= 20);
        }
        // How many items the full-text part matches (before --since/--topic and the limit).
        let fts = tidings::query::compile_query(q, &aliases)
            .unwrap()
            .fts
            .unwrap();
        let hits: i64 = conn
            .query_row(
                "SELECT count(*) FROM items_fts WHERE items_fts MATCH ?1",
                [&fts],
                |r| r.get(0),
            )
            .unwrap();
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "| {:<22} | {:<28} | {:>7} | {:>11.2} | {:>11.2} |",
            label,
            q,
            hits,
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
    }
    println!();
    println!(
        "database {:.1} MiB; full-text index (items_fts, all shadow tables) {:.1} MiB = {:.0} bytes per item",
        (stats.page_count * stats.page_size) as f64 / 1048576.0,
        fts_bytes as f64 / 1048576.0,
        fts_bytes as f64 / stored.max(1) as f64
    );
}
