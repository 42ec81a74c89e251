//! Black-box ingest tests: the `tidings` binary polls a real HTTP server on 127.0.0.1.

mod common;

use std::time::Duration;

use common::{Behaviour, FeedServer, Route, Workspace, feed_status};

fn rss(items: &[(&str, &str)]) -> Vec<u8> {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>Test feed</title><link>https://example.org/</link>",
    );
    for (guid, title) in items {
        s.push_str(&format!(
            "<item><guid>{guid}</guid><title>{title}</title><link>https://example.org/{guid}</link><description>About {title}</description></item>"
        ));
    }
    s.push_str("</channel></rss>");
    s.into_bytes()
}

#[test]
fn second_poll_sends_validators_and_inserts_nothing() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(rss(&[("1", "One"), ("2", "Two")])));
    let ws = Workspace::new();
    ws.write_config("", &[server.url("/a.xml")]);
    ws.run_ok(&["poll"]);
    assert_eq!(ws.count("SELECT count(*) FROM items"), 2);
    let before: Vec<(i64, String)> = ws
        .sql()
        .prepare("SELECT id, content_hash FROM items ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();

    let out = ws.run_ok(&["poll", "--all", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report[0]["result"], "not-modified");
    assert_eq!(report[0]["counts"]["new"], 0);
    let requests = server.requests_for("/a.xml");
    assert_eq!(requests.len(), 2);
    assert!(
        requests[1].headers.contains_key("if-none-match"),
        "{:?}",
        requests[1].headers
    );
    assert!(requests[1].headers.contains_key("if-modified-since"));
    assert!(
        requests[0].headers["user-agent"].starts_with("tidings/"),
        "{:?}",
        requests[0].headers
    );
    assert_eq!(requests[1].status, 304);
    let after: Vec<(i64, String)> = ws
        .sql()
        .prepare("SELECT id, content_hash FROM items ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(before, after);
}

#[test]
fn unchanged_feed_without_validators_inserts_nothing() {
    // A server that ignores validators and always answers 200: items are recognised by key.
    let server = FeedServer::start();
    let mut route = Route::feed(rss(&[("1", "One"), ("2", "Two")]));
    route.behaviour = Behaviour::Slow {
        chunk: 1 << 20,
        pause: Duration::ZERO,
    };
    server.set("/a.xml", route);
    let ws = Workspace::new();
    ws.write_config("", &[server.url("/a.xml")]);
    ws.run_ok(&["poll"]);
    // Drop validators so the server sends the body again.
    rusqlite::Connection::open(ws.db())
        .unwrap()
        .execute("UPDATE feeds SET etag = NULL, last_modified = NULL", [])
        .unwrap();
    let out = ws.run_ok(&["poll", "--all", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report[0]["result"], "ok");
    assert_eq!(report[0]["counts"]["new"], 0);
    assert_eq!(report[0]["counts"]["unchanged"], 2);
    assert_eq!(ws.count("SELECT count(*) FROM items"), 2);
}

#[test]
fn not_modified_keeps_state() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(rss(&[("1", "One")])));
    let ws = Workspace::new();
    ws.write_config("", &[server.url("/a.xml")]);
    ws.run_ok(&["poll"]);
    let first = feed_status(&ws.status(), &server.url("/a.xml")).clone();
    let etag: String = ws
        .sql()
        .query_row("SELECT etag FROM feeds", [], |r| r.get(0))
        .unwrap();
    ws.run_ok(&["poll", "--all"]);
    let second = feed_status(&ws.status(), &server.url("/a.xml")).clone();
    assert_eq!(second["last_result"], "not-modified");
    assert_eq!(second["last_status"], 304);
    assert_eq!(second["items"], 1);
    assert_eq!(second["title"], first["title"]);
    assert_eq!(second["consecutive_errors"], 0);
    let etag_after: String = ws
        .sql()
        .query_row("SELECT etag FROM feeds", [], |r| r.get(0))
        .unwrap();
    assert_eq!(etag, etag_after);
}

#[test]
fn too_many_requests_with_retry_after_pushes_next_poll() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(rss(&[("1", "One")])));
    server.set_behaviour(
        "/a.xml",
        Behaviour::Status(429, vec![("Retry-After".into(), "7200".into())]),
    );
    let ws = Workspace::new();
    ws.write_config(
        "[schedule]\ndefault = \"* * * * *\"\n",
        &[server.url("/a.xml")],
    );
    let started = chrono::Utc::now();
    ws.run_ok(&["poll"]);
    let status = ws.status();
    let feed = feed_status(&status, &server.url("/a.xml"));
    assert_eq!(feed["last_result"], "slow-down");
    assert_eq!(feed["consecutive_errors"], 0, "429 is not an error");
    let next =
        chrono::DateTime::parse_from_rfc3339(feed["next_poll_at"].as_str().unwrap()).unwrap();
    assert!(
        next.timestamp() >= started.timestamp() + 7200,
        "next poll {next} is before Retry-After"
    );
    // Not due: a plain poll does not touch it.
    ws.run_ok(&["poll"]);
    assert_eq!(server.requests_for("/a.xml").len(), 1);
}

