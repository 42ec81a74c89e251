//! Scale benchmark (issues 8 and 16): feed farms of 1,000 and 10,000 feeds in three layouts
//! (`spread`: 500 hosts; `zipf`: host sizes like a real subscription list, a few hosts with
//! hundreds of feeds and a long tail of one; `one-host`), polled by the release `tidings`
//! binary with the shipped example config (its `nk-russia` topic on, extraction off; a cold
//! poll with no topic beside it) and, side by side on the same farm in the same run, by
//! newsboat if it is installed. Prints one table of medians: cold poll (everything new), warm
//! poll (everything 304), steady state (5% of the feeds with one new item), CPU per 1,000
//! feeds, and tidings' CPU as a share of newsboat's. Then a 100 ms latency run against the
//! bound set by the fetch limits, and an errors run. Beside newsboat's cold poll, it measures
//! in-process what two parts the stack prescribes cost alone on the same 1,000 bodies
//! (feed-rs parsing, FTS5 indexing of the items' text), as shares of newsboat's CPU: the floor
//! under the cold-poll ratio.
//!
//! Run: `cargo bench --bench scale`. Environment:
//! - `TIDINGS_BENCH_LAYOUTS` farm layouts, comma-separated (default `spread,zipf,one-host`)
//! - `TIDINGS_BENCH_FEEDS` feed counts, comma-separated (default `1000,10000`)
//! - `TIDINGS_BENCH_RUNS` runs per figure, the median is printed (default 3)
//! - `TIDINGS_BENCH_NO_TOPICS` feed counts with a cold poll without the topic beside
//!   (default `1000`; empty skips it)
//! - `TIDINGS_BENCH_NEWSBOAT` feed counts newsboat is run on (default `1000`; empty skips it)
//! - `TIDINGS_BENCH_NEWSBOAT_THREADS` newsboat's `reload-threads` settings (default `2`)
//! - `TIDINGS_BENCH_NEWSBOAT_WARM` `1` also runs newsboat's warm and steady polls (slow:
//!   about 28 s of CPU each at 1,000 feeds)
//! - `TIDINGS_BENCH_LATENCY_FEEDS` feeds for the latency run (default 10000; 0 skips it)
//! - `TIDINGS_BENCH_ERRORS_FEEDS` feeds for the errors run (default 1000; 0 skips it): a cold
//!   poll of a clean farm beside one where 2% of answers are 500, 2% are 429 and 1% are never
//!   answered
//! - `TIDINGS_BENCH_BIN` another `tidings` binary to measure (e.g. a build from before a change)
//! - `TIDINGS_BENCH_AB=1` measures only cold polls of A (the binary above) against B
//!   (`TIDINGS_BENCH_BIN_B`, else the same binary) on a database prepared with
//!   `TIDINGS_BENCH_SQL_B` (SQL run after the migrations), in turn on the same farm
//!   (`TIDINGS_BENCH_AB_NO_TOPICS=1`: without the topic), with a newsboat cold poll in each
//!   round when its feed count is in `TIDINGS_BENCH_NEWSBOAT`
//! - `TIDINGS_BENCH_WRAP` a command prefix for the cold polls, e.g.
//!   `valgrind --tool=callgrind --callgrind-out-file=/tmp/cold.%p --`

#[path = "common/farm.rs"]
mod farm;
#[path = "common/measure.rs"]
mod measure;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use farm::{Farm, FarmOptions, named_layout};
use measure::{Cost, median, print_table, run_measured};

const HOSTS: usize = 500;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn env_list(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect()
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/feeds-corpus")
}

/// The shipped example config without its internet feeds, and without its aliases and topic
/// unless `topics`.
fn example_config(topics: bool) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/tidings.example.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut text = text[..text.find("\n[[feed]]").expect("the example has feeds")].to_string();
    if !topics {
        text.truncate(text.find("\n[aliases]").expect("the example has aliases"));
    }
    text
}

