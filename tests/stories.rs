//! One story, one message, whatever the timing (issue 17). Wire copies of real news stories
//! (positives of `../shared/topics-dev`, all on one subject, so different stories look alike)
//! are carried by several feeds on a server on 127.0.0.1, each copy edited the way outlets
//! edit wire copy (a title word, a prefix, the summary's sentences rotated, a dateline), each on
//! a link of its own. Copies arrive in random order across polls; their article pages are
//! ready at once, slow (503 until a later poll) or broken; each poll round runs the stages in
//! a random order (matching before extraction, after it, or extraction left for later), and
//! the daemon restarts at a random round. At the end every story must be one story id with one
//! delivery per channel: the test counts split stories and wrongly merged ones.
//!
//! On SQLite one daemon runs the stages. On PostgreSQL two workers share the database: each
//! polls its share of the feeds, both extract and match at the same time, and one of them
//! restarts.
//!
//! The suite runs a fixed set of seeds. More: `TIDINGS_WIRE_SEEDS=300 cargo nextest run
//! --test stories` (and `TIDINGS_WIRE_SEED_START=N`; `TIDINGS_WIRE_PG_SEEDS` for PostgreSQL);
//! every seed's counts are printed.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use common::text::sentences;
use common::{Behaviour, FeedServer, Route, Workspace};
use tidings::config::Config;
use tidings::pipeline::Context;
use tokio_util::sync::CancellationToken;

const FEEDS: usize = 5;
const STORIES: usize = 6;
const ROUNDS: usize = 4;

/// A real story: title, summary sentences and further text.
#[derive(Clone)]
struct Source {
    title: String,
    sentences: Vec<String>,
    text: String,
}

/// English items with a title, a summary of at least 15 words and a word of the subject
/// (North Korea or Russia) in them: stories that look alike.
fn sources() -> Vec<Source> {
    let dir = common::shared_dir().join("topics-dev");
    let subject = [
        "korea",
        "pyongyang",
        "russia",
        "moscow",
        "putin",
        "kremlin",
        "dprk",
        "kim",
    ];
    let mut out = Vec::new();
    for file in ["nk-russia-dev.jsonl", "nk-russia-more.jsonl"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let s = |k: &str| v[k].as_str().unwrap_or_default().trim().to_string();
            let (title, summary) = (s("title"), s("summary"));
            let lower = format!("{title} {summary}").to_lowercase();
            if s("lang") == "en"
                && !title.is_empty()
                && summary.split_whitespace().count() >= 15
                && subject.iter().any(|w| lower.contains(w))
            {
                out.push(Source {
                    title,
                    sentences: sentences(&summary),
                    text: s("text"),
                });
            }
        }
    }
    assert!(
        out.len() >= 300,
        "too few stories in topics-dev: {}",
        out.len()
    );
    out
}

/// When a copy's article page can be had.
#[derive(Clone, Copy, Debug)]
enum Page {
    Ready,
    /// 503 until this round.
    Late(usize),
    Broken,
}

/// One copy of one story in one feed.
struct Copy {
    story: usize,
    feed: usize,
    round: usize,
    guid: String,
    title: String,
    summary: String,
    link_path: String,
    /// Whether the page at `link_path` is this copy's own (not the original's, linked).
    own_page: bool,
    page: Page,
    html: String,
}

const WORDS: &[&str] = &[
    "reportedly",
    "officials",
    "amid",
    "talks",
    "new",
    "latest",
    "again",
    "warns",
];

