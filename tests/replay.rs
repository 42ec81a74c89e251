//! Issue 19: feed histories replayed. Each history under `tests/fixtures/feeds/` is a real feed's
//! successive snapshots (see `make_histories.py` there): entries entering and leaving, an
//! edited title, a guid that changes while the link stays, a link escaped twice, a YouTube
//! channel with empty `media:description`s, a feed in UTF-16. A server on 127.0.0.1 serves them
//! in order with ETags; the binary polls after each change and once more (a 304). Every
//! distinct item (by guid, else link) must be stored exactly once, with its edits counted.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{FeedServer, Route, Workspace};

struct History {
    name: String,
    snapshots: Vec<Vec<u8>>,
    /// (kind, value, edits): kind is `guid` or `link`.
    expect: Vec<(String, String, i64)>,
}

fn histories() -> Vec<History> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expect.tsv").is_file())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "xml"))
                .collect();
            files.sort();
            let expect = std::fs::read_to_string(dir.join("expect.tsv"))
                .unwrap()
                .lines()
                .skip(1)
                .map(|line| {
                    let cols: Vec<&str> = line.split('\t').collect();
                    (
                        cols[0].to_string(),
                        cols[1].to_string(),
                        cols[2].parse().unwrap(),
                    )
                })
                .collect();
            History {
                name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                snapshots: files.iter().map(|f| std::fs::read(f).unwrap()).collect(),
                expect,
            }
        })
        .collect()
}

/// `tidings poll --all --json`: each feed's (result, entries skipped), by URL.
fn poll(ws: &Workspace) -> BTreeMap<String, (String, u64, Option<String>)> {
    let out = ws.run_ok(&["poll", "--all", "--no-extract", "--json"]);
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["url"].as_str().unwrap().to_string(),
                (
                    r["result"].as_str().unwrap().to_string(),
                    r["entries_skipped"].as_u64().unwrap(),
                    r["error"].as_str().map(str::to_string),
                ),
            )
        })
        .collect()
}

#[test]
fn issue_19_every_distinct_item_of_a_feed_history_is_stored_once_with_its_edits() {
    let histories = histories();
    let names: Vec<&str> = histories.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        ["guardian", "hacker-news", "heise-utf16", "youtube"],
        "fixtures"
    );
    let server = FeedServer::start();
    let paths: Vec<String> = histories
        .iter()
        .map(|h| format!("/history/{}.xml", h.name))
        .collect();
    let urls: Vec<String> = paths.iter().map(|p| server.url(p)).collect();
    let ws = Workspace::new();
    ws.write_config("", &urls);

    let steps = histories.iter().map(|h| h.snapshots.len()).max().unwrap();
    for step in 0..steps {
        for (history, path) in histories.iter().zip(&paths) {
            if let Some(body) = history.snapshots.get(step) {
                server.set(path, Route::feed(body.clone()));
            }
        }
        let changed = poll(&ws);
        for (history, url) in histories.iter().zip(&urls) {
            let (result, skipped, error) = &changed[url];
            let want = if step < history.snapshots.len() {
                "ok"
            } else {
                "not-modified"
            };
            assert_eq!(result, want, "{} snapshot {step}: {error:?}", history.name);
            assert_eq!(*skipped, 0, "{} snapshot {step}", history.name);
        }
        // Polled again with nothing changed: every feed answers 304.
        let again = poll(&ws);
        for (history, url) in histories.iter().zip(&urls) {
            assert_eq!(
                again[url].0, "not-modified",
                "{} snapshot {step}, second poll",
                history.name
            );
        }
    }
    for (history, path) in histories.iter().zip(&paths) {
        let statuses: Vec<u16> = server.requests_for(path).iter().map(|r| r.status).collect();
        let changes = statuses.iter().filter(|s| **s == 200).count();
        assert_eq!(
            changes,
            history.snapshots.len(),
            "{}: {statuses:?}",
            history.name
        );
        assert_eq!(statuses.len(), 2 * steps, "{}", history.name);
    }

    let conn = ws.sql();
    let mut total = 0;
    for (history, url) in histories.iter().zip(&urls) {
        let feed_id: i64 = conn
            .query_row("SELECT id FROM feeds WHERE origin_url = ?1", [url], |r| {
                r.get(0)
            })
            .unwrap();
        let stored: i64 = conn
            .query_row(
                "SELECT count(*) FROM items WHERE feed_id = ?1",
                [feed_id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            stored as usize,
            history.expect.len(),
            "{}: stored {stored} items, the history has {} distinct ones",
            history.name,
            history.expect.len()
        );
        for (kind, value, edits) in &history.expect {
            let rows: Vec<i64> = if kind == "guid" {
                let mut stmt = conn
                    .prepare("SELECT edit_count FROM items WHERE feed_id = ?1 AND guid = ?2")
                    .unwrap();
                stmt.query_map(rusqlite::params![feed_id, value], |r| r.get(0))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect()
            } else {
                let link = url::Url::parse(value).unwrap().to_string();
                let mut stmt = conn
                    .prepare(
                        "SELECT edit_count FROM items WHERE feed_id = ?1 AND guid IS NULL AND url = ?2",
                    )
                    .unwrap();
                stmt.query_map(rusqlite::params![feed_id, link], |r| r.get(0))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect()
            };
            assert_eq!(
                rows.len(),
                1,
                "{}: {kind} {value} stored {} times",
                history.name,
                rows.len()
            );
            assert_eq!(
                rows[0], *edits,
                "{}: {kind} {value}: {} edits counted, {edits} made",
                history.name, rows[0]
            );
        }
        total += history.expect.len();
    }
    eprintln!(
        "replay: {} histories, {steps} steps, {total} distinct items each stored once",
        histories.len()
    );
    let status = ws.status();
    for url in &urls {
        assert_eq!(
            common::feed_status(&status, url)["entries_skipped"],
            0,
            "{url}"
        );
    }
}