/// A tidings setup: database and config in a fresh directory.
struct Tidings {
    _dir: tempfile::TempDir,
    config: PathBuf,
    db: PathBuf,
}

impl Tidings {
    /// The farm's feeds (extraction off) with `settings` after the database line.
    fn new(farm: &Farm, settings: &str) -> Tidings {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("bench.db");
        let config = dir.path().join("bench.toml");
        let mut text = format!("database = \"{}\"\n{settings}\n", db.display());
        for url in farm.urls() {
            text.push_str(&format!("[[feed]]\nurl = \"{url}\"\nextract = false\n"));
        }
        std::fs::write(&config, text).unwrap();
        Tidings {
            _dir: dir,
            config,
            db,
        }
    }

    /// The shipped example config on the farm's feeds, its topic on or off.
    fn example(farm: &Farm, topics: bool) -> Tidings {
        Tidings::new(farm, &example_config(topics))
    }

    fn poll(&self, all: bool) -> Cost {
        self.poll_with(&binary(), all)
    }

    /// Runs `tidings poll` of `binary` on this setup's config.
    fn poll_with(&self, binary: &str, all: bool) -> Cost {
        // TIDINGS_BENCH_WRAP runs the cold poll under a tool (e.g. `perf record -g -o cold.data --`).
        let wrap = match all {
            false => std::env::var("TIDINGS_BENCH_WRAP").unwrap_or_default(),
            true => String::new(),
        };
        let mut words = wrap.split_whitespace();
        let mut cmd = match words.next() {
            Some(tool) => {
                let mut cmd = Command::new(tool);
                cmd.args(words).arg(binary);
                cmd
            }
            None => Command::new(binary),
        };
        cmd.arg("--config")
            .arg(&self.config)
            .arg("poll")
            .arg("--no-extract")
            .env("RUST_LOG", "warn");
        if all {
            cmd.arg("--all");
        }
        run_measured(&mut cmd)
    }

    /// Creates the database with `binary` (its migrations, the config's feeds) and runs `sql`
    /// on it: a variant of the schema or settings to measure without a build.
    fn prepare(&self, binary: &str, sql: &str) {
        let out = Command::new(binary)
            .arg("--config")
            .arg(&self.config)
            .arg("status")
            .arg("--json")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        conn.execute_batch(sql).unwrap();
    }

    fn items(&self) -> i64 {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        conn.query_row("SELECT count(*) FROM items", [], |r| r.get(0))
            .unwrap()
    }

    /// Feeds whose last refresh failed.
    fn feeds_in_error(&self) -> i64 {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        conn.query_row(
            "SELECT count(*) FROM feeds WHERE consecutive_errors > 0",
            [],
            |r| r.get(0),
        )
        .unwrap()
    }

    /// The database's size once its WAL is folded in.
    fn db_bytes(&self) -> u64 {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
        std::fs::metadata(&self.db).map(|m| m.len()).unwrap_or(0)
    }
}

/// The `tidings` binary measured: `TIDINGS_BENCH_BIN`, else the one built with the bench.
fn binary() -> String {
    std::env::var("TIDINGS_BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_tidings").into())
}