/// The copies of `story` as `copies` outlets carry it.
fn copies_of(story: usize, src: &Source, copies: usize, rng: &mut fastrand::Rng) -> Vec<Copy> {
    let mut feeds: Vec<usize> = (0..FEEDS).collect();
    rng.shuffle(&mut feeds);
    (0..copies)
        .map(|c| {
            let mut title = src.title.clone();
            let mut sentences = src.sentences.clone();
            if c > 0 {
                match rng.usize(..3) {
                    0 => {
                        let mut words: Vec<&str> = title.split_whitespace().collect();
                        let at = rng.usize(..words.len());
                        words[at] = WORDS[rng.usize(..WORDS.len())];
                        title = words.join(" ");
                    }
                    1 => title = format!("UPDATE: {title}"),
                    _ => title = format!("{title} - Wire"),
                }
                match rng.usize(..3) {
                    0 if sentences.len() > 1 => sentences.rotate_left(1),
                    0 | 1 => sentences[0] = format!("SEOUL (Wire) -- {}", sentences[0]),
                    _ => {}
                }
            }
            let summary = sentences.join(" ");
            // Some outlets link the original (an aggregator); most link their own page.
            let own_page = c == 0 || rng.usize(..6) > 0;
            let link_path = format!("/page/{story}-{}", if own_page { c } else { 0 });
            let page = match rng.usize(..6) {
                0 => Page::Broken,
                1 | 2 => Page::Late(1 + rng.usize(..ROUNDS)),
                _ => Page::Ready,
            };
            let body: String = src
                .sentences
                .iter()
                .chain(std::iter::once(&src.text))
                .map(|p| format!("<p>{}</p>", html_escape::encode_text(p)))
                .collect();
            let html = format!(
                "<!doctype html><html><head><title>{t}</title></head><body>\
                 <nav><a href=\"/\">Home</a> <a href=\"/world\">World</a></nav>\
                 <article><h1>{t}</h1>{body}</article>\
                 <footer>Copyright the outlet. All rights reserved.</footer></body></html>",
                t = html_escape::encode_text(&title)
            );
            Copy {
                story,
                feed: feeds[c],
                round: 1 + rng.usize(..ROUNDS - 1),
                guid: format!("story-{story}-copy-{c}"),
                title,
                summary,
                link_path,
                own_page,
                page,
                html,
            }
        })
        .collect()
}

/// Serves round `round`: each feed lists the copies that have arrived; each page answers as
/// its fate says.
fn publish(server: &FeedServer, copies: &[Copy], round: usize) {
    for feed in 0..FEEDS {
        let items: String = copies
            .iter()
            .filter(|c| c.feed == feed && c.round <= round)
            .map(|c| {
                format!(
                    "<item><guid>{}</guid><title>{}</title><link>{}</link><description>{}</description><pubDate>{}</pubDate></item>",
                    c.guid,
                    html_escape::encode_text(&c.title),
                    server.url(&c.link_path),
                    html_escape::encode_text(&c.summary),
                    chrono::Utc::now().to_rfc2822()
                )
            })
            .collect();
        server.set(
            &format!("/feed/{feed}.xml"),
            Route::feed(
                format!("<rss version=\"2.0\"><channel><title>Outlet {feed}</title>{items}</channel></rss>")
                    .into_bytes(),
            ),
        );
    }
    for c in copies {
        let ready = match c.page {
            Page::Ready => true,
            Page::Late(at) => round >= at,
            Page::Broken => false,
        };
        let mut route = Route {
            content_type: "text/html; charset=utf-8".into(),
            ..Route::feed(c.html.clone().into_bytes())
        };
        if !ready {
            route.behaviour = match c.page {
                Page::Broken => Behaviour::Status(404, Vec::new()),
                _ => Behaviour::Status(503, Vec::new()),
            };
        }
        if c.own_page {
            server.set(&c.link_path, route);
        }
    }
}

/// What one seed found.
#[derive(Debug, Default, Clone, Copy)]
struct Outcome {
    stories: usize,
    copies_matched: usize,
    split: usize,
    wrongly_merged: usize,
    extra_deliveries: usize,
}

fn config_text(ws: &Workspace, database: &str, server: &FeedServer) -> String {
    let secret = ws.dir.path().join("hook.secret");
    std::fs::write(&secret, "wire-test-secret").unwrap();
    let mut text = format!(
        "database = \"{database}\"\n\
         [fetch]\nallow_networks = [\"127.0.0.1/32\"]\nconcurrency = 8\nper_host = 8\ntimeout = \"5s\"\n\
         [extract]\nretry_base = \"0s\"\nmax_attempts = 20\n\
         [[topic]]\nname = \"nk-russia\"\nquery = 'korea* OR pyongyang OR kim OR russia* OR moscow OR putin OR kremlin OR dprk'\nmin_score = 0.1\n\
         [[webhook]]\nname = \"ops\"\nurl = \"http://127.0.0.1:9/hook\"\nsecret = \"file:{}\"\ntopics = [\"nk-russia\"]\n",
        secret.display()
    );
    for feed in 0..FEEDS {
        text.push_str(&format!(
            "[[feed]]\nurl = \"{}\"\nextract = true\n",
            server.url(&format!("/feed/{feed}.xml"))
        ));
    }
    text
}

fn open(ws: &Workspace, text: &str) -> Arc<Context> {
    let config = Config::from_toml(text, Some(&ws.config_path())).unwrap();
    Arc::new(tidings::daemon::open_context(config).unwrap())
}

