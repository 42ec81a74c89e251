//! Hostile feeds and faults, all in one poll next to a good feed: each gives a clear error that
//! names the feed (or is stored safely), the poll finishes, the good feed is stored normally,
//! and the process's peak memory stays under 200 MiB.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

use common::{Behaviour, FeedServer, Route, Workspace};

/// Runs `tidings poll` and returns (exit ok, peak resident memory in KiB, stdout). The peak is
/// the child's own VmHWM from /proc, read until it exits (rusage's maxrss would also count the
/// test process's pages at fork time).
fn poll_measured(ws: &Workspace) -> (bool, u64, String) {
    let mut child = ws
        .command(&["poll"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut stdout_pipe = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut stdout_pipe, &mut out).unwrap();
        out
    });
    let mut peak = 0;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:"))
        {
            peak = peak.max(
                line.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
            );
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (status.success(), peak, reader.join().unwrap())
}

#[test]
fn hostile_feeds_and_faults_are_contained() {
    let server = FeedServer::start();
    let good = b"<rss version=\"2.0\"><channel><title>Good</title><item><guid>1</guid><title>Fine</title></item></channel></rss>".to_vec();
    server.set("/good.xml", Route::feed(good));

    // 200 MB of spaces inside a ~200 KB gzip body.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(b"<rss version=\"2.0\"><channel><title>")
        .unwrap();
    let spaces = vec![b' '; 1024 * 1024];
    for _ in 0..200 {
        encoder.write_all(&spaces).unwrap();
    }
    server.set(
        "/gzip-bomb.xml",
        Route {
            behaviour: Behaviour::Gzip,
            ..Route::feed(encoder.finish().unwrap())
        },
    );

    server.set("/loop.xml", Route::feed(Vec::new()));
    server.set_behaviour(
        "/loop.xml",
        Behaviour::Redirect(302, server.url("/loop.xml")),
    );

    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]><rss version="2.0"><channel><title>&lol9;</title><item><guid>l</guid><title>&lol9;</title></item></channel></rss>"#;
    server.set("/laughs.xml", Route::feed(laughs.as_bytes().to_vec()));

    let mut deep =
        b"<rss version=\"2.0\"><channel><title>Deep</title><item><guid>d</guid><description>"
            .to_vec();
    deep.extend(b"<x>".repeat(200_000));
    deep.extend(b"</x>".repeat(200_000));
    deep.extend(b"</description></item></channel></rss>");
    server.set("/deep.xml", Route::feed(deep));

    let mut many = b"<rss version=\"2.0\"><channel><title>Many</title>".to_vec();
    for i in 0..100_000 {
        many.extend(format!("<item><guid>{i}</guid><title>t{i}</title></item>").as_bytes());
    }
    many.extend(b"</channel></rss>");
    server.set("/many.xml", Route::feed(many));

    let title = "A".repeat(1024 * 1024);
    server.set("/big-title.xml", Route::feed(format!("<rss version=\"2.0\"><channel><title>{title}</title><item><guid>b</guid><title>{title}</title></item></channel></rss>").into_bytes()));

    let mut bad_bytes = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>Bad \xff\xfe bytes \x00 and NUL</title><item><guid>n</guid><title>caf\xe9 \x00</title></item></channel></rss>".to_vec();
    bad_bytes.extend(b"\x00\x00");
    server.set("/bad-bytes.xml", Route::feed(bad_bytes));
    server.set("/mislabelled.xml", Route::feed(b"<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss version=\"2.0\"><channel><title>\xcf\xf0\xe8\xe2\xe5\xf2</title><item><guid>m</guid><title>\xcc\xee\xf1\xea\xe2\xe0</title></item></channel></rss>".to_vec()));

    server.set("/storm.xml", Route::feed(Vec::new()));
    server.set_behaviour("/storm.xml", Behaviour::Status(500, vec![]));

    // A listener that accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}/feed.xml", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in silent.incoming() {
            held.push(s);
        }
    });
    // A port nobody listens on.
    let refused_url = format!(
        "http://127.0.0.1:{}/feed.xml",
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );

    let mut urls: Vec<String> = [
        "/good.xml",
        "/gzip-bomb.xml",
        "/loop.xml",
        "/laughs.xml",
        "/deep.xml",
        "/many.xml",
        "/big-title.xml",
        "/bad-bytes.xml",
        "/mislabelled.xml",
        "/storm.xml",
    ]
    .iter()
    .map(|p| server.url(p))
    .collect();
    urls.push(silent_url.clone());
    urls.push(refused_url.clone());
    urls.push("http://no-such-host.invalid/feed.xml".to_string());
    // TLS to a server that speaks plain HTTP.
    urls.push(server.url("/good.xml").replace("http://", "https://"));

    let ws = Workspace::new();
    ws.write_config("", &urls);
    let started = std::time::Instant::now();
    let (ok, peak_kib, stdout) = poll_measured(&ws);
    assert!(ok, "the poll failed:\n{stdout}");
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(peak_kib < 200 * 1024, "peak memory {} MiB", peak_kib / 1024);
    eprintln!("hostile poll: peak memory {} MiB", peak_kib / 1024);

    let status = ws.status();
    let feed = |url: &str| common::feed_status(&status, url).clone();
    assert_eq!(feed(&server.url("/good.xml"))["items"], 1);
    let error_of = |url: &str| feed(url)["last_error"].as_str().unwrap_or("").to_string();
    for (url, needle) in [
        (server.url("/gzip-bomb.xml"), "cap"),
        (server.url("/loop.xml"), "redirects"),
        (server.url("/storm.xml"), "500"),
        (silent_url.clone(), "timed out"),
        (refused_url.clone(), &refused_url),
        (
            "http://no-such-host.invalid/feed.xml".to_string(),
            "no-such-host.invalid",
        ),
        (
            server.url("/good.xml").replace("http://", "https://"),
            "https://",
        ),
    ] {
        let error = error_of(&url);
        assert!(
            error.contains(&url) || error.contains(url.trim_start_matches("https://")),
            "{url}: error does not name it: {error}"
        );
        assert!(error.contains(needle), "{url}: {error}");
    }
    // Stored safely, or a clear error naming the feed.
    for path in [
        "/laughs.xml",
        "/deep.xml",
        "/big-title.xml",
        "/bad-bytes.xml",
        "/mislabelled.xml",
    ] {
        let f = feed(&server.url(path));
        assert!(
            f["last_result"] == "ok" || error_of(&server.url(path)).contains(&server.url(path)),
            "{path}: {f}"
        );
    }
    // A feed of 100,000 items is cut at the per-document cap rather than held in memory whole.
    assert_eq!(
        feed(&server.url("/many.xml"))["items"],
        tidings::parse::MAX_ENTRIES
    );
    let mislabelled: String = ws
        .sql()
        .query_row("SELECT title FROM items WHERE guid = 'm'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mislabelled, "Москва");
    // The entity bomb did not expand: no stored text is anywhere near its size.
    let longest: i64 = ws
        .sql()
        .query_row(
            "SELECT coalesce(max(length(title)), 0) FROM items",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        longest <= 1024 * 1024 + 16,
        "a title of {longest} characters"
    );
    let check: String = ws
        .sql()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
