//! The real feeds of `feeds-corpus/` served from 127.0.0.1 and polled by the binary: every
//! feed is stored with the entry count its MANIFEST gives.

mod common;

use std::collections::BTreeMap;

use common::{Behaviour, FeedServer, Route, Workspace, shared_dir};

/// MANIFEST.tsv rows: (path, entries, bozo).
fn manifest() -> Vec<(String, usize, bool)> {
    let text = std::fs::read_to_string(shared_dir().join("feeds-corpus/MANIFEST.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let path = cols[0];
            if path.ends_with(".opml") {
                return None;
            }
            Some((
                path.to_string(),
                cols[3].parse().unwrap_or(0),
                cols[5] == "1",
            ))
        })
        .collect()
}

/// Feeds whose stored count differs from feedparser's for a reason other than duplicate keys.
/// Each entry: (path, stored, why).
const KNOWN_DIFFERENCES: &[(&str, usize, &str)] = &[
    // feedparser 6 does not read JSON Feed (it reports 0 entries); we store every item.
    (
        "feed-rs/jsonfeed/jsonfeed_elastic_1.1.json",
        3,
        "JSON Feed: feedparser reads none",
    ),
    (
        "feed-rs/jsonfeed/jsonfeed_example_1.json",
        2,
        "JSON Feed: feedparser reads none",
    ),
    (
        "feed-rs/jsonfeed/jsonfeed_spec_1.json",
        1,
        "JSON Feed: feedparser reads none",
    ),
    (
        "feedjira-current/json_feed.json",
        20,
        "JSON Feed: feedparser reads none",
    ),
    (
        "feedjira-current/json_feed_with_escaped_uris.json",
        30,
        "JSON Feed: feedparser reads none",
    ),
    // Items nested inside unclosed items: feedparser counts both levels, XML sees the outer ten.
    (
        "node-feedparser/illegally-nested.xml",
        10,
        "unclosed <item>s nest the next item inside",
    ),
];

#[test]
fn every_corpus_feed_is_stored_with_its_manifest_count() {
    let rows = manifest();
    assert!(rows.len() >= 290, "{} manifest rows", rows.len());
    let server = FeedServer::start();
    let corpus = shared_dir().join("feeds-corpus");
    let mut urls = Vec::new();
    for (path, _, _) in &rows {
        let body = std::fs::read(corpus.join(path)).unwrap();
        let mut route = Route::feed(body);
        if path.ends_with(".gz") {
            route.behaviour = Behaviour::Gzip;
        }
        let url_path = format!("/{path}");
        server.set(&url_path, route);
        urls.push(server.url(&url_path));
    }
    let ws = Workspace::new();
    ws.write_config("", &urls);
    ws.run_ok(&["poll"]);

    let conn = ws.sql();
    let stored: BTreeMap<String, (usize, Option<String>)> = conn
        .prepare("SELECT f.origin_url, (SELECT count(*) FROM items i WHERE i.feed_id = f.id), f.last_error FROM feeds f")
        .unwrap()
        .query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get::<_, i64>(1)? as usize, r.get(2)?))))
        .unwrap()
        .map(Result::unwrap)
        .collect();

    let mut mismatches = Vec::new();
    for (path, expected, _bozo) in &rows {
        let url = server.url(&format!("/{path}"));
        let (count, error) = stored[&url].clone();
        // Entries sharing a key within one feed are stored once.
        let body = std::fs::read(corpus.join(path)).unwrap();
        let body = if path.ends_with(".gz") {
            gunzip(&body)
        } else {
            body
        };
        let duplicates = tidings::parse::parse_feed(&body, &url)
            .map(|p| p.duplicate_keys)
            .unwrap_or(0);
        if count + duplicates == *expected {
            continue;
        }
        match KNOWN_DIFFERENCES.iter().find(|(p, _, _)| p == path) {
            Some((_, known, _)) if *known == count => {}
            _ => mismatches.push(format!("{path}: stored {count} (+{duplicates} duplicate keys), manifest {expected}, error {error:?}")),
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} feeds differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}