/// Polls every feed once, in random order; with two workers each takes a random share (as
/// claims would give them) and they poll at the same time.
async fn poll_all(workers: &[Arc<Context>], rng: &mut fastrand::Rng) {
    let mut feeds = workers[0].store.list_feeds().unwrap();
    rng.shuffle(&mut feeds);
    let mut shares: Vec<Vec<tidings::model::Feed>> = vec![Vec::new(); workers.len()];
    for feed in feeds {
        shares[rng.usize(..workers.len())].push(feed);
    }
    let polls = workers.iter().zip(shares).map(|(ctx, share)| async move {
        for feed in share {
            tidings::pipeline::refresh_feed(ctx, feed, false, || {})
                .await
                .unwrap();
        }
    });
    futures_util::future::join_all(polls).await;
}

/// Every worker extracts what is pending, at the same time.
async fn extract(workers: &[Arc<Context>]) {
    let runs = workers.iter().map(|ctx| async move {
        tidings::pipeline::articles::extract_pending(ctx, &CancellationToken::new())
            .await
            .unwrap();
    });
    futures_util::future::join_all(runs).await;
}

/// Every worker matches what is pending, at the same time (on threads: matching blocks).
async fn match_items(workers: &[Arc<Context>]) {
    let runs = workers.iter().map(|ctx| {
        let ctx = ctx.clone();
        tokio::task::spawn_blocking(move || {
            tidings::pipeline::matching::match_pending(&ctx.config(), &ctx.store).unwrap();
        })
    });
    for run in futures_util::future::join_all(runs).await {
        run.unwrap();
    }
}

/// Where a seed's archive lives: an SQLite file with one daemon, or a fresh PostgreSQL
/// database with two workers.
enum Backend {
    Sqlite,
    Postgres,
}

fn run_seed(seed: u64, all: &[Source], backend: &Backend) -> Outcome {
    let mut rng = fastrand::Rng::with_seed(seed);
    let server = FeedServer::start();
    let ws = Workspace::new();
    let pg = matches!(backend, Backend::Postgres).then(common::pg::TestDatabase::create);
    let (database, workers) = match &pg {
        None => (ws.db().display().to_string(), 1),
        Some(db) => (db.url.clone(), 2),
    };
    let mut picks: Vec<usize> = (0..all.len()).collect();
    rng.shuffle(&mut picks);
    let copies: Vec<Copy> = picks[..STORIES]
        .iter()
        .enumerate()
        .flat_map(|(k, &i)| {
            let n = 3 + rng.usize(..3);
            copies_of(k, &all[i], n, &mut rng)
        })
        .collect();
    let text = config_text(&ws, &database, &server);
    std::fs::write(ws.config_path(), &text).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let restart_at = 1 + rng.usize(..ROUNDS);
    runtime.block_on(async {
        let mut ctxs: Vec<Arc<Context>> = (0..workers).map(|_| open(&ws, &text)).collect();
        for round in 0..=ROUNDS {
            if round == restart_at {
                let which = rng.usize(..workers);
                ctxs.remove(which);
                ctxs.insert(which, open(&ws, &text));
            }
            publish(&server, &copies, round);
            poll_all(&ctxs, &mut rng).await;
            match rng.usize(..3) {
                0 => {
                    match_items(&ctxs).await;
                    extract(&ctxs).await;
                    match_items(&ctxs).await;
                }
                1 => {
                    extract(&ctxs).await;
                    match_items(&ctxs).await;
                }
                _ => match_items(&ctxs).await,
            }
        }
        // Every late page is ready now: the stages run until nothing waits.
        publish(&server, &copies, ROUNDS + 1);
        for _ in 0..3 {
            extract(&ctxs).await;
            match_items(&ctxs).await;
        }
    });
    let rows = |sql: &str| match &pg {
        None => sqlite_rows(&ws, sql),
        Some(db) => common::pg::query(&db.url, sql),
    };
    count(&rows, &copies)
}

