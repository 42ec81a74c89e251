//! The daemon as a service: the systemd notify protocol (READY, WATCHDOG only while the
//! scheduler and the database writer make progress, STOPPING), config reload on SIGHUP (a new
//! feed polled, a changed topic matching; a broken config refused while polling goes on), and
//! logs fit for journald or JSON.

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Behaviour, FeedServer, Route, Workspace};

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

/// Every feed polled each second, so the daemon keeps working during a test.
const EVERY_SECOND: &str = "[schedule]\ndefault = \"* * * * * *\"\n";

/// The Unix datagram socket a service manager listens on (`NOTIFY_SOCKET`); a thread records
/// every line received with the time it came.
struct NotifySocket {
    path: PathBuf,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
    stop: Arc<AtomicBool>,
}

impl NotifySocket {
    fn bind(dir: &Path) -> NotifySocket {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_lines, thread_stop) = (lines.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while !thread_stop.load(Ordering::Relaxed) {
                if let Ok(n) = socket.recv(&mut buf) {
                    let now = Instant::now();
                    let text = String::from_utf8_lossy(&buf[..n]).to_string();
                    let mut lines = thread_lines.lock().unwrap();
                    for line in text.lines().filter(|l| !l.is_empty()) {
                        lines.push((now, line.to_string()));
                    }
                }
            }
        });
        NotifySocket { path, lines, stop }
    }

    /// When each message equal to `line` arrived.
    fn times(&self, line: &str) -> Vec<Instant> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, l)| l == line)
            .map(|(t, _)| *t)
            .collect()
    }

    fn all(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .map(|(_, l)| l.clone())
            .collect()
    }

    /// Waits until `count` messages equal to `line` arrived after `after`; returns their times.
    fn wait_for(
        &self,
        line: &str,
        after: Instant,
        count: usize,
        timeout: Duration,
        daemon: &mut Daemon,
    ) -> Vec<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            let seen: Vec<Instant> = self
                .times(line)
                .into_iter()
                .filter(|t| *t >= after)
                .collect();
            if seen.len() >= count {
                return seen;
            }
            daemon.assert_running();
            assert!(
                Instant::now() < deadline,
                "waited {timeout:?} for {count} × {line}, saw {}; all messages: {:?}\nlog:\n{}",
                seen.len(),
                self.all(),
                daemon.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// `tidings run` with its log in a file.
struct Daemon {
    child: Child,
    log_path: PathBuf,
}

impl Daemon {
    fn start(ws: &Workspace, notify: Option<&NotifySocket>, watchdog: Option<Duration>) -> Daemon {
        let log_path = ws.dir.path().join("daemon.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut cmd = ws.command(&["run"]);
        cmd.env("RUST_LOG", "info")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID")
            .env_remove("JOURNAL_STREAM")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        if let Some(notify) = notify {
            cmd.env("NOTIFY_SOCKET", &notify.path);
        }
        if let Some(interval) = watchdog {
            cmd.env("WATCHDOG_USEC", interval.as_micros().to_string());
        }
        Daemon {
            child: cmd.spawn().unwrap(),
            log_path,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    fn signal(&self, signal: i32) {
        let rc = unsafe { libc::kill(self.child.id() as i32, signal) };
        assert_eq!(rc, 0, "kill({}, {signal}) failed", self.child.id());
    }

    fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("the daemon exited early ({status}); log:\n{}", self.log());
        }
    }

    /// Waits until the log contains `text`.
    fn wait_log(&mut self, text: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.log().contains(text) {
            self.assert_running();
            assert!(
                Instant::now() < deadline,
                "waited {timeout:?} for `{text}` in the log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then waits for the exit (at most 30 s).
    fn terminate(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the daemon did not stop within 30 s of SIGTERM; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `path` on `server` was requested at least `count` times.
fn wait_requests(server: &FeedServer, path: &str, count: usize, daemon: &mut Daemon) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.requests_for(path).len() < count {
        daemon.assert_running();
        assert!(
            Instant::now() < deadline,
            "{path} was requested {} times, wanted {count}; log:\n{}",
            server.requests_for(path).len(),
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `sql` (a count) reaches `want`.
fn wait_count(ws: &Workspace, sql: &str, want: i64, daemon: &mut Daemon) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // The database may not exist yet while the daemon starts.
        let n: i64 = rusqlite::Connection::open_with_flags(
            ws.db(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
        .unwrap_or(0);
        if n >= want {
            return;
        }
        daemon.assert_running();
        assert!(
            Instant::now() < deadline,
            "`{sql}` is {n}, wanted {want}; log:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn notifies_ready_watchdog_and_stopping_then_exits_zero() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(rss(&[("1", "One"), ("2", "Two")])));
    let ws = Workspace::new();
    ws.write_config(EVERY_SECOND, &[server.url("/a.xml")]);
    let notify = NotifySocket::bind(ws.dir.path());
    let started = Instant::now();
    let mut daemon = Daemon::start(&ws, Some(&notify), Some(Duration::from_secs(1)));

    let ready = notify.wait_for("READY=1", started, 1, Duration::from_secs(30), &mut daemon)[0];
    assert!(
        notify.all().iter().any(|l| l.starts_with("STATUS=running")),
        "{:?}",
        notify.all()
    );
    // The watchdog is pinged while the daemon works (polling every second).
    notify.wait_for("WATCHDOG=1", ready, 4, Duration::from_secs(10), &mut daemon);
    wait_requests(&server, "/a.xml", 2, &mut daemon);
    assert_eq!(ws.count("SELECT count(*) FROM items"), 2);

    let status = daemon.terminate();
    assert_eq!(status.code(), Some(0), "log:\n{}", daemon.log());
    assert_eq!(notify.times("STOPPING=1").len(), 1, "{:?}", notify.all());
    let log = daemon.log();
    assert!(log.contains("SIGTERM received"), "{log}");
    assert!(log.contains("stopped"), "{log}");
    // Every connection was closed: the last close checkpoints and removes the WAL file.
    let wal = ws.dir.path().join("tidings.db-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "the WAL file is left behind: the database was not closed cleanly"
    );
    assert_eq!(ws.count("SELECT count(*) FROM items"), 2);
}

#[test]
fn watchdog_pings_stop_while_the_database_writer_is_stalled() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(rss(&[("1", "One")])));
    let ws = Workspace::new();
    ws.write_config(EVERY_SECOND, &[server.url("/a.xml")]);
    let notify = NotifySocket::bind(ws.dir.path());
    let started = Instant::now();
    let mut daemon = Daemon::start(&ws, Some(&notify), Some(Duration::from_secs(1)));
    let ready = notify.wait_for("READY=1", started, 1, Duration::from_secs(30), &mut daemon)[0];
    notify.wait_for("WATCHDOG=1", ready, 3, Duration::from_secs(10), &mut daemon);

    // Another process holds the write lock for 3.5 s: the daemon's writer cannot write.
    let blocker = rusqlite::Connection::open(ws.db()).unwrap();
    blocker.busy_timeout(Duration::from_secs(10)).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let locked = Instant::now();
    std::thread::sleep(Duration::from_millis(3500));
    blocker.execute_batch("COMMIT").unwrap();
    let released = Instant::now();
    drop(blocker);

    // Pings resume once the writer gets the lock again.
    notify.wait_for(
        "WATCHDOG=1",
        released,
        2,
        Duration::from_secs(10),
        &mut daemon,
    );
    let pings = notify.times("WATCHDOG=1");
    // Ticks go stale after half the interval (0.5 s); pings are judged every 0.25 s.
    let quiet_from = locked + Duration::from_millis(1250);
    let during: Vec<Duration> = pings
        .iter()
        .filter(|t| **t > quiet_from && **t < released)
        .map(|t| t.duration_since(locked))
        .collect();
    assert!(
        during.is_empty(),
        "watchdog pinged while the writer was stalled, at {during:?} after the lock was taken"
    );
    assert!(
        pings.iter().any(|t| *t < locked),
        "no ping before the stall"
    );
    let log = daemon.log();
    assert!(
        log.contains("withholding watchdog pings"),
        "the stall is not logged:\n{log}"
    );
    // And the daemon still works afterwards.
    let polled = server.requests_for("/a.xml").len();
    wait_requests(&server, "/a.xml", polled + 1, &mut daemon);
    assert_eq!(daemon.terminate().code(), Some(0), "log:\n{}", daemon.log());
}

#[test]
fn sighup_reload_polls_a_new_feed_and_applies_a_changed_topic() {
    let server = FeedServer::start();
    server.set(
        "/a.xml",
        Route::feed(rss(&[
            ("a1", "Apples harvest begins"),
            ("a2", "Zeppelin seen over the orchard"),
        ])),
    );
    server.set(
        "/b.xml",
        Route::feed(rss(&[("b1", "A zeppelin lands in town")])),
    );
    let ws = Workspace::new();
    let topic = |query: &str| {
        format!("{EVERY_SECOND}[[topic]]\nname = \"watch\"\nquery = \"{query}\"\nmin_score = 0.1\n")
    };
    ws.write_config(&topic("apples"), &[server.url("/a.xml")]);
    let notify = NotifySocket::bind(ws.dir.path());
    let started = Instant::now();
    let mut daemon = Daemon::start(&ws, Some(&notify), None);
    notify.wait_for("READY=1", started, 1, Duration::from_secs(30), &mut daemon);
    let matches_of = |guid: &str| {
        format!(
            "SELECT count(*) FROM matches m JOIN items i ON i.id = m.item_id \
             WHERE m.topic = 'watch' AND i.dedup_key = 'g:{guid}'"
        )
    };
    wait_count(&ws, &matches_of("a1"), 1, &mut daemon);
    assert_eq!(ws.count(&matches_of("a2")), 0);
    assert!(server.requests_for("/b.xml").is_empty());

    // A feed added and the topic changed, on disk; then SIGHUP.
    ws.write_config(
        &topic("zeppelin"),
        &[server.url("/a.xml"), server.url("/b.xml")],
    );
    daemon.signal(libc::SIGHUP);
    daemon.wait_log("config reloaded", Duration::from_secs(20));
    // The new feed is polled and its item matches the changed topic ...
    wait_requests(&server, "/b.xml", 1, &mut daemon);
    wait_count(&ws, &matches_of("b1"), 1, &mut daemon);
    // ... and the changed topic was re-evaluated on the items already stored.
    wait_count(&ws, &matches_of("a2"), 1, &mut daemon);
    assert_eq!(
        ws.count(&format!("{} AND m.backfill = 1", matches_of("a2"))),
        1,
        "a2 is found by re-evaluating stored items (backfill)"
    );
    // Work goes on: both feeds are still polled.
    let (a, b) = (
        server.requests_for("/a.xml").len(),
        server.requests_for("/b.xml").len(),
    );
    wait_requests(&server, "/a.xml", a + 1, &mut daemon);
    wait_requests(&server, "/b.xml", b + 1, &mut daemon);

    // Removing a feed from the config disables it on the next reload.
    ws.write_config(&topic("zeppelin"), &[server.url("/b.xml")]);
    daemon.signal(libc::SIGHUP);
    wait_count(
        &ws,
        "SELECT count(*) FROM feeds WHERE state = 'disabled'",
        1,
        &mut daemon,
    );
    assert_eq!(daemon.terminate().code(), Some(0), "log:\n{}", daemon.log());
}

#[test]
fn broken_config_on_reload_is_refused_and_polling_goes_on() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(rss(&[("1", "One")])));
    server.set("/b.xml", Route::feed(rss(&[("2", "Two")])));
    let ws = Workspace::new();
    ws.write_config(EVERY_SECOND, &[server.url("/a.xml")]);
    let notify = NotifySocket::bind(ws.dir.path());
    let started = Instant::now();
    let mut daemon = Daemon::start(&ws, Some(&notify), None);
    notify.wait_for("READY=1", started, 1, Duration::from_secs(30), &mut daemon);
    wait_requests(&server, "/a.xml", 1, &mut daemon);

    // A new feed, but also an invalid value: the whole file is refused.
    ws.write_config(
        &format!("{EVERY_SECOND}[extract]\nconcurrency = 0\n"),
        &[server.url("/a.xml"), server.url("/b.xml")],
    );
    let hup = Instant::now();
    daemon.signal(libc::SIGHUP);
    daemon.wait_log("config reload refused", Duration::from_secs(20));
    let log = daemon.log();
    let line = log
        .lines()
        .find(|l| l.contains("config reload refused"))
        .unwrap();
    assert!(
        line.contains("key `extract.concurrency`") && line.contains("tidings.toml"),
        "the error names neither file nor key: {line}"
    );
    // systemd hears about the reload and that the daemon is still ready.
    notify.wait_for("RELOADING=1", hup, 1, Duration::from_secs(10), &mut daemon);
    notify.wait_for("READY=1", hup, 1, Duration::from_secs(10), &mut daemon);
    assert!(
        notify
            .all()
            .iter()
            .any(|l| l.starts_with("STATUS=") && l.contains("refused")),
        "{:?}",
        notify.all()
    );

    // The old config keeps running: the old feed is still polled, the new one never is.
    let polled = server.requests_for("/a.xml").len();
    wait_requests(&server, "/a.xml", polled + 2, &mut daemon);
    assert!(server.requests_for("/b.xml").is_empty());
    assert_eq!(ws.count("SELECT count(*) FROM feeds"), 1);
    assert_eq!(daemon.terminate().code(), Some(0), "log:\n{}", daemon.log());
}

/// Issue 17: secrets are read where they are used, but a reload, like a start, refuses a
/// config naming a secret that cannot be read, and keeps the running config.
#[test]
fn issue_17_reload_refuses_a_config_whose_secret_is_missing() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(rss(&[("1", "One")])));
    let ws = Workspace::new();
    ws.write_config(EVERY_SECOND, &[server.url("/a.xml")]);
    let mut daemon = Daemon::start(&ws, None, None);
    wait_requests(&server, "/a.xml", 1, &mut daemon);
    ws.write_config(
        &format!(
            "{EVERY_SECOND}[[topic]]\nname = \"t\"\nquery = \"one\"\n\
             [[webhook]]\nname = \"ops\"\nurl = \"http://127.0.0.1:9/hook\"\n\
             secret = \"env:TIDINGS_TEST_ISSUE17_RELOAD_UNSET\"\ntopics = [\"t\"]\n"
        ),
        &[server.url("/a.xml")],
    );
    daemon.signal(libc::SIGHUP);
    daemon.wait_log("config reload refused", Duration::from_secs(20));
    let log = daemon.log();
    let line = log
        .lines()
        .find(|l| l.contains("config reload refused"))
        .unwrap();
    assert!(
        line.contains("key `webhook[0].secret`")
            && line.contains("TIDINGS_TEST_ISSUE17_RELOAD_UNSET is not set"),
        "{line}"
    );
    let polled = server.requests_for("/a.xml").len();
    wait_requests(&server, "/a.xml", polled + 1, &mut daemon);
    assert_eq!(daemon.terminate().code(), Some(0), "log:\n{}", daemon.log());
}

#[test]
fn json_log_format_writes_structured_lines() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(rss(&[("1", "One")])));
    let ws = Workspace::new();
    ws.write_config("", &[server.url("/a.xml")]);
    let out = ws
        .command(&["--log-format", "json", "poll", "--all"])
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let refreshed = lines
        .iter()
        .find(|l| l["fields"]["message"] == "feed refreshed")
        .unwrap_or_else(|| panic!("no `feed refreshed` line in:\n{stderr}"));
    assert_eq!(refreshed["level"], "INFO");
    assert!(refreshed["fields"]["feed_id"].is_i64(), "{refreshed}");
    assert_eq!(refreshed["fields"]["url"], server.url("/a.xml"));
    assert_eq!(refreshed["fields"]["new"], 1);
    assert!(refreshed["timestamp"].is_string(), "{refreshed}");
}

#[test]
fn logs_under_journald_have_no_timestamps_or_colours() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(rss(&[("1", "One")])));
    let ws = Workspace::new();
    ws.write_config("", &[server.url("/a.xml")]);
    let out = ws
        .command(&["poll", "--all"])
        .env("RUST_LOG", "info")
        .env("JOURNAL_STREAM", "8:12345")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let line = stderr
        .lines()
        .find(|l| l.contains("feed refreshed"))
        .unwrap_or_else(|| panic!("no `feed refreshed` line in:\n{stderr}"));
    assert!(
        line.trim_start().starts_with("INFO"),
        "a journald line starts with its level: {line}"
    );
    assert!(!stderr.contains('\u{1b}'), "colour codes in: {stderr}");
}

#[test]
fn sigterm_lets_a_refresh_in_flight_commit_within_the_grace() {
    let server = FeedServer::start();
    let body = rss(&[("1", "One"), ("2", "Two"), ("3", "Three")]);
    // About two seconds to send the whole body.
    let chunk = body.len() / 10 + 1;
    server.set(
        "/slow.xml",
        Route {
            behaviour: Behaviour::Slow {
                chunk,
                pause: Duration::from_millis(200),
            },
            ..Route::feed(body)
        },
    );
    let ws = Workspace::new();
    ws.write_config("", &[server.url("/slow.xml")]);
    let notify = NotifySocket::bind(ws.dir.path());
    let started = Instant::now();
    let mut daemon = Daemon::start(&ws, Some(&notify), None);
    notify.wait_for("READY=1", started, 1, Duration::from_secs(30), &mut daemon);
    wait_requests(&server, "/slow.xml", 1, &mut daemon);

    let stop = Instant::now();
    let status = daemon.terminate();
    assert_eq!(status.code(), Some(0), "log:\n{}", daemon.log());
    assert!(
        stop.elapsed() < Duration::from_secs(5),
        "took {:?}",
        stop.elapsed()
    );
    assert_eq!(notify.times("STOPPING=1").len(), 1);
    // The refresh that was running when SIGTERM came finished and committed.
    assert_eq!(
        ws.count("SELECT count(*) FROM items"),
        3,
        "{}",
        daemon.log()
    );
    assert!(daemon.log().contains("in_flight=1"), "{}", daemon.log());
}

#[test]
fn sigterm_abandons_a_refresh_that_outlasts_the_grace_and_exits_zero() {
    let server = FeedServer::start();
    server.set(
        "/endless.xml",
        Route {
            behaviour: Behaviour::Endless,
            ..Route::feed(Vec::new())
        },
    );
    let ws = Workspace::new();
    ws.write_config("", &[server.url("/endless.xml")]);
    let config = std::fs::read_to_string(ws.config_path())
        .unwrap()
        .replace("shutdown_grace = \"5s\"", "shutdown_grace = \"1s\"")
        .replace("timeout = \"5s\"", "timeout = \"60s\"");
    std::fs::write(ws.config_path(), config).unwrap();
    let mut daemon = Daemon::start(&ws, None, None);
    wait_requests(&server, "/endless.xml", 1, &mut daemon);

    let stop = Instant::now();
    let status = daemon.terminate();
    assert_eq!(status.code(), Some(0), "log:\n{}", daemon.log());
    assert!(
        stop.elapsed() < Duration::from_secs(4),
        "a 1 s grace took {:?}",
        stop.elapsed()
    );
    assert!(
        daemon.log().contains("shutdown grace over"),
        "{}",
        daemon.log()
    );
    // Nothing half-written: the database is intact and the feed untouched.
    let integrity: String = ws
        .sql()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    assert_eq!(ws.count("SELECT count(*) FROM items"), 0);
    assert_eq!(
        ws.count("SELECT count(*) FROM feeds WHERE last_polled_at IS NOT NULL"),
        0
    );
}

#[test]
fn sighup_reload_applies_a_changed_default_schedule() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(rss(&[("1", "One")])));
    let ws = Workspace::new();
    // Polled once at start, then not before next New Year.
    ws.write_config(
        "[schedule]\ndefault = \"0 0 1 1 *\"\n",
        &[server.url("/a.xml")],
    );
    let mut daemon = Daemon::start(&ws, None, None);
    wait_requests(&server, "/a.xml", 1, &mut daemon);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(server.requests_for("/a.xml").len(), 1);

    ws.write_config(EVERY_SECOND, &[server.url("/a.xml")]);
    daemon.signal(libc::SIGHUP);
    daemon.wait_log("the default schedule changed", Duration::from_secs(20));
    wait_requests(&server, "/a.xml", 3, &mut daemon);
    assert_eq!(daemon.terminate().code(), Some(0), "log:\n{}", daemon.log());
}
