//! Throughput benchmark: 50 generated topics against synthetic items (title, summary,
//! ~300-word text); each item is prepared once, then matched against every topic.
//! `cargo bench --bench matching -- [items=100000] [topic.toml]`: with a TOML file
//! (`[aliases]` + `[[topic]]`), its topics are benchmarked instead of the generated ones.

use std::hint::black_box;
use std::time::{Duration, Instant};

use tidings::matcher::{Aliases, Document, Topic, prepare};

/// xorshift64*: small deterministic generator, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len())]
    }
}

const TOPICAL: &[&str] = &[
    "North Korea",
    "Russia",
    "Pyongyang",
    "Moscow",
    "Kim Jong-un",
    "Putin",
    "Kremlin",
    "Ukraine",
    "Kursk",
    "troops",
    "artillery shells",
    "sanctions",
    "treaty",
    "Lavrov",
    "Shoigu",
    "China",
    "Beijing",
    "Iran",
    "missile",
    "drone",
    "election",
    "inflation",
    "climate",
    "wildfire",
    "football",
    "Premier League",
    "Apple",
    "iPhone",
    "Tesla",
    "vaccine",
    "hospital",
    "strike",
    "union",
    "court",
    "senate",
    "Brexit",
    "Gaza",
    "Israel",
    "북한",
    "러시아",
    "Nordkorea",
    "Russland",
    "Triều Tiên",
    "Nga",
    "Rosja",
];

fn vocabulary(rng: &mut Rng) -> Vec<String> {
    const SYL: &[&str] = &[
        "ka", "lo", "mi", "ren", "sta", "vo", "der", "ul", "pin", "ex", "tor", "ab", "is", "en",
        "qua", "zu", "mar", "tel", "on", "ri", "ce", "dy", "ph", "an", "gro",
    ];
    (0..3000)
        .map(|_| {
            let n = 1 + rng.below(3);
            (0..n).map(|_| SYL[rng.below(SYL.len())]).collect()
        })
        .collect()
}

fn sentence(rng: &mut Rng, vocab: &[String], words: usize, out: &mut String) {
    for i in 0..words {
        if i > 0 {
            out.push(' ');
        }
        let w = if rng.below(25) == 0 {
            rng.pick(TOPICAL)
        } else {
            &vocab[rng.below(vocab.len())]
        };
        if i == 0 {
            // Sentences start with a capital letter, as in real text.
            let mut chars = w.chars();
            out.extend(chars.next().map(|c| c.to_ascii_uppercase()));
            out.push_str(chars.as_str());
        } else {
            out.push_str(w);
        }
    }
    out.push('.');
}

fn text(rng: &mut Rng, vocab: &[String], words: usize) -> String {
    let mut out = String::with_capacity(words * 7);
    let mut left = words;
    while left > 0 {
        let n = left.min(8 + rng.below(15));
        if !out.is_empty() {
            out.push_str(if rng.below(5) == 0 { "\n\n" } else { " " });
        }
        sentence(rng, vocab, n, &mut out);
        left -= n;
    }
    out
}

fn topics(rng: &mut Rng, vocab: &[String]) -> Vec<Topic> {
    let aliases = Aliases::parse(&[
        (
            "dprk".into(),
            r#""north korea*" OR dprk OR pyongyang OR "kim jong un" OR 북한 OR nordkorea* OR "trieu tien""#.into(),
        ),
        (
            "russia".into(),
            "russia* OR moscow OR kremlin OR putin OR 러시아 OR russland OR rosj* OR nga".into(),
        ),
        ("war".into(), "ukrain* OR kursk OR donbas".into()),
    ])
    .unwrap();
    let templates: &[&str] = &[
        "NEAR/10(@dprk, @russia)",
        "title:NEAR/12(@dprk, @russia)^2 OR NEAR/8(@dprk, troops) AND @war",
        "@dprk @russia NOT china",
        "\"{a} {b}\" OR {c}*",
        "{a} AND ({b} OR {c}) NOT {d}",
        "title:{a}^3 OR summary:\"{b} {c}\"",
        "NEAR/5({a}, {b} OR {c})",
        "@war AND ({a} OR {b})",
        "{a}* {b}*",
        "text:(\"{a} {b}\" OR NEAR/3({c}, {d}))",
    ];
    (0..50)
        .map(|i| {
            let mut q = templates[i % templates.len()].to_string();
            for slot in ["{a}", "{b}", "{c}", "{d}"] {
                // Short vocabulary words make prefix terms and phrases hit now and then.
                let w = &vocab[rng.below(vocab.len())];
                q = q.replace(slot, w);
            }
            Topic::new(&format!("t{i}"), &q, 1.0 + (i % 4) as f64, &aliases)
                .unwrap_or_else(|e| panic!("{q}: {e}"))
        })
        .collect()
}

