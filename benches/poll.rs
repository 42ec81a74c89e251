//! Poll benchmark: a local farm of 1,000 corpus feeds (override with TIDINGS_BENCH_FEEDS),
//! polled cold (everything new) and warm (everything 304) by the release `tidings` binary.
//! Prints medians of several runs: wall time, CPU time, items per second, peak memory.
//!
//! Run: `cargo bench --bench poll` (TIDINGS_BENCH_RUNS=5 by default).

#[path = "common/farm.rs"]
mod farm;
#[path = "common/measure.rs"]
mod measure;

use std::path::Path;
use std::process::Command;

use farm::{Farm, FarmOptions};
use measure::{median, print_table, run_measured};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let feeds = env_usize("TIDINGS_BENCH_FEEDS", 1000);
    let runs = env_usize("TIDINGS_BENCH_RUNS", 5);
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/feeds-corpus");
    let farm = Farm::start(
        &corpus,
        FarmOptions {
            feeds,
            hosts: 500.min(feeds),
            ..FarmOptions::default()
        },
    );
    let binary = env!("CARGO_BIN_EXE_tidings");

    let mut cold = Vec::new();
    let mut warm = Vec::new();
    let mut items = 0i64;
    let mut db_bytes = 0u64;
    for _ in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("bench.db");
        let config = dir.path().join("bench.toml");
        let mut text = format!(
            "database = \"{}\"\n[fetch]\nconcurrency = 64\nper_host = 2\n",
            db.display()
        );
        for url in farm.urls() {
            text.push_str(&format!("[[feed]]\nurl = \"{url}\"\nextract = false\n"));
        }
        std::fs::write(&config, text).unwrap();
        let poll = |all: bool| {
            let mut cmd = Command::new(binary);
            cmd.arg("--config")
                .arg(&config)
                .arg("poll")
                .env("RUST_LOG", "warn");
            if all {
                cmd.arg("--all");
            }
            run_measured(&mut cmd)
        };
        cold.push(poll(false));
        warm.push(poll(true));
        let conn = rusqlite::Connection::open(&db).unwrap();
        items = conn
            .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
            .unwrap();
        let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
        db_bytes = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    }

    let row = |name: &str, costs: &[measure::Cost], items: i64| {
        let wall = median(costs.iter().map(|c| c.wall.as_secs_f64()).collect());
        let cpu = median(costs.iter().map(|c| c.cpu.as_secs_f64()).collect());
        let rss = median(costs.iter().map(|c| c.peak_rss_kib as f64).collect()) / 1024.0;
        vec![
            name.to_string(),
            feeds.to_string(),
            format!("{wall:.2}"),
            format!("{cpu:.2}"),
            if items > 0 {
                format!("{:.0}", items as f64 / wall)
            } else {
                "-".into()
            },
            format!("{rss:.1}"),
        ]
    };
    println!(
        "poll benchmark: {feeds} feeds on {} hosts, {items} items, median of {runs} runs",
        farm.addrs.len()
    );
    print_table(
        &["run", "feeds", "wall s", "cpu s", "items/s", "peak MiB"],
        &[
            row("cold (all new)", &cold, items),
            row("warm (all 304)", &warm, 0),
        ],
    );
    println!(
        "database size: {:.1} MiB ({} bytes per item)",
        db_bytes as f64 / 1048576.0,
        db_bytes / items.max(1) as u64
    );
}
