//! Story identity: when two items from different feeds carry the same story (wire copy),
//! so a reader hears of it once. Pure functions over what the feed says of an item.
//!
//! The identity is computed from the feed's own fields alone — link, title and the lead of
//! the summary (else the content) — never from the extracted article text. The article page
//! arrives at a time of its own (at once, an hour later after retries, or never), so a key
//! built from it would make the same copies one story or two depending on timing (issue 17).
//!
//! An item's lead is the word 3-shingles of its title and the first words of its feed text.
//! Two items carry the same story when they have the same canonical URL, or when
//! - both leads have at least [`MIN_LEAD_SHINGLES`] word 3-shingles, at least
//!   [`MIN_CONTAINMENT`] of the smaller lead's shingles are in the other (a set measure: a
//!   summary with its sentences in another order, or a short summary against the full text
//!   that begins with it, still count), and their titles' SimHashes are within
//!   [`MAX_TITLE_DISTANCE`] bits (a feed's recurring boilerplate under different titles does
//!   not join); or
//! - either has too little text, and both titles have at least [`MIN_TITLE_WORDS`] words and
//!   the same normalized words.
//!
//! The thresholds are measured by `cargo bench --bench stories`: edited copies of real feed
//! items against every pair of different items, fitted on one set and scored on the other
//! (the figures are in `docs/stories.md`).

use unicode_normalization::UnicodeNormalization;
use xxhash_rust::xxh3::xxh3_64;

pub use crate::model::StoryKey;

/// Words of the feed's text that make the lead.
pub const LEAD_WORDS: usize = 300;
/// Fewer lead shingles than this is too little text to compare.
pub const MIN_LEAD_SHINGLES: usize = 8;
/// Share of the smaller lead's shingles that must be in the other lead.
pub const MIN_CONTAINMENT: f64 = 0.7;
/// Max Hamming distance between the title SimHashes of two copies compared on their text.
pub const MAX_TITLE_DISTANCE: u32 = 24;
/// Titles compared alone (too little text) need at least this many words.
pub const MIN_TITLE_WORDS: u32 = 4;

/// The thresholds of [`same_story`], as one value (the bench sweeps them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoryRule {
    pub min_lead_shingles: usize,
    pub min_containment: f64,
    pub max_title_distance: u32,
    pub min_title_words: u32,
}

impl StoryRule {
    /// The rule tidings uses.
    pub const DEFAULT: StoryRule = StoryRule {
        min_lead_shingles: MIN_LEAD_SHINGLES,
        min_containment: MIN_CONTAINMENT,
        max_title_distance: MAX_TITLE_DISTANCE,
        min_title_words: MIN_TITLE_WORDS,
    };

    /// Whether `a` and `b` carry the same story under this rule.
    pub fn same_story(&self, a: &StoryKey, b: &StoryKey) -> bool {
        self.decide(&PairFacts::of(a, b))
    }

    /// The rule's answer on what was measured of a pair.
    pub fn decide(&self, pair: &PairFacts) -> bool {
        if pair.same_url {
            return true;
        }
        if pair.smaller_lead >= self.min_lead_shingles {
            pair.containment >= self.min_containment
                && pair.title_distance <= self.max_title_distance
        } else {
            pair.fewer_title_words >= self.min_title_words && pair.title_distance == 0
        }
    }
}

/// What [`StoryRule::decide`] reads of a pair of keys (measured once, so the bench can try
/// many rules on the same pairs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairFacts {
    pub same_url: bool,
    /// Shingles in the smaller of the two leads.
    pub smaller_lead: usize,
    pub containment: f64,
    pub title_distance: u32,
    pub fewer_title_words: u32,
}

impl PairFacts {
    pub fn of(a: &StoryKey, b: &StoryKey) -> PairFacts {
        PairFacts {
            same_url: matches!((&a.url, &b.url), (Some(x), Some(y)) if x == y),
            smaller_lead: a.lead.len().min(b.lead.len()),
            containment: containment(&a.lead, &b.lead),
            title_distance: hamming(a.title_hash, b.title_hash),
            fewer_title_words: a.title_words.min(b.title_words),
        }
    }
}