#[test]
fn gone_stops_the_feed_and_says_so() {
    let server = FeedServer::start();
    server.set("/gone.xml", Route::feed(rss(&[("1", "One")])));
    server.set("/ok.xml", Route::feed(rss(&[("1", "One")])));
    let ws = Workspace::new();
    ws.write_config("", &[server.url("/ok.xml"), server.url("/gone.xml")]);
    ws.run_ok(&["poll"]);
    server.set_behaviour("/gone.xml", Behaviour::Status(410, vec![]));
    ws.run_ok(&["poll", "--all"]);
    let status = ws.status();
    let feed = feed_status(&status, &server.url("/gone.xml"));
    assert_eq!(feed["state"], "gone");
    assert!(feed["last_error"].as_str().unwrap().contains("410"));
    assert_eq!(feed["items"], 1, "items of a gone feed are kept");
    ws.run_ok(&["poll", "--all"]);
    assert_eq!(
        server.requests_for("/gone.xml").len(),
        2,
        "a gone feed is not polled again"
    );
    let text = String::from_utf8(ws.run_ok(&["status"]).stdout).unwrap();
    assert!(text.contains("gone"), "{text}");
}

#[test]
fn permanent_redirect_is_learned_only_after_it_repeats() {
    let server = FeedServer::start();
    server.set("/new.xml", Route::feed(rss(&[("1", "One")])));
    server.set("/old.xml", Route::feed(Vec::new()));
    server.set_behaviour("/old.xml", Behaviour::Redirect(301, server.url("/new.xml")));
    let ws = Workspace::new();
    ws.write_config("", &[server.url("/old.xml")]);
    for poll in 1..=3 {
        ws.run_ok(&["poll", "--all"]);
        let status = ws.status();
        let feed = feed_status(&status, &server.url("/old.xml"));
        if poll < 3 {
            assert_eq!(
                feed["url"],
                server.url("/old.xml"),
                "moved after only {poll} polls"
            );
            assert_eq!(feed["redirect"]["seen"], poll);
        } else {
            assert_eq!(feed["url"], server.url("/new.xml"));
            assert_eq!(feed["previous_url"], server.url("/old.xml"));
            assert_eq!(feed["origin_url"], server.url("/old.xml"));
        }
    }
    assert_eq!(ws.count("SELECT count(*) FROM items"), 1);
    ws.run_ok(&["poll", "--all"]);
    assert_eq!(
        server.requests_for("/old.xml").len(),
        3,
        "the learned URL is polled directly"
    );
    // A temporary redirect is never learned.
    server.set("/tmp.xml", Route::feed(Vec::new()));
    server.set_behaviour("/tmp.xml", Behaviour::Redirect(302, server.url("/new.xml")));
    let ws = Workspace::new();
    ws.write_config("", &[server.url("/tmp.xml")]);
    for _ in 0..4 {
        ws.run_ok(&["poll", "--all"]);
    }
    assert_eq!(
        feed_status(&ws.status(), &server.url("/tmp.xml"))["url"],
        server.url("/tmp.xml")
    );
}

