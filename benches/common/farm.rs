//! A feed farm for benchmarks: serves N feeds built from `feeds-corpus/` (unique item ids per
//! copy) over HTTP/1.1 keep-alive from listeners on many loopback addresses (127.0.x.y, so
//! per-host limits act as on the internet), with ETag/304, optional latency, a share of
//! errors (500, 429 with Retry-After, no answer at all) and new items on demand. Feeds are
//! spread over the hosts round-robin, or in host sizes like a real subscription list (`Zipf`).
//! Runs on 127.0.0.0/8 only and stops when dropped.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How the feeds are spread over the hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Feed i on host i mod `hosts` (`hosts = 1`: every feed on one host).
    RoundRobin,
    /// Host sizes like a real subscription list: the r-th largest host has about C/r feeds
    /// (Zipf's law), C set so the smallest hosts have one feed each; a few hosts carry
    /// hundreds of feeds (a video site, a code forge, a blog platform, one newspaper's
    /// sections) and most carry one. Each host's feeds come one after another in the list,
    /// as in an import. `hosts` is ignored.
    Zipf,
}

/// The layouts the benchmarks name, with their options for `feeds` feeds: `spread` (500
/// hosts, round-robin), `zipf` (see [`Layout::Zipf`]) and `one-host`.
pub fn named_layout(name: &str, feeds: usize) -> Option<FarmOptions> {
    let (hosts, layout) = match name {
        "spread" => (500.min(feeds.max(1)), Layout::RoundRobin),
        "zipf" => (0, Layout::Zipf),
        "one-host" => (1, Layout::RoundRobin),
        _ => return None,
    };
    Some(FarmOptions {
        feeds,
        hosts,
        layout,
        ..FarmOptions::default()
    })
}

/// How the farm behaves.
#[derive(Clone, Debug)]
pub struct FarmOptions {
    pub feeds: usize,
    pub hosts: usize,
    pub layout: Layout,
    /// Added to every answer.
    pub latency: Duration,
    /// Per mille of requests answered 500 (and another share 429 with Retry-After).
    pub errors_per_mille: u32,
    /// Per mille of requests never answered: the connection stays open and silent until the
    /// client gives up.
    pub timeouts_per_mille: u32,
    /// Keep a log of (feed index, when) for every feed request (see `Farm::request_log`).
    pub log_requests: bool,
    /// Remove RSS `<ttl>` from the feeds, so every feed follows the schedule alone.
    pub strip_ttl: bool,
}

impl Default for FarmOptions {
    fn default() -> Self {
        FarmOptions {
            feeds: 1000,
            hosts: 500,
            layout: Layout::RoundRobin,
            latency: Duration::ZERO,
            errors_per_mille: 0,
            timeouts_per_mille: 0,
            log_requests: false,
            strip_ttl: false,
        }
    }
}

struct Feed {
    /// The body at each version; version 0 is the corpus copy, later ones add one new item.
    body: RwLock<Arc<Vec<u8>>>,
    version: AtomicU64,
}

struct Shared {
    feeds: Vec<Feed>,
    options: FarmOptions,
    requests: AtomicUsize,
    bytes: AtomicU64,
    stop: AtomicBool,
    /// With `log_requests`: (feed index, when the request arrived).
    log: std::sync::Mutex<Vec<(usize, std::time::Instant)>>,
}

