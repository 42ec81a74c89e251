//! The HTTP API, black box: `tidings serve` on a free local port over a fixture archive.
//! Every route; pagination without gaps or repeats while items arrive; the topic Atom feed
//! against the Atom rules (parsed by feed-rs, required elements, RFC 3339 dates); `/metrics`
//! as Prometheus text; the token.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::process::{Child, Stdio};
use std::time::Duration;

use common::Workspace;
use common::archive::{DAY, Ids, TOPICS_TOML, build, item};
use serde_json::Value;
use tidings::store::Store;

const TOKEN: &str = "s3cret-test-token";

struct Server {
    child: Child,
    base: String,
    client: reqwest::Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    async fn json(&self, path: &str) -> Value {
        let resp = self.get(path, Some(TOKEN)).await;
        assert_eq!(resp.status(), 200, "{path}");
        resp.json().await.unwrap()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Fixture archive plus `extra` items of one feed, and `tidings serve` with a token.
async fn start(extra: usize) -> (Workspace, Ids, Server) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ws = Workspace::new();
    let port = free_port();
    ws.write_config(
        &format!(
            "{TOPICS_TOML}\n[api]\nlisten = \"127.0.0.1:{port}\"\ntoken = \"env:TIDINGS_TEST_API_TOKEN\"\n"
        ),
        &[],
    );
    let now = chrono::Utc::now().timestamp();
    let ids = build(&ws, now);
    if extra > 0 {
        let store = Store::open(&ws.db()).unwrap();
        let feed = store.feed(1).unwrap();
        // Groups of three share a date, so the cursor must break ties by id.
        let items: Vec<_> = (0..extra)
            .map(|i| {
                item(
                    &format!("bulk-{i}"),
                    &format!("Bulk item {i} about grain"),
                    "Filler.",
                    None,
                    now - 3 * DAY - (i as i64 / 3) * 60,
                )
            })
            .collect();
        store.commit_refresh(&feed, &items, false, now).unwrap();
        // Indexed for search by the matching stage (no topics here), as in the daemon.
        let no_topics = tidings::config::Config::from_toml("", None).unwrap();
        tidings::pipeline::matching::match_pending(&no_topics, &store).unwrap();
    }
    let child = ws
        .command(&["serve"])
        .env("TIDINGS_TEST_API_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
    };
    for _ in 0..100 {
        if let Ok(resp) = server
            .client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            && resp.status() == 200
        {
            return (ws, ids, server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("tidings serve did not come up on port {port}");
}

#[tokio::test]
async fn token_is_enforced_on_api_and_feeds_only() {
    let (_ws, _ids, server) = start(0).await;
    for path in [
        "/api/items",
        "/api/items/1",
        "/api/feeds",
        "/api/topics",
        "/api/deliveries",
        "/topics/nk-russia.atom",
    ] {
        assert_eq!(server.get(path, None).await.status(), 401, "{path}");
        assert_eq!(
            server.get(path, Some("wrong")).await.status(),
            401,
            "{path}"
        );
        assert_eq!(server.get(path, Some(TOKEN)).await.status(), 200, "{path}");
    }
    let resp = server.get("/api/items", None).await;
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("token"));
    // Feed readers may pass the token in the query; the API itself only takes the header.
    let feed = format!("/topics/nk-russia.atom?token={TOKEN}");
    assert_eq!(server.get(&feed, None).await.status(), 200);
    let items = format!("/api/items?token={TOKEN}");
    assert_eq!(server.get(&items, None).await.status(), 401);
    assert_eq!(server.get("/healthz", None).await.status(), 200);
    assert_eq!(server.get("/metrics", None).await.status(), 200);
}

#[tokio::test]
async fn items_search_detail_feeds_topics_deliveries() {
    let (_ws, ids, server) = start(0).await;
    let all = server.json("/api/items").await;
    let list = all["items"].as_array().unwrap();
    assert_eq!(list.len(), 7);
    assert_eq!(all["next_cursor"], Value::Null);
    // Newest first.
    assert_eq!(list[0]["id"], ids.roundup);
    chrono::DateTime::parse_from_rfc3339(list[0]["published"].as_str().unwrap()).unwrap();

    let q = server.json("/api/items?q=pyongyang").await;
    let found: Vec<i64> = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(found, vec![ids.lavrov, ids.harvest]);
    assert!(
        q["items"][0]["snippet"]
            .as_str()
            .unwrap()
            .contains("«Pyongyang»")
    );
    let q = server
        .json("/api/items?q=pyongyang&topic=nk-russia&since=7d")
        .await;
    assert_eq!(q["items"].as_array().unwrap().len(), 1);
    let q = server
        .json("/api/items?feed=http://127.0.0.1:9/moscow.xml")
        .await;
    assert_eq!(q["items"].as_array().unwrap().len(), 2);

    let bad = server.get("/api/items?q=(korea", Some(TOKEN)).await;
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("at 6: expected ')'"),
        "{body}"
    );
    assert_eq!(
        server
            .get("/api/items?since=soon", Some(TOKEN))
            .await
            .status(),
        400
    );
    assert_eq!(
        server
            .get("/api/items?cursor=x", Some(TOKEN))
            .await
            .status(),
        400
    );

    let harvest = server.json(&format!("/api/items/{}", ids.harvest)).await;
    assert_eq!(harvest["title"], "Grain harvest report");
    assert_eq!(harvest["article_status"], "ok");
    assert!(
        harvest["article_text"]
            .as_str()
            .unwrap()
            .starts_with("The ministry in Pyongyang")
    );
    assert_eq!(harvest["matches"], serde_json::json!([]));
    let summit = server.json(&format!("/api/items/{}", ids.summit)).await;
    assert_eq!(summit["matches"][0]["topic"], "nk-russia");
    assert_eq!(summit["matches"][0]["score"], 4.0);
    assert_eq!(
        server.get("/api/items/999999", Some(TOKEN)).await.status(),
        404
    );

    let feeds = server.json("/api/feeds").await;
    let feeds = feeds["feeds"].as_array().unwrap();
    assert_eq!(feeds.len(), 2);
    assert_eq!(feeds[1]["title"], "Moscow Daily");
    assert_eq!(feeds[1]["consecutive_errors"], 3);
    assert!(feeds.iter().all(|f| f.get("headers").is_none()));

    let topics = server.json("/api/topics").await;
    assert_eq!(topics["topics"][0]["name"], "nk-russia");
    assert_eq!(topics["topics"][0]["matches"], 2);
    assert_eq!(topics["topics"][0]["feed"], "/topics/nk-russia.atom");

    // No deliveries table before schema 0004: an empty list.
    let d = server.json("/api/deliveries?status=dead").await;
    assert_eq!(d["deliveries"], serde_json::json!([]));

    let health = server.json("/healthz").await;
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn pagination_has_no_gaps_or_repeats_while_items_arrive() {
    let (ws, _ids, server) = start(100).await;
    let expected: Vec<i64> = {
        let conn = ws.sql();
        let mut stmt = conn
            .prepare("SELECT id FROM items ORDER BY published_at DESC, id DESC")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(expected.len(), 107);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/items?limit=10&cursor={c}"),
            None => "/api/items?limit=10".to_string(),
        };
        let page = server.json(&path).await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_i64().unwrap()),
        );
        pages += 1;
        if pages == 2 {
            // A new item arrives mid-way: it is newer than the cursor, so it neither shifts
            // later pages nor repeats anything.
            let store = Store::open(&ws.db()).unwrap();
            let feed = store.feed(2).unwrap();
            let now = chrono::Utc::now().timestamp();
            store
                .commit_refresh(
                    &feed,
                    &[item("late", "Late news", "x", None, now)],
                    false,
                    now,
                )
                .unwrap();
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 11);
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no repeats");
    assert_eq!(seen, expected, "no gaps, in order");

    // The same with a query.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = server
            .json(&format!("/api/items?q=grain&limit=7&cursor={cursor}"))
            .await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    let unique: HashSet<i64> = seen.iter().copied().collect();
    // 100 bulk items, the harvest report and the roundup mention grain.
    assert_eq!((seen.len(), unique.len()), (102, 102));
}

/// Every `<tag>…</tag>` text in `xml`.
fn all_text<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        if !after.starts_with('>') && !after.starts_with(' ') {
            rest = after;
            continue;
        }
        let start = after.find('>').unwrap() + 1;
        let end = after.find(&close).unwrap();
        out.push(&after[start..end]);
        rest = &after[end..];
    }
    out
}