#[test]
fn oversized_and_endless_bodies_are_cut_off_naming_the_feed() {
    let server = FeedServer::start();
    let mut big = rss(&[("1", "One")]);
    big.extend(std::iter::repeat_n(b' ', 3 * 1024 * 1024));
    server.set("/big.xml", Route::feed(big));
    server.set("/slow.xml", Route::feed(rss(&[("1", "One")])));
    server.set_behaviour("/slow.xml", Behaviour::Endless);
    let mut trickle = Route::feed(rss(&[("1", "One"), ("2", "Two")]));
    trickle.behaviour = Behaviour::Slow {
        chunk: 8,
        pause: Duration::from_millis(400),
    };
    server.set("/trickle.xml", trickle);
    server.set("/ok.xml", Route::feed(rss(&[("1", "One")])));
    let ws = Workspace::new();
    ws.write_config(
        "max_body_bytes = 1048576\n",
        &[
            server.url("/big.xml"),
            server.url("/slow.xml"),
            server.url("/trickle.xml"),
            server.url("/ok.xml"),
        ],
    );
    let started = std::time::Instant::now();
    ws.run_ok(&["poll"]);
    assert!(started.elapsed() < Duration::from_secs(30));
    let status = ws.status();
    let big = feed_status(&status, &server.url("/big.xml"));
    assert!(
        big["last_error"]
            .as_str()
            .unwrap()
            .contains(&server.url("/big.xml"))
    );
    assert!(
        big["last_error"].as_str().unwrap().contains("cap"),
        "{}",
        big["last_error"]
    );
    for path in ["/slow.xml", "/trickle.xml"] {
        let feed = feed_status(&status, &server.url(path));
        let error = feed["last_error"].as_str().unwrap();
        assert!(
            error.contains(&server.url(path)) && error.contains("timed out"),
            "{path}: {error}"
        );
        assert_eq!(feed["consecutive_errors"], 1);
    }
    assert_eq!(feed_status(&status, &server.url("/ok.xml"))["items"], 1);
}

