//! Story grouping benchmark: how often edited copies of one item are joined into one story,
//! and how often two different items are wrongly merged, under the rule tidings uses
//! (`notify::story`), a sweep of its thresholds, and the rule it replaced.
//!
//! Usage: cargo bench --bench stories [-- --sweep]
//!
//! Two sets of real items: every item of the feed corpus (`../shared/feeds-corpus`, as
//! tidings parses it) and the labelled news items of `../shared/topics-dev` (same subject:
//! the hard case for wrong merges). Each item gets edited copies as other outlets carry wire
//! copy: one title word changed, a prefix or suffix on the title, the summary's sentences
//! rotated, only its first sentence, a dateline in front, a site's trailer behind, the full
//! text instead of the summary, and title word + rotation together; every copy is on another
//! host, so the URL never decides. Different items: every pair within a set. With `--sweep`
//! the thresholds are fitted on one set (most copies joined with no more wrong merges than
//! the rule it replaced makes on that set) and scored on the other: the held-out figures.

#[path = "../tests/common/text.rs"]
mod text;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use text::sentences;
use tidings::notify::story::{
    PairFacts, StoryKey, StoryRule, normalize_words, story_key, title_hash,
};
use tidings::plaintext::html_to_text;

/// One original item: its link, title, feed text (summary, else content) and, when the
/// source has it, a longer text (the full content or article text).
struct Item {
    title: String,
    feed_text: String,
    full_text: Option<String>,
}

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

/// Every item of the main feed corpus with a title.
fn corpus_items() -> Vec<Item> {
    let root = shared().join("feeds-corpus");
    let manifest = std::fs::read_to_string(root.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    let mut items = Vec::new();
    for line in manifest.lines().skip(1) {
        let path = line.split('\t').next().unwrap_or_default();
        if path.ends_with(".opml") || path.is_empty() {
            continue;
        }
        let Ok(mut body) = std::fs::read(root.join(path)) else {
            continue;
        };
        if path.ends_with(".gz") {
            let mut out = Vec::new();
            use std::io::Read;
            if flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut out)
                .is_err()
            {
                continue;
            }
            body = out;
        }
        let Ok(feed) = tidings::parse::parse_feed(&body, "https://corpus.example/feed") else {
            continue;
        };
        for it in feed.items {
            let title = it.title.unwrap_or_default();
            if title.trim().is_empty() {
                continue;
            }
            let summary = it.summary.as_deref().map(html_to_text).unwrap_or_default();
            let content = it.content.as_deref().map(html_to_text).unwrap_or_default();
            let (feed_text, full_text) = if summary.trim().is_empty() {
                (content, None)
            } else {
                let longer = (content.len() > summary.len() * 2).then_some(content);
                (summary, longer)
            };
            items.push(Item {
                title,
                feed_text,
                full_text,
            });
        }
    }
    items
}

/// Every labelled item of `../shared/topics-dev` with a title.
fn topic_items() -> Vec<Item> {
    let mut items = Vec::new();
    for file in ["nk-russia-dev.jsonl", "nk-russia-more.jsonl"] {
        let text = std::fs::read_to_string(shared().join("topics-dev").join(file)).expect(file);
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("jsonl");
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            if s("title").trim().is_empty() {
                continue;
            }
            let full = s("text");
            items.push(Item {
                title: s("title"),
                feed_text: s("summary"),
                full_text: (full.len() > s("summary").len() * 2).then_some(full),
            });
        }
    }
    items
}

/// The edits another outlet makes to wire copy; `None` where the edit does not apply.
const EDITS: &[&str] = &[
    "title word",
    "title prefix/suffix",
    "rotated sentences",
    "first sentence only",
    "dateline",
    "site trailer",
    "full text",
    "title word + rotated",
];

fn replace_a_word(title: &str, rng: &mut fastrand::Rng, vocabulary: &[String]) -> String {
    let mut words: Vec<&str> = title.split_whitespace().collect();
    if words.len() < 2 {
        return format!("{title} update");
    }
    let at = rng.usize(..words.len());
    let replacement = &vocabulary[rng.usize(..vocabulary.len())];
    words[at] = replacement;
    words.join(" ")
}

fn rotate(text: &str) -> Option<String> {
    let mut s = sentences(text);
    if s.len() < 2 {
        return None;
    }
    s.rotate_left(1);
    Some(s.join(" "))
}

