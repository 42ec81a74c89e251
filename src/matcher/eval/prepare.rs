//! Document preparation: every field normalized, tokenized and indexed once (sorted term
//! index with a start-bytes filter), and the term and phrase lookups evaluation runs on it.
//!
//! An item without a headline (feeds and archives that keep only the description) gets the
//! first sentence of its summary as its title, and the rest as its summary: what a reader
//! sees first is what headline rules (`title:…`) are about.

use crate::matcher::learned::features::TextFeatureKeys;
use crate::matcher::normalize::{Tokens, tokenize};
use crate::matcher::query::{Field, Word};

/// A feed item to match.
#[derive(Debug, Clone, Copy, Default)]
pub struct Document<'a> {
    pub title: &'a str,
    pub summary: &'a str,
    pub text: &'a str,
    pub feed: &'a str,
    pub url: &'a str,
    pub author: &'a str,
}

/// One normalized, tokenized field with a sorted term index (built on the first lookup: an
/// item the prefilter rules out for every topic never needs it).
#[derive(Debug, Clone, Default)]
pub(super) struct PreparedField {
    pub(super) toks: Tokens,
    index: std::sync::OnceLock<FieldIndex>,
}

/// A field's term index.
#[derive(Debug, Clone)]
struct FieldIndex {
    /// Every token and joined compound, sorted by text then first token.
    entries: Vec<IndexEntry>,
    /// Bloom-style bitmap of the first two bytes of every indexed text: a lookup whose word
    /// is absent from it skips the binary search (most lookups miss).
    starts: [u64; 16],
}

/// True if the `starts` bitmap may hold a text that `word` is (or, as a prefix, starts):
/// false only when no indexed text begins with the word's first two bytes. A one-byte word
/// can begin texts with any second byte, so it always may.
fn may_start(starts: &[u64; 16], word: &str) -> bool {
    if word.len() < 2 {
        return true;
    }
    let bit = start_bit(word);
    starts[bit / 64] & (1 << (bit % 64)) != 0
}

/// Bit of [`FieldIndex::starts`] for a word (its first two bytes).
fn start_bit(s: &str) -> usize {
    let b = s.as_bytes();
    let h = (usize::from(b.first().copied().unwrap_or(0)) * 31)
        ^ usize::from(b.get(1).copied().unwrap_or(0));
    h % 1024
}

#[derive(Debug, Clone, Copy)]
struct IndexEntry {
    /// The first 8 bytes of the text, big-endian, zero padded: comparing these first
    /// orders entries exactly like comparing the texts (tokens contain no NUL), and
    /// decides most comparisons without touching the text.
    head: u64,
    /// Byte range of the text in the field's normalized buffer.
    norm: (u32, u32),
    /// First token and token count.
    tok: u32,
    len: u32,
}

fn head(s: &str) -> u64 {
    let mut b = [0u8; 8];
    let n = s.len().min(8);
    b[..n].copy_from_slice(&s.as_bytes()[..n]);
    u64::from_be_bytes(b)
}

impl FieldIndex {
    fn of(toks: &Tokens) -> FieldIndex {
        let entry = |norm: (u32, u32), tok: u32, len: u32| IndexEntry {
            head: head(&toks.norm[norm.0 as usize..norm.1 as usize]),
            norm,
            tok,
            len,
        };
        let mut entries: Vec<IndexEntry> =
            Vec::with_capacity(toks.tokens.len() + toks.joined.len());
        for (i, t) in toks.tokens.iter().enumerate() {
            entries.push(entry(t.norm, i as u32, 1));
        }
        for j in &toks.joined {
            entries.push(entry(j.norm, j.first, j.len));
        }
        let norm = &toks.norm;
        let key = |r: (u32, u32)| &norm[r.0 as usize..r.1 as usize];
        let mut starts = [0u64; 16];
        for e in &entries {
            let bit = start_bit(key(e.norm));
            starts[bit / 64] |= 1 << (bit % 64);
        }
        entries.sort_unstable_by(|a, b| {
            a.head
                .cmp(&b.head)
                .then_with(|| key(a.norm).cmp(key(b.norm)))
                .then(a.tok.cmp(&b.tok))
        });
        FieldIndex { entries, starts }
    }
}

impl PreparedField {
    fn new(text: &str) -> PreparedField {
        PreparedField {
            toks: tokenize(text),
            index: std::sync::OnceLock::new(),
        }
    }

    fn index(&self) -> &FieldIndex {
        self.index.get_or_init(|| FieldIndex::of(&self.toks))
    }

    fn starts(&self) -> &[u64; 16] {
        &self.index().starts
    }

    fn key(&self, r: (u32, u32)) -> &str {
        &self.toks.norm[r.0 as usize..r.1 as usize]
    }

