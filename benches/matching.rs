//! Matching throughput with many topics the size of the shipped one: 1, 10 and 50 topics
//! generated from `nk-russia` by varying its aliases (each variant watches another pair of
//! countries, with the shipped query's structure, exclusions and candidate query, and its
//! own copy of every alias), over real items (the labelled sets in `../shared/topics-dev`,
//! cycled) and synthetic ones; the query alone and with the learned layer (the shipped model,
//! its feature names moved to each variant's aliases); with the prefilter (one automaton
//! over all topics' terms) and without it (every topic evaluated on every item: the way
//! before, the baseline of each row). Each item is prepared once for all topics.
//!
//! Figures are on-CPU time of this thread (`/proc/thread-self/schedstat`), medians of 3 runs,
//! throughput in item-topic pairs per second per core counting preparation and matching
//! (each run on freshly prepared items, so the text features a model builds on first use
//! are counted in every run).
//! Also: the time to train the shipped topic's layer on the labelled sets (and on three
//! copies of them).
//!
//! `cargo bench --bench matching -- [ITEMS] [topics=N]` (4,000 items; 1, 10 and 50 topics
//! unless `topics=` names one count).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tidings::config::Config;
use tidings::matcher::{
    Aliases, LabelledExample, LearnedLayer, Model, Prefilter, PreparedDocument, Topic, parse_query,
    prepare, read_labelled,
};

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
}