/// A/B run (`TIDINGS_BENCH_AB=1`): cold polls of A (`TIDINGS_BENCH_BIN` or the built binary)
/// and B (`TIDINGS_BENCH_BIN_B`, else the same binary, on a database prepared with
/// `TIDINGS_BENCH_SQL_B`), in turn on one farm per layout and count, `runs` times each;
/// prints the medians and the median of the per-pair ratios B/A. When newsboat is installed and
/// `feeds` is in `TIDINGS_BENCH_NEWSBOAT`, each round also runs a newsboat cold poll (the first
/// of `TIDINGS_BENCH_NEWSBOAT_THREADS`) and both are given as ratios to its median CPU.
fn ab_run(layouts: &[String], counts: &[usize], runs: usize) {
    let a = binary();
    let b = std::env::var("TIDINGS_BENCH_BIN_B").unwrap_or_else(|_| a.clone());
    let sql_b = std::env::var("TIDINGS_BENCH_SQL_B").unwrap_or_default();
    let topics = !std::env::var("TIDINGS_BENCH_AB_NO_TOPICS").is_ok_and(|v| v == "1");
    let newsboat_counts = if Newsboat::available() {
        env_list("TIDINGS_BENCH_NEWSBOAT", "1000")
    } else {
        Vec::new()
    };
    let newsboat_threads = env_list("TIDINGS_BENCH_NEWSBOAT_THREADS", "2")
        .first()
        .copied()
        .unwrap_or(2);
    let mut rows = Vec::new();
    for layout in layouts {
        for &feeds in counts {
            let farm = Farm::start(&corpus(), named_layout(layout, feeds).unwrap());
            let (mut ca, mut cb, mut pairs) = (Vec::new(), Vec::new(), Vec::new());
            let mut cn = Vec::new();
            for _ in 0..runs {
                if newsboat_counts.contains(&feeds) {
                    cn.push(Newsboat::new(&farm, newsboat_threads).reload());
                }
                let ta = Tidings::example(&farm, topics);
                let tb = Tidings::example(&farm, topics);
                if !sql_b.is_empty() {
                    tb.prepare(&b, &sql_b);
                }
                let x = ta.poll_with(&a, false);
                let y = tb.poll_with(&b, false);
                assert_eq!(ta.items(), tb.items(), "A and B stored different items");
                if let Ok(dir) = std::env::var("TIDINGS_BENCH_KEEP_DB") {
                    // Folded (WAL checkpointed) copies of both databases, for a look inside.
                    for (name, t) in [("a", &ta), ("b", &tb)] {
                        t.db_bytes();
                        std::fs::copy(&t.db, Path::new(&dir).join(format!("{name}.db"))).unwrap();
                    }
                }
                pairs.push(cpu(&y) / cpu(&x));
                ca.push(x);
                cb.push(y);
            }
            let newsboat_cpu = med(&cn, cpu);
            // (a dash when newsboat did not run)
            let shown = |value: String| {
                if cn.is_empty() {
                    "-".to_string()
                } else {
                    value
                }
            };
            let of_newsboat =
                |costs: &[Cost]| shown(format!("{:.3}", med(costs, cpu) / newsboat_cpu));
            rows.push(vec![
                layout.clone(),
                feeds.to_string(),
                format!("{:.2}", med(&ca, cpu)),
                format!("{:.2}", med(&cb, cpu)),
                format!("{:.3}", median(pairs)),
                shown(format!("{newsboat_cpu:.2}")),
                of_newsboat(&ca),
                of_newsboat(&cb),
                format!("{:.2}", med(&ca, wall)),
                format!("{:.2}", med(&cb, wall)),
                format!("{:.1}", med(&ca, |c| c.peak_rss_kib as f64) / 1024.0),
                format!("{:.1}", med(&cb, |c| c.peak_rss_kib as f64) / 1024.0),
            ]);
        }
    }
    println!(
        "A/B cold polls, median of {runs} pairs (topic {}): A = {a}; B = {b}{}",
        if topics { "on" } else { "off" },
        if sql_b.is_empty() {
            String::new()
        } else {
            format!(" with `{sql_b}`")
        }
    );
    print_table(
        &[
            "layout",
            "feeds",
            "A cpu s",
            "B cpu s",
            "B/A (pairs)",
            format!("newsboat ({newsboat_threads} thr) cpu s").as_str(),
            "A/newsboat",
            "B/newsboat",
            "A wall s",
            "B wall s",
            "A MiB",
            "B MiB",
        ],
        &rows,
    );
}

/// A newsboat setup: its urls file, cache and config in a fresh directory.
struct Newsboat {
    dir: tempfile::TempDir,
}