    /// Calls `f(first_token, token_count)` for every index entry equal to `word` (or
    /// starting with it when `prefix`).
    pub(super) fn lookup(&self, word: &str, prefix: bool, mut f: impl FnMut(u32, u32)) {
        let FieldIndex { entries, starts } = self.index();
        if !may_start(starts, word) {
            return;
        }
        let h = head(word);
        let start =
            entries.partition_point(|e| e.head < h || (e.head == h && self.key(e.norm) < word));
        for e in &entries[start..] {
            let k = self.key(e.norm);
            let ok = if prefix {
                k.starts_with(word)
            } else {
                k == word
            };
            if !ok {
                break;
            }
            f(e.tok, e.len);
        }
    }

    fn text(&self, i: usize) -> &str {
        self.toks.text(i)
    }

    pub(super) fn pos(&self, i: u32) -> u32 {
        self.toks.tokens[i as usize].pos
    }

    /// Tries to match `words` starting at token `ti`; returns the end token (exclusive).
    pub(super) fn phrase_at(&self, words: &[Word], ti: usize, first: bool) -> Option<usize> {
        let Some(w) = words.first() else {
            return Some(ti);
        };
        let n = self.toks.tokens.len();
        if ti >= n {
            return None;
        }
        if !first && self.toks.tokens[ti].pos != self.toks.tokens[ti - 1].pos + 1 {
            return None; // crossed a sentence or paragraph gap
        }
        let tok = self.text(ti);
        if word_matches(tok, w)
            && let Some(end) = self.phrase_at(&words[1..], ti + 1, false)
        {
            return Some(end);
        }
        // Several query words glued together in one text token ("kim jongun").
        if tok.len() > w.text.len() && tok.starts_with(&w.text) {
            let mut glued = w.text.clone();
            for k in 1..words.len() {
                glued.push_str(&words[k].text);
                if glued.len() > tok.len() || !tok.starts_with(&glued) {
                    break;
                }
                if (glued == tok || (words[k].prefix && tok.starts_with(&glued)))
                    && let Some(end) = self.phrase_at(&words[k + 1..], ti + 1, false)
                {
                    return Some(end);
                }
            }
        }
        // The joined form of a hyphenated compound starting here ("jong-un" = "jongun").
        for (j, jn) in self.toks.joined.iter().enumerate() {
            if jn.first as usize == ti
                && word_matches(self.toks.joined_text(j), w)
                && let Some(end) = self.phrase_at(&words[1..], ti + jn.len as usize, false)
            {
                return Some(end);
            }
        }
        None
    }
}

fn word_matches(tok: &str, w: &Word) -> bool {
    if w.prefix {
        tok.starts_with(&w.text)
    } else {
        tok == w.text
    }
}

/// A document normalized and tokenized once, reused for every topic.
#[derive(Debug, Clone, Default)]
pub struct PreparedDocument {
    fields: [PreparedField; 6],
    /// The `starts` bitmaps of the fields an unscoped term is looked up in
    /// ([`Field::DEFAULT`]) joined: one test rules a word out of all three.
    default_starts: std::sync::OnceLock<[u64; 16]>,
    /// The word and character features the learned layers weigh, built on first use.
    text_keys: std::sync::OnceLock<TextFeatureKeys>,
}

/// Words before a full stop that do not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "gen", "sen", "rep", "gov", "lt", "col", "jr", "sr", "no", "vs",
    "prof", "capt", "sgt", "adm", "maj", "hon", "rev", "inc", "ltd", "co", "corp",
];

/// Splits a summary into its first sentence and the rest (the headline of an item that has
/// none). A sentence ends at `.`, `!` or `?` followed by white space, after a word of two
/// or more letters that is not a title such as `Mr.`; without one, the whole summary is
/// the first sentence.
pub fn split_headline(summary: &str) -> (&str, &str) {
    let summary = summary.trim();
    let bytes = summary.as_bytes();
    for (i, c) in summary.char_indices() {
        if !matches!(c, '.' | '!' | '?' | '。') {
            continue;
        }
        let end = i + c.len_utf8();
        if end < bytes.len() && !summary[end..].starts_with(char::is_whitespace) {
            continue;
        }
        let word: String = summary[..i]
            .chars()
            .rev()
            .take_while(|c| c.is_alphanumeric())
            .collect();
        if word.chars().count() < 2
            || ABBREVIATIONS.contains(
                &word
                    .to_lowercase()
                    .chars()
                    .rev()
                    .collect::<String>()
                    .as_str(),
            )
        {
            continue;
        }
        return (&summary[..end], summary[end..].trim_start());
    }
    (summary, "")
}