/// Countries the generated topics pair up, each in the languages the shipped aliases cover.
const COUNTRIES: &[(&str, &str)] = &[
    (
        "china",
        r#"china OR chinese OR beijing OR "xi jinping" OR xi OR 중국 OR 中 OR 시진핑 OR 베이징 OR китай* OR пекин* OR "си цзиньпин" OR chinesisch* OR peking OR chiny OR chinsk* OR pekin OR "trung quoc" OR "bac kinh" OR "tap can binh" OR chine OR pekin OR shanghai OR 상하이 OR taiwan* OR 대만 OR "communist party of china" OR cpc OR prc"#,
    ),
    (
        "iran",
        r#"iran* OR tehran OR teheran OR khamenei OR raisi OR pezeshkian OR araghchi OR irgc OR 이란 OR 테헤란 OR иран* OR тегеран* OR "islamic republic" OR persian OR "revolutionary guard*" OR hezbollah OR houthi* OR 하메네이 OR "y ran""#,
    ),
    (
        "japan",
        r#"japan* OR tokyo OR kishida OR ishiba OR takaichi OR abe OR 일본 OR 日 OR 도쿄 OR 기시다 OR япони* OR токио OR tokio OR japonia OR japonsk* OR "nhat ban" OR "tokyo" OR japon OR okinawa OR osaka OR 오사카 OR yen"#,
    ),
    (
        "ukraine",
        r#"ukrain* OR kyiv OR kiev OR zelensk* OR zelenskyy OR kharkiv OR odesa OR odessa OR 우크라이나 OR 키이우 OR 젤렌스키 OR украин* OR киев* OR зеленск* OR ukrainisch* OR kijow OR zelenski OR "u crai na" OR "ukraina" OR dnipro OR lviv OR crimea OR krim OR krym"#,
    ),
    (
        "usa",
        r#""united states" OR "u s" OR usa OR america* OR washington OR "white house" OR pentagon OR trump OR biden OR rubio OR blinken OR 미국 OR 美 OR 백악관 OR 트럼프 OR 바이든 OR сша OR вашингтон* OR трамп* OR "vereinigte staaten" OR "stany zjednoczone" OR "my" OR "nha trang" OR "etats unis""#,
    ),
    (
        "india",
        r#"india* OR "new delhi" OR delhi OR modi OR jaishankar OR mumbai OR 인도 OR 모디 OR инди* OR дели OR моди OR indien OR indie OR indyjsk* OR "an do" OR inde OR bharat OR rupee OR kashmir OR 카슈미르"#,
    ),
    (
        "turkey",
        r#"turkey OR turkish OR turkiye OR ankara OR istanbul OR erdogan OR fidan OR 튀르키예 OR 터키 OR 에르도안 OR турци* OR анкар* OR эрдоган* OR turkei OR turcja OR turecki* OR "tho nhi ky" OR turquie OR bosporus OR bosphorus"#,
    ),
    (
        "israel",
        r#"israel* OR jerusalem OR "tel aviv" OR netanyahu OR idf OR mossad OR 이스라엘 OR 네타냐후 OR израил* OR нетаньяху OR israelisch* OR izrael* OR "do thai" OR "israel" OR gaza OR hamas OR 가자 OR 하마스"#,
    ),
    (
        "germany",
        r#"germany OR german OR berlin OR merz OR scholz OR bundeswehr OR bundestag OR 독일 OR 베를린 OR германи* OR берлин* OR deutschland OR deutsch* OR niemcy OR niemieck* OR "duc" OR allemagne OR munich OR munchen OR frankfurt"#,
    ),
    (
        "france",
        r#"france OR french OR paris OR macron OR elysee OR 프랑스 OR 파리 OR 마크롱 OR франци* OR париж* OR макрон* OR frankreich OR franzosisch* OR francja OR francusk* OR "phap" OR francais* OR marseille OR lyon"#,
    ),
    (
        "britain",
        r#"britain OR british OR "united kingdom" OR uk OR london OR starmer OR sunak OR downing OR 영국 OR 런던 OR британи* OR лондон* OR grossbritannien OR britisch* OR "wielka brytania" OR brytyjsk* OR "anh quoc" OR "royaume uni" OR scotland OR wales"#,
    ),
    (
        "syria",
        r#"syria* OR damascus OR assad OR aleppo OR idlib OR 시리아 OR 다마스쿠스 OR сири* OR дамаск* OR асад* OR syrien OR syryj* OR "xy ri" OR syrie OR hts OR "al sharaa""#,
    ),
    (
        "belarus",
        r#"belarus* OR minsk OR lukashenk* OR belarusian OR 벨라루스 OR 민스크 OR 루카셴코 OR беларус* OR белорус* OR минск* OR лукашенк* OR weissrussland OR bialorus* OR "belarus" OR bielorussie"#,
    ),
    (
        "vietnam",
        r#"vietnam* OR hanoi OR "ho chi minh" OR saigon OR "to lam" OR 베트남 OR 하노이 OR вьетнам* OR ханой OR wietnam* OR "viet nam" OR "ha noi" OR "thanh pho ho chi minh" OR "nguyen phu trong""#,
    ),
    (
        "poland",
        r#"poland OR polish OR warsaw OR tusk OR duda OR nawrocki OR 폴란드 OR 바르샤바 OR польш* OR варшав* OR polen OR polnisch* OR polska OR polsk* OR warszaw* OR "ba lan" OR pologne OR krakow"#,
    ),
    (
        "cuba",
        r#"cuba* OR havana OR "la habana" OR "diaz canel" OR castro OR 쿠바 OR 아바나 OR куб* OR гаван* OR kuba OR kubanisch* OR kubansk* OR hawana OR "cu ba" OR "la havane""#,
    ),
];

/// Every `@name` in `text` renamed `@name_k`.
fn suffixed(text: &str, k: usize) -> String {
    // Compiled once: the models' thousands of feature names are renamed with it.
    static ALIAS: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"@([\p{L}\p{N}_-]+)").expect("regex"));
    ALIAS
        .replace_all(text, |c: &regex::Captures| format!("@{}_{k}", &c[1]))
        .into_owned()
}

/// The shipped topic's parts, read from the example config.
struct Shipped {
    aliases: Vec<(String, String)>,
    query: String,
    candidates: String,
    min_score: f64,
    model: Model,
}

