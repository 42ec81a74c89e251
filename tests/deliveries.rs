//! Deliveries end to end: the binary polls a local feed server, matches a topic, and delivers
//! to a real webhook receiver (verifying both signatures) and a real SMTP server (aiosmtpd).

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::receiver::{Receiver, Reply};
use common::smtp::SmtpSink;
use common::{FeedServer, Route, Workspace};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// An RSS feed of (guid, title, text) items dated now.
fn feed(items: &[(&str, &str, &str)]) -> Vec<u8> {
    let date = chrono::Utc::now().to_rfc2822();
    let mut s =
        String::from("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Feed</title>");
    for (guid, title, text) in items {
        s.push_str(&format!(
            "<item><guid>{guid}</guid><title>{title}</title><link>https://news.example/{guid}</link><description>{text}</description><pubDate>{date}</pubDate></item>"
        ));
    }
    s.push_str("</channel></rss>");
    s.into_bytes()
}

struct Setup {
    ws: Workspace,
    server: FeedServer,
    receiver: Receiver,
}

/// A workspace whose feeds `paths` were polled once (so their first poll is behind them).
fn setup(paths: &[&str], extra: &str) -> Setup {
    let server = FeedServer::start();
    for path in paths {
        server.set(
            path,
            Route::feed(feed(&[("intro", "Welcome to the feed", "Nothing to see")])),
        );
    }
    let receiver = Receiver::start(SECRET);
    let ws = Workspace::new();
    let urls: Vec<String> = paths.iter().map(|p| server.url(p)).collect();
    let config = format!(
        "[schedule]\ndefault = \"0 0 1 1 *\"\n[delivery]\nstory_window = \"1s\"\nretry_schedule = [\"1s\", \"1s\", \"1s\"]\n\
         [[topic]]\nname = \"korea\"\ntitle = \"Korea news\"\nquery = '\"north korea\" OR pyongyang'\nmin_score = 0.5\n\
         [[webhook]]\nname = \"hook\"\nurl = \"{}\"\nsecret = \"env:TIDINGS_TEST_SECRET\"\ntopics = [\"korea\"]\ntimeout = \"1s\"\n{extra}",
        receiver.url()
    );
    ws.write_config(&config, &urls);
    poll(&ws);
    Setup {
        ws,
        server,
        receiver,
    }
}

fn poll(ws: &Workspace) {
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
}

fn daemon(ws: &Workspace, failpoint: bool) -> Child {
    let mut cmd = ws.command(&["run"]);
    cmd.env("TIDINGS_TEST_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if failpoint {
        cmd.env("TIDINGS_FAILPOINT", "after-webhook-accepted");
    }
    cmd.spawn().unwrap()
}

fn stop(mut child: Child) {
    unsafe { kill(child.id() as i32, 15) };
    let status = child.wait().unwrap();
    assert!(status.success(), "daemon exit: {status}");
}

unsafe extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

const WIRE_TEXT: &str = "North Korea has sent thousands of troops to Russia to fight in the war against Ukraine, South Korea's intelligence service said on Friday, citing satellite images and intercepted communications. The deployment marks a sharp escalation in military cooperation between Pyongyang and Moscow.";

#[test]
fn one_story_from_three_feeds_is_one_signed_delivery_listing_every_source() {
    let s = setup(&["/a.xml", "/b.xml", "/c.xml"], "");
    s.server.set(
        "/a.xml",
        Route::feed(feed(&[(
            "a1",
            "North Korea sends troops to Russia, Seoul says",
            WIRE_TEXT,
        )])),
    );
    s.server.set(
        "/b.xml",
        Route::feed(feed(&[(
            "b1",
            "North Korea sends troops to Russia, South Korea says",
            &format!("{WIRE_TEXT} Officials gave no figure."),
        )])),
    );
    s.server.set(
        "/c.xml",
        Route::feed(feed(&[
            ("c1", "UPDATE: North Korea sends troops to Russia, Seoul says", WIRE_TEXT),
            ("c2", "Kim Jong Un inspects new Pyongyang hospital", "The North Korean leader toured a hospital in Pyongyang that state media said would open next month, praising builders for finishing it ahead of schedule."),
        ])),
    );
    poll(&s.ws);
    assert_eq!(
        s.ws.count("SELECT count(DISTINCT story_id) FROM items WHERE story_id IS NOT NULL"),
        2
    );
    let d = daemon(&s.ws, false);
    let got = s.receiver.wait_for(2, Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(1500));
    stop(d);
    let got = if got.len() == 2 {
        got
    } else {
        s.receiver.received()
    };
    assert_eq!(got.len(), 2, "one POST per story: {got:#?}");
    for post in &got {
        assert!(
            post.standard_signature_ok && post.github_signature_ok,
            "signatures: {post:#?}"
        );
        assert_eq!(post.body["type"], "match.created");
        assert_eq!(post.body["id"], post.webhook_id);
    }
    let wire = got
        .iter()
        .find(|p| {
            p.body["data"]["items"][0]["title"]
                .as_str()
                .unwrap()
                .contains("troops")
        })
        .unwrap();
    let item = &wire.body["data"]["items"][0];
    assert_eq!(item["topic"], "korea");
    assert_eq!(item["topic_title"], "Korea news");
    assert_eq!(item["other_sources"].as_array().unwrap().len(), 2, "{item}");
    for key in [
        "link",
        "source_feed",
        "published",
        "summary",
        "score",
        "matched_terms",
        "story_id",
    ] {
        assert!(!item[key].is_null(), "payload lacks {key}: {item}");
    }
    // Issue 17: "north korea" matched in the title and again in the summary is listed once.
    assert_eq!(
        item["matched_terms"],
        serde_json::json!(["\"north korea\"", "pyongyang"]),
        "{item}"
    );
    assert_eq!(
        s.ws.count("SELECT count(*) FROM deliveries WHERE status = 'sent'"),
        2
    );
}