impl Newsboat {
    fn available() -> bool {
        Command::new("newsboat")
            .arg("-v")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn new(farm: &Farm, threads: usize) -> Newsboat {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("urls"), farm.urls().join("\n") + "\n").unwrap();
        std::fs::write(
            dir.path().join("config"),
            format!("reload-threads {threads}\nshow-read-feeds yes\n"),
        )
        .unwrap();
        Newsboat { dir }
    }

    fn reload(&self) -> Cost {
        let d = self.dir.path();
        let mut cmd = Command::new("newsboat");
        cmd.arg("-u")
            .arg(d.join("urls"))
            .arg("-c")
            .arg(d.join("cache.db"))
            .arg("-C")
            .arg(d.join("config"))
            .arg("-x")
            .arg("reload")
            .env("HOME", d)
            .env("XDG_CONFIG_HOME", d.join("xdg-config"))
            .env("XDG_DATA_HOME", d.join("xdg-data"))
            .stderr(std::process::Stdio::null());
        run_measured(&mut cmd)
    }

    fn items(&self) -> i64 {
        let conn = rusqlite::Connection::open(self.dir.path().join("cache.db")).unwrap();
        conn.query_row("SELECT count(*) FROM rss_item", [], |r| r.get(0))
            .unwrap_or(-1)
    }
}

/// One client's costs for one layout and size, over the runs.
#[derive(Default)]
struct Figures {
    cold: Vec<Cost>,
    warm: Vec<Cost>,
    steady: Vec<Cost>,
    items: Vec<f64>,
    new_items: Vec<f64>,
    db_bytes: Vec<f64>,
}

fn med<T>(xs: &[T], f: impl Fn(&T) -> f64) -> f64 {
    median(xs.iter().map(f).collect())
}

fn cpu(c: &Cost) -> f64 {
    c.cpu.as_secs_f64()
}

fn wall(c: &Cost) -> f64 {
    c.wall.as_secs_f64()
}

/// The rows of the main table for one client's figures (polls it has no runs of are left out).
fn client_rows(layout: &str, who: &str, feeds: usize, f: &Figures) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for (name, costs, items) in [
        ("cold", &f.cold, med(&f.items, |x| *x)),
        ("warm (304)", &f.warm, 0.0),
        ("steady 5%", &f.steady, med(&f.new_items, |x| *x)),
    ] {
        if costs.is_empty() {
            continue;
        }
        let (wall_s, cpu_s) = (med(costs, wall), med(costs, cpu));
        rows.push(vec![
            layout.to_string(),
            who.to_string(),
            name.to_string(),
            feeds.to_string(),
            format!("{items:.0}"),
            format!("{wall_s:.2}"),
            format!("{cpu_s:.2}"),
            format!("{:.3}", cpu_s * 1000.0 / feeds as f64),
            if items > 0.0 {
                format!("{:.0}", items / wall_s)
            } else {
                "-".into()
            },
            format!("{:.1}", med(costs, |c| c.peak_rss_kib as f64) / 1024.0),
            if name == "cold" && !f.db_bytes.is_empty() {
                format!("{:.1}", med(&f.db_bytes, |x| *x) / 1048576.0)
            } else {
                "-".into()
            },
        ]);
    }
    rows
}

/// "191 hosts: 177, 86, 57, … feeds; 77 with one".
fn describe_hosts(sizes: &[usize]) -> String {
    let top: Vec<String> = sizes.iter().take(3).map(|n| n.to_string()).collect();
    format!(
        "{} hosts, the largest with {} feeds, {} with one",
        sizes.len(),
        top.join(", "),
        sizes.iter().filter(|&&n| n == 1).count()
    )
}