/// NFKC, lowercase, punctuation → space, split into words.
pub fn normalize_words(s: &str) -> Vec<String> {
    let cleaned: String = s
        .nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    cleaned.split_whitespace().map(str::to_string).collect()
}

/// Classic SimHash: each feature votes +1/-1 on every bit of its 64-bit hash.
fn simhash_features<I: IntoIterator<Item = String>>(features: I) -> u64 {
    let mut votes = [0i32; 64];
    let mut any = false;
    for f in features {
        any = true;
        let h = xxh3_64(f.as_bytes());
        for (bit, v) in votes.iter_mut().enumerate() {
            if h >> bit & 1 == 1 {
                *v += 1;
            } else {
                *v -= 1;
            }
        }
    }
    if !any {
        return 0;
    }
    votes
        .iter()
        .enumerate()
        .filter(|(_, v)| **v > 0)
        .fold(0u64, |acc, (bit, _)| acc | 1 << bit)
}

/// SimHash of a title over its words and adjacent word pairs: small edits ("UPDATE:",
/// one changed word) move only a few bits, unlike an exact hash.
pub fn title_hash(title: &str) -> u64 {
    let words = normalize_words(title);
    let pairs: Vec<String> = words.windows(2).map(|w| w.join(" ")).collect();
    simhash_features(words.into_iter().chain(pairs))
}

