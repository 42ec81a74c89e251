//! The dispatcher against real servers (issue 16): feeds on one big host and many small ones,
//! polled once (`tidings poll`) and by the daemon (`tidings run`). The global and per-host
//! limits hold, a big host does not hold back the small ones, and a feed polled at once when
//! it is added is not polled again before half a period has passed.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use common::Workspace;

/// What the servers saw: requests in flight now and at most, overall and per host, and every
/// request's host, path and arrival.
#[derive(Default)]
struct Seen {
    in_flight: usize,
    peak: usize,
    per_host: HashMap<usize, usize>,
    peak_per_host: HashMap<usize, usize>,
    log: Vec<(usize, String, Instant)>,
    /// Per host, in arrival order: whether each request asked for `Connection: close`.
    close_asked: HashMap<usize, Vec<bool>>,
}

/// Feed servers on 127.0.0.1, one port (one host for the per-host limit) each, answering
/// every `/f/N.xml` with a small RSS feed after `latency`.
struct Hosts {
    addrs: Vec<SocketAddr>,
    seen: Arc<Mutex<Seen>>,
}

impl Hosts {
    fn start(hosts: usize, latency: Duration) -> Hosts {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (tx, rx) = std::sync::mpsc::channel();
        let server_seen = seen.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let mut addrs = Vec::new();
                for host in 0..hosts {
                    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    addrs.push(listener.local_addr().unwrap());
                    let seen = server_seen.clone();
                    tokio::spawn(async move {
                        loop {
                            let Ok((stream, _)) = listener.accept().await else {
                                continue;
                            };
                            let seen = seen.clone();
                            tokio::spawn(serve(stream, host, latency, seen));
                        }
                    });
                }
                tx.send(addrs).unwrap();
                std::future::pending::<()>().await;
            });
        });
        Hosts {
            addrs: rx.recv().unwrap(),
            seen,
        }
    }

    fn url(&self, host: usize, feed: usize) -> String {
        format!("http://{}/f/{feed}.xml", self.addrs[host])
    }
}

async fn serve(mut stream: TcpStream, host: usize, latency: Duration, seen: Arc<Mutex<Seen>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        // One request head at a time (keep-alive).
        let head_end = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        buf.drain(..head_end);
        let path = head.split(' ').nth(1).unwrap_or("/").to_string();
        {
            let mut s = seen.lock().unwrap();
            s.in_flight += 1;
            s.peak = s.peak.max(s.in_flight);
            let n = s.per_host.entry(host).or_default();
            *n += 1;
            let n = *n;
            let top = s.peak_per_host.entry(host).or_default();
            *top = (*top).max(n);
            s.log.push((host, path.clone(), Instant::now()));
            let close = head
                .lines()
                .any(|l| l.eq_ignore_ascii_case("connection: close"));
            s.close_asked.entry(host).or_default().push(close);
        }
        tokio::time::sleep(latency).await;
        let body = format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Feed {path}</title>\
             <link>http://example.org{path}</link><item><guid>{path}#1</guid><title>Item of {path}</title>\
             <link>http://example.org{path}/1</link><description>Text.</description></item></channel></rss>"
        );
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        {
            // Out of flight once the answer is on its way.
            let mut s = seen.lock().unwrap();
            s.in_flight -= 1;
            *s.per_host.get_mut(&host).unwrap() -= 1;
        }
        if stream.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

const CONCURRENCY: usize = 6;
const PER_HOST: usize = 2;
const BIG: usize = 40;
const SMALL: usize = 12;

/// A workspace polling `BIG` feeds on host 0 (listed first) and one feed on each of `SMALL`
/// other hosts, every ten seconds.
fn setup(hosts: &Hosts) -> (Workspace, Vec<String>) {
    let ws = Workspace::new();
    let mut urls: Vec<String> = (0..BIG).map(|i| hosts.url(0, i)).collect();
    urls.extend((1..=SMALL).map(|h| hosts.url(h, 1000 + h)));
    ws.write_config("[schedule]\ndefault = \"*/10 * * * * *\"\n", &urls);
    let config = std::fs::read_to_string(ws.config_path())
        .unwrap()
        .replace("concurrency = 16", &format!("concurrency = {CONCURRENCY}"))
        .replace("per_host = 4", &format!("per_host = {PER_HOST}"));
    std::fs::write(ws.config_path(), config).unwrap();
    (ws, urls)
}