#[test]
fn malformed_feed_is_an_error_for_that_feed_only() {
    let server = FeedServer::start();
    server.set(
        "/bad.xml",
        Route::feed(b"<rss version=\"2.0\"><channel><item><title>x</ti".to_vec()),
    );
    server.set(
        "/html.xml",
        Route {
            content_type: "text/html".into(),
            ..Route::feed(b"<!doctype html><html><body>Login</body></html>".to_vec())
        },
    );
    server.set("/ok.xml", Route::feed(rss(&[("1", "One"), ("2", "Two")])));
    let ws = Workspace::new();
    ws.write_config(
        "",
        &[
            server.url("/bad.xml"),
            server.url("/html.xml"),
            server.url("/ok.xml"),
        ],
    );
    let out = ws.run_ok(&["poll"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("3 feeds polled, 2 new items, 2 errors"),
        "{text}"
    );
    let status = ws.status();
    let bad = feed_status(&status, &server.url("/bad.xml"));
    assert_eq!(bad["last_result"], "error");
    assert!(
        bad["last_error"]
            .as_str()
            .unwrap()
            .contains(&server.url("/bad.xml"))
    );
    let html = feed_status(&status, &server.url("/html.xml"));
    assert!(
        html["last_error"].as_str().unwrap().contains("HTML"),
        "{}",
        html["last_error"]
    );
    assert_eq!(feed_status(&status, &server.url("/ok.xml"))["items"], 2);
    // The backoff puts the broken feeds later than the schedule would.
    let next = chrono::DateTime::parse_from_rfc3339(bad["next_poll_at"].as_str().unwrap()).unwrap();
    assert!(next > chrono::Utc::now() + chrono::Duration::minutes(4));
}

#[test]
fn feed_without_guids_does_not_duplicate() {
    let body = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>No guids</title>
        <item><title>Linked</title><link>https://example.org/a?utm_source=rss</link></item>
        <item><title>Only a title</title><pubDate>Mon, 05 Jan 2026 10:00:00 GMT</pubDate></item>
        <item><description>Neither link nor title</description></item>
        </channel></rss>"#;
    let server = FeedServer::start();
    server.set("/n.xml", Route::feed(body.to_vec()));
    let ws = Workspace::new();
    ws.write_config("", &[server.url("/n.xml")]);
    ws.run_ok(&["poll"]);
    assert_eq!(ws.count("SELECT count(*) FROM items"), 3);
    rusqlite::Connection::open(ws.db())
        .unwrap()
        .execute("UPDATE feeds SET etag = NULL, last_modified = NULL", [])
        .unwrap();
    ws.run_ok(&["poll", "--all"]);
    ws.run_ok(&["poll", "--all"]);
    assert_eq!(ws.count("SELECT count(*) FROM items"), 3);
    assert_eq!(
        ws.count("SELECT count(*) FROM items WHERE url = 'https://example.org/a'"),
        1
    );
}

#[test]
fn edited_item_updates_in_place() {
    let server = FeedServer::start();
    server.set(
        "/e.xml",
        Route::feed(rss(&[("1", "Original title"), ("2", "Two")])),
    );
    let ws = Workspace::new();
    ws.write_config("", &[server.url("/e.xml")]);
    ws.run_ok(&["poll"]);
    let id: i64 = ws
        .sql()
        .query_row("SELECT id FROM items WHERE guid = '1'", [], |r| r.get(0))
        .unwrap();
    server.set(
        "/e.xml",
        Route::feed(rss(&[("1", "Corrected title"), ("2", "Two")])),
    );
    let out = ws.run_ok(&["poll", "--all", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report[0]["counts"]["new"], 0);
    assert_eq!(report[0]["counts"]["updated"], 1);
    let (same_id, title, edits): (i64, String, i64) = ws
        .sql()
        .query_row(
            "SELECT id, title, edit_count FROM items WHERE guid = '1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((same_id, title.as_str(), edits), (id, "Corrected title", 1));
    assert_eq!(ws.count("SELECT count(*) FROM items"), 2);
}

#[test]
fn dates_missing_or_in_the_future_are_dated_when_first_seen() {
    let body = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>Dates</title>
        <item><guid>past</guid><title>Past</title><pubDate>Mon, 05 Jan 2026 10:00:00 GMT</pubDate></item>
        <item><guid>future</guid><title>Future</title><pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item>
        <item><guid>none</guid><title>None</title></item>
        </channel></rss>"#;
    let server = FeedServer::start();
    server.set("/d.xml", Route::feed(body.to_vec()));
    let ws = Workspace::new();
    ws.write_config("", &[server.url("/d.xml")]);
    ws.run_ok(&["poll"]);
    let row = |guid: &str| -> (i64, Option<i64>, i64) {
        ws.sql()
            .query_row(
                "SELECT published_at, published_original, first_seen_at FROM items WHERE guid = ?1",
                [guid],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
    };
    let past = row("past");
    assert_eq!(past.0, 1767607200);
    let future = row("future");
    assert_eq!(future.0, future.2);
    assert_eq!(future.1, Some(4102444800));
    let none = row("none");
    assert_eq!((none.0, none.1), (none.2, None));
}

#[test]
fn status_json_has_the_documented_shape() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(rss(&[("1", "One")])));
    let ws = Workspace::new();
    ws.write_config("", &[server.url("/a.xml")]);
    ws.run_ok(&["poll"]);
    let status = ws.status();
    let feed = &status["feeds"][0];
    for key in [
        "id",
        "url",
        "origin_url",
        "previous_url",
        "title",
        "source",
        "state",
        "tags",
        "schedule",
        "extract",
        "items",
        "last_polled_at",
        "last_success_at",
        "last_status",
        "last_result",
        "next_poll_at",
        "consecutive_errors",
        "last_error",
        "entries_skipped",
        "redirect",
    ] {
        assert!(
            feed.get(key).is_some(),
            "status --json lacks `{key}`: {feed}"
        );
    }
    assert_eq!(feed["title"], "Test feed");
    assert_eq!(feed["items"], 1);
    assert_eq!(feed["state"], "active");
    assert_eq!(feed["source"], "config");
    assert_eq!(feed["last_status"], 200);
    assert!(chrono::DateTime::parse_from_rfc3339(feed["last_polled_at"].as_str().unwrap()).is_ok());
    assert_eq!(status["database"]["writable"], true, "{status}");
    assert!(status["database"]["problem"].is_null(), "{status}");
}

/// Issue 19: a feed with one entry no repair makes readable stores every other entry; the
/// skipped one is named in the log and counted in the poll's report and in `status`.
#[test]
fn issue_19_one_unreadable_entry_is_skipped_named_and_counted() {
    let body = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>Mixed</title>
        <item><guid>good-1</guid><title>One</title></item>
        <item><guid>bad-2</guid><title>Two &#xZZ; text</title></item>
        <item><guid>good-3</guid><title>Three</title></item>
        </channel></rss>"#;
    let server = FeedServer::start();
    server.set("/mixed.xml", Route::feed(body.to_vec()));
    let ws = Workspace::new();
    ws.write_config("", &[server.url("/mixed.xml")]);
    let out = ws
        .command(&["poll", "--json"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report[0]["result"], "ok", "{report}");
    assert_eq!(report[0]["counts"]["new"], 2, "{report}");
    assert_eq!(report[0]["entries_skipped"], 1, "{report}");
    let log = String::from_utf8_lossy(&out.stderr);
    let line = log
        .lines()
        .find(|l| l.contains("entry skipped"))
        .unwrap_or_else(|| panic!("no log line names the skipped entry:\n{log}"));
    assert!(
        line.contains("bad-2") && line.contains(&server.url("/mixed.xml")),
        "{line}"
    );
    let keys: Vec<String> = ws
        .sql()
        .prepare("SELECT dedup_key FROM items ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(keys, ["g:good-1", "g:good-3"]);
    let status = ws.status();
    assert_eq!(
        feed_status(&status, &server.url("/mixed.xml"))["entries_skipped"],
        1
    );
    let table = ws.run_ok(&["status"]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("SKIPPED"));
}

#[test]
fn bad_config_stops_with_the_key_named() {
    let ws = Workspace::new();
    std::fs::write(ws.config_path(), "[fetch]\nper_hots = 3\n").unwrap();
    let out = ws.command(&["check-config"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("per_hots") && err.contains("tidings.toml"),
        "{err}"
    );
    let out = ws.command(&["run"]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        !ws.db().exists(),
        "a bad config must not create the database"
    );
}

#[test]
fn removed_config_feed_is_disabled_and_its_items_kept() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(rss(&[("1", "One")])));
    server.set("/b.xml", Route::feed(rss(&[("2", "Two")])));
    let ws = Workspace::new();
    ws.write_config("", &[server.url("/a.xml"), server.url("/b.xml")]);
    ws.run_ok(&["poll"]);
    ws.write_config("", &[server.url("/a.xml")]);
    ws.run_ok(&["poll", "--all"]);
    let status = ws.status();
    assert_eq!(
        feed_status(&status, &server.url("/b.xml"))["state"],
        "disabled"
    );
    assert_eq!(feed_status(&status, &server.url("/b.xml"))["items"], 1);
    assert_eq!(server.requests_for("/b.xml").len(), 1);
}

#[test]
fn no_config_uses_the_embedded_example() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
        .arg("check-config")
        .current_dir(dir.path())
        .env_remove("TIDINGS_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("embedded example") && text.contains("tidings.db"),
        "{text}"
    );
    // `feeds list` on the embedded default creates the database in the working directory.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args(["feeds", "list", "--json"])
        .current_dir(dir.path())
        .env_remove("TIDINGS_CONFIG")
        .env_remove("STATE_DIRECTORY")
        .output()
        .unwrap();
    assert!(out.status.success());
    let feeds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(feeds.as_array().unwrap().len() >= 10);
    assert!(dir.path().join("tidings.db").exists());
}