/// The sorted, unique 32-bit hashes of the word 3-shingles of the first [`LEAD_WORDS`] words
/// of `text`.
pub fn lead_shingles(text: &str) -> Vec<u32> {
    let mut words = normalize_words(text);
    words.truncate(LEAD_WORDS);
    let mut hashes: Vec<u32> = words
        .windows(3)
        .map(|w| xxh3_64(w.join(" ").as_bytes()) as u32)
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

/// |a ∩ b| / min(|a|, |b|) of two sorted sets (0 when either is empty).
pub fn containment(a: &[u32], b: &[u32]) -> f64 {
    let smaller = a.len().min(b.len());
    if smaller == 0 {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common as f64 / smaller as f64
}

pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// The canonical URL a story is known by: fragment and trailing slash removed.
fn story_url(url: Option<&str>) -> Option<String> {
    url.map(str::trim)
        .map(|u| u.split('#').next().unwrap_or(u).trim_end_matches('/'))
        .filter(|u| !u.is_empty())
        .map(str::to_string)
}

/// The story identity of an item from what its feed says: its link, its title and its feed
/// text (the summary as plain text, else the content). The lead is the title followed by the
/// text, so an item whose feed gives a line of summary still has words to compare.
pub fn story_key(url: Option<&str>, title: &str, feed_text: &str) -> StoryKey {
    StoryKey {
        url: story_url(url),
        title_hash: title_hash(title),
        title_words: normalize_words(title).len() as u32,
        lead: lead_shingles(&format!("{title}\n{feed_text}")),
    }
}

/// Same canonical URL, or the same lead and a near title (see the module docs).
pub fn same_story(a: &StoryKey, b: &StoryKey) -> bool {
    StoryRule::DEFAULT.same_story(a, b)
}

/// The lead shingles as stored: 4 bytes each, little-endian.
pub fn lead_to_bytes(lead: &[u32]) -> Vec<u8> {
    lead.iter().flat_map(|h| h.to_le_bytes()).collect()
}

/// The lead shingles from their stored bytes (a trailing partial hash is ignored).
pub fn lead_from_bytes(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TITLE: &str = "North Korea sending artillery shells to Russia, White House says";
    const TEXT: &str = "The United States believes North Korea is covertly supplying \
        a significant number of artillery shells to Russia for its war in Ukraine, \
        the White House said on Wednesday. National Security Council spokesman John Kirby \
        said the shipments were being disguised as going to countries in the Middle East.";

    #[test]
    fn normalization() {
        assert_eq!(
            normalize_words("UPDATE: Kim’s “visit” — Ｍｏｓｃｏｗ!"),
            vec!["update", "kim", "s", "visit", "moscow"]
        );
        assert_eq!(title_hash("Hello, WORLD"), title_hash("hello world"));
    }

    #[test]
    fn hamming_and_containment() {
        assert_eq!(hamming(0, 0), 0);
        assert_eq!(hamming(0b1011, 0), 3);
        assert_eq!(hamming(u64::MAX, 0), 64);
        assert_eq!(containment(&[1, 2, 3, 4], &[2, 4, 9]), 2.0 / 3.0);
        assert_eq!(containment(&[], &[1]), 0.0);
    }

    #[test]
    fn empty_items_are_no_story() {
        let empty = story_key(None, "", "");
        assert!(!same_story(&empty, &empty));
    }

    #[test]
    fn same_url_is_same_story() {
        let a = story_key(Some("https://ex.com/a#top"), "One title", "");
        let b = story_key(Some("https://ex.com/a/"), "Completely different", "words");
        assert!(same_story(&a, &b));
    }

    #[test]
    fn wire_copy_edits_are_same_story() {
        let a = story_key(Some("https://a.example/1"), TITLE, TEXT);
        let edited_title = "UPDATE: North Korea sending artillery shells to Russia, US says";
        let b = story_key(Some("https://b.example/2"), edited_title, TEXT);
        assert!(same_story(&a, &b), "title edit");
        let longer = format!("{TEXT} North Korea has denied the claims.");
        assert!(
            same_story(&a, &story_key(None, TITLE, &longer)),
            "sentence added"
        );
        let (first, second) = TEXT.split_once(". ").unwrap();
        let rotated = format!("{second} {first}.");
        assert!(same_story(&a, &story_key(None, TITLE, &rotated)), "rotated");
    }

    #[test]
    fn a_short_summary_joins_the_full_text_it_begins() {
        let summary = TEXT.split_once(". ").unwrap().0;
        let full = format!(
            "{TEXT} Pyongyang has denied the claims, calling them a fabrication. Russia \
             declined to comment. Analysts say the shells are of an older Soviet design \
             and that their quality has been uneven, with reports of misfires at the front."
        );
        assert!(same_story(
            &story_key(None, TITLE, summary),
            &story_key(None, TITLE, &full)
        ));
    }

    #[test]
    fn different_story_same_subject() {
        let a = story_key(None, TITLE, TEXT);
        let b = story_key(
            None,
            "North Korea denies sending arms to Russia's Wagner group",
            "Pyongyang's foreign ministry called the reports a groundless rumour spread \
             by hostile forces and said it had never exported weapons to Russia.",
        );
        assert!(!same_story(&a, &b));
    }

    #[test]
    fn shared_boilerplate_under_different_titles_is_not_one_story() {
        let promo = "Subscribe to our channel for more videos every week and join the \
            members area for exclusive documentaries, early access and live streams \
            with the team every month";
        let a = story_key(None, "Inside the world's most isolated country", promo);
        let b = story_key(None, "Ranking every Soviet tank of the Cold War", promo);
        // The guard is the titles' distance (how often it fails on real items is measured
        // by `cargo bench --bench stories`).
        assert!(hamming(a.title_hash, b.title_hash) > MAX_TITLE_DISTANCE);
        assert!(containment(&a.lead, &b.lead) >= MIN_CONTAINMENT);
        assert!(!same_story(&a, &b));
    }

    #[test]
    fn short_items_need_the_same_title() {
        let a = story_key(None, "Kim meets Putin in Vladivostok", "");
        let b = story_key(None, "Kim meets Putin in Vladivostok", "");
        let c = story_key(None, "Kim meets Xi in Beijing", "");
        let short = story_key(None, "Briefing", "");
        assert!(same_story(&a, &b));
        assert!(!same_story(&a, &c));
        assert!(!same_story(&short, &short));
    }

    #[test]
    fn lead_bytes_round_trip() {
        let lead = lead_shingles(TEXT);
        assert!(lead.len() > MIN_LEAD_SHINGLES);
        assert_eq!(lead_from_bytes(&lead_to_bytes(&lead)), lead);
    }
}