fn main() {
    let layouts: Vec<String> = std::env::var("TIDINGS_BENCH_LAYOUTS")
        .unwrap_or_else(|_| "spread,zipf,one-host".into())
        .split(',')
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let counts = env_list("TIDINGS_BENCH_FEEDS", "1000,10000");
    let runs = env_usize("TIDINGS_BENCH_RUNS", 3);
    let latency_feeds = env_usize("TIDINGS_BENCH_LATENCY_FEEDS", 10000);
    let no_topic_counts = env_list("TIDINGS_BENCH_NO_TOPICS", "1000");
    let newsboat_counts = env_list("TIDINGS_BENCH_NEWSBOAT", "1000");
    let newsboat_threads = env_list("TIDINGS_BENCH_NEWSBOAT_THREADS", "2");
    let newsboat_warm = std::env::var("TIDINGS_BENCH_NEWSBOAT_WARM").is_ok_and(|v| v == "1");
    if std::env::var("TIDINGS_BENCH_AB").is_ok_and(|v| v == "1") {
        ab_run(&layouts, &counts, runs);
        return;
    }
    let newsboat = Newsboat::available();
    if !newsboat {
        println!("newsboat is not installed: its columns are skipped");
    }

    let mut rows = Vec::new();
    let mut ratio_rows = Vec::new();
    let mut linear_rows = Vec::new();
    let mut host_lines = Vec::new();
    // (layout, feeds, threads, newsboat's median cold CPU)
    let mut newsboat_cold: Vec<(String, usize, usize, f64)> = Vec::new();
    for layout in &layouts {
        let mut per_feed_cpu: Vec<(usize, f64)> = Vec::new();
        for &feeds in &counts {
            let options = named_layout(layout, feeds).unwrap_or_else(|| {
                panic!("unknown farm layout `{layout}` in TIDINGS_BENCH_LAYOUTS")
            });
            let mut topic = Figures::default();
            let mut bare = Figures::default();
            let with_newsboat = newsboat && newsboat_counts.contains(&feeds);
            let mut nb: Vec<(usize, Figures)> = newsboat_threads
                .iter()
                .map(|&threads| (threads, Figures::default()))
                .collect();
            for _ in 0..runs {
                // A fresh farm per run: steady state adds items to it.
                let farm = Farm::start(&corpus(), options.clone());
                if host_lines.len() < layouts.len() * counts.len()
                    && !host_lines
                        .iter()
                        .any(|(l, n, _)| l == layout && *n == feeds)
                {
                    host_lines.push((layout.clone(), feeds, describe_hosts(&farm.host_sizes())));
                }
                let tidings = Tidings::example(&farm, true);
                topic.cold.push(tidings.poll(false));
                topic.items.push(tidings.items() as f64);
                topic.db_bytes.push(tidings.db_bytes() as f64);
                topic.warm.push(tidings.poll(true));
                if no_topic_counts.contains(&feeds) {
                    let plain = Tidings::example(&farm, false);
                    bare.cold.push(plain.poll(false));
                    bare.items.push(plain.items() as f64);
                    bare.db_bytes.push(plain.db_bytes() as f64);
                }
                let mut boats = Vec::new();
                if with_newsboat {
                    for (k, (threads, figures)) in nb.iter_mut().enumerate() {
                        let boat = Newsboat::new(&farm, *threads);
                        figures.cold.push(boat.reload());
                        figures.items.push(boat.items() as f64);
                        if newsboat_warm {
                            figures.warm.push(boat.reload());
                            boats.push((k, boat));
                        }
                    }
                }
                farm.add_new_items(0.05);
                let before = tidings.items();
                topic.steady.push(tidings.poll(true));
                topic.new_items.push((tidings.items() - before) as f64);
                for (k, boat) in boats {
                    let before = boat.items();
                    nb[k].1.steady.push(boat.reload());
                    nb[k].1.new_items.push((boat.items() - before) as f64);
                }
            }
            per_feed_cpu.push((feeds, med(&topic.cold, cpu) / feeds as f64));
            rows.extend(client_rows(layout, "tidings", feeds, &topic));
            rows.extend(client_rows(layout, "tidings, no topic", feeds, &bare));
            if !with_newsboat {
                continue;
            }
            for (threads, f) in &nb {
                rows.extend(client_rows(
                    layout,
                    &format!("newsboat ({threads} thr)"),
                    feeds,
                    f,
                ));
                newsboat_cold.push((layout.clone(), feeds, *threads, med(&f.cold, cpu)));
                let ratio = |ours: &[Cost], g: fn(&Cost) -> f64, theirs: &[Cost]| {
                    if ours.is_empty() || theirs.is_empty() {
                        "-".to_string()
                    } else {
                        format!("{:.3}", med(ours, g) / med(theirs, g))
                    }
                };
                ratio_rows.push(vec![
                    layout.clone(),
                    feeds.to_string(),
                    format!("newsboat ({threads} thr)"),
                    ratio(&topic.cold, cpu, &f.cold),
                    ratio(&bare.cold, cpu, &f.cold),
                    ratio(&topic.cold, wall, &f.cold),
                    ratio(&topic.warm, cpu, &f.warm),
                    ratio(&topic.steady, cpu, &f.steady),
                ]);
            }
        }
        if let Some((base_feeds, base)) = per_feed_cpu.first().copied() {
            for (n, c) in &per_feed_cpu {
                linear_rows.push(vec![
                    layout.clone(),
                    n.to_string(),
                    format!("{:.3}", c * 1000.0),
                    format!("{:.2}", c / base),
                    base_feeds.to_string(),
                ]);
            }
        }
    }
    println!(
        "scale benchmark: feed farms (layouts below), tidings with the shipped example config \
         (topic nk-russia on unless said; default [fetch] limits), extraction off, median of {runs} runs"
    );
    for (layout, feeds, hosts) in &host_lines {
        println!("  {layout}, {feeds} feeds: {hosts}");
    }
    print_table(
        &[
            "layout",
            "client",
            "poll",
            "feeds",
            "items",
            "wall s",
            "cpu s",
            "cpu s/1k feeds",
            "items/s",
            "peak MiB",
            "db MiB",
        ],
        &rows,
    );
    if !ratio_rows.is_empty() {
        println!("\ntidings' CPU / newsboat's (same farm, same run)");
        print_table(
            &[
                "layout",
                "feeds",
                "against",
                "cold cpu",
                "cold cpu, no topic",
                "cold wall",
                "warm cpu",
                "steady cpu",
            ],
            &ratio_rows,
        );
    }
    if !newsboat_cold.is_empty() {
        parts_table(runs, &newsboat_cold);
    }
    if !linear_rows.is_empty() {
        println!(
            "\ncold CPU per feed (topic on) against the smallest count of its layout (1.00 = linear)"
        );
        print_table(
            &["layout", "feeds", "cpu ms/feed", "ratio", "against"],
            &linear_rows,
        );
    }

    if latency_feeds > 0 {
        latency_run(latency_feeds);
    }
    let errors_feeds = env_usize("TIDINGS_BENCH_ERRORS_FEEDS", 1000);
    if errors_feeds > 0 {
        errors_run(errors_feeds, runs);
    }
}