fn shipped() -> Shipped {
    let config = Config::load(Some(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/tidings.example.toml"
    ))))
    .expect("example config");
    let def = config
        .topics
        .defs
        .iter()
        .find(|d| d.name == "nk-russia")
        .expect("nk-russia");
    let spec = def.learned.as_ref().expect("nk-russia has a learned layer");
    Shipped {
        aliases: config.topics.aliases.clone(),
        query: def.query.clone(),
        candidates: spec.layer.candidates.to_string(),
        min_score: def.min_score,
        model: spec.layer.prior.clone(),
    }
}

/// `n` topics: the shipped one, then variants that watch other pairs of countries.
fn topics(shipped: &Shipped, n: usize, learned: bool) -> Vec<Topic> {
    let mut defs: Vec<(String, String)> = shipped.aliases.clone();
    let mut pairs = Vec::new();
    for a in 0..COUNTRIES.len() {
        for b in a + 1..COUNTRIES.len() {
            pairs.push((a, b));
        }
    }
    for k in 1..n {
        let (a, b) = pairs[(k * 7) % pairs.len()];
        for (name, body) in &shipped.aliases {
            let body = match name.as_str() {
                "dprk" => COUNTRIES[a].1.to_string(),
                "russia" => COUNTRIES[b].1.to_string(),
                _ => suffixed(body, k),
            };
            defs.push((format!("{name}_{k}"), body));
        }
    }
    let aliases = Aliases::parse(&defs).expect("aliases");
    (0..n)
        .map(|k| {
            let (query, candidates) = if k == 0 {
                (shipped.query.clone(), shipped.candidates.clone())
            } else {
                (
                    suffixed(&shipped.query, k),
                    suffixed(&shipped.candidates, k),
                )
            };
            let topic = Topic::new(&format!("t{k}"), &query, shipped.min_score, &aliases)
                .unwrap_or_else(|e| panic!("{query}: {e}"));
            if !learned {
                return topic;
            }
            let model = if k == 0 {
                shipped.model.clone()
            } else {
                let weights = shipped
                    .model
                    .weights()
                    .iter()
                    .map(|(name, w)| {
                        let name = match name.strip_prefix("a:") {
                            Some(rest) => {
                                let (alias, field) = rest.rsplit_once(':').unwrap_or((rest, ""));
                                format!("a:{alias}_{k}:{field}")
                            }
                            None => suffixed(name, k),
                        };
                        (name, *w)
                    })
                    .collect();
                Model::new(shipped.model.bias, weights, Default::default())
            };
            let candidates = parse_query(&candidates, &aliases).expect("candidates");
            let layer = LearnedLayer::new(
                &topic.query,
                topic.min_score,
                candidates,
                &aliases,
                None,
                Some(model),
            );
            topic.with_learned(layer)
        })
        .collect()
}

fn dev_items() -> Vec<LabelledExample> {
    let mut out = Vec::new();
    for name in ["nk-russia-dev.jsonl", "nk-russia-more.jsonl"] {
        let path = format!("{}/../shared/topics-dev/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        out.extend(read_labelled(&text).expect("labelled set"));
    }
    out
}

const WORDS: &[&str] = &[
    "North Korea",
    "Russia",
    "Pyongyang",
    "Moscow",
    "Kim Jong-un",
    "Putin",
    "Ukraine",
    "troops",
    "China",
    "Beijing",
    "Iran",
    "Japan",
    "Tokyo",
    "Germany",
    "Berlin",
    "missile",
    "election",
    "inflation",
    "climate",
    "football",
    "court",
    "senate",
    "Gaza",
    "Israel",
    "북한",
    "러시아",
    "Nordkorea",
    "Russland",
    "Triều Tiên",
    "Nga",
    "Rosja",
    "France",
    "India",
    "Turkey",
];

/// Synthetic news: random syllable words, one in 25 a country or topical word.
fn synthetic_items(n: usize) -> Vec<LabelledExample> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    const SYL: &[&str] = &[
        "ka", "lo", "mi", "ren", "sta", "vo", "der", "ul", "pin", "ex", "tor", "ab", "is", "en",
        "qua", "zu", "mar", "tel", "on", "ri", "ce", "dy", "ph", "an", "gro",
    ];
    let vocab: Vec<String> = (0..3000)
        .map(|_| {
            (0..1 + rng.below(3))
                .map(|_| SYL[rng.below(SYL.len())])
                .collect()
        })
        .collect();
    let text = |rng: &mut Rng, words: usize| {
        let mut out = String::new();
        for i in 0..words {
            if i > 0 {
                out.push_str(if i % 14 == 0 { ". " } else { " " });
            }
            if rng.below(25) == 0 {
                out.push_str(WORDS[rng.below(WORDS.len())]);
            } else {
                out.push_str(&vocab[rng.below(vocab.len())]);
            }
        }
        out
    };
    (0..n)
        .map(|i| LabelledExample {
            id: i.to_string(),
            date: String::new(),
            source: "Synthetic feed".into(),
            title: text(&mut rng, 8 + i % 6),
            summary: text(&mut rng, 25 + i % 20),
            text: text(&mut rng, 250 + i % 100),
            link: "https://example.com/news/item".into(),
            lang: String::new(),
            label: false,
            borderline: false,
        })
        .collect()
}

