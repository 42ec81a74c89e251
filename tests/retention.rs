//! Retention and maintenance, black box: `db prune` deletes old items with their article
//! and index rows, keeps matched ones unless told otherwise, and tombstones their keys so a
//! later poll never brings them back; `db backup` copies a consistent database while the
//! daemon runs; `db stats` reports rows and sizes.

mod common;

use std::time::Duration;

use common::{FeedServer, Route, Workspace};

fn rss(items: &[(&str, &str, i64)]) -> Vec<u8> {
    let mut body = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>Retained</title><link>https://example.org/</link>",
    );
    for (guid, title, at) in items {
        let date = chrono::DateTime::from_timestamp(*at, 0)
            .unwrap()
            .to_rfc2822();
        body.push_str(&format!(
            "<item><guid>{guid}</guid><title>{title}</title><link>https://example.org/{guid}</link><description>About {title}</description><pubDate>{date}</pubDate></item>"
        ));
    }
    body.push_str("</channel></rss>");
    body.into_bytes()
}

const TOPIC: &str = "[[topic]]\nname = \"moscow\"\nquery = \"moscow\"\nmin_score = 0.1\n\n[retention]\nkeep_items = \"365d\"\n";

#[test]
fn prune_deletes_old_items_keeps_matched_and_tombstones_keys() {
    let now = chrono::Utc::now().timestamp();
    let year = 365 * 86_400;
    let server = FeedServer::start();
    let old = ("old", "Harvest statistics", now - 3 * year);
    let old_matched = ("old-matched", "Kim visits Moscow", now - 2 * year);
    let fresh = ("fresh", "Fresh harvest news", now - 86_400);
    server.set("/feed.xml", Route::feed(rss(&[old, old_matched, fresh])));
    let ws = Workspace::new();
    ws.write_config(TOPIC, &[server.url("/feed.xml")]);
    ws.run_ok(&["poll", "--no-extract"]);
    assert_eq!(ws.count("SELECT count(*) FROM items"), 3);
    assert_eq!(ws.count("SELECT count(*) FROM matches"), 1);

    let out = ws.run_ok(&["db", "prune"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("pruned 1 items"), "{text}");
    assert_eq!(ws.count("SELECT count(*) FROM items WHERE guid = 'old'"), 0);
    assert_eq!(ws.count("SELECT count(*) FROM items"), 2);
    assert_eq!(ws.count("SELECT count(*) FROM items_fts"), 2);
    assert_eq!(ws.count("SELECT count(*) FROM item_tombstones"), 1);
    let search = ws.run_ok(&["search", "harvest", "--format", "ndjson"]);
    assert_eq!(String::from_utf8_lossy(&search.stdout).lines().count(), 1);

    // The feed still lists the pruned item (and a new one): it does not come back.
    let newer = ("newer", "Newer item", now - 60);
    server.set(
        "/feed.xml",
        Route::feed(rss(&[old, old_matched, fresh, newer])),
    );
    ws.run_ok(&["poll", "--all", "--no-extract"]);
    assert_eq!(ws.count("SELECT count(*) FROM items"), 3);
    assert_eq!(ws.count("SELECT count(*) FROM items WHERE guid = 'old'"), 0);

    // --include-matched prunes the matched one too, with its match.
    let out = ws.run_ok(&["db", "prune", "--include-matched"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("pruned 1 items") && text.contains("1 matches"),
        "{text}"
    );
    assert_eq!(ws.count("SELECT count(*) FROM matches"), 0);
    assert_eq!(ws.count("SELECT count(*) FROM item_tombstones"), 2);
    // --older-than overrides the configured age.
    let out = ws.run_ok(&["db", "prune", "--older-than", "1h"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("pruned 1 items"));
    assert_eq!(ws.count("SELECT count(*) FROM items"), 1);
    assert!(ws.run_ok(&["db", "stats"]).status.success());
}

#[test]
fn prune_without_retention_keeps_everything() {
    let ws = Workspace::new();
    ws.write_config("", &[]);
    let out = ws.run_ok(&["db", "prune"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("kept forever"));
}

#[test]
fn backup_while_the_daemon_runs_and_stats() {
    let now = chrono::Utc::now().timestamp();
    let server = FeedServer::start();
    let items: Vec<(String, String, i64)> = (0..50)
        .map(|i| {
            (
                format!("g{i}"),
                format!("Item {i} from Pyongyang"),
                now - i * 3600,
            )
        })
        .collect();
    let refs: Vec<(&str, &str, i64)> = items
        .iter()
        .map(|(g, t, a)| (g.as_str(), t.as_str(), *a))
        .collect();
    server.set("/feed.xml", Route::feed(rss(&refs)));
    let ws = Workspace::new();
    ws.write_config(
        "[schedule]\ndefault = \"* * * * *\"\n",
        &[server.url("/feed.xml")],
    );
    let mut daemon = ws.command(&["run"]).spawn().unwrap();
    let mut stored = 0;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(100));
        if ws.db().exists() {
            stored = rusqlite::Connection::open(ws.db())
                .and_then(|c| c.query_row("SELECT count(*) FROM items", [], |r| r.get(0)))
                .unwrap_or(0);
            if stored == 50 {
                break;
            }
        }
    }
    assert_eq!(stored, 50, "the daemon stored the feed");

    let copy = ws.dir.path().join("backup.db");
    let out = ws.run_ok(&["db", "backup", copy.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("backed up"));
    let refused = ws
        .command(&["db", "backup", copy.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("already exists"));
    assert!(
        daemon.try_wait().unwrap().is_none(),
        "the daemon still runs"
    );
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    daemon.wait().unwrap();

    let conn = rusqlite::Connection::open(&copy).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 50);
    let fts: i64 = conn
        .query_row(
            "SELECT count(*) FROM items_fts WHERE items_fts MATCH 'pyongyang'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(fts, 50);
    let app: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(app, tidings::store::APPLICATION_ID);

    let out = ws.run_ok(&["db", "stats", "--json"]);
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(stats["file_bytes"].as_u64().unwrap() > 0);
    assert_eq!(stats["schema_version"], tidings::store::SCHEMA_VERSION);
    let table = |name: &str| {
        stats["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {stats}"))
            .clone()
    };
    assert_eq!(table("items")["rows"], 50);
    assert_eq!(table("items_fts")["rows"], 50);
    assert!(table("items_fts")["bytes"].as_i64().unwrap() > 0);
    assert_eq!(table("items_published")["rows"], serde_json::Value::Null);
}