/// The parts the stack prescribes, alone on the bodies of the smallest count newsboat ran
/// on, as shares of newsboat's cold CPU on each layout at that count.
fn parts_table(runs: usize, newsboat_cold: &[(String, usize, usize, f64)]) {
    let feeds = newsboat_cold.iter().map(|r| r.1).min().unwrap();
    let against: Vec<&(String, usize, usize, f64)> =
        newsboat_cold.iter().filter(|r| r.1 == feeds).collect();
    let parts = parts_alone(feeds, runs);
    let mut header = vec!["part".to_string(), "items".into(), "cpu s".into()];
    header.extend(
        against
            .iter()
            .map(|(layout, _, threads, _)| format!("share ({layout}, nb {threads} thr)")),
    );
    let rows: Vec<Vec<String>> = parts
        .iter()
        .map(|(part, items, cpu_s)| {
            let mut row = vec![part.to_string(), items.to_string(), format!("{cpu_s:.2}")];
            row.extend(against.iter().map(|r| format!("{:.3}", cpu_s / r.3)));
            row
        })
        .collect();
    println!(
        "\nparts alone, in-process on one thread, on the same {feeds} bodies (median of {runs}); \
         share = cpu / newsboat's cold cpu"
    );
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    print_table(&header, &rows);
}