#[derive(serde::Deserialize)]
struct TopicFile {
    #[serde(default)]
    aliases: std::collections::BTreeMap<String, String>,
    topic: Vec<tidings::matcher::TopicDef>,
}

fn load_topics(path: &str) -> Vec<Topic> {
    let file: TopicFile =
        toml::from_str(&std::fs::read_to_string(path).expect("topic file")).expect("TOML");
    let defs: Vec<(String, String)> = file.aliases.into_iter().collect();
    tidings::matcher::compile_topics(&defs, &file.topic)
        .unwrap_or_else(|e| panic!("{e}"))
        .1
}

/// On-CPU time of this thread (Linux `/proc/thread-self/schedstat`, nanoseconds), so the
/// per-core figure is not skewed by other processes sharing the machine.
fn cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

struct Item {
    title: String,
    summary: String,
    body: String,
}

fn main() {
    const BATCH: usize = 1000;
    // `cargo bench` appends `--bench`; flags are not ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let items: usize = args
        .first()
        .map(|s| s.parse().expect("items"))
        .unwrap_or(100_000);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let vocab = vocabulary(&mut rng);
    let topics = match args.get(1) {
        Some(path) => load_topics(path),
        None => topics(&mut rng, &vocab),
    };
    let (mut wall_prepare, mut wall_match) = (Duration::ZERO, Duration::ZERO);
    let (mut cpu_prepare, mut cpu_match) = (Duration::ZERO, Duration::ZERO);
    let (mut matched, mut words, mut done) = (0usize, 0usize, 0usize);
    while done < items {
        let n = BATCH.min(items - done);
        let batch: Vec<Item> = (0..n)
            .map(|_| {
                let (nt, ns, nb) = (8 + rng.below(6), 25 + rng.below(20), 250 + rng.below(100));
                Item {
                    title: text(&mut rng, &vocab, nt),
                    summary: text(&mut rng, &vocab, ns),
                    body: text(&mut rng, &vocab, nb),
                }
            })
            .collect();
        words += batch
            .iter()
            .map(|i| i.body.split_whitespace().count())
            .sum::<usize>();
        let (w0, c0) = (Instant::now(), cpu_time());
        let prepared: Vec<_> = batch
            .iter()
            .map(|i| {
                prepare(&Document {
                    title: &i.title,
                    summary: &i.summary,
                    text: &i.body,
                    feed: "Synthetic feed",
                    url: "https://example.com/news/item",
                    author: "Bench",
                })
            })
            .collect();
        let (w1, c1) = (Instant::now(), cpu_time());
        for doc in &prepared {
            for topic in &topics {
                if let Some(r) = topic.matches(doc) {
                    matched += 1;
                    black_box(r);
                }
            }
        }
        let (w2, c2) = (Instant::now(), cpu_time());
        wall_prepare += w1 - w0;
        wall_match += w2 - w1;
        if let (Some(c0), Some(c1), Some(c2)) = (c0, c1, c2) {
            cpu_prepare += c1 - c0;
            cpu_match += c2 - c1;
        }
        done += n;
    }
    let pairs = (items * topics.len()) as f64;
    println!(
        "items {items}, topics {}, avg text words {}, matched pairs {matched} ({:.1}%)",
        topics.len(),
        words / items.max(1),
        100.0 * matched as f64 / pairs
    );
    for (what, prep, mat) in [
        ("wall clock", wall_prepare, wall_match),
        ("on-CPU time", cpu_prepare, cpu_match),
    ] {
        if prep.is_zero() {
            continue;
        }
        println!(
            "{what}: prepare {:.2}s ({:.1} µs/item), match {:.2}s ({:.2} µs/pair), \
             throughput {:.0} item-topic pairs/s per core",
            prep.as_secs_f64(),
            prep.as_secs_f64() * 1e6 / items as f64,
            mat.as_secs_f64(),
            mat.as_secs_f64() * 1e6 / pairs,
            pairs / (prep + mat).as_secs_f64()
        );
    }
}