/// Rows of one query on the seed's SQLite file, each column as text (NULL as `None`).
fn sqlite_rows(ws: &Workspace, sql: &str) -> Vec<Vec<Option<String>>> {
    let conn = ws.sql();
    let mut stmt = conn.prepare(sql).unwrap();
    let columns = stmt.column_count();
    stmt.query_map([], |r| {
        (0..columns)
            .map(|i| {
                Ok(match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => None,
                    rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
                    rusqlite::types::ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into()),
                    other => panic!("unexpected column {other:?} in {sql}"),
                })
            })
            .collect()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn count(query: &dyn Fn(&str) -> Vec<Vec<Option<String>>>, copies: &[Copy]) -> Outcome {
    let truth: BTreeMap<&str, usize> = copies.iter().map(|c| (c.guid.as_str(), c.story)).collect();
    let rows: Vec<(String, Option<i64>)> = query(
        "SELECT i.guid, i.story_id FROM items i
         WHERE EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id)",
    )
    .into_iter()
    .map(|r| {
        let guid = r[0].clone().expect("an item has a guid");
        (guid, r[1].as_deref().map(|id| id.parse().unwrap()))
    })
    .collect();
    let mut ids_of_story: BTreeMap<usize, BTreeSet<i64>> = BTreeMap::new();
    let mut stories_of_id: BTreeMap<i64, BTreeSet<usize>> = BTreeMap::new();
    for (guid, story_id) in &rows {
        let story = truth[guid.as_str()];
        let id = story_id.expect("a matched item has a story");
        ids_of_story.entry(story).or_default().insert(id);
        stories_of_id.entry(id).or_default().insert(story);
    }
    let number = |v: &Option<String>| -> i64 { v.as_deref().unwrap().parse().unwrap() };
    let deliveries: BTreeMap<i64, i64> = query(
        "SELECT story_id, count(*) FROM deliveries WHERE channel = 'webhook:ops' GROUP BY story_id",
    )
    .iter()
    .map(|r| (number(&r[0]), number(&r[1])))
    .collect();
    // A split or a merge shows its copies, to see why.
    for (story, ids) in &ids_of_story {
        let merged = ids.iter().any(|id| stories_of_id[id].len() > 1);
        if ids.len() > 1 || merged {
            for (guid, id) in &rows {
                let copy = copies.iter().find(|c| &c.guid == guid).unwrap();
                if copy.story == *story {
                    println!(
                        "  story {story} copy {guid} -> story id {id:?}: {:?} / {:?}",
                        copy.title, copy.summary
                    );
                }
            }
        }
    }
    let delivered_per_story: usize = ids_of_story
        .values()
        .map(|ids| {
            ids.iter()
                .map(|id| deliveries.get(id).copied().unwrap_or(0) as usize)
                .sum::<usize>()
        })
        .map(|n| n.saturating_sub(1))
        .sum();
    Outcome {
        stories: ids_of_story.len(),
        copies_matched: rows.len(),
        split: ids_of_story.values().map(|ids| ids.len() - 1).sum(),
        wrongly_merged: stories_of_id.values().map(|s| s.len() - 1).sum(),
        extra_deliveries: delivered_per_story,
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `seeds` seeds from `start` on `backend`, printing each seed's counts; fails when any
/// seed splits a story, merges two, or delivers one twice.
fn run_seeds(backend: Backend, seeds: u64, start: u64) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let all = sources();
    let mut total = Outcome::default();
    let mut failed = Vec::new();
    for seed in start..start + seeds {
        let o = run_seed(seed, &all, &backend);
        println!(
            "seed {seed}: {} stories, {} copies matched, {} split, {} wrongly merged, {} extra deliveries",
            o.stories, o.copies_matched, o.split, o.wrongly_merged, o.extra_deliveries
        );
        if o.split + o.wrongly_merged + o.extra_deliveries > 0 {
            failed.push(seed);
        }
        total.stories += o.stories;
        total.copies_matched += o.copies_matched;
        total.split += o.split;
        total.wrongly_merged += o.wrongly_merged;
        total.extra_deliveries += o.extra_deliveries;
    }
    println!("{seeds} seeds: {total:?}");
    assert!(total.copies_matched > total.stories * 3 - 1, "{total:?}");
    assert!(failed.is_empty(), "seeds {failed:?} failed: {total:?}");
}

#[test]
fn wire_copies_form_one_story_whatever_the_timing() {
    run_seeds(
        Backend::Sqlite,
        env_number("TIDINGS_WIRE_SEEDS", 12),
        env_number("TIDINGS_WIRE_SEED_START", 1),
    );
}

#[test]
fn wire_copies_form_one_story_across_two_postgres_workers() {
    run_seeds(
        Backend::Postgres,
        env_number("TIDINGS_WIRE_PG_SEEDS", 6),
        env_number("TIDINGS_WIRE_SEED_START", 1),
    );
}