/// On-CPU time of this thread (Linux `/proc/thread-self/schedstat`, nanoseconds), so the
/// per-core figure is not skewed by other processes sharing the machine.
fn cpu_time() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns: u64 = s
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

/// CPU time to match every item against every topic; and the matches found.
fn match_all(
    docs: &[PreparedDocument],
    topics: &[Topic],
    prefilter: Option<&Prefilter>,
) -> (Duration, usize) {
    let c0 = cpu_time();
    let mut matched = 0;
    for doc in docs {
        match prefilter {
            Some(p) => {
                for (topic, possible) in topics.iter().zip(p.possible(doc)) {
                    if possible && topic.is_match(doc) {
                        matched += 1;
                    }
                }
            }
            None => {
                for topic in topics {
                    if topic.is_match(doc) {
                        matched += 1;
                    }
                }
            }
        }
    }
    black_box(matched);
    (cpu_time() - c0, matched)
}

/// The prefilter's quick reading of raw text (`Prefilter::possible_in_text`, what the cold
/// poll runs on every new item before preparing any): CPU per item and per megabyte of text,
/// median of 3 runs of 20 passes, and how many items it reads (the rest are not plain ASCII enough).
fn quick_reading(items: &[LabelledExample], prefilter: &Prefilter, topics: usize) {
    let docs: Vec<_> = items.iter().map(|e| e.document()).collect();
    let bytes: usize = docs
        .iter()
        .map(|d| d.title.len() + d.summary.len() + d.text.len() + d.feed.len() + d.url.len())
        .sum();
    let mut times = Vec::new();
    let mut read = 0;
    // Passes per run, so a run lasts well past the clock's tick.
    const PASSES: usize = 20;
    for _ in 0..3 {
        let c0 = cpu_time();
        for _ in 0..PASSES {
            read = docs
                .iter()
                .filter(|d| black_box(prefilter.possible_in_text(d)).is_some())
                .count();
        }
        times.push(cpu_time() - c0);
    }
    let t = median(times).as_secs_f64() / PASSES as f64;
    println!(
        "        quick reading of raw text, {topics} topics: {:.2} µs/item, {:.0} MB/s ({read} of {} items read)",
        t * 1e6 / docs.len() as f64,
        bytes as f64 / 1e6 / t,
        docs.len()
    );
}