#[test]
fn failures_retry_with_the_same_id_and_honour_retry_after() {
    let s = setup(&["/a.xml"], "");
    let config = std::fs::read_to_string(s.ws.config_path())
        .unwrap()
        .replace(
            "retry_schedule = [\"1s\", \"1s\", \"1s\"]",
            "retry_schedule = [\"1s\", \"1s\", \"1s\", \"1s\", \"1s\"]",
        );
    std::fs::write(s.ws.config_path(), config).unwrap();
    s.receiver.reply(vec![
        Reply::Status(500),
        Reply::TooManyRequests {
            retry_after_secs: 3,
        },
        Reply::Hang,
        Reply::Status(302),
        Reply::Status(200),
    ]);
    s.server.set(
        "/a.xml",
        Route::feed(feed(&[(
            "a1",
            "North Korea tests a missile",
            "Pyongyang fired a missile.",
        )])),
    );
    poll(&s.ws);
    let d = daemon(&s.ws, false);
    let got = s.receiver.wait_for(5, Duration::from_secs(40));
    wait_until("the delivery marked sent", Duration::from_secs(5), || {
        s.ws.count("SELECT count(*) FROM deliveries WHERE status = 'sent'") == 1
    });
    stop(d);
    let ids: Vec<&str> = got.iter().map(|r| r.webhook_id.as_str()).collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "the id changed across retries: {ids:?}"
    );
    assert_eq!(
        got.iter().map(|r| r.answered).collect::<Vec<_>>(),
        vec![500, 429, 0, 302, 200]
    );
    let after_429 = got[2].at.duration_since(got[1].at);
    assert!(
        after_429 >= Duration::from_secs(3),
        "retried {after_429:?} after a 429 asking for 3 s"
    );
    assert_eq!(got.len(), 5, "no POST after the 200");
}

#[test]
fn gone_disables_the_endpoint_and_dead_deliveries_can_be_retried() {
    let s = setup(&["/a.xml"], "");
    s.receiver.reply(vec![Reply::Status(410)]);
    s.server.set(
        "/a.xml",
        Route::feed(feed(&[(
            "a1",
            "North Korea tests a missile",
            "Pyongyang fired a missile.",
        )])),
    );
    poll(&s.ws);
    let d = daemon(&s.ws, false);
    s.receiver.wait_for(1, Duration::from_secs(20));
    wait_until("the delivery dead", Duration::from_secs(5), || {
        s.ws.count("SELECT count(*) FROM deliveries WHERE status = 'dead'") == 1
    });
    stop(d);
    assert_eq!(
        s.ws.count("SELECT count(*) FROM webhook_endpoints WHERE disabled_at IS NOT NULL"),
        1
    );
    let out =
        s.ws.command(&["deliveries", "list", "--status", "dead"])
            .env("TIDINGS_TEST_SECRET", SECRET)
            .output()
            .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("410") && text.contains("dead"), "{text}");

    // Always 500 with a one-step schedule: dead after its attempts; `retry --dead` revives it.
    let s = setup(&["/a.xml"], "");
    let config = std::fs::read_to_string(s.ws.config_path())
        .unwrap()
        .replace(
            "retry_schedule = [\"1s\", \"1s\", \"1s\"]",
            "retry_schedule = [\"1s\"]",
        );
    std::fs::write(s.ws.config_path(), config).unwrap();
    s.receiver.reply(vec![Reply::Status(500)]);
    s.server.set(
        "/a.xml",
        Route::feed(feed(&[(
            "a1",
            "North Korea tests a missile",
            "Pyongyang fired a missile.",
        )])),
    );
    poll(&s.ws);
    let d = daemon(&s.ws, false);
    wait_until("the delivery dead", Duration::from_secs(20), || {
        s.ws.count("SELECT count(*) FROM deliveries WHERE status = 'dead'") == 1
    });
    assert_eq!(s.receiver.received().len(), 2);
    s.receiver.reply(vec![Reply::Status(200)]);
    let out =
        s.ws.command(&["deliveries", "retry", "--dead"])
            .env("TIDINGS_TEST_SECRET", SECRET)
            .output()
            .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_until("the revived delivery sent", Duration::from_secs(20), || {
        s.ws.count("SELECT count(*) FROM deliveries WHERE status = 'sent'") == 1
    });
    stop(d);
    let got = s.receiver.received();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|r| r.webhook_id == got[0].webhook_id));
}