/// Normalizes and indexes every field of `doc`.
pub fn prepare(doc: &Document) -> PreparedDocument {
    let (title, summary) = if doc.title.trim().is_empty() {
        split_headline(doc.summary)
    } else {
        (doc.title, doc.summary)
    };
    let fields = [
        PreparedField::new(title),
        PreparedField::new(summary),
        PreparedField::new(doc.text),
        PreparedField::new(doc.feed),
        PreparedField::new(doc.url),
        PreparedField::new(doc.author),
    ];
    PreparedDocument {
        fields,
        default_starts: std::sync::OnceLock::new(),
        text_keys: std::sync::OnceLock::new(),
    }
}

impl PreparedDocument {
    pub(super) fn field(&self, f: Field) -> &PreparedField {
        &self.fields[f.index()]
    }

    /// False if `word` (as itself or as a prefix) is surely not in `field` (`None`: in
    /// none of the fields an unscoped term is looked up in); true if it may be.
    pub(super) fn may_contain(&self, field: Option<Field>, word: &str) -> bool {
        match field {
            None => may_start(
                self.default_starts.get_or_init(|| {
                    let mut all = [0u64; 16];
                    for f in Field::DEFAULT {
                        for (all, one) in all.iter_mut().zip(self.field(f).starts()) {
                            *all |= one;
                        }
                    }
                    all
                }),
                word,
            ),
            Some(f) => may_start(self.field(f).starts(), word),
        }
    }

    /// The tokens of a field (normalized texts, positions, joined hyphen compounds).
    pub fn tokens(&self, f: Field) -> &Tokens {
        &self.field(f).toks
    }

    /// The item's word and character features as the learned layers look them up: built
    /// the first time a topic's model weighs the item, then shared by every topic.
    pub fn text_feature_keys(&self) -> &TextFeatureKeys {
        self.text_keys.get_or_init(|| TextFeatureKeys::of(self))
    }

    /// The normalized tokens of a field, space separated.
    pub fn normalized(&self, f: Field) -> String {
        let pf = self.field(f);
        let n = pf.toks.tokens.len();
        (0..n).map(|i| pf.text(i)).collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::eval::evaluate;
    use crate::matcher::eval::tests::{hit, q, title};

    #[test]
    fn names_with_hyphens_spaces_and_glue() {
        for t in [
            "Kim Jong-un visits",
            "Kim Jong Un visits",
            "Kim Jongun visits",
            "KIM JONG‐UN",
        ] {
            let d = title(t);
            assert!(hit("\"kim jong un\"", &d), "{t}");
            assert!(hit("\"kim jong-un\"", &d), "{t}");
            assert!(hit("kim jong-un", &d), "{t}");
        }
        assert!(hit("\"kim jongun\"", &title("Kim Jong-un")));
        assert!(hit("jongun", &title("Kim Jong-un")));
        assert!(!hit("\"kim jong un\"", &title("Kim Jong-il")));
        assert!(!hit("\"kim jong un\"", &title("Kim Jong-kook sings")));
    }

    #[test]
    fn phrases_do_not_cross_sentences() {
        assert!(hit("\"korea russia\"", &title("North Korea Russia")));
        assert!(!hit(
            "\"korea russia\"",
            &title("Talks with Korea. Russia said")
        ));
        assert!(!hit("\"korea russia\"", &title("Russia Korea")));
    }

    #[test]
    fn index_lookup_with_long_shared_prefixes() {
        let d = title("internationalization internationally international internal intern");
        assert!(hit("internationally", &d));
        assert!(hit("intern", &d));
        assert!(!hit("internation", &d));
        let r = evaluate(&q("internationa*"), &d).unwrap();
        assert_eq!(r.terms[0].count, 3);
        let r = evaluate(&q("intern*"), &d).unwrap();
        assert_eq!(r.terms[0].count, 5);
        assert!(!hit("internationalizations*", &d));
    }

    #[test]
    fn an_item_without_a_headline_gets_the_first_sentence_of_its_summary() {
        assert_eq!(
            split_headline("Mr. Kim met Vladimir V. Putin in Moscow. They signed a pact."),
            (
                "Mr. Kim met Vladimir V. Putin in Moscow.",
                "They signed a pact."
            )
        );
        assert_eq!(
            split_headline(" One sentence only "),
            ("One sentence only", "")
        );
        assert_eq!(
            split_headline("U.S. says so! Then more"),
            ("U.S. says so!", "Then more")
        );
        let d = prepare(&Document {
            summary: "North Korea sent troops to Russia. Seoul is worried.",
            ..Document::default()
        });
        assert_eq!(
            d.normalized(Field::Title),
            "north korea sent troops to russia"
        );
        assert_eq!(d.normalized(Field::Summary), "seoul is worried");
    }

    #[test]
    fn normalized_field_view() {
        let d = title("Kim Jong-un's trip");
        assert_eq!(d.normalized(Field::Title), "kim jong un trip");
    }
}
