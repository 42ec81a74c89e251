//! Three `tidings run` workers share one PostgreSQL database and a farm of 2,000 feeds for a
//! few poll periods; one is killed with SIGKILL midway. Then: every feed was polled once per
//! period (never twice, except the refreshes the killed worker had in flight, and never left
//! longer than one lease), every item is stored once, every match went out under one
//! delivery id, and there is one digest per period.
//!
//! Needs PostgreSQL (`TIDINGS_TEST_POSTGRES`), aiosmtpd (`TIDINGS_TEST_PYTHON`) and the
//! shared feed corpus, as `.ci/test.sh` provides; without them it fails.

#[path = "../benches/common/farm.rs"]
mod farm;

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::pg::{TestDatabase, query};
use common::receiver::Receiver;
use common::smtp::SmtpSink;
use farm::{Farm, FarmOptions};

const FEEDS: usize = 2000;
const HOSTS: usize = 500;
const PERIOD: Duration = Duration::from_secs(20);
const LEASE: Duration = Duration::from_secs(6);
const CONCURRENCY: usize = 16;
/// Poll periods after the first (cold) round; the worker dies in the second.
const PERIODS: usize = 4;
const SECRET: &str = "whsec_dGlkaW5ncy13b3JrZXJzLXRlc3Qtc2VjcmV0";
/// Share of feeds given a new item at the start of each period.
const NEW_SHARE: f64 = 0.1;

/// The worker processes; killed when the test ends, also by a failed assertion, so that none
/// outlives it.
struct Workers(Vec<Child>);

impl Drop for Workers {
    fn drop(&mut self) {
        for worker in &mut self.0 {
            let _ = worker.kill();
            let _ = worker.wait();
        }
    }
}