#[test]
fn killed_between_acceptance_and_marking_the_receiver_sees_the_same_id_again() {
    let s = setup(&["/a.xml"], "");
    s.server.set(
        "/a.xml",
        Route::feed(feed(&[(
            "a1",
            "North Korea tests a missile",
            "Pyongyang fired a missile.",
        )])),
    );
    poll(&s.ws);
    let mut d = daemon(&s.ws, true);
    let first = s.receiver.wait_for(1, Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(300));
    d.kill().unwrap(); // SIGKILL while held at the failpoint
    d.wait().unwrap();
    assert_eq!(
        s.ws.count("SELECT count(*) FROM deliveries WHERE status = 'sent'"),
        0
    );
    let d = daemon(&s.ws, false);
    let got = s.receiver.wait_for(2, Duration::from_secs(20));
    wait_until("the delivery marked sent", Duration::from_secs(5), || {
        s.ws.count("SELECT count(*) FROM deliveries WHERE status = 'sent'") == 1
    });
    stop(d);
    assert_eq!(
        got[1].webhook_id, first[0].webhook_id,
        "at-least-once with a stable key"
    );
    assert_eq!(
        s.ws.count("SELECT count(*) FROM matches"),
        1,
        "no match lost or doubled"
    );
}

#[test]
fn a_first_poll_of_old_matching_items_sends_nothing_but_the_next_new_item_is_sent() {
    let server = FeedServer::start();
    let old: Vec<(String, String, String)> = (0..50)
        .map(|i| {
            (
                format!("old{i}"),
                format!("North Korea story number {i}"),
                format!("Pyongyang item {i}"),
            )
        })
        .collect();
    let items: Vec<(&str, &str, &str)> = old
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    server.set("/a.xml", Route::feed(feed(&items)));
    let receiver = Receiver::start(SECRET);
    let ws = Workspace::new();
    let config = format!(
        "[schedule]\ndefault = \"0 0 1 1 *\"\n[delivery]\nstory_window = \"0s\"\n\
         [[topic]]\nname = \"korea\"\nquery = '\"north korea\" OR pyongyang'\nmin_score = 0.5\n\
         [[webhook]]\nname = \"hook\"\nurl = \"{}\"\nsecret = \"env:TIDINGS_TEST_SECRET\"\ntopics = [\"korea\"]\n",
        receiver.url()
    );
    ws.write_config(&config, &[server.url("/a.xml")]);
    poll(&ws);
    assert_eq!(
        ws.count("SELECT count(*) FROM matches"),
        50,
        "old items are still matched and stored"
    );
    // Every story of the first poll is held back as old news.
    assert!(ws.count("SELECT count(*) FROM deliveries") > 0);
    assert_eq!(
        ws.count("SELECT count(*) FROM deliveries WHERE status != 'backfill'"),
        0
    );
    assert_eq!(
        ws.count("SELECT count(*) FROM deliveries"),
        ws.count("SELECT count(DISTINCT story_id) FROM items WHERE story_id IS NOT NULL")
    );
    let mut all = old.clone();
    all.insert(
        0,
        (
            "new1".into(),
            "North Korea opens a new border crossing".into(),
            "Pyongyang said so.".into(),
        ),
    );
    let items: Vec<(&str, &str, &str)> = all
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    server.set("/a.xml", Route::feed(feed(&items)));
    poll(&ws);
    let d = daemon(&ws, false);
    let got = receiver.wait_for(1, Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(2));
    stop(d);
    let got = if receiver.received().len() > got.len() {
        receiver.received()
    } else {
        got
    };
    assert_eq!(got.len(), 1, "only the new item is sent");
    assert!(
        got[0].body["data"]["items"][0]["title"]
            .as_str()
            .unwrap()
            .contains("border crossing")
    );

    // Pruning matched items takes their deliveries with them and leaves tombstones.
    std::thread::sleep(Duration::from_millis(1100));
    let out = ws
        .command(&["db", "prune", "--older-than", "0s", "--include-matched"])
        .env("TIDINGS_TEST_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(ws.count("SELECT count(*) FROM items"), 0);
    assert_eq!(ws.count("SELECT count(*) FROM deliveries"), 0);
    assert!(ws.count("SELECT count(*) FROM item_tombstones") >= 51);
}

#[test]
fn digests_group_stories_never_repeat_and_survive_a_refusing_server() {
    let sink = SmtpSink::start();
    let extra = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"tidings <digest@news.example.org>\"\ntimeout = \"5s\"\n\
         [[digest]]\nname = \"morning\"\nschedule = \"*/2 * * * * *\"\ntopics = [\"korea\"]\nto = [\"analyst@example.org\"]\nsubject = \"{{count}} stories on {{topics}}\"\n",
        sink.port
    );
    let s = setup(&["/a.xml", "/b.xml"], &extra);
    s.server.set(
        "/a.xml",
        Route::feed(feed(&[(
            "a1",
            "North Korea sends troops to Russia, Seoul says",
            WIRE_TEXT,
        )])),
    );
    s.server.set(
        "/b.xml",
        Route::feed(feed(&[
            (
                "b1",
                "North Korea sends troops to Russia, South Korea says",
                WIRE_TEXT,
            ),
            (
                "b2",
                "Kim Jong Un inspects new Pyongyang hospital",
                "The North Korean leader toured a hospital in Pyongyang.",
            ),
        ])),
    );
    poll(&s.ws);
    sink.refuse(true);
    let d = daemon(&s.ws, false);
    wait_until("a refused attempt", Duration::from_secs(20), || {
        s.ws.count("SELECT count(*) FROM digest_runs WHERE status = 'pending' AND attempts > 0")
            >= 1
    });
    assert_eq!(
        s.ws.count(
            "SELECT count(*) FROM deliveries WHERE channel = 'digest:morning' AND status = 'sent'"
        ),
        0,
        "nothing marked sent while refused"
    );
    sink.refuse(false);
    wait_until("the first digest", Duration::from_secs(20), || {
        !sink.messages().is_empty()
    });
    let first = sink.messages()[0].clone();
    // The sink has the message a moment before the daemon records the send.
    wait_until(
        "the digest recorded as sent",
        Duration::from_secs(20),
        || {
            s.ws.count("SELECT count(*) FROM digest_runs WHERE status = 'sent'") >= 1
        },
    );
    let message_id: String =
        s.ws.sql()
            .query_row(
                "SELECT message_id FROM digest_runs WHERE status = 'sent'",
                [],
                |r| r.get(0),
            )
            .unwrap();
    assert!(
        first.contains(&message_id),
        "the retried digest keeps its Message-ID {message_id}"
    );
    // Issue 17: the Message-ID's domain is the sender's, not the SMTP host (127.0.0.1).
    assert!(
        message_id.ends_with("@news.example.org>"),
        "Message-ID {message_id}"
    );
    assert!(
        first.contains("multipart/alternative")
            && first.contains("text/plain")
            && first.contains("text/html"),
        "{first}"
    );
    assert!(first.contains("Subject: 2 stories on"), "{first}");
    assert!(first.contains("analyst@example.org"));
    assert!(first.contains("Korea news"));
    // The wire story appears once, with the other source.
    let plain = first.split("text/html").next().unwrap();
    assert_eq!(
        plain.matches("sends troops to Russia").count(),
        1,
        "{plain}"
    );
    assert!(plain.contains("also in: Feed"), "{plain}");

    // A new story: the next digest holds it alone.
    s.server.set(
        "/a.xml",
        Route::feed(feed(&[
            (
                "a1",
                "North Korea sends troops to Russia, Seoul says",
                WIRE_TEXT,
            ),
            (
                "a2",
                "North Korea and Russia open a road bridge",
                "The bridge over the Tumen river links Pyongyang and Moscow by road.",
            ),
        ])),
    );
    poll(&s.ws);
    wait_until("the second digest", Duration::from_secs(20), || {
        sink.messages().len() >= 2
    });
    std::thread::sleep(Duration::from_secs(3));
    stop(d);
    let messages = sink.messages();
    assert_eq!(messages.len(), 2, "empty periods send nothing");
    assert!(messages[1].contains("road bridge"));
    // Issue 17: one story is "1 story", not "1 stories".
    assert!(
        messages[1].contains("Subject: 1 story on"),
        "{}",
        messages[1]
    );
    assert!(
        !messages[1].contains("sends troops"),
        "a story is never in two digests"
    );
    assert_eq!(
        s.ws.count(
            "SELECT count(*) FROM deliveries WHERE channel = 'digest:morning' AND status != 'sent'"
        ),
        0
    );
}

