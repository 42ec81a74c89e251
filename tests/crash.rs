//! Crash safety: the daemon is killed with SIGKILL at three moments of a large ingest and
//! restarted; the stored keys then match what the server served, with nothing lost or doubled.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{FeedServer, Route, Workspace, shared_dir};

const FEEDS: usize = 1000;

/// Corpus feeds that parse cleanly, cycled to `FEEDS` routes: path → expected keys.
fn build_farm(server: &FeedServer) -> (Vec<String>, HashMap<String, BTreeSet<String>>) {
    let corpus = shared_dir().join("feeds-corpus");
    let manifest = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    let mut sources = Vec::new();
    for line in manifest.lines().skip(1) {
        let path = line.split('\t').next().unwrap();
        if path.ends_with(".opml") || path.ends_with(".gz") {
            continue;
        }
        let body = std::fs::read(corpus.join(path)).unwrap();
        if tidings::parse::parse_feed(&body, "http://127.0.0.1/x")
            .is_ok_and(|p| !p.items.is_empty())
        {
            sources.push(body);
        }
    }
    let mut urls = Vec::new();
    let mut expected = HashMap::new();
    for i in 0..FEEDS {
        let body = sources[i % sources.len()].clone();
        let path = format!("/farm/{i}.xml");
        let url = server.url(&path);
        let keys = tidings::parse::parse_feed(&body, &url)
            .unwrap()
            .items
            .into_iter()
            .map(|it| it.dedup_key)
            .collect();
        expected.insert(url.clone(), keys);
        server.set(&path, Route::feed(body));
        urls.push(url);
    }
    (urls, expected)
}

fn served_feeds(server: &FeedServer) -> usize {
    server
        .log()
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| r.path.clone())
        .collect::<BTreeSet<_>>()
        .len()
}

fn stored_keys(ws: &Workspace) -> BTreeSet<(String, String)> {
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

fn start_daemon(ws: &Workspace) -> Child {
    ws.command(&["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn sigkill_during_ingest_loses_nothing_and_doubles_nothing() {
    let server = FeedServer::start();
    server.set_latency(Duration::from_millis(15));
    let (urls, expected) = build_farm(&server);
    let ws = Workspace::new();
    ws.write_config("[schedule]\ndefault = \"0 0 1 1 *\"\n", &urls);
    // Override the workspace's concurrency so the ingest takes a while.
    let config = std::fs::read_to_string(ws.config_path())
        .unwrap()
        .replace("concurrency = 16", "concurrency = 8")
        .replace("per_host = 4", "per_host = 8");
    std::fs::write(ws.config_path(), config).unwrap();

    let mut committed = BTreeSet::new();
    for share in [0.3, 0.5, 0.7] {
        let mut daemon = start_daemon(&ws);
        let target = (share * FEEDS as f64) as usize;
        let deadline = Instant::now() + Duration::from_secs(120);
        while served_feeds(&server) < target {
            assert!(
                Instant::now() < deadline,
                "the daemon served only {} feeds",
                served_feeds(&server)
            );
            assert!(
                daemon.try_wait().unwrap().is_none(),
                "the daemon exited early"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        daemon.kill().unwrap(); // SIGKILL
        daemon.wait().unwrap();
        let now = stored_keys(&ws);
        assert!(
            committed.is_subset(&now),
            "items committed before a kill were lost"
        );
        assert!(now.len() > committed.len(), "no progress between kills");
        committed = now;
    }

    // The last run finishes the ingest and stops on SIGTERM with exit code 0.
    let mut daemon = start_daemon(&ws);
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let unpolled = ws.count("SELECT count(*) FROM feeds WHERE last_polled_at IS NULL");
        if unpolled == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{unpolled} feeds still unpolled");
        std::thread::sleep(Duration::from_millis(50));
    }
    unsafe { libc_kill(daemon.id() as i32, 15) };
    let status = daemon.wait().unwrap();
    assert!(status.success(), "daemon exit after SIGTERM: {status}");

    // Consistent file, nothing lost, nothing doubled, everything served stored.
    let conn = ws.sql();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let stored = stored_keys(&ws);
    assert!(committed.is_subset(&stored));
    let rows = ws.count("SELECT count(*) FROM items") as usize;
    assert_eq!(rows, stored.len(), "an item is stored twice");
    let mut want = BTreeSet::new();
    for (url, keys) in &expected {
        for key in keys {
            want.insert((url.clone(), key.clone()));
        }
    }
    let missing: Vec<_> = want.difference(&stored).take(5).collect();
    let extra: Vec<_> = stored.difference(&want).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, unexpected {extra:?}"
    );
    assert_eq!(
        ws.count("SELECT count(*) FROM feeds WHERE last_result = 'ok'") as usize,
        FEEDS
    );
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}