fn edited(
    item: &Item,
    edit: &str,
    rng: &mut fastrand::Rng,
    vocabulary: &[String],
) -> Option<(String, String)> {
    let (t, x) = (item.title.as_str(), item.feed_text.as_str());
    Some(match edit {
        "title word" => (replace_a_word(t, rng, vocabulary), x.to_string()),
        "title prefix/suffix" => {
            if rng.bool() {
                (format!("UPDATE: {t}"), x.to_string())
            } else {
                (format!("{t} - Wire Service"), x.to_string())
            }
        }
        "rotated sentences" => (t.to_string(), rotate(x)?),
        "first sentence only" => {
            let s = sentences(x);
            if s.len() < 2 {
                return None;
            }
            (t.to_string(), s[0].clone())
        }
        "dateline" => (t.to_string(), format!("SEOUL, Dec. 6 (Wire) -- {x}")),
        "site trailer" => (
            t.to_string(),
            format!("{x} The post {t} appeared first on Example Daily."),
        ),
        "full text" => (t.to_string(), item.full_text.clone()?),
        "title word + rotated" => (replace_a_word(t, rng, vocabulary), rotate(x)?),
        _ => unreachable!("unknown edit {edit}"),
    })
}

/// The keys of one set: originals, and per edit kind the (original index, copy key) pairs.
struct Keys {
    originals: Vec<StoryKey>,
    /// Pairs of originals that are the same text (true duplicates in the data): not counted.
    identical: HashSet<(usize, usize)>,
    copies: Vec<Vec<(usize, StoryKey)>>,
    legacy_originals: Vec<Legacy>,
    legacy_copies: Vec<Vec<(usize, Legacy)>>,
}

fn keys(items: &[Item], seed: u64) -> Keys {
    let mut rng = fastrand::Rng::with_seed(seed);
    let vocabulary: Vec<String> = items
        .iter()
        .flat_map(|i| i.title.split_whitespace().map(str::to_string))
        .filter(|w| w.len() > 3)
        .take(5_000)
        .collect();
    let originals: Vec<StoryKey> = items
        .iter()
        .enumerate()
        .map(|(n, i)| {
            story_key(
                Some(&format!("https://a.example/{n}")),
                &i.title,
                &i.feed_text,
            )
        })
        .collect();
    let legacy_originals = items
        .iter()
        .map(|i| Legacy::of(&i.title, &i.feed_text))
        .collect();
    let mut seen = std::collections::HashMap::new();
    let mut identical = HashSet::new();
    for (n, i) in items.iter().enumerate() {
        let norm = (normalize_words(&i.title), normalize_words(&i.feed_text));
        if let Some(&m) = seen.get(&norm) {
            identical.insert((m, n));
        } else {
            seen.insert(norm, n);
        }
    }
    let mut copies = vec![Vec::new(); EDITS.len()];
    let mut legacy_copies = vec![Vec::new(); EDITS.len()];
    for (n, item) in items.iter().enumerate() {
        for (e, edit) in EDITS.iter().enumerate() {
            if let Some((title, text)) = edited(item, edit, &mut rng, &vocabulary) {
                let url = format!("https://b.example/{n}");
                copies[e].push((n, story_key(Some(&url), &title, &text)));
                legacy_copies[e].push((n, Legacy::of(&title, &text)));
            }
        }
    }
    Keys {
        originals,
        identical,
        copies,
        legacy_originals,
        legacy_copies,
    }
}

/// The rule tidings used before issue 17: SimHash of title + text within 16 bits and of the
/// title within 20 (identical titles below 8 words), over whatever text the item had.
#[derive(Clone)]
struct Legacy {
    title: u64,
    text: u64,
    words: usize,
}

impl Legacy {
    fn of(title: &str, text: &str) -> Legacy {
        let mut words = normalize_words(title);
        words.extend(normalize_words(text));
        let shingles: Vec<String> = if words.len() < 3 {
            vec![words.join(" ")]
        } else {
            words.windows(3).map(|w| w.join(" ")).collect()
        };
        let mut votes = [0i32; 64];
        for s in &shingles {
            let h = xxhash_rust::xxh3::xxh3_64(s.as_bytes());
            for (bit, v) in votes.iter_mut().enumerate() {
                *v += if h >> bit & 1 == 1 { 1 } else { -1 };
            }
        }
        let text = votes
            .iter()
            .enumerate()
            .filter(|(_, v)| **v > 0)
            .fold(0u64, |acc, (bit, _)| acc | 1 << bit);
        Legacy {
            title: title_hash(title),
            text,
            words: words.len(),
        }
    }