/// The limits held and every small host was served before the big host's eighth request
/// (with the big host listed first, a dispatcher that went down the list would have served
/// the small hosts last).
fn check_limits_and_fairness(hosts: &Hosts) {
    let seen = hosts.seen.lock().unwrap();
    assert!(
        seen.peak <= CONCURRENCY,
        "{} requests at once, limit {CONCURRENCY}",
        seen.peak
    );
    for (host, peak) in &seen.peak_per_host {
        assert!(
            *peak <= PER_HOST,
            "host {host}: {peak} requests at once, limit {PER_HOST}"
        );
    }
    assert_eq!(
        seen.peak_per_host[&0], PER_HOST,
        "the big host used its slots"
    );
    let big_eighth = seen
        .log
        .iter()
        .enumerate()
        .filter(|(_, (host, _, _))| *host == 0)
        .nth(7)
        .map(|(i, _)| i)
        .unwrap();
    for small in 1..=SMALL {
        let first = seen.log.iter().position(|(host, _, _)| *host == small);
        assert!(
            first.is_some_and(|i| i < big_eighth),
            "small host {small} first served at request {first:?}, the big host's eighth was request {big_eighth}"
        );
    }
}

#[test]
fn a_poll_keeps_the_limits_serves_small_hosts_beside_a_big_one_and_plans_the_next_poll_half_a_period_on()
 {
    let hosts = Hosts::start(1 + SMALL, Duration::from_millis(150));
    let (ws, urls) = setup(&hosts);
    let out = ws.run_ok(&["poll"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("{} feeds polled", urls.len())),
        "{stdout}"
    );
    assert_eq!(hosts.seen.lock().unwrap().log.len(), urls.len());
    check_limits_and_fairness(&hosts);
    // A request that leaves nothing queued for its host closes its connection instead of
    // keeping it idle: every small host's one request, and some of the big host's (when its
    // queue ran empty), never its first (more of its feeds were waiting behind it).
    {
        let seen = hosts.seen.lock().unwrap();
        let big = &seen.close_asked[&0];
        assert!(
            big.first() == Some(&false) && big.contains(&true),
            "the big host's requests asked for close: {big:?}"
        );
        for small in 1..=SMALL {
            assert_eq!(seen.close_asked[&small], [true], "small host {small}");
        }
    }
    // Issue 16: each feed's next poll is at least half a period (5 s) after this one, though
    // some feeds' slots came seconds after it.
    let gaps: Vec<(String, i64)> = ws
        .sql()
        .prepare("SELECT url, next_poll_at - last_polled_at FROM feeds")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(gaps.len(), urls.len());
    for (url, gap) in gaps {
        assert!(
            (5..=15).contains(&gap),
            "{url}: next poll {gap} s after the last"
        );
    }
}

#[test]
fn the_daemon_keeps_the_limits_and_does_not_poll_a_feed_twice_in_a_row_after_starting() {
    let hosts = Hosts::start(1 + SMALL, Duration::from_millis(100));
    let (ws, urls) = setup(&hosts);
    let started = Instant::now();
    let daemon = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .arg("--config")
        .arg(ws.config_path())
        .arg("run")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first round (every feed at once) and more than a period of the schedule after it.
    std::thread::sleep(Duration::from_secs(16));
    unsafe {
        libc::kill(daemon.id() as i32, libc::SIGTERM);
    }
    let out = daemon.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_limits_and_fairness(&hosts);
    let seen = hosts.seen.lock().unwrap();
    let mut polls: HashMap<&str, Vec<Instant>> = HashMap::new();
    for (_, path, at) in &seen.log {
        polls.entry(path.as_str()).or_default().push(*at);
    }
    assert_eq!(polls.len(), urls.len(), "every feed polled");
    let again = polls.values().filter(|times| times.len() > 1).count();
    assert!(
        again > urls.len() / 2,
        "only {again} feeds were polled a second time in 16 s"
    );
    for (path, times) in &polls {
        for pair in times.windows(2) {
            let gap = pair[1] - pair[0];
            // Half the 10-second period, less the time a poll takes between its request and
            // the moment its next poll is planned.
            assert!(
                gap >= Duration::from_millis(4500),
                "{path} polled twice {gap:?} apart (at {:?} and {:?} after start)",
                pair[0] - started,
                pair[1] - started
            );
        }
    }
}