fn main() {
    // `cargo bench` appends `--bench`; flags are not ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n_items: usize = args
        .iter()
        .find(|a| !a.contains('='))
        .map(|s| s.parse().expect("items"))
        .unwrap_or(4000);
    let topic_counts: Vec<usize> = match args.iter().find_map(|a| a.strip_prefix("topics=")) {
        Some(n) => vec![n.parse().expect("topics=N")],
        None => vec![1, 10, 50],
    };
    let shipped = shipped();

    // Training time of the shipped topic's layer (from its default prior).
    let dev = dev_items();
    let base = topics(&shipped, 1, true).remove(0);
    let mut layer = (**base.learned.as_ref().expect("layer")).clone();
    layer.prior = layer.default_prior();
    for copies in [1, 3] {
        let examples: Vec<&LabelledExample> = (0..copies).flat_map(|_| dev.iter()).collect();
        let mut times = Vec::new();
        let mut trained = None;
        for _ in 0..3 {
            let (w0, c0) = (Instant::now(), cpu_time());
            trained = Some(black_box(layer.trained(&examples)));
            times.push((cpu_time() - c0).max(Duration::from_nanos(1)));
            black_box(w0.elapsed());
        }
        let trained = trained.expect("trained");
        println!(
            "training on {} labels ({} candidates): median {:.0} ms CPU ({} weights)",
            examples.len(),
            trained.trained_on,
            median(times).as_secs_f64() * 1e3,
            trained.model.weights().len()
        );
    }

    let sets: Vec<(&str, Vec<LabelledExample>)> = vec![
        (
            "real items (topics-dev, cycled)",
            dev.iter().cycle().take(n_items).cloned().collect(),
        ),
        ("synthetic items (300-word texts)", synthetic_items(n_items)),
    ];
    for (what, items) in &sets {
        let c0 = cpu_time();
        let docs: Vec<PreparedDocument> = items.iter().map(|e| prepare(&e.document())).collect();
        let prep = cpu_time() - c0;
        println!();
        println!(
            "{what}: {} items, prepared once in {:.2} s CPU ({:.1} µs/item)",
            docs.len(),
            prep.as_secs_f64(),
            prep.as_secs_f64() * 1e6 / docs.len() as f64
        );
        println!(
            "{:<7} {:<8} {:<10} {:>9} {:>14} {:>16} {:>8} {:>8}",
            "topics",
            "model",
            "prefilter",
            "matches",
            "match CPU s",
            "pairs/s/core",
            "ratio",
            "terms"
        );
        for &n in &topic_counts {
            for learned in [false, true] {
                let topics = topics(&shipped, n, learned);
                let refs: Vec<&Topic> = topics.iter().collect();
                let prefilter = Arc::new(Prefilter::new(&refs));
                let mut baseline = None;
                for use_prefilter in [false, true] {
                    let mut times = Vec::new();
                    let mut found = 0;
                    for _ in 0..3 {
                        // Fresh documents each run: the text features the models weigh are
                        // built on first use and kept in the document, and that cost counts.
                        let docs: Vec<PreparedDocument> =
                            items.iter().map(|e| prepare(&e.document())).collect();
                        let (t, m) =
                            match_all(&docs, &topics, use_prefilter.then_some(&*prefilter));
                        times.push(t);
                        found = m;
                    }
                    let t = median(times);
                    let pairs = (docs.len() * n) as f64;
                    let rate = pairs / (prep + t).as_secs_f64();
                    let ratio = match baseline {
                        None => {
                            baseline = Some(rate);
                            1.0
                        }
                        Some(b) => rate / b,
                    };
                    println!(
                        "{:<7} {:<8} {:<10} {:>9} {:>14.3} {:>16.0} {:>7.2}× {:>8}",
                        n,
                        if learned { "on" } else { "off" },
                        if use_prefilter { "on" } else { "off" },
                        found,
                        t.as_secs_f64(),
                        rate,
                        ratio,
                        prefilter.terms()
                    );
                }
                if !learned {
                    quick_reading(items, &prefilter, n);
                }
                if learned {
                    // How far pairs get: past the prefilter, candidates of the layer.
                    let (mut possible, mut candidates) = (0, 0);
                    for doc in &docs {
                        for (topic, p) in topics.iter().zip(prefilter.possible(doc)) {
                            let layer = topic.learned.as_ref().expect("layer");
                            possible += usize::from(p);
                            candidates += usize::from(p && layer.is_candidate(doc));
                        }
                    }
                    println!(
                        "        of {} pairs: {possible} past the prefilter, {candidates} candidates",
                        docs.len() * n
                    );
                }
            }
        }
    }
}
