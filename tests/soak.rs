//! Soak: the daemon ingests from a farm of rolling feeds (every poll serves new items) and
//! delivers every match to a webhook receiver, while it is killed with SIGKILL at 50 random
//! moments and restarted each time. Then it finishes and stops on SIGTERM, and:
//! - every item the farm served is stored exactly once (the server's log of generations
//!   against the stored (feed, dedup key) pairs), and nothing committed was ever lost;
//! - every story was delivered to the webhook at least once, always under one delivery id;
//! - `PRAGMA integrity_check` is ok.
//!
//! The kill moments come from a seed that is printed; `TIDINGS_SOAK_SEED=N` replays one.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::receiver::Receiver;
use common::server::rolling_feed;
use common::{Behaviour, FeedServer, Route, Workspace};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const FEEDS: usize = 200;
const KILLS: usize = 50;
const NEW_PER_POLL: u64 = 1;
/// Items each answer carries: a feed must miss this many polls in a row to lose an item.
const WINDOW: u64 = 25;

unsafe extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

fn path(i: usize) -> String {
    format!("/soak/{i}.xml")
}

fn start_daemon(ws: &Workspace) -> Child {
    ws.command(&["run"])
        .env("TIDINGS_TEST_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// (feed URL, dedup key) of every item the farm served in a 200.
fn served(server: &FeedServer) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for r in server.log().iter().filter(|r| r.status == 200) {
        let first = r.generation * NEW_PER_POLL;
        for j in first..first + WINDOW {
            out.insert((server.url(&r.path), format!("g:{}#{j}", r.path)));
        }
    }
    out
}

fn stored(ws: &Workspace) -> BTreeSet<(String, String)> {
    if !ws.db().exists() {
        return BTreeSet::new();
    }
    ws.sql()
        .prepare("SELECT f.origin_url, i.dedup_key FROM items i JOIN feeds f ON f.id = i.feed_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn fifty_sigkills_while_ingesting_and_delivering_lose_nothing_and_send_each_story_under_one_id() {
    let seed: u64 = std::env::var("TIDINGS_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..1_000_000));
    eprintln!("soak seed {seed} (replay with TIDINGS_SOAK_SEED={seed})");
    let mut rng = fastrand::Rng::with_seed(seed);
    let started = Instant::now();

    let server = FeedServer::start();
    let base = chrono::Utc::now().timestamp() - 3600;
    let urls: Vec<String> = (0..FEEDS)
        .map(|i| {
            let p = path(i);
            let mut route = Route::feed(Vec::new());
            route.behaviour = Behaviour::Rolling {
                new_per_poll: NEW_PER_POLL,
                window: WINDOW,
                base,
                frozen: false,
            };
            server.set(&p, route);
            server.url(&p)
        })
        .collect();
    // The dedup key of a rolling item is its guid, marked as one.
    let sample = tidings::parse::parse_feed(
        &rolling_feed(&path(0), 3, NEW_PER_POLL, WINDOW, base),
        &urls[0],
    )
    .unwrap();
    assert_eq!(sample.items.len() as u64, WINDOW);
    assert_eq!(
        sample.items[0].dedup_key,
        format!("g:{}#{}", path(0), 3 * NEW_PER_POLL + WINDOW - 1)
    );

    let receiver = Receiver::start(SECRET);
    let ws = Workspace::new();
    let config = format!(
        "[schedule]\ndefault = \"* * * * * *\"\n[delivery]\nstory_window = \"0s\"\nretry_schedule = [\"1s\", \"1s\", \"2s\", \"2s\", \"5s\"]\n\
         [[topic]]\nname = \"pyongyang\"\nquery = 'pyongyang'\nmin_score = 0.5\n\
         [[webhook]]\nname = \"hook\"\nurl = \"{}\"\nsecret = \"env:TIDINGS_TEST_SECRET\"\ntopics = [\"pyongyang\"]\ntimeout = \"2s\"\n",
        receiver.url()
    );
    ws.write_config(&config, &urls);
    let text = std::fs::read_to_string(ws.config_path())
        .unwrap()
        .replace("per_host = 4", "per_host = 16");
    std::fs::write(ws.config_path(), text).unwrap();
    // A first poll of every feed: its items are old news (held back), the rest are new.
    let out = ws
        .command(&["poll", "--all"])
        .env("TIDINGS_TEST_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut committed = stored(&ws);
    let mut kills_by_phase = [0usize; 3];
    for k in 0..KILLS {
        let mut daemon = start_daemon(&ws);
        let wait = Duration::from_millis(rng.u64(100..3000));
        std::thread::sleep(wait);
        assert!(
            daemon.try_wait().unwrap().is_none(),
            "the daemon exited on its own before kill {k}"
        );
        daemon.kill().unwrap(); // SIGKILL
        daemon.wait().unwrap();
        kills_by_phase[(wait.as_millis() / 1000).min(2) as usize] += 1;
        let now = stored(&ws);
        assert!(
            committed.is_subset(&now),
            "kill {k} (seed {seed}): items committed before it were lost"
        );
        committed = now;
    }
    let received_during_kills = receiver.received().len();
    eprintln!(
        "{KILLS} kills in {:?} (by second after start: {kills_by_phase:?}); {} items stored, {} POSTs received",
        started.elapsed(),
        committed.len(),
        received_during_kills
    );
    assert!(
        received_during_kills > 0,
        "nothing was delivered while the daemon was being killed"
    );

    // The last run: the farm stops moving on, the daemon catches up and stops on SIGTERM.
    let mut daemon = start_daemon(&ws);
    server.freeze_rolling(true);
    wait_until(
        "every served item to be stored",
        Duration::from_secs(120),
        || {
            assert!(daemon.try_wait().unwrap().is_none(), "the daemon exited");
            stored(&ws).is_superset(&served(&server))
        },
    );
    wait_until(
        "matching and deliveries to finish",
        Duration::from_secs(120),
        || {
            ws.count("SELECT count(*) FROM items WHERE match_state IN (0, 3)") == 0
                && ws.count("SELECT count(*) FROM deliveries WHERE status IN ('held', 'pending')")
                    == 0
        },
    );
    unsafe { kill(daemon.id() as i32, 15) };
    let status = daemon.wait().unwrap();
    assert!(status.success(), "daemon exit after SIGTERM: {status}");

    // Every item served is stored exactly once.
    let conn = ws.sql();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let served = served(&server);
    let stored = stored(&ws);
    assert_eq!(
        ws.count("SELECT count(*) FROM items") as usize,
        stored.len(),
        "an item is stored twice"
    );
    let missing: Vec<_> = served.difference(&stored).take(5).collect();
    assert!(
        missing.is_empty(),
        "served but not stored (seed {seed}): {missing:?}"
    );
    let extra: Vec<_> = stored.difference(&served).take(5).collect();
    assert!(
        extra.is_empty(),
        "stored but never served (seed {seed}): {extra:?}"
    );

    // Every item matched; every story outside the first poll was sent, none died.
    assert_eq!(
        ws.count("SELECT count(*) FROM matches"),
        stored.len() as i64
    );
    assert_eq!(
        ws.count("SELECT count(*) FROM deliveries WHERE status NOT IN ('sent', 'backfill')"),
        0,
        "deliveries neither sent nor old news"
    );
    let mut want = BTreeSet::new();
    let mut stmt = conn
        .prepare(
            "SELECT DISTINCT i.story_id FROM items i JOIN matches m ON m.item_id = i.id
             WHERE i.first_poll = 0",
        )
        .unwrap();
    for id in stmt.query_map([], |r| r.get::<_, i64>(0)).unwrap() {
        want.insert(id.unwrap());
    }
    assert!(want.len() > FEEDS, "too few new stories: {}", want.len());

    // Each story reached the receiver, always under one delivery id.
    let mut ids_by_story: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for post in receiver.received() {
        assert!(
            post.standard_signature_ok && post.github_signature_ok,
            "bad signature: {post:#?}"
        );
        assert_eq!(post.body["id"], post.webhook_id);
        for item in post.body["data"]["items"].as_array().unwrap() {
            let story = item["story_id"]
                .as_i64()
                .unwrap_or_else(|| panic!("payload without story_id: {item}"));
            ids_by_story
                .entry(story)
                .or_default()
                .insert(post.webhook_id.clone());
        }
    }
    let doubled: Vec<_> = ids_by_story
        .iter()
        .filter(|(_, ids)| ids.len() > 1)
        .take(5)
        .collect();
    assert!(
        doubled.is_empty(),
        "stories sent under two delivery ids (seed {seed}): {doubled:?}"
    );
    let undelivered: Vec<_> = want
        .iter()
        .filter(|s| !ids_by_story.contains_key(s))
        .take(5)
        .collect();
    assert!(
        undelivered.is_empty(),
        "stories never delivered (seed {seed}): {undelivered:?}"
    );
    eprintln!(
        "soak done in {:?}: {} items, {} stories delivered, {} POSTs",
        started.elapsed(),
        stored.len(),
        want.len(),
        receiver.received().len()
    );
}
