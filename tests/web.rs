//! The reading pages, black box: `tidings serve` (the real binary) on an archive polled in the
//! test from corpus feeds on a local server, every page loaded in headless Chromium (Debian's
//! package, driven over the DevTools protocol; the test fails when it is missing). Checks the
//! content (a story carried by two feeds is one entry with its other source, a search with
//! marked snippets, feed errors in words, a learned redirect), that hostile titles and article
//! text arrive as text and run nothing, that the browser's form posts (sign-in, feedback,
//! retry) reach the database, and the guards (token, cookie, CSRF, Host) over plain HTTP.
//! The new store queries run on both backends.
//!
//! `TIDINGS_WEB_SCREENSHOTS=docs cargo nextest run --test web` also writes the README's
//! screenshots.

mod common;

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::Duration;

use common::chromium::Browser;
use common::{Behaviour, FeedServer, Route, Workspace, shared_dir};
use serde_json::{Value, json};
use tidings::store::Store;

const TOKEN: &str = "web-test-token-7f3a";
const TOPIC: &str = "us-politics";
/// A story the Guardian carried, and so its wire copy.
const STORY: &str = "Trump-Russia investigation: the key questions answered";
/// The hostile feed's title, after the feed's own escaping: markup as text.
const HOSTILE_TITLE: &str =
    "<script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\"> Trump";

/// `tidings serve`, stopped when dropped.
struct Serve {
    child: Child,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn corpus(path: &str) -> Vec<u8> {
    std::fs::read(shared_dir().join("feeds-corpus").join(path)).unwrap()
}

/// The hostile feed: markup in a title (escaped twice, so it is the title's text) and an
/// article page with a script, an image and markup written as text.
fn hostile_feed(server: &FeedServer) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile &lt;b&gt;feed</title><link>{site}</link>
<item><guid>h1</guid><title>&amp;lt;script&amp;gt;window.pwned=1&amp;lt;/script&amp;gt;&amp;lt;img src=x onerror="window.pwned=2"&amp;gt; Trump</title>
<link>{page}</link>
<description>&lt;img src="http://evil.example/x.png" onerror="window.pwned=3"&gt;Trump &lt;script&gt;window.pwned=4&lt;/script&gt;said</description>
<pubDate>Wed, 31 Jan 2018 20:15:15 GMT</pubDate></item>
</channel></rss>"#,
        site = server.url("/"),
        page = server.url("/hostile/1"),
    )
    .into_bytes()
}