pub struct Farm {
    pub addrs: Vec<SocketAddr>,
    /// The host (index into `addrs`) of each feed.
    host_of_feed: Vec<usize>,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Farm {
    /// Builds the feeds from the corpus and starts the listeners on their own runtime.
    pub fn start(corpus: &Path, options: FarmOptions) -> Farm {
        let feeds = corpus_copies(corpus, options.feeds)
            .into_iter()
            .map(|body| Feed {
                body: RwLock::new(Arc::new(if options.strip_ttl {
                    without_ttl(body)
                } else {
                    body
                })),
                version: AtomicU64::new(0),
            })
            .collect();
        let shared = Arc::new(Shared {
            feeds,
            options: options.clone(),
            requests: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            log: std::sync::Mutex::new(Vec::new()),
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let host_of_feed = match options.layout {
            Layout::RoundRobin => (0..options.feeds)
                .map(|i| i % options.hosts.max(1))
                .collect(),
            Layout::Zipf => zipf_sizes(options.feeds)
                .into_iter()
                .enumerate()
                .flat_map(|(host, size)| std::iter::repeat_n(host, size))
                .collect::<Vec<usize>>(),
        };
        let hosts = host_of_feed.iter().max().map_or(1, |h| h + 1);
        let mut addrs = Vec::new();
        for h in 0..hosts {
            let ip = format!("127.0.{}.{}", 1 + h / 250, 1 + h % 250);
            let listener = runtime
                .block_on(TcpListener::bind(format!("{ip}:0")))
                .unwrap();
            addrs.push(listener.local_addr().unwrap());
            let shared = shared.clone();
            runtime.spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        let _ = serve(stream, shared).await;
                    });
                }
            });
        }
        Farm {
            addrs,
            host_of_feed,
            shared,
            runtime: Some(runtime),
        }
    }

    /// The URL of feed `i`.
    pub fn url(&self, i: usize) -> String {
        format!("http://{}/f/{i}.xml", self.addrs[self.host_of_feed[i]])
    }

    /// How many feeds each host serves, largest first.
    pub fn host_sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.addrs.len()];
        for &h in &self.host_of_feed {
            sizes[h] += 1;
        }
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        sizes
    }

    pub fn urls(&self) -> Vec<String> {
        (0..self.shared.feeds.len()).map(|i| self.url(i)).collect()
    }

    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Every feed request so far as (feed index, arrival), with `log_requests` on.
    pub fn request_log(&self) -> Vec<(usize, std::time::Instant)> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Gives `share` of the feeds (spread evenly) one new item each.
    pub fn add_new_items(&self, share: f64) {
        let every = (1.0 / share).round().max(1.0) as usize;
        for (i, feed) in self
            .shared
            .feeds
            .iter()
            .enumerate()
            .filter(|(i, _)| i % every == 0)
        {
            let version = feed.version.fetch_add(1, Ordering::Relaxed) + 1;
            let mut body = feed.body.write().unwrap();
            *body = Arc::new(with_new_item(&body, i, version));
        }
    }
}

impl Drop for Farm {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Host sizes for `feeds` feeds under Zipf's law, largest first, summing to `feeds`: host r
/// (from 1) gets about C/r feeds, with as many hosts H as make the smallest get one
/// (H·ln H ≈ feeds). 1,000 feeds: 191 hosts, the largest with 177 feeds, 77 with one;
/// 10,000 feeds: 1,383 hosts, the largest with 1,328, 530 with one.
pub fn zipf_sizes(feeds: usize) -> Vec<usize> {
    if feeds == 0 {
        return Vec::new();
    }
    let mut hosts = 1usize;
    while (hosts as f64) * (hosts as f64).ln().max(1.0) < feeds as f64 {
        hosts += 1;
    }
    let harmonic: f64 = (1..=hosts).map(|r| 1.0 / r as f64).sum();
    let mut sizes: Vec<usize> = (1..=hosts)
        .map(|r| ((feeds as f64 / harmonic / r as f64).round() as usize).max(1))
        .collect();
    // Rounding leaves the total off by a little: the largest host takes the difference.
    let total: usize = sizes.iter().sum();
    sizes[0] = (sizes[0] + feeds).saturating_sub(total).max(1);
    sizes
}

/// The bodies a farm of `feeds` feeds starts with: copies of the corpus feeds in turn, each
/// with item ids of its own.
pub fn corpus_copies(corpus: &Path, feeds: usize) -> Vec<Vec<u8>> {
    let sources = corpus_feeds(corpus);
    assert!(
        !sources.is_empty(),
        "no corpus feeds under {}",
        corpus.display()
    );
    (0..feeds)
        .map(|i| unique_ids(&sources[i % sources.len()], i))
        .collect()
}

/// Corpus feeds that are plain XML with at least one item.
fn corpus_feeds(corpus: &Path) -> Vec<Vec<u8>> {
    let manifest = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    manifest
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let (path, entries, bozo) = (
                cols[0],
                cols[3].parse::<usize>().unwrap_or(0),
                cols[5] == "1",
            );
            (!path.ends_with(".gz")
                && !path.ends_with(".opml")
                && !path.ends_with(".json")
                && entries > 0
                && !bozo)
                .then(|| std::fs::read(corpus.join(path)).ok())
                .flatten()
        })
        .collect()
}

