//! The stages after a refresh, through the binary: new items' pages are fetched from a local
//! server and extracted, the text is stored and searchable, topics match on it; and the
//! address policy keeps content-chosen URLs off private addresses (canary listeners count
//! connections).

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Behaviour, FeedServer, Route, Workspace};

fn fixture(id: &str) -> (Vec<u8>, String) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract");
    let mut html = Vec::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(dir.join(format!("html/{id}.html.gz"))).unwrap(),
    )
    .read_to_end(&mut html)
    .unwrap();
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ground-truth.json")).unwrap())
            .unwrap();
    (html, truth[id]["articleBody"].as_str().unwrap().to_string())
}

fn fixture_ids() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract/html");
    let mut ids: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            e.file_name()
                .to_string_lossy()
                .trim_end_matches(".html.gz")
                .to_string()
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn new_items_are_extracted_stored_searchable_and_matched_on_their_text() {
    let server = FeedServer::start();
    let ids: Vec<String> = fixture_ids().into_iter().take(3).collect();
    let mut items = String::new();
    let mut truths = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let (html, truth) = fixture(id);
        server.set(
            &format!("/page/{i}"),
            Route {
                content_type: "text/html; charset=utf-8".into(),
                ..Route::feed(html)
            },
        );
        items.push_str(&format!(
            "<item><guid>p{i}</guid><title>Page {i}</title><link>{}</link><description>Short summary</description></item>",
            server.url(&format!("/page/{i}"))
        ));
        truths.push(truth);
    }
    server.set(
        "/feed.xml",
        Route::feed(
            format!("<rss version=\"2.0\"><channel><title>Pages</title>{items}</channel></rss>")
                .into_bytes(),
        ),
    );
    // A phrase only the first article's text carries.
    let phrase: Vec<&str> = truths[0]
        .split_whitespace()
        .filter(|w| w.chars().all(char::is_alphabetic))
        .take(3)
        .collect();
    let ws = Workspace::new();
    let config = format!(
        "allow_networks = [\"127.0.0.1/32\"]\n[[topic]]\nname = \"first\"\nquery = 'text:\"{}\"'\nmin_score = 0.5\n",
        phrase.join(" ")
    );
    ws.write_config(&config, &[]);
    let text = std::fs::read_to_string(ws.config_path()).unwrap()
        + &format!(
            "[[feed]]\nurl = \"{}\"\nextract = true\n",
            server.url("/feed.xml")
        );
    std::fs::write(ws.config_path(), text).unwrap();

    let out = ws.run_ok(&["poll"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("3 article pages extracted"), "{stdout}");
    let conn = ws.sql();
    for (i, truth) in truths.iter().enumerate() {
        let (status, stored): (String, String) = conn
            .query_row(
                "SELECT a.status, a.text FROM articles a JOIN items i ON i.id = a.item_id WHERE i.guid = ?1",
                [format!("p{i}")],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(status, "ok");
        let score = tidings::extract::metric::score(&stored, truth);
        assert!(score.f1 >= 0.9, "page {i}: F1 {:.3}", score.f1);
    }
    // The article text is in the full-text index.
    let hits: i64 = conn
        .query_row(
            "SELECT count(*) FROM items_fts WHERE items_fts MATCH ?1",
            [format!("text:\"{}\"", phrase.join(" "))],
            |r| r.get(0),
        )
        .unwrap();
    assert!(hits >= 1);
    // The topic matched on the article text (the title and summary do not carry the phrase).
    let matched: (String, String) =
        conn.query_row("SELECT i.guid, m.stage FROM matches m JOIN items i ON i.id = m.item_id WHERE m.topic = 'first'", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(matched, ("p0".to_string(), "article".to_string()));
    // A restart finds nothing left to extract.
    let out = ws.run_ok(&["poll", "--all"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 article pages extracted"));
}

/// Counts the connections a listener accepts, on its own thread.
fn canary(addr: &str) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind(addr).unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stream.is_ok() {
                seen.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    (port, count)
}

#[test]
fn content_chosen_urls_never_reach_private_addresses() {
    let (port4, hits4) = canary("127.0.0.1:0");
    let ipv6 = TcpListener::bind("[::1]:0").is_ok();
    let (port6, hits6) = if ipv6 {
        canary("[::1]:0")
    } else {
        (0, Arc::new(AtomicUsize::new(0)))
    };
    let server = FeedServer::start();
    let mut links = vec![
        format!("http://127.0.0.1:{port4}/a"),
        "http://10.0.0.1/b".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        format!("http://[::ffff:127.0.0.1]:{port4}/c"),
        format!("http://0x7f000001:{port4}/d"),
        format!("http://2130706433:{port4}/e"),
        format!("http://localhost:{port4}/f"),
        // The feed server itself: trusted for the feed, not for content.
        server.url("/page"),
    ];
    if ipv6 {
        links.push(format!("http://[::1]:{port6}/g"));
    }
    let items: String = links
        .iter()
        .enumerate()
        .map(|(i, l)| {
            format!("<item><guid>x{i}</guid><title>Item {i}</title><link>{l}</link></item>")
        })
        .collect();
    server.set(
        "/feed.xml",
        Route::feed(
            format!("<rss version=\"2.0\"><channel><title>T</title>{items}</channel></rss>")
                .into_bytes(),
        ),
    );
    server.set(
        "/page",
        Route {
            content_type: "text/html".into(),
            ..Route::feed(b"<html><body><p>hello</p></body></html>".to_vec())
        },
    );
    // A feed that redirects to the canary on another port.
    server.set("/moved.xml", Route::feed(Vec::new()));
    server.set_behaviour(
        "/moved.xml",
        Behaviour::Redirect(302, format!("http://127.0.0.1:{port4}/feed.xml")),
    );

    let ws = Workspace::new();
    ws.write_config("", &[]);
    let text = std::fs::read_to_string(ws.config_path()).unwrap()
        + &format!(
            "[[feed]]\nurl = \"{}\"\nextract = true\n[[feed]]\nurl = \"{}\"\nextract = true\n",
            server.url("/feed.xml"),
            server.url("/moved.xml")
        );
    std::fs::write(ws.config_path(), text).unwrap();
    ws.run_ok(&["poll"]);

    assert_eq!(
        hits4.load(Ordering::SeqCst),
        0,
        "a content-chosen URL reached the IPv4 loopback canary"
    );
    assert_eq!(
        hits6.load(Ordering::SeqCst),
        0,
        "a content-chosen URL reached the IPv6 loopback canary"
    );
    assert!(
        server.requests_for("/page").is_empty(),
        "the feed server's trust leaked to an article link"
    );
    let conn = ws.sql();
    let mut stmt = conn
        .prepare("SELECT i.url, a.status, a.error FROM articles a JOIN items i ON i.id = a.item_id")
        .unwrap();
    let rows: Vec<(String, String, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows.len(),
        links.len(),
        "every item got a clear outcome: {rows:?}"
    );
    for (url, status, error) in &rows {
        assert_eq!(status, "failed", "{url}");
        let error = error.as_deref().unwrap_or("");
        assert!(
            error.contains("address policy") || error.contains("not a public address"),
            "{url}: {error}"
        );
    }
    let moved: String = conn
        .query_row(
            "SELECT last_error FROM feeds WHERE origin_url LIKE '%moved.xml'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(moved.contains("address policy"), "{moved}");
}

#[test]
fn an_edited_item_is_matched_again_and_a_changed_topic_backfills() {
    let server = FeedServer::start();
    let feed = |title: &str| {
        format!("<rss version=\"2.0\"><channel><title>T</title><item><guid>e1</guid><title>{title}</title><link>https://news.example/e1</link></item></channel></rss>")
            .into_bytes()
    };
    server.set("/e.xml", Route::feed(feed("Weather in Seoul")));
    let ws = Workspace::new();
    let topic =
        |query: &str| format!("[[topic]]\nname = \"t\"\nquery = '{query}'\nmin_score = 0.5\n");
    ws.write_config(&topic("pyongyang"), &[server.url("/e.xml")]);
    ws.run_ok(&["poll"]);
    assert_eq!(ws.count("SELECT count(*) FROM matches"), 0);
    // The publisher edits the title: the item is matched again, and now matches.
    server.set("/e.xml", Route::feed(feed("Weather in Pyongyang")));
    ws.run_ok(&["poll", "--all"]);
    assert_eq!(ws.count("SELECT count(*) FROM matches"), 1);
    assert_eq!(
        ws.count("SELECT count(*) FROM matches WHERE backfill = 0"),
        1
    );
    // Another edit that still matches: the existing match is not repeated.
    server.set("/e.xml", Route::feed(feed("Weather in Pyongyang, updated")));
    ws.run_ok(&["poll", "--all"]);
    assert_eq!(ws.count("SELECT count(*) FROM matches"), 1);
    // A changed topic re-evaluates recent items; what it finds is marked as backfill.
    ws.write_config(&topic("weather"), &[server.url("/e.xml")]);
    ws.run_ok(&["status"]);
    assert_eq!(
        ws.count("SELECT count(*) FROM matches"),
        1,
        "one (item, topic) pair, one match"
    );
    let mut old = std::fs::read_to_string(ws.config_path()).unwrap();
    old.push_str("[[topic]]\nname = \"w\"\nquery = 'weather'\nmin_score = 0.5\n");
    std::fs::write(ws.config_path(), old).unwrap();
    ws.run_ok(&["status"]);
    assert_eq!(
        ws.count("SELECT count(*) FROM matches WHERE topic = 'w' AND backfill = 1"),
        1
    );
}