#[tokio::test]
async fn topic_atom_feed_follows_the_atom_rules() {
    let (_ws, ids, server) = start(0).await;
    let resp = server.get("/topics/nk-russia.atom", Some(TOKEN)).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let xml = resp.text().await.unwrap();

    let feed = feed_rs::parser::parse(xml.as_bytes()).expect("feed-rs parses it");
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
    assert_eq!(feed.id, "urn:tidings:topic:nk-russia");
    assert_eq!(feed.title.unwrap().content, "North Korea & Russia");
    assert!(feed.updated.is_some());
    assert!(feed.links.iter().any(|l| l.rel.as_deref() == Some("self")
        && l.href.ends_with("/topics/nk-russia.atom")));
    assert_eq!(feed.entries.len(), 2);
    let entry_ids: Vec<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
    assert!(entry_ids.contains(&format!("urn:tidings:item:{}", ids.lavrov).as_str()));
    assert!(entry_ids.contains(&format!("urn:tidings:item:{}", ids.summit).as_str()));
    for e in &feed.entries {
        assert!(e.title.is_some() && e.updated.is_some(), "{e:?}");
        assert!(e.links[0].href.starts_with("https://news.example/"));
        assert!(e.summary.is_some());
    }

    // Atom rules, checked on the text: one feed id/title/updated/author, each entry with
    // id, title, updated; every date RFC 3339; ids unique absolute URIs.
    let body = &xml[..xml.find("<entry>").unwrap()];
    for tag in ["id", "title", "updated", "author"] {
        assert_eq!(all_text(body, tag).len(), 1, "feed-level <{tag}>");
    }
    let entries: Vec<&str> = xml.split("<entry>").skip(1).collect();
    let mut seen = HashSet::new();
    for e in &entries {
        for tag in ["id", "title", "updated"] {
            assert_eq!(all_text(e, tag).len(), 1, "entry <{tag}> in {e}");
        }
        let id = all_text(e, "id")[0];
        assert!(id.starts_with("urn:") || id.starts_with("tag:"), "{id}");
        assert!(seen.insert(id.to_string()), "duplicate id {id}");
    }
    for date in all_text(&xml, "updated")
        .into_iter()
        .chain(all_text(&xml, "published"))
    {
        chrono::DateTime::parse_from_rfc3339(date)
            .unwrap_or_else(|e| panic!("{date} is not RFC 3339: {e}"));
        assert!(date.ends_with('Z'));
    }
    assert_eq!(
        server.get("/topics/nope.atom", Some(TOKEN)).await.status(),
        404
    );
    assert_eq!(
        server
            .get("/topics/nk-russia.rss", Some(TOKEN))
            .await
            .status(),
        404
    );
}