/// A cold poll of a farm that fails some requests (2% answered 500, 2% 429 with Retry-After,
/// 1% never answered) beside a clean farm, with `read_timeout = "2s"`: the failures cost their
/// feeds (each waits for its backoff) and a silent server holds one fetch slot for the read
/// timeout, but the rest of the poll goes on around them.
fn errors_run(feeds: usize, runs: usize) {
    let fetch = "[fetch]\nread_timeout = \"2s\"\n";
    let mut rows = Vec::new();
    for (name, errors, timeouts) in [("clean", 0, 0), ("5% failing", 20, 10)] {
        let mut costs = Vec::new();
        let mut stored = Vec::new();
        let mut failed = Vec::new();
        for _ in 0..runs {
            let farm = Farm::start(
                &corpus(),
                FarmOptions {
                    feeds,
                    hosts: HOSTS.min(feeds),
                    errors_per_mille: errors,
                    timeouts_per_mille: timeouts,
                    ..FarmOptions::default()
                },
            );
            let tidings = Tidings::new(&farm, fetch);
            costs.push(tidings.poll(false));
            stored.push(tidings.items() as f64);
            failed.push(tidings.feeds_in_error() as f64);
        }
        rows.push(vec![
            name.to_string(),
            feeds.to_string(),
            format!("{:.0}", med(&failed, |x| *x)),
            format!("{:.0}", med(&stored, |x| *x)),
            format!("{:.2}", med(&costs, |c| c.wall.as_secs_f64())),
            format!("{:.2}", med(&costs, |c| c.cpu.as_secs_f64())),
            format!("{:.1}", med(&costs, |c| c.peak_rss_kib as f64) / 1024.0),
        ]);
    }
    println!(
        "\nerrors run: cold poll, {feeds} feeds, median of {runs}; failing = 2% 500, 2% 429 \
         (Retry-After: 60), 1% no answer (read_timeout 2 s)"
    );
    print_table(
        &[
            "farm",
            "feeds",
            "feeds in error",
            "items",
            "wall s",
            "cpu s",
            "peak MiB",
        ],
        &rows,
    );
}