const HOSTILE_PAGE: &str = r#"<!DOCTYPE html><html><head><title>Hostile</title>
<script>window.pwned = 5</script><style>body { background: url(http://evil.example/bg.png) }</style></head>
<body><article><h1>Trump says many things</h1>
<p>The president spoke at length about the investigation and the memo, and about Russia, in a speech that went on for well over an hour before a crowd in the capital.</p>
<p>Written as text in the article: &lt;img src=x onerror="window.pwned=6"&gt; and &lt;script&gt;window.pwned=7&lt;/script&gt; must stay text.</p>
<img src="http://evil.example/tracker.png" onerror="window.pwned=8">
<p>Observers said the remarks were unusual in their length and in their tone, and that the reaction in Congress was divided along party lines as expected by most analysts.</p>
</article></body></html>"#;

/// The archive: corpus feeds (the Guardian, its wire copy, TPM, TechCrunch behind a permanent
/// redirect), a hostile feed, and feeds that fail (404, 410, not a feed), polled three times
/// (the redirect is learned on the third).
fn build_archive() -> (Workspace, FeedServer, String) {
    let server = FeedServer::start();
    server.set(
        "/guardian.rss",
        Route::feed(corpus("rss-parser/guardian.rss")),
    );
    server.set("/wire.rss", Route::feed(corpus("rss-parser/guardian.rss")));
    server.set("/tpm.atom", Route::feed(corpus("node-feedparser/tpm.atom")));
    server.set(
        "/tc-new.xml",
        Route::feed(corpus("feedjira-current/TechCrunch.xml")),
    );
    let mut moved = Route::feed(Vec::new());
    moved.behaviour = Behaviour::Redirect(301, server.url("/tc-new.xml"));
    server.set("/tc.xml", moved);
    server.set("/hostile.xml", Route::feed(hostile_feed(&server)));
    let mut page = Route::feed(HOSTILE_PAGE.as_bytes().to_vec());
    page.content_type = "text/html; charset=utf-8".into();
    server.set("/hostile/1", page);
    let mut missing = Route::feed(Vec::new());
    missing.behaviour = Behaviour::Status(404, Vec::new());
    server.set("/missing.xml", missing);
    let mut gone = Route::feed(Vec::new());
    gone.behaviour = Behaviour::Status(410, Vec::new());
    server.set("/gone.xml", gone);
    let mut broken =
        Route::feed(b"<html><body><p>Our feed moved to the new site.</p></body></html>".to_vec());
    broken.content_type = "text/html".into();
    server.set("/broken.xml", broken);

    let ws = Workspace::new();
    let port = free_port();
    let secret = ws.dir.path().join("webhook.secret");
    std::fs::write(&secret, "whsec_dGVzdC1zZWNyZXQtZm9yLXRoZS13ZWItdGVzdA==").unwrap();
    let token = ws.dir.path().join("api.token");
    std::fs::write(&token, TOKEN).unwrap();
    let mut extra = format!(
        r#"allow_networks = ["127.0.0.1/32"]
[api]
listen = "127.0.0.1:{port}"
token = "file:{token}"
[[topic]]
name = "{TOPIC}"
title = "US politics"
query = 'trump OR russia*'
min_score = 0.5
[[webhook]]
name = "ops"
url = "{hook}"
secret = "file:{secret}"
topics = ["{TOPIC}"]
"#,
        hook = server.url("/hook"),
        secret = secret.display(),
        token = token.display(),
    );
    for (path, title, extract) in [
        ("/guardian.rss", None, false),
        ("/wire.rss", Some("Wire copy"), false),
        ("/tpm.atom", None, false),
        ("/tc.xml", None, false),
        ("/hostile.xml", None, true),
        ("/missing.xml", None, false),
        ("/gone.xml", None, false),
        ("/broken.xml", None, false),
    ] {
        extra.push_str(&format!(
            "[[feed]]\nurl = \"{}\"\nextract = {extract}\n",
            server.url(path)
        ));
        if let Some(t) = title {
            extra.push_str(&format!("title = \"{t}\"\n"));
        }
    }
    ws.write_config(&extra, &[]);
    for _ in 0..3 {
        ws.run_ok(&["poll", "--all"]);
    }
    (ws, server, format!("http://127.0.0.1:{port}"))
}

/// Removes `api.token` from the workspace's config.
fn drop_token(ws: &Workspace) {
    let config = std::fs::read_to_string(ws.config_path()).unwrap();
    let kept: Vec<&str> = config
        .lines()
        .filter(|l| !l.starts_with("token = "))
        .collect();
    std::fs::write(ws.config_path(), kept.join("\n")).unwrap();
}

fn serve(ws: &Workspace, base: &str) -> Serve {
    let child = ws
        .command(&["serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let serve = Serve { child };
    let addr = base.trim_start_matches("http://");
    for _ in 0..100 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return serve;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("tidings serve did not come up at {base}");
}

fn item_id(ws: &Workspace, feed_path: &str, title: &str) -> i64 {
    ws.sql()
        .query_row(
            "SELECT i.id FROM items i JOIN feeds f ON f.id = i.feed_id
             WHERE f.origin_url LIKE '%' || ?1 AND i.title = ?2",
            [feed_path, title],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("no item `{title}` in {feed_path}: {e}"))
}

fn screenshots_dir() -> Option<PathBuf> {
    std::env::var_os("TIDINGS_WEB_SCREENSHOTS")
        .map(|d| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(d))
}

/// Asserts that nothing the feeds sent ran or loaded: no script or image element, no
/// handler attribute, and the marker the hostile markup would set is unset.
fn assert_inert(browser: &mut Browser, page: &str) {
    let v = browser.eval(
        "JSON.stringify({scripts: document.scripts.length, images: document.images.length,
          handlers: document.querySelectorAll('[onerror],[onload],[onclick]').length,
          pwned: typeof window.pwned,
          remote: [...document.querySelectorAll('[src],link[href]')].map(e => e.src || e.href)
                   .filter(u => !u.startsWith(location.origin)).length})",
    );
    let v: Value = serde_json::from_str(v.as_str().unwrap()).unwrap();
    assert_eq!(
        v,
        json!({"scripts": 0, "images": 0, "handlers": 0, "pwned": "undefined", "remote": 0}),
        "{page}"
    );
}

#[test]
fn pages_in_headless_chromium() {
    let (ws, server, base) = build_archive();
    // One delivery of the archive given up on, for the retry button.
    let store = Store::open(&ws.db()).unwrap();
    let dead = store.list_deliveries(None, 1).unwrap()[0].id;
    store
        .mark_failed(&[dead], "webhook ops: HTTP 500 from the receiver", None)
        .unwrap();
    drop(store);
    let _serve = serve(&ws, &base);
    let shots = screenshots_dir();
    let mut b = Browser::launch();
    b.emulate(1100, 900, false, false);

    // Signed out, a page sends the browser to the sign-in form; the form sets the cookie.
    b.goto(&format!("{base}/topic/{TOPIC}?since=0"));
    assert!(
        b.location().starts_with(&format!("{base}/login?next=")),
        "{}",
        b.location()
    );
    b.eval(&format!(
        "document.querySelector('input[name=token]').value = '{TOKEN}'"
    ));
    b.click_and_wait("section.login button[type=submit]");
    assert_eq!(b.location(), format!("{base}/topic/{TOPIC}?since=0"));
    assert_eq!(b.status(), 200);
    // HttpOnly: the page cannot read its cookie.
    assert_eq!(b.eval("document.cookie"), json!(""));

    // Topics: the story both feeds carried is one entry, with the other feed in "also in".
    let stories: Value = serde_json::from_str(
        b.eval(
            "JSON.stringify([...document.querySelectorAll('article.story')].map(a => ({
               id: a.id, title: a.querySelector('h3').textContent,
               feed: a.querySelector('.meta .feed').textContent,
               also: [...a.querySelectorAll('.also a')].map(x => x.textContent),
               why: a.querySelector('details.why pre').textContent,
               out: [...a.querySelectorAll('a.out')].map(x => x.rel)})))",
        )
        .as_str()
        .unwrap(),
    )
    .unwrap();
    let stories = stories.as_array().unwrap();
    let story: Vec<&Value> = stories.iter().filter(|s| s["title"] == STORY).collect();
    assert_eq!(story.len(), 1, "one entry per story: {story:?}");
    let story = story[0];
    // Both copies score the same; the one stored first leads (the feeds are polled at once).
    let other = match story["feed"].as_str().unwrap() {
        "The Guardian" => "Wire copy",
        "Wire copy" => "The Guardian",
        lead => panic!("unexpected lead {lead}: {story}"),
    };
    assert_eq!(story["also"], json!([other]), "{story}");
    let why = story["why"].as_str().unwrap();
    assert!(
        why.starts_with("score 7.50, matched on the title and summary\n"),
        "{why}"
    );
    assert!(
        why.contains("  trump in title ×1: [Trump]-Russia investigation"),
        "{why}"
    );
    assert!(
        why.contains("  russia* in title ×1: Trump-[Russia] investigation"),
        "{why}"
    );
    assert_eq!(story["out"], json!(["noopener noreferrer"]), "{story}");
    // No story is listed twice.
    let mut titles: Vec<&str> = stories
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    let total = titles.len();
    titles.sort_unstable();
    titles.dedup();
    assert_eq!(titles.len(), total);
    // The hostile title arrives as text and runs nothing.
    assert!(
        stories.iter().any(|s| s["title"] == HOSTILE_TITLE),
        "{:?}",
        titles
    );
    assert!(
        b.html()
            .contains("&lt;script&gt;window.pwned=1&lt;/script&gt;")
    );
    assert_inert(&mut b, "topic page");
    if let Some(dir) = &shots {
        b.goto(&format!("{base}/?since=0"));
        b.screenshot(&dir.join("web-topics.png"), 1100, 1500);
        b.goto(&format!("{base}/topic/{TOPIC}?since=0"));
    }

    // Feedback: a real form post by the browser.
    let hostile = item_id(&ws, "/hostile.xml", HOSTILE_TITLE);
    let hostile_match: i64 = ws
        .sql()
        .query_row(
            "SELECT id FROM matches WHERE item_id = ?1",
            [hostile],
            |r| r.get(0),
        )
        .unwrap();
    b.click_and_wait(&format!("#m{hostile_match} form.feedback button[value=no]"));
    assert_eq!(b.status(), 200);
    assert!(b.location().ends_with(&format!("#m{hostile_match}")));
    let (relevant, origin): (bool, String) = ws
        .sql()
        .query_row(
            "SELECT relevant, origin FROM topic_feedback WHERE topic = ?1 AND item_id = ?2",
            rusqlite::params![TOPIC, hostile],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the feedback is stored");
    assert_eq!((relevant, origin.as_str()), (false, "web"));
    // The page shows the word given.
    let chosen = b.eval(&format!(
        "document.querySelector('#m{hostile_match} button[aria-pressed=true]').textContent"
    ));
    assert_eq!(chosen, json!("✓ Not relevant"));

    // The story page: sources, matches with the matcher's explanation, deliveries.
    let guardian = item_id(&ws, "/guardian.rss", STORY);
    b.goto(&format!("{base}/item/{guardian}"));
    assert_eq!(b.status(), 200);
    let page: Value = serde_json::from_str(
        b.eval(
            "JSON.stringify({title: document.querySelector('h1').textContent,
               sources: [...document.querySelectorAll('section.sources li')].map(l => l.textContent),
               why: [...document.querySelectorAll('section.matches pre')].map(p => p.textContent),
               deliveries: [...document.querySelectorAll('section.deliveries tbody tr')].map(r => r.textContent),
               out: document.querySelector('.linkout a').rel})",
        )
        .as_str()
        .unwrap(),
    )
    .unwrap();
    assert_eq!(page["title"], STORY);
    let sources = page["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 2, "{page}");
    assert!(
        sources[1].as_str().unwrap().starts_with("Wire copy"),
        "{page}"
    );
    let why = page["why"][0].as_str().unwrap();
    assert!(why.starts_with("query: trump OR russia*\nscore:"), "{why}");
    assert!(why.contains("in title"), "{why}");
    let deliveries = page["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 1, "{page}");
    assert!(
        deliveries[0].as_str().unwrap().starts_with("webhook:ops"),
        "{page}"
    );
    assert_eq!(page["out"], "noopener noreferrer");
    if let Some(dir) = &shots {
        b.screenshot(&dir.join("web-story.png"), 1100, 1500);
    }

    // The hostile item's page: its extracted article text, markup and all, is text.
    b.goto(&format!("{base}/item/{hostile}"));
    let text = b.eval("document.querySelector('section.text .prose').textContent");
    let text = text.as_str().unwrap();
    assert!(
        text.contains("<img src=x onerror=\"window.pwned=6\">")
            && text.contains("<script>window.pwned=7</script>"),
        "{text}"
    );
    assert!(!text.contains("window.pwned = 5"), "{text}");
    assert_inert(&mut b, "hostile item page");

    // Search: marked snippets, a filter, keyset paging without repeats.
    b.goto(&format!("{base}/search?q=trump+russia"));
    assert_eq!(b.status(), 200);
    let marks: Vec<String> = serde_json::from_value(b.eval(
        "[...document.querySelectorAll('li.hit .snippet mark')].map(m => m.textContent.toLowerCase())",
    ))
    .unwrap();
    assert!(marks.iter().any(|m| m == "trump"), "{marks:?}");
    assert!(marks.iter().any(|m| m == "russia"), "{marks:?}");
    let first: Vec<String> = serde_json::from_value(
        b.eval("[...document.querySelectorAll('li.hit h3')].map(h => h.textContent)"),
    )
    .unwrap();
    assert!(first.iter().any(|t| t == STORY), "{first:?}");
    if let Some(dir) = &shots {
        b.screenshot(&dir.join("web-search.png"), 1100, 1500);
    }
    b.goto(&format!("{base}/search?q=trump"));
    let page1: Vec<String> =
        serde_json::from_value(b.eval("[...document.querySelectorAll('li.hit')].map(h => h.id)"))
            .unwrap();
    assert_eq!(page1.len(), 30);
    b.click_and_wait("nav.paging a[rel=next]");
    let page2: Vec<String> =
        serde_json::from_value(b.eval("[...document.querySelectorAll('li.hit')].map(h => h.id)"))
            .unwrap();
    assert!(!page2.is_empty());
    assert!(
        page2.iter().all(|id| !page1.contains(id)),
        "{page1:?} {page2:?}"
    );
    // A syntax error is shown with its position, as a 400.
    b.goto(&format!("{base}/search?q=%28trump"));
    assert_eq!(b.status(), 400);
    let error = b.eval("document.querySelector('pre.error').textContent");
    assert!(error.as_str().unwrap().contains("expected ')'"), "{error}");
    // "On topic" on a hit the topic missed labels the miss.
    b.goto(&format!("{base}/search?q=puigdemont"));
    let missed: i64 = b
        .eval("document.querySelector('li.hit').id.slice(1)")
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    b.click_and_wait("li.hit form.ontopic button");
    let relevant: bool = ws
        .sql()
        .query_row(
            "SELECT relevant FROM topic_feedback WHERE topic = ?1 AND item_id = ?2 AND origin = 'web'",
            rusqlite::params![TOPIC, missed],
            |r| r.get(0),
        )
        .expect("the label is stored");
    assert!(relevant);
    assert_eq!(
        b.eval("document.querySelector('li.hit .chosen').textContent"),
        json!(format!(" ✓ on topic: {TOPIC}"))
    );
    // The topic filter.
    b.goto(&format!("{base}/search?q=puigdemont&topic={TOPIC}"));
    assert_eq!(
        b.eval("document.querySelectorAll('li.hit').length"),
        json!(0)
    );

    // Feeds: errors in words, gone, the learned redirect.
    b.goto(&format!("{base}/feeds"));
    assert_eq!(b.status(), 200);
    let rows: Vec<String> = serde_json::from_value(
        b.eval("[...document.querySelectorAll('table.feeds tbody tr')].map(r => r.textContent)"),
    )
    .unwrap();
    let row = |path: &str| -> String {
        rows.iter()
            .find(|r| r.contains(&server.url(path)))
            .unwrap_or_else(|| panic!("no row for {path}: {rows:?}"))
            .clone()
    };
    assert!(
        row("/missing.xml")
            .contains("Not found: the server has no feed at this address (HTTP 404)")
    );
    assert!(row("/gone.xml").contains("Gone: the server answered 410"));
    assert!(
        row("/broken.xml").contains("not a feed tidings can read"),
        "{}",
        row("/broken.xml")
    );
    assert!(
        row("/tc-new.xml").contains(&format!("Moved: polled at {}", server.url("/tc-new.xml"))),
        "{}",
        row("/tc-new.xml")
    );
    assert_inert(&mut b, "feeds page");
    if let Some(dir) = &shots {
        b.screenshot(&dir.join("web-feeds.png"), 1100, 1500);
    }
    // One feed's page lists its items.
    let tpm: i64 = ws.count("SELECT id FROM feeds WHERE origin_url LIKE '%/tpm.atom'");
    b.goto(&format!("{base}/feed/{tpm}"));
    assert_eq!(b.status(), 200);
    assert_eq!(
        b.eval("document.querySelectorAll('li.hit').length"),
        json!(20)
    );

    // Deliveries: the dead one, retried by its button.
    b.goto(&format!("{base}/deliveries?status=dead"));
    assert_eq!(b.status(), 200);
    let error = b.eval(&format!(
        "document.querySelector('#d{dead} td.error').textContent"
    ));
    assert_eq!(error, json!("webhook ops: HTTP 500 from the receiver"));
    b.click_and_wait(&format!("#d{dead} form button"));
    let status: String = ws
        .sql()
        .query_row("SELECT status FROM deliveries WHERE id = ?1", [dead], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(status, "pending");
    assert_eq!(
        b.eval("document.querySelectorAll('tbody tr').length"),
        json!(0)
    );

    // On a phone, in the dark: one column, nothing wider than the screen.
    b.emulate(390, 844, true, true);
    b.goto(&format!("{base}/topic/{TOPIC}?since=0"));
    let overflow = b.eval("document.documentElement.scrollWidth <= window.innerWidth");
    assert_eq!(overflow, json!(true));
    let background = b.eval("getComputedStyle(document.body).backgroundColor");
    assert_eq!(
        background,
        json!("rgb(22, 22, 21)"),
        "dark colours follow the system"
    );
    if let Some(dir) = &shots {
        b.screenshot(&dir.join("web-phone-dark.png"), 390, 1400);
    }

    // Signing out ends the session.
    b.emulate(1100, 900, false, false);
    b.goto(&format!("{base}/feeds"));
    b.click_and_wait("form.signout button");
    b.goto(&format!("{base}/feeds"));
    assert!(b.location().starts_with(&format!("{base}/login")));
}

/// One HTTP request on a fresh connection; returns the status line and headers, and the body.
fn http(base: &str, request: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (head.to_string(), body.to_string())
}

fn get(base: &str, path: &str, headers: &str) -> (String, String) {
    let host = base.trim_start_matches("http://");
    http(
        base,
        &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Connection: close\r\n\r\n"),
    )
}

fn post(base: &str, path: &str, headers: &str, body: &str) -> (String, String) {
    let host = base.trim_start_matches("http://");
    http(
        base,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn status(head: &str) -> u16 {
    head.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// The CSRF token the pages embed.
fn csrf_of(body: &str) -> String {
    let at = body
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    body[at..].split('"').next().unwrap().to_string()
}

#[test]
fn guards_over_plain_http() {
    let (ws, _server, base) = build_archive();

    // With a token.
    let serve_token = serve(&ws, &base);
    let (head, _) = get(&base, "/feeds", "");
    assert_eq!(status(&head), 303);
    assert_eq!(header(&head, "location"), Some("/login?next=%2Ffeeds"));
    let (head, body) = get(
        &base,
        "/feeds",
        &format!("Authorization: Bearer {TOKEN}\r\n"),
    );
    assert_eq!(status(&head), 200);
    let policy = header(&head, "content-security-policy").unwrap();
    assert!(
        policy.starts_with("default-src 'none'") && !policy.contains("script-src"),
        "{policy}"
    );
    assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&head, "referrer-policy"), Some("no-referrer"));
    assert!(
        header(&head, "server-timing")
            .unwrap()
            .starts_with("app;dur=")
    );
    let csrf = csrf_of(&body);
    // A wrong token is refused; the right one gives a cookie that is not the token.
    let (head, _) = post(&base, "/login", "", "token=wrong&next=%2Ffeeds");
    assert_eq!(status(&head), 401);
    let (head, _) = post(&base, "/login", "", &format!("token={TOKEN}&next=%2Ffeeds"));
    assert_eq!(status(&head), 303);
    assert_eq!(header(&head, "location"), Some("/feeds"));
    let cookie = header(&head, "set-cookie").unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains(TOKEN));
    let session = cookie.split(';').next().unwrap().to_string();
    let (head, _) = get(&base, "/feeds", &format!("Cookie: {session}\r\n"));
    assert_eq!(status(&head), 200);
    // The cookie opens the pages, not the API.
    let (head, _) = get(&base, "/api/items", &format!("Cookie: {session}\r\n"));
    assert_eq!(status(&head), 401);
    // Open redirects are not followed.
    let (head, _) = post(
        &base,
        "/login",
        "",
        &format!("token={TOKEN}&next=%2F%2Fevil.example%2F"),
    );
    assert_eq!(header(&head, "location"), Some("/"));
    // Forms need the CSRF token and the same site.
    let (head, _) = post(
        &base,
        "/deliveries/retry-dead",
        &format!("Cookie: {session}\r\n"),
        "back=%2F",
    );
    assert_eq!(status(&head), 403);
    let (head, _) = post(
        &base,
        "/deliveries/retry-dead",
        &format!("Cookie: {session}\r\nOrigin: http://evil.example\r\n"),
        &format!("csrf={csrf}&back=%2F"),
    );
    assert_eq!(status(&head), 403);
    let (head, _) = post(
        &base,
        "/deliveries/retry-dead",
        &format!("Cookie: {session}\r\nOrigin: {base}\r\nSec-Fetch-Site: same-origin\r\n"),
        &format!("csrf={csrf}&back=%2Fdeliveries"),
    );
    assert_eq!(status(&head), 303);
    // Static CSS is served to anyone, cached.
    let css_path = body
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let (head, css) = get(&base, &css_path, "");
    assert_eq!(status(&head), 200);
    assert!(
        header(&head, "cache-control")
            .unwrap()
            .contains("immutable")
    );
    assert!(css.contains("prefers-color-scheme: dark"));
    drop(serve_token);

    // Without a token: loopback, and only under a loopback name (no DNS rebinding).
    drop_token(&ws);
    let _serve = serve(&ws, &base);
    let (head, body) = get(&base, "/", "");
    assert_eq!(status(&head), 200);
    assert!(!body.contains("Sign out"));
    let (head, _) = http(
        &base,
        "GET / HTTP/1.1\r\nHost: rebind.attacker.example\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status(&head), 403);
    // Each process has its own CSRF key: an old page's token is refused.
    let (head, _) = post(
        &base,
        "/deliveries/retry-dead",
        "",
        &format!("csrf={csrf}&back=%2F"),
    );
    assert_eq!(status(&head), 403);
    let (head, _) = get(&base, "/login", "");
    assert_eq!(status(&head), 303);
}

mod reading_queries {
    //! The store's queries for the pages, on both backends.

    use super::common::pg::TestDatabase;
    use tidings::config::DatabaseLocation;
    use tidings::model::{
        ChannelKind, DeliveryPolicy, FeedSettings, FeedSource, NewItem, Route, StoryKey,
    };
    use tidings::store::{DeliveryPlan, MatchRecord, MatchedItem, Store, WorkerOptions};

    const NOW: i64 = 1_790_000_000;

    fn item(key: &str, title: &str, at: i64) -> NewItem {
        NewItem {
            dedup_key: key.into(),
            guid: Some(key.into()),
            url: Some(format!("https://news.example/{key}")),
            title: Some(title.into()),
            summary: Some("<p>Lavrov met officials.</p>".into()),
            content: None,
            author: None,
            published_original: Some(at),
            content_hash: format!("h-{key}"),
            former_key: None,
        }
    }

    fn scenario(name: &str, store: &Store) {
        let settings = |t: &str| FeedSettings {
            title: Some(t.into()),
            ..FeedSettings::default()
        };
        let (a, _) = store
            .add_feed(
                "https://a.example/feed",
                FeedSource::Cli,
                &settings("A"),
                NOW,
            )
            .unwrap();
        let (b, _) = store
            .add_feed(
                "https://b.example/feed",
                FeedSource::Cli,
                &settings("B"),
                NOW,
            )
            .unwrap();
        let (_, ia) = store
            .commit_refresh(
                &store.feed(a).unwrap(),
                &[
                    item("x", "Lavrov in Pyongyang", NOW - 60),
                    item("old", "Lavrov long ago", NOW - 90 * 86_400),
                ],
                false,
                NOW,
            )
            .unwrap();
        let (_, ib) = store
            .commit_refresh(
                &store.feed(b).unwrap(),
                &[item("x2", "Lavrov visits Pyongyang", NOW - 30)],
                false,
                NOW,
            )
            .unwrap();
        let routes = [Route {
            channel: "webhook:ops".into(),
            topic: "nk".into(),
            kind: ChannelKind::Webhook,
        }];
        let same = |x: &StoryKey, y: &StoryKey| x.title_hash == y.title_hash;
        let plan = DeliveryPlan {
            routes: &routes,
            policy: DeliveryPolicy {
                oldest_published: NOW - 86_400,
                story_window_secs: 300,
                story_lookback_secs: 86_400,
            },
            same_story: &same,
        };
        let matched = |id, simhash, score| MatchedItem {
            index: None,
            item_id: id,
            target_state: 1,
            records: vec![MatchRecord {
                topic: "nk".into(),
                score,
                terms: r#"[{"term":"lavrov","field":"title","count":1,"context":"[Lavrov] in"}]"#
                    .into(),
            }],
            story: StoryKey {
                url: None,
                title_hash: simhash,
                title_words: 10,
                lead: vec![simhash as u32],
            },
        };
        store
            .record_matches(
                &[
                    matched(ia[0], 7, 4.0),
                    matched(ib[0], 7, 5.0),
                    matched(ia[1], 9, 3.0),
                ],
                false,
                Some(&plan),
                NOW,
            )
            .unwrap();

        let page = store.topic_stories("nk", NOW - 86_400, 10).unwrap();
        let recent = &page.matches;
        let items: Vec<i64> = recent.iter().map(|m| m.item_id).collect();
        assert_eq!(
            items,
            vec![ib[0], ia[0]],
            "{name}: newest first, the old one left out"
        );
        assert_eq!(recent[0].feed_title, "B", "{name}");
        assert!(recent[0].terms.contains(r#""term":"lavrov""#), "{name}");
        assert_eq!(recent[0].stage, "feed", "{name}");
        let story = recent[0].story_id.expect("a matched item has a story");
        assert_eq!(recent[1].story_id, Some(story), "{name}");
        assert_eq!(
            store.topic_stories("nk", 0, 10).unwrap().matches.len(),
            3,
            "{name}"
        );
        // The limit keeps the newest.
        let newest = store.topic_stories("nk", 0, 1).unwrap();
        assert_eq!(newest.matches.len(), 1, "{name}");
        assert_eq!(newest.matches[0].item_id, ib[0], "{name}");
        assert!(
            store
                .topic_stories("other", 0, 10)
                .unwrap()
                .matches
                .is_empty(),
            "{name}"
        );

        let feeds: Vec<&str> = page.sources.iter().map(|s| s.feed_title.as_str()).collect();
        assert_eq!(
            feeds,
            vec!["A", "B"],
            "{name}: the story's sources, oldest first"
        );
        assert_eq!(
            store.story_sources(&[story]).unwrap(),
            page.sources,
            "{name}"
        );
        assert!(store.story_sources(&[]).unwrap().is_empty(), "{name}");
        assert_eq!(store.item_story(ib[0]).unwrap(), Some(story), "{name}");
        assert_eq!(store.item_story(999_999).unwrap(), None, "{name}");

        let deliveries = store.story_deliveries(story).unwrap();
        assert_eq!(deliveries.len(), 1, "{name}: one per channel and story");
        assert_eq!(deliveries[0].channel, "webhook:ops", "{name}");

        let input = store.match_input(ia[0]).unwrap().expect("the item");
        assert_eq!(input.title, "Lavrov in Pyongyang", "{name}");
        assert_eq!(input.feed_title, "A", "{name}");
        assert!(store.match_input(999_999).unwrap().is_none(), "{name}");
    }

    #[test]
    fn on_sqlite_and_postgres() {
        let dir = tempfile::tempdir().unwrap();
        scenario("sqlite", &Store::open(&dir.path().join("t.db")).unwrap());
        let db = TestDatabase::create();
        let store = Store::open_location(
            &DatabaseLocation::Postgres(db.url.clone()),
            WorkerOptions::default(),
        )
        .unwrap();
        scenario("postgres", &store);
    }
}