/// A parsed Prometheus text exposition: samples by name and labels.
fn parse_prometheus(text: &str) -> BTreeMap<(String, String), f64> {
    let mut samples = BTreeMap::new();
    let mut typed = HashSet::new();
    let is_name = |s: &str| {
        !s.is_empty()
            && s.chars().enumerate().all(|(i, c)| {
                c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
            })
    };
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let kind = parts.next().unwrap();
            let name = parts.next().unwrap();
            assert!(is_name(name), "{line}");
            match kind {
                "HELP" => assert!(parts.next().is_some_and(|h| !h.is_empty()), "{line}"),
                "TYPE" => {
                    let t = parts.next().unwrap();
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&t),
                        "{line}"
                    );
                    assert!(typed.insert(name.to_string()), "TYPE twice: {line}");
                }
                _ => {}
            }
            continue;
        }
        assert!(!line.starts_with('#'), "{line}");
        let (series, value) = line.rsplit_once(' ').expect(line);
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value in {line}"));
        let (name, labels) = match series.find('{') {
            Some(i) => {
                assert!(series.ends_with('}'), "{line}");
                let labels = &series[i + 1..series.len() - 1];
                // name="value" pairs, values with \\ \" \n escapes.
                let mut rest = labels;
                while !rest.is_empty() {
                    let eq = rest.find('=').expect(line);
                    assert!(is_name(&rest[..eq]), "{line}");
                    let mut chars = rest[eq + 1..].char_indices();
                    assert_eq!(chars.next().map(|c| c.1), Some('"'), "{line}");
                    let mut end = None;
                    let mut escaped = false;
                    for (j, c) in chars {
                        if escaped {
                            assert!(matches!(c, '\\' | '"' | 'n'), "{line}");
                            escaped = false;
                        } else if c == '\\' {
                            escaped = true;
                        } else if c == '"' {
                            end = Some(eq + 1 + j);
                            break;
                        }
                    }
                    let end = end.expect(line);
                    rest = rest[end + 1..].trim_start_matches(',');
                }
                (&series[..i], labels.to_string())
            }
            None => (series, String::new()),
        };
        assert!(is_name(name), "{line}");
        assert!(typed.contains(name), "sample before its TYPE: {line}");
        samples.insert((name.to_string(), labels), value);
    }
    samples
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text() {
    let (_ws, _ids, server) = start(0).await;
    let resp = server.get("/metrics", None).await;
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let samples = parse_prometheus(&resp.text().await.unwrap());
    let get = |name: &str, labels: &str| samples[&(name.to_string(), labels.to_string())];
    assert_eq!(get("tidings_up", ""), 1.0);
    assert_eq!(get("tidings_items", ""), 7.0);
    assert_eq!(get("tidings_feeds", "state=\"active\""), 2.0);
    assert_eq!(get("tidings_feeds_failing", ""), 1.0);
    assert_eq!(get("tidings_matches", "topic=\"nk-russia\""), 2.0);
    assert_eq!(get("tidings_articles", "status=\"ok\""), 1.0);
    // The archive's items went through the matching stage (which indexes them for search).
    assert_eq!(get("tidings_pending_matches", ""), 0.0);
    assert_eq!(get("tidings_pending_extractions", ""), 0.0);
    assert!(get("tidings_last_poll_timestamp_seconds", "") > 1.7e9);
}