    fn same(&self, other: &Legacy) -> bool {
        if self.words == 0 || other.words == 0 {
            return false;
        }
        let title_limit = if self.words.min(other.words) < 8 {
            0
        } else {
            20
        };
        (self.text ^ other.text).count_ones() <= 16
            && (self.title ^ other.title).count_ones() <= title_limit
    }
}

/// Joined copies per edit kind, and wrong merges among different originals.
struct Score {
    joined: Vec<(usize, usize)>,
    wrong: usize,
    pairs: usize,
    examples: Vec<(usize, usize)>,
}

impl Score {
    fn joined_share(&self) -> f64 {
        let (j, n) = self
            .joined
            .iter()
            .fold((0, 0), |(a, b), (j, n)| (a + j, b + n));
        j as f64 / n.max(1) as f64
    }

    fn wrong_per_100k(&self) -> f64 {
        self.wrong as f64 * 100_000.0 / self.pairs.max(1) as f64
    }
}

fn score_with<K>(
    originals: &[K],
    copies: &[Vec<(usize, K)>],
    identical: &HashSet<(usize, usize)>,
    same: impl Fn(&K, &K) -> bool,
) -> Score {
    let joined = copies
        .iter()
        .map(|list| {
            let j = list
                .iter()
                .filter(|(n, copy)| same(&originals[*n], copy))
                .count();
            (j, list.len())
        })
        .collect();
    let mut wrong = 0;
    let mut pairs = 0;
    let mut examples = Vec::new();
    for a in 0..originals.len() {
        for b in a + 1..originals.len() {
            if identical.contains(&(a, b)) {
                continue;
            }
            pairs += 1;
            if same(&originals[a], &originals[b]) {
                wrong += 1;
                if examples.len() < 12 {
                    examples.push((a, b));
                }
            }
        }
    }
    Score {
        joined,
        wrong,
        pairs,
        examples,
    }
}

/// The pairs of a set measured once: each copy against its original, and the pairs of
/// different originals that any swept rule could merge (the rest count as kept apart).
struct Pairs {
    copies: Vec<Vec<PairFacts>>,
    different: Vec<(usize, usize, PairFacts)>,
    different_total: usize,
}

fn pairs(keys: &Keys) -> Pairs {
    let loosest = sweep()
        .into_iter()
        .fold(StoryRule::DEFAULT, |acc, r| StoryRule {
            min_containment: acc.min_containment.min(r.min_containment),
            max_title_distance: acc.max_title_distance.max(r.max_title_distance),
            ..acc
        });
    let copies = keys
        .copies
        .iter()
        .map(|list| {
            list.iter()
                .map(|(n, copy)| PairFacts::of(&keys.originals[*n], copy))
                .collect()
        })
        .collect();
    let mut different = Vec::new();
    let mut different_total = 0;
    for a in 0..keys.originals.len() {
        for b in a + 1..keys.originals.len() {
            if keys.identical.contains(&(a, b)) {
                continue;
            }
            different_total += 1;
            let facts = PairFacts::of(&keys.originals[a], &keys.originals[b]);
            if loosest.decide(&facts) {
                different.push((a, b, facts));
            }
        }
    }
    Pairs {
        copies,
        different,
        different_total,
    }
}

fn score(pairs: &Pairs, rule: &StoryRule) -> Score {
    let joined = pairs
        .copies
        .iter()
        .map(|list| (list.iter().filter(|p| rule.decide(p)).count(), list.len()))
        .collect();
    let merged: Vec<(usize, usize)> = pairs
        .different
        .iter()
        .filter(|(_, _, p)| rule.decide(p))
        .map(|(a, b, _)| (*a, *b))
        .collect();
    Score {
        joined,
        wrong: merged.len(),
        pairs: pairs.different_total,
        examples: merged.into_iter().take(12).collect(),
    }
}