/// The README's worked signature example: the figures are what tidings computes, and the
/// README's own Python receiver (its ```python block, run by `tests/readme_receiver.py`)
/// accepts them. Issue 17: `X-Hub-Signature-256` is keyed by the secret string as written.
#[test]
fn issue_17_readme_signature_example_is_what_tidings_sends_and_the_readme_receiver_accepts() {
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1614265330;
    const BODY: &str = r#"{"test": 2432232314}"#;
    let readme_path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(readme_path).unwrap();
    for input in [SECRET, ID, &TIMESTAMP.to_string(), BODY] {
        assert!(readme.contains(input), "README lacks the example's {input}");
    }
    let signer = tidings::notify::signature::Signer::new(&[SECRET.to_string()]).unwrap();
    let headers = signer.headers(ID, TIMESTAMP, BODY.as_bytes());
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let (standard, github) = (header("webhook-signature"), header("x-hub-signature-256"));
    for value in [&standard, &github] {
        assert!(readme.contains(value.as_str()), "README lacks {value}");
    }
    let out = std::process::Command::new(common::smtp::python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/readme_receiver.py"
        ))
        .args([readme_path, "example", SECRET, ID])
        .arg(TIMESTAMP.to_string())
        .args([BODY, &standard, &github])
        .output()
        .expect("run Python (set TIDINGS_TEST_PYTHON, or run `bash .ci/test.sh`)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "standard=True github=True"
    );
}