/// 100 ms per answer: wall time against the bound the fetch limits allow.
fn latency_run(feeds: usize) {
    let latency = Duration::from_millis(100);
    let hosts = HOSTS.min(feeds);
    let farm = Farm::start(
        &corpus(),
        FarmOptions {
            feeds,
            hosts,
            latency,
            ..FarmOptions::default()
        },
    );
    let per_host = 2;
    let mut rows = Vec::new();
    for concurrency in [32, 128] {
        let tidings = Tidings::new(
            &farm,
            &format!("[fetch]\nconcurrency = {concurrency}\nper_host = {per_host}\n"),
        );
        let bound = feeds as f64 * latency.as_secs_f64() / concurrency.min(hosts * per_host) as f64;
        for (name, cost) in [
            ("cold", tidings.poll(false)),
            ("warm (304)", tidings.poll(true)),
        ] {
            let wall = cost.wall.as_secs_f64();
            rows.push(vec![
                name.to_string(),
                concurrency.to_string(),
                per_host.to_string(),
                format!("{wall:.1}"),
                format!("{bound:.1}"),
                format!("{:.2}", wall / bound),
                format!("{:.2}", cost.cpu.as_secs_f64()),
                format!("{:.1}", cost.peak_rss_kib as f64 / 1024.0),
            ]);
        }
    }
    println!(
        "\nlatency run: {feeds} feeds on {hosts} hosts, {} ms per answer, one run each; \
         bound = feeds × latency / min(concurrency, hosts × per_host)",
        latency.as_millis()
    );
    print_table(
        &[
            "poll",
            "concurrency",
            "per_host",
            "wall s",
            "bound s",
            "wall/bound",
            "cpu s",
            "peak MiB",
        ],
        &rows,
    );
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the valid pointer it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// What two parts the stack prescribes cost alone on the bodies of a fresh farm of `feeds`
/// feeds (the ones the cold poll read): feed-rs parsing each body, and FTS5 indexing the
/// items' plain text in 500-item transactions into a table like tidings' own (same tokenizer,
/// WAL, synchronous=NORMAL, hashsize). One row per part with its items and CPU seconds; the
/// last row is their sum, which no cold poll can go below.
fn parts_alone(feeds: usize, runs: usize) -> Vec<(&'static str, usize, f64)> {
    let bodies = farm::corpus_copies(&corpus(), feeds);

    // The index's input, prepared outside the measured part as tidings' matching stage does.
    let texts: Vec<[String; 3]> = bodies
        .iter()
        .filter_map(|body| tidings::parse::parse_feed(body, "http://127.0.0.1/f.xml").ok())
        .flat_map(|parsed| parsed.items)
        .map(|item| {
            let plain = |html: Option<String>| {
                tidings::store::fts_fold(&tidings::plaintext::html_to_text(
                    html.as_deref().unwrap_or(""),
                ))
                .into_owned()
            };
            [
                tidings::store::fts_fold(item.title.as_deref().unwrap_or("")).into_owned(),
                plain(item.summary),
                plain(item.content),
            ]
        })
        .collect();

    let mut feed_rs_cpu = Vec::new();
    let mut fts_cpu = Vec::new();
    let mut entries = 0;
    for _ in 0..runs {
        let start = thread_cpu();
        entries = 0;
        for body in &bodies {
            if let Ok(feed) = feed_rs::parser::parse(&body[..]) {
                entries += feed.entries.len();
            }
        }
        feed_rs_cpu.push((thread_cpu() - start).as_secs_f64());
        fts_cpu.push(index_alone(&texts).as_secs_f64());
    }
    let feed_rs_cpu = median(feed_rs_cpu);
    let fts_cpu = median(fts_cpu);
    vec![
        (
            "feed-rs parse (feed_rs::parser::parse)",
            entries,
            feed_rs_cpu,
        ),
        ("FTS5 index of title, summary, text", texts.len(), fts_cpu),
        ("the two together", texts.len(), feed_rs_cpu + fts_cpu),
    ]
}

/// CPU to index `texts` into a fresh FTS5 table on disk, 500 rows per transaction.
fn index_alone(texts: &[[String; 3]]) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("fts.db")).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 4000;
         CREATE VIRTUAL TABLE items_fts USING fts5(title, summary, text,
             tokenize = 'unicode61 remove_diacritics 2');
         INSERT INTO items_fts (items_fts, rank) VALUES ('hashsize', 8388608);",
    )
    .unwrap();
    let start = thread_cpu();
    for (n, chunk) in texts.chunks(500).enumerate() {
        conn.execute_batch("BEGIN").unwrap();
        {
            let mut insert = conn
                .prepare_cached(
                    "INSERT INTO items_fts (rowid, title, summary, text) VALUES (?1, ?2, ?3, ?4)",
                )
                .unwrap();
            for (i, [title, summary, text]) in chunk.iter().enumerate() {
                insert
                    .execute(rusqlite::params![
                        (n * 500 + i + 1) as i64,
                        title,
                        summary,
                        text
                    ])
                    .unwrap();
            }
        }
        conn.execute_batch("COMMIT").unwrap();
    }
    thread_cpu() - start
}
