//! Poll throughput of cooperating workers (issue 10): the same feed farm polled by one
//! `tidings run` on SQLite, and by 1, 2 and 4 `tidings run` workers sharing one PostgreSQL
//! database. For each setup: the cold round (every feed new, every item stored and indexed)
//! and a warm round (every feed made due again; mostly 304 Not Modified), as feeds per second
//! of wall time until every feed was polled.
//!
//! Run: `TIDINGS_TEST_POSTGRES=$(bash .ci/postgres.sh) cargo bench --bench workers`.
//! Environment: `TIDINGS_BENCH_FEEDS` (2000), `TIDINGS_BENCH_LATENCY_MS` added to every farm
//! answer (50, a far server), `TIDINGS_BENCH_CONCURRENCY` per worker (32).

#[path = "common/farm.rs"]
mod farm;
#[path = "common/measure.rs"]
mod measure;
#[path = "../tests/common/pg.rs"]
#[allow(dead_code)]
mod pg;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use farm::{Farm, FarmOptions};
use measure::print_table;
use tidings::config::DatabaseLocation;
use tidings::store::{Store, WorkerOptions};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Polls done since `since` (unix seconds), read with one cheap query (the store's
/// `list_feeds` counts every feed's items, which costs the database more than the polls).
fn polled_since(database: &str, since: i64) -> usize {
    if database.starts_with("postgres") {
        let sql = format!("SELECT count(*)::text FROM feeds WHERE last_polled_at >= {since}");
        return pg::query(database, &sql)[0][0]
            .as_deref()
            .unwrap()
            .parse()
            .unwrap();
    }
    let conn =
        rusqlite::Connection::open_with_flags(database, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.query_row(
        "SELECT count(*) FROM feeds WHERE last_polled_at >= ?1",
        [since],
        |r| r.get::<_, i64>(0),
    )
    .unwrap() as usize
}

/// Starts `workers` daemons on `database`, waits for the cold round, makes every feed due
/// and waits for the warm round; returns both rounds' wall times.
fn measure(
    farm: &Farm,
    database: &str,
    workers: usize,
    concurrency: usize,
    dir: &Path,
) -> (Duration, Duration) {
    let config = dir.join(format!("workers-{workers}.toml"));
    let mut text = format!(
        "database = \"{database}\"\nshutdown_grace = \"2s\"\n\
         [fetch]\nconcurrency = {concurrency}\nper_host = 2\n\
         [schedule]\ndefault = \"0 0 1 1 *\"\n"
    );
    for url in farm.urls() {
        text.push_str(&format!("[[feed]]\nurl = \"{url}\"\nextract = false\n"));
    }
    std::fs::write(&config, text).unwrap();
    let location = if database.starts_with("postgres") {
        DatabaseLocation::Postgres(database.to_string())
    } else {
        DatabaseLocation::Sqlite(database.into())
    };
    // The schema and the feeds first, so every worker starts on the same footing.
    let store = Store::open_location(&location, WorkerOptions::default()).unwrap();
    let feeds = farm.urls().len();
    let start = |config: &Path| -> Child {
        Command::new(env!("CARGO_BIN_EXE_tidings"))
            .arg("--config")
            .arg(config)
            .arg("run")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let t0 = chrono::Utc::now().timestamp();
    let started = Instant::now();
    let mut children: Vec<Child> = (0..workers).map(|_| start(&config)).collect();
    let wait = |since: i64, children: &mut Vec<Child>| {
        let deadline = Instant::now() + Duration::from_secs(600);
        while polled_since(database, since) < feeds {
            for c in children.iter_mut() {
                assert!(c.try_wait().unwrap().is_none(), "a worker exited");
            }
            assert!(Instant::now() < deadline, "the round did not finish");
            std::thread::sleep(Duration::from_millis(250));
        }
    };
    wait(t0, &mut children);
    let cold = started.elapsed();
    // The warm round starts on a new second, so polls of the cold round do not count.
    std::thread::sleep(Duration::from_millis(1100));
    let t1 = chrono::Utc::now().timestamp();
    let warm_started = Instant::now();
    store.make_all_due().unwrap();
    wait(t1, &mut children);
    let warm = warm_started.elapsed();
    for c in children.iter_mut() {
        unsafe {
            libc::kill(c.id() as i32, libc::SIGTERM);
        }
        let _ = c.wait();
    }
    (cold, warm)
}

fn main() {
    let feeds = env_usize("TIDINGS_BENCH_FEEDS", 2000);
    let latency = Duration::from_millis(env_usize("TIDINGS_BENCH_LATENCY_MS", 50) as u64);
    let concurrency = env_usize("TIDINGS_BENCH_CONCURRENCY", 32);
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/feeds-corpus");
    let farm = Farm::start(
        &corpus,
        FarmOptions {
            feeds,
            hosts: 500.min(feeds),
            latency,
            strip_ttl: true,
            ..FarmOptions::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    let mut setups: Vec<(String, String, usize)> = vec![(
        "SQLite".into(),
        dir.path().join("bench.db").display().to_string(),
        1,
    )];
    // One fresh database per run, dropped at the end (TIDINGS_TEST_POSTGRES names the server).
    let mut databases = Vec::new();
    for workers in [1, 2, 4] {
        let database = pg::TestDatabase::create();
        setups.push(("PostgreSQL".into(), database.url.clone(), workers));
        databases.push(database);
    }
    let mut base = None;
    for (backend, database, workers) in &setups {
        let (cold, warm) = measure(&farm, database, *workers, concurrency, dir.path());
        let rate = |d: Duration| feeds as f64 / d.as_secs_f64();
        let base_rates = *base.get_or_insert((rate(cold), rate(warm)));
        rows.push(vec![
            backend.clone(),
            workers.to_string(),
            format!("{:.1}", cold.as_secs_f64()),
            format!("{:.0}", rate(cold)),
            format!("{:.2}", rate(cold) / base_rates.0),
            format!("{:.1}", warm.as_secs_f64()),
            format!("{:.0}", rate(warm)),
            format!("{:.2}", rate(warm) / base_rates.1),
        ]);
    }
    println!(
        "workers benchmark: {feeds} feeds on {} hosts, {} ms latency per answer, \
         concurrency {concurrency} and per_host 2 per worker, extraction off; \
         speed-up against SQLite with one worker",
        500.min(feeds),
        latency.as_millis()
    );
    print_table(
        &[
            "backend",
            "workers",
            "cold s",
            "cold feeds/s",
            "cold ×",
            "warm s",
            "warm feeds/s",
            "warm ×",
        ],
        &rows,
    );
}
