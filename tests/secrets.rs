//! Secrets are read where they are used (issue 17): the real binary, on a config whose webhook,
//! SMTP and API secrets are not set in the environment. Read-only commands run; `serve` needs
//! only the API token; `check-config` and `run` refuse a missing secret, naming its key; a
//! feed's request header secret is read when the feed is fetched and never stored.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::Workspace;
use common::archive::{TOPICS_TOML, build};

const WEBHOOK_VAR: &str = "TIDINGS_TEST_ISSUE17_WEBHOOK_SECRET";
const SMTP_VAR: &str = "TIDINGS_TEST_ISSUE17_SMTP_PASSWORD";
const API_VAR: &str = "TIDINGS_TEST_ISSUE17_API_TOKEN";
const TOKEN: &str = "issue-17-token";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The fixture archive under a config naming a webhook secret (and a previous one in a file
/// that does not exist), an SMTP password and an API token, none of them available.
fn workspace(api_port: u16) -> Workspace {
    let ws = Workspace::new();
    let missing_file = ws.dir.path().join("no-such-secret");
    ws.write_config(
        &format!(
            "{TOPICS_TOML}\n\
             [[webhook]]\nname = \"ops\"\nurl = \"http://127.0.0.1:9/hook\"\nsecret = \"env:{WEBHOOK_VAR}\"\n\
             previous_secret = \"file:{}\"\ntopics = [\"nk-russia\"]\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = 9\ntls = \"none\"\nuser = \"tidings\"\npassword = \"env:{SMTP_VAR}\"\n\
             from = \"tidings <tidings@example.org>\"\n\
             [[digest]]\nname = \"morning\"\nschedule = \"0 7 * * *\"\ntopics = [\"nk-russia\"]\nto = [\"analyst@example.org\"]\n\
             [api]\nlisten = \"127.0.0.1:{api_port}\"\ntoken = \"env:{API_VAR}\"\n",
            missing_file.display()
        ),
        &[],
    );
    build(&ws, chrono::Utc::now().timestamp());
    ws
}

/// `tidings ARGS` with none of the secrets in its environment.
fn without_secrets(ws: &Workspace, args: &[&str]) -> Command {
    let mut cmd = ws.command(args);
    cmd.env_remove(WEBHOOK_VAR)
        .env_remove(SMTP_VAR)
        .env_remove(API_VAR);
    cmd
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs a command that must end by itself within `limit`.
fn output_within(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("still running after {limit:?}: {}", text(&out));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn issue_17_read_only_commands_run_without_the_services_secrets() {
    let ws = workspace(free_port());
    let match_id = ws.count("SELECT min(id) FROM matches").to_string();
    let item_id = ws
        .count("SELECT min(id) FROM items WHERE id NOT IN (SELECT item_id FROM matches)")
        .to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["status"],
        vec!["status", "--json"],
        vec!["feeds", "list"],
        vec!["matches", "list", "--since", "3650d"],
        vec!["search", "lavrov"],
        vec!["deliveries", "list"],
        vec!["digest", "preview", "morning"],
        vec!["matches", "mark", &match_id, "relevant"],
        vec![
            "items",
            "mark",
            &item_id,
            "--topic",
            "nk-russia",
            "irrelevant",
        ],
        vec!["topics", "labels", "nk-russia"],
    ];
    for args in &commands {
        let out = output_within(without_secrets(&ws, args), Duration::from_secs(60));
        assert!(out.status.success(), "tidings {args:?}: {}", text(&out));
    }
    // The marks landed: the labels export lists both.
    let out = without_secrets(&ws, &["topics", "labels", "nk-russia"])
        .output()
        .unwrap();
    let labels = String::from_utf8_lossy(&out.stdout);
    assert_eq!(labels.lines().count(), 2, "{labels}");
}

#[test]
fn issue_17_check_config_and_run_refuse_a_missing_secret_naming_its_key() {
    let ws = workspace(free_port());
    let secret_file = ws.dir.path().join("previous-secret");
    let config = std::fs::read_to_string(ws.config_path()).unwrap();
    std::fs::write(
        ws.config_path(),
        config.replace(
            &ws.dir.path().join("no-such-secret").display().to_string(),
            &secret_file.display().to_string(),
        ),
    )
    .unwrap();
    let expect_refusal = |env: &[(&str, &str)], key: &str, why: &str| {
        for command in ["check-config", "run"] {
            let mut cmd = without_secrets(&ws, &[command]);
            cmd.envs(env.iter().copied());
            let out = output_within(cmd, Duration::from_secs(30));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !out.status.success()
                    && stderr.contains(&format!("key `{key}`"))
                    && stderr.contains(why),
                "tidings {command} should refuse `{key}` ({why}): {}",
                text(&out)
            );
        }
    };
    let webhook = (WEBHOOK_VAR, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    let smtp = (SMTP_VAR, "mail-password");
    let api = (API_VAR, TOKEN);
    expect_refusal(
        &[smtp, api],
        "webhook[0].secret",
        &format!("environment variable {WEBHOOK_VAR} is not set"),
    );
    expect_refusal(
        &[webhook, smtp, api],
        "webhook[0].previous_secret",
        "cannot read",
    );
    std::fs::write(&secret_file, "old-secret\n").unwrap();
    expect_refusal(
        &[webhook, api],
        "smtp.password",
        &format!("environment variable {SMTP_VAR} is not set"),
    );
    expect_refusal(
        &[webhook, smtp],
        "api.token",
        &format!("environment variable {API_VAR} is not set"),
    );
    // An empty secret is refused too.
    expect_refusal(&[webhook, (SMTP_VAR, ""), api], "smtp.password", "is empty");
    // With every secret set, the config is valid.
    let mut cmd = without_secrets(&ws, &["check-config"]);
    cmd.envs([webhook, smtp, api]);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

#[tokio::test]
async fn issue_17_serve_needs_only_the_api_token() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let port = free_port();
    let ws = workspace(port);
    // Without its token, serve refuses, naming the key.
    let out = output_within(without_secrets(&ws, &["serve"]), Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("key `api.token`"),
        "{}",
        text(&out)
    );
    // With the token alone (webhook and SMTP secrets unset), it serves.
    let mut child = without_secrets(&ws, &["serve"])
        .env(API_VAR, TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/api/feeds");
    let mut answers = Vec::new();
    for _ in 0..100 {
        if let Ok(resp) = client.get(&url).bearer_auth(TOKEN).send().await {
            answers.push(resp.status().as_u16());
            let unauthorized = client.get(&url).send().await.unwrap().status();
            answers.push(unauthorized.as_u16());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(answers, vec![200, 401], "serve did not answer as expected");
}

/// A feed's request header given as `env:NAME` is read when the feed is fetched: the database
/// holds the reference, never the token; without the variable the fetch fails naming the
/// header and the other commands still run; `check-config` names the key.
#[test]
fn issue_17_feed_header_secret_is_read_when_the_feed_is_fetched() {
    const HEADER_VAR: &str = "TIDINGS_TEST_ISSUE17_FEED_TOKEN";
    let server = common::server::FeedServer::start();
    server.set(
        "/private.xml",
        common::server::Route::feed(
            b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Private</title>\
              <item><guid>p1</guid><title>Members-only note on Pyongyang</title>\
              <link>https://private.example/p1</link></item></channel></rss>"
                .to_vec(),
        ),
    );
    let url = server.url("/private.xml");
    let ws = Workspace::new();
    ws.write_config("", &[]);
    let mut config = std::fs::read_to_string(ws.config_path()).unwrap();
    config.push_str(&format!(
        "[[feed]]\nurl = \"{url}\"\nextract = false\nheaders = {{ Authorization = \"env:{HEADER_VAR}\" }}\n"
    ));
    std::fs::write(ws.config_path(), config).unwrap();

    // Without the variable: check-config names the key; a poll records the failure on the
    // feed, naming the header; nothing reached the server.
    let mut check = ws.command(&["check-config"]);
    check.env_remove(HEADER_VAR);
    let out = check.output().unwrap();
    assert!(
        !out.status.success()
            && String::from_utf8_lossy(&out.stderr).contains("key `feed[0].headers.Authorization`"),
        "{}",
        text(&out)
    );
    let mut poll = ws.command(&["poll"]);
    poll.env_remove(HEADER_VAR);
    let out = poll.output().unwrap();
    let status = ws.status();
    let feed = common::feed_status(&status, &url);
    assert!(
        feed.to_string().contains(&format!(
            "request header Authorization: environment variable {HEADER_VAR} is not set"
        )),
        "{feed}\n{}",
        text(&out)
    );
    assert!(server.requests_for("/private.xml").is_empty());

    // With it: the request carries the token, the item is stored, the database keeps the
    // reference only.
    // (`--all`: the failed feed is backing off.)
    let mut poll = ws.command(&["poll", "--all"]);
    poll.env(HEADER_VAR, "Bearer issue-17-feed-token");
    let out = poll.output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let requests = server.requests_for("/private.xml");
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(
        requests[0].headers.get("authorization").map(String::as_str),
        Some("Bearer issue-17-feed-token")
    );
    assert_eq!(ws.count("SELECT count(*) FROM items"), 1);
    let stored: String = ws
        .sql()
        .query_row("SELECT headers FROM feeds", [], |r| r.get(0))
        .unwrap();
    assert!(
        stored.contains(&format!("env:{HEADER_VAR}")) && !stored.contains("issue-17-feed-token"),
        "{stored}"
    );
}