/// Issue 17: a receiver written the README's way (its Python check, keyed by the secret as
/// configured) accepts both signatures of what the daemon really sends, a `whsec_` secret
/// included.
#[test]
fn issue_17_the_readme_receiver_accepts_real_deliveries() {
    use std::io::{BufRead, BufReader};
    let mut receiver = std::process::Command::new(common::smtp::python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/readme_receiver.py"
        ))
        .args([
            concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"),
            "serve",
            SECRET,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("run Python (set TIDINGS_TEST_PYTHON, or run `bash .ci/test.sh`)");
    let mut lines = BufReader::new(receiver.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let port: u16 = first
        .strip_prefix("port ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("the README receiver did not start: {first}"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });

    let server = FeedServer::start();
    server.set(
        "/a.xml",
        Route::feed(feed(&[("intro", "Welcome to the feed", "Nothing to see")])),
    );
    let ws = Workspace::new();
    ws.write_config(
        &format!(
            "[schedule]\ndefault = \"0 0 1 1 *\"\n[delivery]\nstory_window = \"0s\"\n\
             [[topic]]\nname = \"korea\"\nquery = '\"north korea\" OR pyongyang'\nmin_score = 0.5\n\
             [[webhook]]\nname = \"readme\"\nurl = \"http://127.0.0.1:{port}/hook\"\nsecret = \"env:TIDINGS_TEST_SECRET\"\ntopics = [\"korea\"]\n"
        ),
        &[server.url("/a.xml")],
    );
    poll(&ws);
    server.set(
        "/a.xml",
        Route::feed(feed(&[
            (
                "a1",
                "North Korea tests a missile",
                "Pyongyang fired a missile.",
            ),
            (
                "a2",
                "Kim Jong Un visits Pyongyang hospital",
                "A new hospital opened.",
            ),
        ])),
    );
    poll(&ws);
    let d = daemon(&ws, false);
    let mut got: Vec<serde_json::Value> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while got.len() < 2 && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            got.push(serde_json::from_str(&line).unwrap());
        }
    }
    stop(d);
    let _ = receiver.kill();
    let _ = receiver.wait();
    assert_eq!(got.len(), 2, "POSTs seen by the README receiver: {got:?}");
    for post in &got {
        assert_eq!(post["standard"], true, "webhook-signature refused: {post}");
        assert_eq!(post["github"], true, "X-Hub-Signature-256 refused: {post}");
    }
}
