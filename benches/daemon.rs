//! Daemon steady state (issue 8): `tidings run` on a feed farm of 10,000 feeds whose schedule
//! has a short period (default 30 s instead of 15 minutes), 5% of the feeds getting one new
//! item each period. After the first (cold) round, measures each period's CPU time
//! (utime+stime deltas from `/proc/<pid>/stat`), resident memory at its end, and the requests
//! the farm served; then extrapolates the CPU per poll cycle to 15-minute periods.
//!
//! Run: `cargo bench --bench daemon`. Environment: `TIDINGS_BENCH_FEEDS` (10000),
//! `TIDINGS_BENCH_LAYOUT` the farm's layout (`spread`, the default: 500 hosts; `zipf`;
//! `one-host`), `TIDINGS_BENCH_PERIOD_SECS` (30; a divisor of 60 seconds or of 60 minutes),
//! `TIDINGS_BENCH_PERIODS` periods measured (3).

#[path = "common/farm.rs"]
mod farm;
#[path = "common/measure.rs"]
mod measure;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use farm::{Farm, named_layout};
use measure::{cpu_time, print_table, vm_hwm_kib, vm_rss_kib};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A cron expression firing every `secs` seconds.
fn every(secs: usize) -> String {
    if secs < 60 && 60_usize.is_multiple_of(secs) {
        format!("*/{secs} * * * * *")
    } else if secs.is_multiple_of(60) && 60_usize.is_multiple_of(secs / 60) {
        format!("0 */{} * * * *", secs / 60)
    } else {
        panic!("TIDINGS_BENCH_PERIOD_SECS={secs} divides neither a minute nor an hour")
    }
}

fn main() {
    let feeds = env_usize("TIDINGS_BENCH_FEEDS", 10000);
    let period_secs = env_usize("TIDINGS_BENCH_PERIOD_SECS", 30);
    let periods = env_usize("TIDINGS_BENCH_PERIODS", 3);
    let period = Duration::from_secs(period_secs as u64);
    let layout = std::env::var("TIDINGS_BENCH_LAYOUT").unwrap_or_else(|_| "spread".into());
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/feeds-corpus");
    let options = named_layout(&layout, feeds)
        .unwrap_or_else(|| panic!("unknown farm layout `{layout}` in TIDINGS_BENCH_LAYOUT"));
    let farm = Farm::start(&corpus, options);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.db");
    let config = dir.path().join("bench.toml");
    let mut text = format!(
        "database = \"{}\"\n[schedule]\ndefault = \"{}\"\n",
        db.display(),
        every(period_secs)
    );
    for url in farm.urls() {
        text.push_str(&format!("[[feed]]\nurl = \"{url}\"\nextract = false\n"));
    }
    std::fs::write(&config, text).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .arg("--config")
        .arg(&config)
        .arg("run")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();

    // The first round polls everything cold; wait until every feed was polled once (a few
    // corpus feeds are not feeds and never succeed).
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let polled: i64 = rusqlite::Connection::open(&db)
            .and_then(|c| {
                c.query_row(
                    "SELECT count(*) FROM feeds WHERE last_polled_at IS NOT NULL",
                    [],
                    |r| r.get(0),
                )
            })
            .unwrap_or(0);
        if polled as usize >= feeds {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the first round did not finish"
        );
        assert!(child.try_wait().unwrap().is_none(), "tidings run exited");
    }
    let cold_wall = started.elapsed();
    let cold_cpu = cpu_time(pid).unwrap();
    let cold_rss = vm_rss_kib(pid).unwrap() as f64 / 1024.0;

    let mut rows = Vec::new();
    let mut cpu_total = Duration::ZERO;
    let mut rss = Vec::new();
    for i in 0..periods {
        farm.add_new_items(0.05);
        let cpu0 = cpu_time(pid).unwrap();
        let requests0 = farm.requests();
        std::thread::sleep(period);
        let cpu = cpu_time(pid).unwrap() - cpu0;
        let rss_mib = vm_rss_kib(pid).unwrap() as f64 / 1024.0;
        cpu_total += cpu;
        rss.push(rss_mib);
        rows.push(vec![
            (i + 1).to_string(),
            (farm.requests() - requests0).to_string(),
            format!("{:.2}", cpu.as_secs_f64()),
            format!("{:.2}", 100.0 * cpu.as_secs_f64() / period.as_secs_f64()),
            format!("{rss_mib:.1}"),
        ]);
    }
    let peak = vm_hwm_kib(pid).unwrap_or(0) as f64 / 1024.0;
    unsafe {
        libc::kill(pid as i32, libc::SIGTERM);
    }
    let _ = child.wait();

    println!(
        "daemon benchmark: {feeds} feeds, layout {layout} ({} hosts), schedule `{}` (period \
         {period_secs} s), 5% of feeds with a new item per period, default [fetch] limits, \
         extraction off",
        farm.addrs.len(),
        every(period_secs)
    );
    println!(
        "first (cold) round: {:.1} s wall, {:.2} s CPU, {cold_rss:.1} MiB resident after it",
        cold_wall.as_secs_f64(),
        cold_cpu.as_secs_f64()
    );
    print_table(
        &[
            "period",
            "requests",
            "cpu s",
            "cpu % of a core",
            "rss MiB at end",
        ],
        &rows,
    );
    let per_cycle = cpu_total.as_secs_f64() / periods as f64;
    println!(
        "CPU per poll cycle ({feeds} feeds): {per_cycle:.2} s; average {:.2}% of one core at \
         {period_secs} s periods",
        100.0 * per_cycle / period.as_secs_f64()
    );
    println!(
        "extrapolated to 15-minute schedules: {per_cycle:.2} s per 900 s = {:.3}% of one core",
        100.0 * per_cycle / 900.0
    );
    println!(
        "resident memory over the periods: first {:.1} MiB, last {:.1} MiB ({:+.1} MiB); peak {peak:.1} MiB",
        rss[0],
        rss[rss.len() - 1],
        rss[rss.len() - 1] - rss[0]
    );
}