/// Makes guids and Atom ids unique to copy `i`.
fn unique_ids(body: &[u8], i: usize) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    text.replace("<guid>", &format!("<guid>c{i}-"))
        .replace(
            "<guid isPermaLink=\"false\">",
            &format!("<guid isPermaLink=\"false\">c{i}-"),
        )
        .replace(
            "<guid isPermaLink=\"true\">",
            &format!("<guid isPermaLink=\"false\">c{i}-"),
        )
        .replace("<id>", &format!("<id>c{i}-"))
        .into_bytes()
}

/// The feed without its `<ttl>` elements.
fn without_ttl(body: Vec<u8>) -> Vec<u8> {
    let mut text = String::from_utf8_lossy(&body).into_owned();
    while let Some(start) = text.find("<ttl>") {
        match text[start..].find("</ttl>") {
            Some(end) => text.replace_range(start..start + end + "</ttl>".len(), ""),
            None => break,
        }
    }
    text.into_bytes()
}

/// Inserts one new item at the top of an RSS channel or Atom feed.
fn with_new_item(body: &[u8], i: usize, version: u64) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    let rss_item = format!(
        "<item><guid>new-{i}-{version}</guid><title>New item {version} of feed {i}</title><link>http://example.org/{i}/{version}</link><description>Fresh text</description></item>"
    );
    let atom_entry = format!(
        "<entry><id>new-{i}-{version}</id><title>New entry {version} of feed {i}</title><link href=\"http://example.org/{i}/{version}\"/><updated>2026-01-01T00:00:00Z</updated></entry>"
    );
    if let Some(pos) = text.find("<item") {
        format!("{}{}{}", &text[..pos], rss_item, &text[pos..]).into_bytes()
    } else if let Some(pos) = text.find("<entry") {
        format!("{}{}{}", &text[..pos], atom_entry, &text[pos..]).into_bytes()
    } else {
        body.to_vec()
    }
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 || shared.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let path = line.split(' ').nth(1).unwrap_or("/").to_string();
        let mut if_none_match = None;
        loop {
            line.clear();
            if reader.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':')
                && k.eq_ignore_ascii_case("if-none-match")
            {
                if_none_match = Some(v.trim().to_string());
            }
        }
        let n = shared.requests.fetch_add(1, Ordering::Relaxed);
        if !shared.options.latency.is_zero() {
            tokio::time::sleep(shared.options.latency).await;
        }
        let index: Option<usize> = path
            .strip_prefix("/f/")
            .and_then(|p| p.strip_suffix(".xml"))
            .and_then(|p| p.parse().ok());
        if shared.options.log_requests
            && let Some(i) = index.filter(|i| *i < shared.feeds.len())
        {
            shared
                .log
                .lock()
                .unwrap()
                .push((i, std::time::Instant::now()));
        }
        let Some(feed) = index.and_then(|i| shared.feeds.get(i)) else {
            write
                .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .await?;
            continue;
        };
        // Each request gets a slot in 0..1000; 7919 is prime to 1000, so every thousand
        // requests fill every slot once and the failures are spread out, not bunched.
        let slot = n.wrapping_mul(7919) % 1000;
        let errors = shared.options.errors_per_mille as usize;
        let timeouts = shared.options.timeouts_per_mille as usize;
        if slot < errors {
            write
                .write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
                .await?;
            continue;
        }
        if slot < 2 * errors {
            write.write_all(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 60\r\nContent-Length: 0\r\n\r\n").await?;
            continue;
        }
        if slot < 2 * errors + timeouts {
            // Silent until the client closes the connection (or sends anything more).
            let _ = reader.read_line(&mut line).await;
            return Ok(());
        }
        let etag = format!("\"v{}\"", feed.version.load(Ordering::Relaxed));
        if if_none_match.as_deref() == Some(etag.as_str()) {
            let head =
                format!("HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nContent-Length: 0\r\n\r\n");
            write.write_all(head.as_bytes()).await?;
            continue;
        }
        let body = feed.body.read().unwrap().clone();
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nETag: {etag}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        write.write_all(head.as_bytes()).await?;
        write.write_all(&body).await?;
        shared.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
    }
}
