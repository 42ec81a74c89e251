//! Near-duplicate detection of wire copy: 64-bit SimHash over word 3-shingles and the same-story rule.
//!
//! Two items carry the same story when they have the same canonical URL, or when their
//! title+text SimHashes are within [`MAX_TEXT_DISTANCE`] bits AND their title SimHashes are within
//! [`MAX_TITLE_DISTANCE`] bits. The thresholds were measured with `examples/story_threshold.rs`
//! (edited copies of real feed items versus different items on the same subject).
//!
//! Measured (2,492 feed-corpus items + 140 NK-Russia dev items, 15,282 edited copies):
//! edited copies have text distance p50 = 7, p95 = 16; different stories have p1 = 22-23,
//! and the closest two different NK-Russia items are 17-18 bits apart. Text <= 16 AND
//! title <= 20 keeps 93.9% of edited copies and matches 26 of 3.1M different-item pairs,
//! 15 of which are in fact the same post syndicated under a prefixed title; the rest are
//! templated series posts ("Podcast Episode #063" / "#064").

use unicode_normalization::UnicodeNormalization;
use xxhash_rust::xxh3::xxh3_64;

/// Max Hamming distance between title+text SimHashes of the same story.
pub const MAX_TEXT_DISTANCE: u32 = 16;
/// Max Hamming distance between title SimHashes of the same story.
pub const MAX_TITLE_DISTANCE: u32 = 20;
/// Below this many words (title+text) the text hash is too noisy: only an identical
/// normalized title (title distance 0) counts, together with the text condition.
pub const MIN_WORDS: usize = 8;

pub use crate::model::StoryKey;

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

/// Word 3-shingles (or the whole text as one shingle when it has fewer than 3 words).
fn shingles(words: &[String]) -> Vec<String> {
    if words.len() < 3 {
        if words.is_empty() {
            return Vec::new();
        }
        return vec![words.join(" ")];
    }
    words.windows(3).map(|w| w.join(" ")).collect()
}

/// 64-bit SimHash of title + text over normalized word 3-shingles (xxh3 per shingle).
pub fn simhash(title: &str, text: &str) -> u64 {
    let mut words = normalize_words(title);
    words.extend(normalize_words(text));
    simhash_features(shingles(&words))
}

/// SimHash of a title over its words and adjacent word pairs: small edits ("UPDATE:",
/// one changed word) move only a few bits, unlike an exact hash.
pub fn title_hash(title: &str) -> u64 {
    let words = normalize_words(title);
    let pairs: Vec<String> = words.windows(2).map(|w| w.join(" ")).collect();
    simhash_features(words.into_iter().chain(pairs))
}

pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

pub fn story_key(url: Option<&str>, title: &str, text: &str) -> StoryKey {
    let url = url
        .map(|u| u.trim())
        .map(|u| u.split('#').next().unwrap_or(u).trim_end_matches('/'))
        .filter(|u| !u.is_empty())
        .map(str::to_string);
    let words = normalize_words(title).len() + normalize_words(text).len();
    StoryKey {
        url,
        title_hash: title_hash(title),
        simhash: simhash(title, text),
        words,
    }
}

/// Same canonical URL, or near-identical title and title+text (see module docs).
pub fn same_story(a: &StoryKey, b: &StoryKey) -> bool {
    if let (Some(ua), Some(ub)) = (&a.url, &b.url)
        && ua == ub
    {
        return true;
    }
    if a.words == 0 || b.words == 0 {
        return false;
    }
    let title_limit = if a.words.min(b.words) < MIN_WORDS {
        0
    } else {
        MAX_TITLE_DISTANCE
    };
    hamming(a.simhash, b.simhash) <= MAX_TEXT_DISTANCE
        && hamming(a.title_hash, b.title_hash) <= title_limit
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
        assert_eq!(simhash("Hello, WORLD", ""), simhash("hello world", ""));
    }

    #[test]
    fn hamming_counts_bits() {
        assert_eq!(hamming(0, 0), 0);
        assert_eq!(hamming(0b1011, 0), 3);
        assert_eq!(hamming(u64::MAX, 0), 64);
    }

    #[test]
    fn identical_and_empty() {
        assert_eq!(simhash(TITLE, TEXT), simhash(TITLE, TEXT));
        assert_eq!(simhash("", ""), 0);
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
        let c = story_key(None, TITLE, &longer);
        assert!(same_story(&a, &c), "sentence added");
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
    fn short_items_need_identical_title() {
        let a = story_key(None, "Kim meets Putin", "");
        let b = story_key(None, "Kim meets Putin", "");
        let c = story_key(None, "Kim meets Xi", "");
        assert!(same_story(&a, &b));
        assert!(!same_story(&a, &c));
    }
}