#[test]
fn without_a_token_only_loopback_is_allowed() {
    let ws = Workspace::new();
    ws.write_config("[api]\nlisten = \"0.0.0.0:8080\"\n", &[]);
    let out = ws.command(&["check-config"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("api.listen") && err.contains("api.token"),
        "{err}"
    );
    ws.write_config(
        "[api]\nlisten = \"127.0.0.1:8080\"\ntoken = \"inline\"\n",
        &[],
    );
    let out = ws.command(&["check-config"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("api.token") && !err.contains("inline\""),
        "{err}"
    );
}

#[tokio::test]
async fn the_daemon_serves_the_api_when_configured() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ws = Workspace::new();
    let port = free_port();
    ws.write_config(&format!("[api]\nlisten = \"127.0.0.1:{port}\"\n"), &[]);
    let child = ws
        .command(&["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
    };
    let mut up = false;
    for _ in 0..100 {
        if let Ok(resp) = server
            .client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
        {
            up = resp.status() == 200;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "tidings run serves /healthz");
    // No token configured on loopback: the API is open.
    assert_eq!(server.get("/api/feeds", None).await.status(), 200);
}

/// `tidings ARGS` with the API token's variable set (the config names it); panics with the
/// output if it failed.
fn run_ok(ws: &Workspace, args: &[&str]) -> std::process::Output {
    let out = ws
        .command(args)
        .env("TIDINGS_TEST_API_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tidings {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Reader feedback (issue 20's feedback store, shared with the web page): labels given
/// through the API and the CLI land in one table, one row per topic and item with the last
/// word winning, and `topics labels` exports them in the shape `topics eval` reads.
#[tokio::test]
async fn feedback_from_the_api_and_the_cli_is_stored_once_and_exported() {
    let (ws, ids, server) = start(0).await;
    let summit = server.json(&format!("/api/items/{}", ids.summit)).await;
    let match_id = summit["matches"][0]["id"].as_i64().unwrap();
    let post = |path: String, body: Value, token: Option<&'static str>| {
        let mut req = server
            .client
            .post(format!("{}{path}", server.base))
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };

    // The token guards the write like every other /api/ route.
    let path = format!("/api/matches/{match_id}/feedback");
    let refused = post(
        path.clone(),
        serde_json::json!({"label": "irrelevant"}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(refused.status(), 401);
    let ok = post(
        path.clone(),
        serde_json::json!({"label": "irrelevant"}),
        Some(TOKEN),
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["topic"], "nk-russia");
    assert_eq!(body["item_id"], ids.summit);
    assert_eq!(body["relevant"], false);

    // A miss: the harvest item was not matched; a reader says it is on topic.
    let path = format!("/api/items/{}/feedback", ids.harvest);
    let ok = post(
        path.clone(),
        serde_json::json!({"topic": "nk-russia", "label": "relevant"}),
        Some(TOKEN),
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), 200);

    // Bad input is refused with a JSON error naming what is wrong.
    for (path, body, status, says) in [
        (
            format!("/api/items/{}/feedback", ids.harvest),
            serde_json::json!({"topic": "weather", "label": "relevant"}),
            400,
            "`weather` is not one",
        ),
        (
            format!("/api/items/{}/feedback", ids.harvest),
            serde_json::json!({"topic": "nk-russia", "label": "maybe"}),
            400,
            "`maybe` is not a verdict",
        ),
        (
            "/api/items/999999/feedback".to_string(),
            serde_json::json!({"topic": "nk-russia", "label": "relevant"}),
            404,
            "no item with id 999999",
        ),
        (
            "/api/matches/999999/feedback".to_string(),
            serde_json::json!({"label": "relevant"}),
            404,
            "no match with id 999999",
        ),
        (
            format!("/api/matches/{match_id}/feedback"),
            serde_json::json!({"verdict": "relevant"}),
            422,
            "feedback body",
        ),
    ] {
        let resp = post(path.clone(), body, Some(TOKEN)).await.unwrap();
        assert_eq!(resp.status(), status, "{path}");
        let error: Value = resp.json().await.unwrap();
        assert!(error["error"].as_str().unwrap().contains(says), "{error}");
    }
    // A form post (no JSON content type) is not taken: a cross-site form cannot label.
    let form = server
        .client
        .post(format!("{}/api/matches/{match_id}/feedback", server.base))
        .bearer_auth(TOKEN)
        .body("label=relevant")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);

    // The CLI writes to the same rows: the last word wins.
    let out = run_ok(&ws, &["matches", "mark", &match_id.to_string(), "relevant"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("relevant"));
    let out = ws
        .command(&[
            "items",
            "mark",
            &ids.cafe.to_string(),
            "--topic",
            "nope",
            "relevant",
        ])
        .env("TIDINGS_TEST_API_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no topic named `nope`"), "{stderr}");
    run_ok(
        &ws,
        &[
            "items",
            "mark",
            &ids.cafe.to_string(),
            "--topic",
            "nk-russia",
            "irrelevant",
        ],
    );
    assert_eq!(ws.count("SELECT count(*) FROM topic_feedback"), 3);
    let rows: Vec<(i64, i64, String)> = {
        let conn = ws.sql();
        let mut stmt = conn
            .prepare("SELECT item_id, relevant, origin FROM v_feedback ORDER BY item_id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let mut expected = vec![
        (ids.summit, 1, "cli".to_string()),
        (ids.harvest, 1, "api".to_string()),
        (ids.cafe, 0, "cli".to_string()),
    ];
    expected.sort();
    assert_eq!(rows, expected);

    // The export is a labelled set `topics eval` reads as it is.
    let out = run_ok(&ws, &["topics", "labels", "nk-russia", "--format", "jsonl"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let harvest = lines
        .iter()
        .find(|l| l["id"] == format!("tidings-{}", ids.harvest))
        .unwrap();
    assert_eq!(harvest["label"], 1);
    assert_eq!(harvest["title"], "Grain harvest report");
    assert!(
        harvest["text"]
            .as_str()
            .unwrap()
            .starts_with("The ministry in Pyongyang")
    );
    assert!(
        harvest["note"]
            .as_str()
            .unwrap()
            .contains("had not matched")
    );
    let file = ws.dir.path().join("labels.jsonl");
    std::fs::write(&file, &text).unwrap();
    let out = run_ok(
        &ws,
        &[
            "topics",
            "eval",
            "nk-russia",
            file.to_str().unwrap(),
            "--json",
        ],
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["items"], 3);
    assert_eq!(report["positives"], 2);
}