fn print_score(set: &str, rule_name: &str, s: &Score) {
    let per_edit: Vec<String> = EDITS
        .iter()
        .zip(&s.joined)
        .map(|(e, (j, n))| format!("{e} {:.3} ({n})", *j as f64 / (*n).max(1) as f64))
        .collect();
    println!(
        "{set:<12} {rule_name:<28} copies joined {:.3}   wrong merges {} of {} pairs ({:.2} per 100k)",
        s.joined_share(),
        s.wrong,
        s.pairs,
        s.wrong_per_100k()
    );
    println!("{:<12}   {}", "", per_edit.join(" · "));
}

fn sweep() -> Vec<StoryRule> {
    let mut rules = Vec::new();
    for min_containment in [0.3, 0.4, 0.5, 0.6, 0.7, 0.8] {
        for max_title_distance in [12, 16, 20, 24, 28, 64] {
            rules.push(StoryRule {
                min_containment,
                max_title_distance,
                ..StoryRule::DEFAULT
            });
        }
    }
    rules
}

/// The swept rule joining most copies in `pairs` with at most `max_wrong_per_100k` wrong
/// merges per 100k pairs (the old rule's rate on the same set: no worse than before).
fn fit(pairs: &Pairs, max_wrong_per_100k: f64) -> StoryRule {
    let mut best: Option<(f64, StoryRule)> = None;
    for rule in sweep() {
        let s = score(pairs, &rule);
        if s.wrong_per_100k() <= max_wrong_per_100k
            && best.is_none_or(|(b, _)| s.joined_share() > b)
        {
            best = Some((s.joined_share(), rule));
        }
    }
    best.map(|(_, r)| r).unwrap_or(StoryRule::DEFAULT)
}

fn main() {
    let do_sweep = std::env::args().any(|a| a == "--sweep");
    let started = Instant::now();
    let sets = [
        ("feed corpus", corpus_items()),
        ("topics-dev", topic_items()),
    ];
    let keyed: Vec<(&str, &Vec<Item>, Keys, Pairs)> = sets
        .iter()
        .map(|(name, items)| {
            let keys = keys(items, 17);
            let pairs = pairs(&keys);
            (*name, items, keys, pairs)
        })
        .collect();
    println!(
        "story grouping: {} corpus items, {} topics-dev items ({:.1}s to load and measure)\n",
        sets[0].1.len(),
        sets[1].1.len(),
        started.elapsed().as_secs_f64()
    );
    let mut legacy_wrong_per_100k = Vec::new();
    for (name, items, keys, pairs) in &keyed {
        let s = score(pairs, &StoryRule::DEFAULT);
        print_score(name, "tidings (lead containment)", &s);
        for (a, b) in s.examples.iter().take(6) {
            println!(
                "{:<12}   merged: {:?} / {:?}",
                "", items[*a].title, items[*b].title
            );
        }
        let legacy = score_with(
            &keys.legacy_originals,
            &keys.legacy_copies,
            &keys.identical,
            Legacy::same,
        );
        print_score(name, "before (SimHash of text)", &legacy);
        legacy_wrong_per_100k.push(legacy.wrong_per_100k());
        println!();
    }
    if do_sweep {
        println!(
            "{:>11} {:>6}   {:>14} {:>14}   {:>14} {:>14}",
            "containment", "title", "corpus joined", "wrong /100k", "topics joined", "wrong /100k"
        );
        for rule in sweep() {
            let (c, t) = (score(&keyed[0].3, &rule), score(&keyed[1].3, &rule));
            println!(
                "{:>11} {:>6}   {:>14.3} {:>14.2}   {:>14.3} {:>14.2}",
                rule.min_containment,
                rule.max_title_distance,
                c.joined_share(),
                c.wrong_per_100k(),
                t.joined_share(),
                t.wrong_per_100k()
            );
        }
        println!();
        for (fit_on, score_on) in [(0, 1), (1, 0)] {
            let rule = fit(&keyed[fit_on].3, legacy_wrong_per_100k[fit_on]);
            println!(
                "fitted on {} (wrong merges at most {:.2} per 100k, the old rule's): containment >= {}, title distance <= {}",
                keyed[fit_on].0,
                legacy_wrong_per_100k[fit_on],
                rule.min_containment,
                rule.max_title_distance
            );
            print_score(
                keyed[fit_on].0,
                "in-sample",
                &score(&keyed[fit_on].3, &rule),
            );
            print_score(
                keyed[score_on].0,
                "held out",
                &score(&keyed[score_on].3, &rule),
            );
            println!();
        }
    }
    println!("({:.1}s)", started.elapsed().as_secs_f64());
}