fn start_worker(config: &std::path::Path, log: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tidings"))
        .arg("--config")
        .arg(config)
        .arg("run")
        .env("RUST_LOG", "warn")
        .env("TIDINGS_TEST_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

/// The one number `sql` selects.
fn count(url: &str, sql: &str) -> i64 {
    query(url, &format!("SELECT ({sql})::text"))[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap()
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn three_workers_share_the_work_and_survive_a_sigkill() {
    let test_start = Instant::now();
    let db = TestDatabase::create();
    let corpus = common::shared_dir().join("feeds-corpus");
    let farm = Farm::start(
        &corpus,
        FarmOptions {
            feeds: FEEDS,
            hosts: HOSTS,
            log_requests: true,
            strip_ttl: true,
            ..FarmOptions::default()
        },
    );
    let receiver = Receiver::start(SECRET);
    let smtp = SmtpSink::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("workers.toml");
    let every = format!("*/{} * * * * *", PERIOD.as_secs());
    let mut text = format!(
        "database = \"{db}\"\nclaim_lease = \"{lease}s\"\nshutdown_grace = \"2s\"\n\
         [fetch]\nconcurrency = {CONCURRENCY}\nper_host = 2\ntimeout = \"5s\"\n\
         [schedule]\ndefault = \"{every}\"\n\
         [delivery]\nstory_window = \"1s\"\nretry_schedule = [\"1s\", \"1s\", \"1s\"]\n\
         [[topic]]\nname = \"fresh\"\ntitle = \"Fresh items\"\nquery = '\"fresh text\"'\nmin_score = 0.1\n\
         [[webhook]]\nname = \"hook\"\nurl = \"{hook}\"\nsecret = \"env:TIDINGS_TEST_SECRET\"\ntopics = [\"fresh\"]\ntimeout = \"5s\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {smtp}\ntls = \"none\"\nfrom = \"tidings <tidings@localhost>\"\ntimeout = \"5s\"\n\
         [[digest]]\nname = \"period\"\nschedule = \"{every}\"\ntopics = [\"fresh\"]\nto = [\"analyst@example.org\"]\n",
        db = db.url,
        lease = LEASE.as_secs(),
        hook = receiver.url(),
        smtp = smtp.port,
    );
    for url in farm.urls() {
        text.push_str(&format!("[[feed]]\nurl = \"{url}\"\nextract = false\n"));
    }
    std::fs::write(&config, text).unwrap();

    // The schema first, so the checks below can read it while the workers start.
    drop(
        tidings::store::Store::open_location(
            &tidings::config::DatabaseLocation::Postgres(db.url.clone()),
            Default::default(),
        )
        .unwrap(),
    );
    let mut workers = Workers(
        (0..3)
            .map(|i| start_worker(&config, &dir.path().join(format!("worker{i}.log"))))
            .collect(),
    );
    let logs = || {
        (0..3)
            .map(|i| {
                std::fs::read_to_string(dir.path().join(format!("worker{i}.log")))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n---\n")
    };

    // The cold round: every feed polled once.
    wait_until(
        "the first round over every feed",
        Duration::from_secs(400),
        || {
            for w in workers.0.iter_mut() {
                assert!(
                    w.try_wait().unwrap().is_none(),
                    "a worker exited:\n{}",
                    logs()
                );
            }
            query(
                &db.url,
                "SELECT count(*)::text FROM feeds WHERE last_polled_at IS NOT NULL",
            )[0][0]
                .as_deref()
                == Some(&FEEDS.to_string())
        },
    );
    // The first period after the cold round is left out of the checks: a feed whose poll came
    // due while the cold round still ran is polled late, then again on time at the next
    // boundary (two polls a few seconds apart, in two periods).
    std::thread::sleep(PERIOD);
    let steady_from = Instant::now();

    // Periods with new items; worker 1 dies in the middle of the second.
    let mut killed_at = None;
    for period in 0..PERIODS {
        farm.add_new_items(NEW_SHARE);
        if period == 1 {
            std::thread::sleep(PERIOD / 2);
            let victim = &mut workers.0[1];
            // SIGKILL: no cleanup at all; its claims must lapse by themselves.
            victim.kill().unwrap();
            victim.wait().unwrap();
            killed_at = Some(Instant::now());
            std::thread::sleep(PERIOD / 2);
        } else {
            std::thread::sleep(PERIOD);
        }
    }
    // One more period (and a lease) without new items, so the last ones are polled, then
    // until every delivery went out.
    std::thread::sleep(PERIOD + LEASE + Duration::from_secs(2));
    let steady_until = Instant::now();
    wait_until(
        "every webhook delivery sent",
        Duration::from_secs(60),
        || {
            count(
                &db.url,
                "SELECT count(*) FROM deliveries WHERE status IN ('held', 'pending') AND channel = 'webhook:hook'",
            ) == 0
        },
    );
    for (i, w) in workers.0.iter_mut().enumerate() {
        if i != 1 {
            unsafe {
                libc::kill(w.id() as i32, libc::SIGTERM);
            }
            w.wait().unwrap();
        }
    }
    let killed_at = killed_at.unwrap();
    let log = logs();

    // 1. Polls: once per period per periodic feed. Feeds whose polls failed back off (5 min)
    //    and are left out (the farm strips <ttl>, so no feed asks for a longer interval).
    let periodic_sql = format!(
        "SELECT id::text, url FROM feeds WHERE consecutive_errors = 0
           AND last_result IN ('ok', 'not-modified') AND next_poll_at - last_polled_at <= {}",
        2 * PERIOD.as_secs()
    );
    let periodic = query(&db.url, &periodic_sql);
    let index_of: HashMap<String, usize> = farm
        .urls()
        .into_iter()
        .enumerate()
        .map(|(i, u)| (u, i))
        .collect();
    let healthy: HashSet<usize> = periodic
        .iter()
        .map(|r| index_of[r[1].as_deref().unwrap()])
        .collect();
    let healthy_ids: HashSet<String> = periodic.iter().map(|r| r[0].clone().unwrap()).collect();
    assert!(
        healthy.len() > FEEDS * 8 / 10,
        "only {} of {FEEDS} feeds polled every period:\n{log}",
        healthy.len()
    );
    let mut polls: BTreeMap<usize, Vec<Instant>> = BTreeMap::new();
    for (i, at) in farm.request_log() {
        if at >= steady_from && at <= steady_until && healthy.contains(&i) {
            polls.entry(i).or_default().push(at);
        }
    }
    let longest = PERIOD + LEASE + Duration::from_secs(4);
    let all_requests = farm.request_log();
    let describe = |feed: usize| {
        let times: Vec<Duration> = all_requests
            .iter()
            .filter(|(i, _)| *i == feed)
            .map(|(_, t)| t.duration_since(test_start))
            .collect();
        let row = query(
            &db.url,
            &format!(
                "SELECT concat_ws(' ', last_result, last_status, consecutive_errors, last_error,
                        next_poll_at - last_polled_at, last_polled_at) FROM feeds WHERE url = '{}'",
                farm.url(feed)
            ),
        );
        format!(
            "feed {feed}: requests at {times:?} (steady from {:?} to {:?}, kill at {:?}); row {row:?}",
            steady_from.duration_since(test_start),
            steady_until.duration_since(test_start),
            killed_at.duration_since(test_start)
        )
    };
    let mut doubles = 0;
    let mut problems = Vec::new();
    for &feed in &healthy {
        let times = polls.get(&feed).cloned().unwrap_or_default();
        let mut edges = vec![steady_from];
        edges.extend(times.iter().copied());
        edges.push(steady_until);
        if edges
            .windows(2)
            .any(|pair| pair[1].duration_since(pair[0]) > longest)
        {
            problems.push(format!(
                "longer than a period and a lease without a poll: {}",
                describe(feed)
            ));
        }
        for pair in times.windows(2) {
            if pair[1].duration_since(pair[0]) < PERIOD / 2 {
                // Twice in one period: only a refresh the killed worker had in flight.
                if pair[0] <= killed_at
                    && killed_at.duration_since(pair[0]) < Duration::from_secs(6)
                {
                    doubles += 1;
                } else {
                    problems.push(format!("polled twice in one period: {}", describe(feed)));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems, the first ones:\n{}",
        problems.len(),
        problems
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // At most the refreshes the killed worker had in flight: fetching, or fetched and
    // waiting to be stored, which the dispatcher caps at twice the concurrency (on a loaded
    // machine the store lags and that second half fills up).
    assert!(
        doubles <= 2 * CONCURRENCY,
        "{doubles} feeds polled twice around the kill, more than the {} a worker may have \
         in flight",
        2 * CONCURRENCY
    );

    // 2. Items: each new item stored once, and none missing: a feed that took new items has
    //    every version of them.
    let keys = query(
        &db.url,
        "SELECT feed_id::text, dedup_key FROM items WHERE dedup_key LIKE 'g:new-%'",
    );
    let distinct: HashSet<(String, String)> = keys
        .iter()
        .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
        .collect();
    assert_eq!(distinct.len(), keys.len(), "an item was stored twice");
    let mut versions: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    for (feed, key) in &distinct {
        versions
            .entry(feed.clone())
            .or_default()
            .insert(key.clone());
    }
    assert!(
        versions.len() >= healthy.len() / 10 * 8 / 10,
        "few feeds took new items: {}",
        versions.len()
    );
    for (feed, keys) in versions.iter().filter(|(f, _)| healthy_ids.contains(*f)) {
        assert_eq!(keys.len(), PERIODS, "feed {feed} stored {keys:?}");
    }
    assert_eq!(
        count(
            &db.url,
            "SELECT count(*) - count(DISTINCT (feed_id, dedup_key)) FROM items"
        ),
        0
    );

    // 3. Deliveries: every match of a new item is in exactly one webhook delivery (per
    //    story), each sent, and the receiver saw exactly those delivery ids.
    assert_eq!(
        count(
            &db.url,
            "SELECT count(*) FROM matches m JOIN items i ON i.id = m.item_id
             WHERE NOT i.first_poll AND (SELECT count(*) FROM deliveries d
                   WHERE d.channel = 'webhook:hook' AND d.story_id = i.story_id) != 1"
        ),
        0,
        "a match without exactly one webhook delivery"
    );
    let sent: HashSet<String> = query(
        &db.url,
        "SELECT delivery_key FROM deliveries WHERE channel = 'webhook:hook' AND status = 'sent'",
    )
    .into_iter()
    .map(|r| r[0].clone().unwrap())
    .collect();
    assert!(
        sent.len() >= PERIODS,
        "only {} webhook deliveries sent:\n{log}",
        sent.len()
    );
    let received: Vec<String> = receiver
        .received()
        .into_iter()
        .map(|r| r.webhook_id)
        .collect();
    let received_ids: HashSet<String> = received.iter().cloned().collect();
    assert_eq!(
        received_ids, sent,
        "the receiver saw other delivery ids than were sent"
    );
    // A delivery repeats only if its sender died between the POST and marking it sent.
    assert!(
        received.len() <= sent.len() + CONCURRENCY,
        "{} POSTs for {} deliveries",
        received.len(),
        sent.len()
    );

    // 4. Digests: one per period, each mailed under its own Message-ID.
    let runs = query(
        &db.url,
        "SELECT scheduled_for::text, message_id, status FROM digest_runs WHERE digest = 'period' ORDER BY scheduled_for",
    );
    let slots: Vec<i64> = runs
        .iter()
        .map(|r| r[0].as_deref().unwrap().parse().unwrap())
        .collect();
    let unique: HashSet<i64> = slots.iter().copied().collect();
    assert_eq!(
        unique.len(),
        slots.len(),
        "two digest runs for one period: {runs:?}"
    );
    let mailed: Vec<&Vec<Option<String>>> = runs
        .iter()
        .filter(|r| r[2].as_deref() == Some("sent"))
        .collect();
    assert!(mailed.len() >= 2, "digests: {runs:?}\n{log}");
    let messages = smtp.messages();
    let mut ids = HashSet::new();
    for message in &messages {
        let id = message
            .lines()
            .find_map(|l| {
                l.strip_prefix("Message-ID: ")
                    .or_else(|| l.strip_prefix("Message-Id: "))
            })
            .unwrap_or_else(|| panic!("no Message-ID in {message}"));
        ids.insert(id.trim().to_string());
    }
    let expected: HashSet<String> = mailed.iter().map(|r| r[1].clone().unwrap()).collect();
    assert_eq!(ids, expected, "mails and digest runs differ");
    eprintln!(
        "workers: {} healthy feeds, {} polls in the steady window, {doubles} repeated around the kill, \
         {} new items, {} webhook deliveries ({} POSTs), {} digests",
        healthy.len(),
        polls.values().map(Vec::len).sum::<usize>(),
        keys.len(),
        sent.len(),
        received.len(),
        mailed.len()
    );
}
