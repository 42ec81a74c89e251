//! Which topics can match an item at all, decided for all topics at once: one Aho–Corasick
//! automaton over every topic's terms runs over the item's normalized tokens once, and each
//! topic is evaluated only if the terms its query cannot do without are there.
//!
//! What a query cannot do without is a conjunction of alternatives (each clause: at least
//! one of these terms occurs), read off its tree: a term needs itself; a phrase needs its
//! first two words glued as a token prefix ("northkorea"), or else its first word and a
//! token starting with its second (a one-word phrase: the word as a token prefix); `AND` and `NEAR` need
//! what each side needs; `OR` needs, for every choice of one clause per branch, one atom of
//! those clauses (the branches' clauses distributed, up to [`MAX_CLAUSES`]); `NOT` needs
//! nothing. So the check never refuses an item the topic would
//! match; it only spares the full evaluation of items that cannot match (most items, for
//! most topics). A topic with a learned layer needs what its candidate query or its own
//! query needs. Field scopes are ignored (a term is looked for in every field).
//!
//! An item whose fields are plain ASCII (with common typographic punctuation) is checked on
//! its raw text, before any field is prepared ([`Prefilter::possible_in_text`]): there the
//! tokens are lower-cased runs of letters and digits, so they are read in one pass, and an
//! item no topic can match is never normalized, tokenized nor indexed.

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, MatchKind};

use super::Topic;
use super::eval::{Document, PreparedDocument};
use super::normalize::is_prefix_script;
use super::query::{Field, Node};

/// A term as the automaton looks for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Atom {
    word: String,
    /// Matches tokens that start with `word` (else only the token `word` itself).
    prefix: bool,
}

/// Necessary condition of a query: every clause needs one of its atoms.
type Cnf = Vec<Vec<usize>>;

/// Most clauses an `OR` keeps when it distributes its branches' clauses.
const MAX_CLAUSES: usize = 16;

/// The prefilter for a list of topics.
#[derive(Debug, Clone)]
pub struct Prefilter {
    automaton: Option<AhoCorasick>,
    /// Atom of each automaton pattern.
    atoms: usize,
    /// Per topic (in the order given), its clauses over atom ids.
    needs: Vec<Cnf>,
}

struct Builder {
    atoms: BTreeMap<Atom, usize>,
}

impl Builder {
    fn atom(&mut self, word: &str, prefix: bool) -> usize {
        let next = self.atoms.len();
        *self
            .atoms
            .entry(Atom {
                word: word.to_string(),
                prefix,
            })
            .or_insert(next)
    }

    fn needs(&mut self, node: &Node) -> Cnf {
        match node {
            Node::Term { word, prefix, .. } => {
                vec![vec![self.atom(word, *prefix || is_prefix_script(word))]]
            }
            // A phrase matches at a token that is its first word (or a joined compound
            // that is), followed by tokens for the other words, or at one token with its
            // first words glued ("northkorea"): so it needs its first two words glued as a
            // token prefix, or else the first word and a token starting with the second.
            Node::Phrase { words, .. } => match words.as_slice() {
                [] => Vec::new(),
                [w] => vec![vec![self.atom(&w.text, true)]],
                [first, second, ..] => {
                    let glued = self.atom(&format!("{}{}", first.text, second.text), true);
                    let first =
                        self.atom(&first.text, first.prefix || is_prefix_script(&first.text));
                    let second = self.atom(&second.text, true);
                    vec![vec![glued, first], vec![glued, second]]
                }
            },
            Node::Alias { expr, .. } => self.needs(expr),
            Node::And(children) => children.iter().flat_map(|c| self.needs(c)).collect(),
            Node::Near { a, b, .. } => {
                let mut out = self.needs(a);
                out.extend(self.needs(b));
                out
            }
            Node::Or(children) => {
                // (a1 ∧ a2) ∨ (b1 ∧ b2) needs every (ai ∨ bj): the branches' clauses
                // distributed, up to MAX_CLAUSES (a branch gives up its widest clauses first;
                // fewer clauses only make the check let more through).
                let mut out: Cnf = vec![Vec::new()];
                for c in children {
                    let mut cnf = self.needs(c);
                    // A branch that needs nothing makes the whole OR need nothing.
                    if cnf.is_empty() {
                        return Vec::new();
                    }
                    cnf.sort_by_key(Vec::len);
                    cnf.truncate((MAX_CLAUSES / out.len()).max(1));
                    out = out
                        .iter()
                        .flat_map(|left| {
                            cnf.iter().map(move |right| {
                                let mut clause: Vec<usize> =
                                    left.iter().chain(right).copied().collect();
                                clause.sort_unstable();
                                clause.dedup();
                                clause
                            })
                        })
                        .collect();
                    out.sort();
                    out.dedup();
                }
                out
            }
            Node::Not(_) => Vec::new(),
        }
    }
}

impl Prefilter {
    /// Builds the automaton over the terms of `topics`.
    pub fn new(topics: &[&Topic]) -> Prefilter {
        let mut b = Builder {
            atoms: BTreeMap::new(),
        };
        let needs: Vec<Cnf> = topics
            .iter()
            .map(|t| match &t.learned {
                Some(layer) => b.needs(&Node::Or(vec![
                    layer.candidates.root.clone(),
                    t.query.root.clone(),
                ])),
                None => b.needs(&t.query.root),
            })
            .collect();
        let mut by_id: Vec<(usize, &Atom)> = b.atoms.iter().map(|(a, i)| (*i, a)).collect();
        by_id.sort_unstable_by_key(|e| e.0);
        let patterns: Vec<String> = by_id
            .iter()
            .map(|(_, a)| {
                if a.prefix {
                    format!(" {}", a.word)
                } else {
                    format!(" {} ", a.word)
                }
            })
            .collect();
        let automaton = (!patterns.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&patterns)
                .expect("the automaton of a topic set builds")
        });
        Prefilter {
            automaton,
            atoms: patterns.len(),
            needs,
        }
    }

    /// Number of distinct terms the automaton looks for.
    pub fn terms(&self) -> usize {
        self.atoms
    }

    /// For each topic (in the order given to [`Prefilter::new`]): can it match `doc`?
    pub fn possible(&self, doc: &PreparedDocument) -> Vec<bool> {
        self.possible_in(haystack(doc).as_bytes())
    }

    /// [`possible`](Self::possible) read off the raw fields of `doc`, without preparing it;
    /// `None` when a field has a character the quick reading does not cover (then prepare
    /// the document and ask [`possible`](Self::possible)).
    pub fn possible_in_text(&self, doc: &Document) -> Option<Vec<bool>> {
        let mut haystack = Vec::with_capacity(1024);
        haystack.push(b' ');
        for text in [
            doc.title,
            doc.summary,
            doc.text,
            doc.feed,
            doc.url,
            doc.author,
        ] {
            if !plain_tokens(text, &mut haystack) {
                return None;
            }
        }
        Some(self.possible_in(&haystack))
    }

    fn possible_in(&self, haystack: &[u8]) -> Vec<bool> {
        let mut found = vec![false; self.atoms];
        if let Some(ac) = &self.automaton {
            for m in ac.find_overlapping_iter(haystack) {
                found[m.pattern().as_usize()] = true;
            }
        }
        self.needs
            .iter()
            .map(|cnf| cnf.iter().all(|clause| clause.iter().any(|&a| found[a])))
            .collect()
    }
}

/// Every normalized token and joined hyphen compound of every field, each preceded and
/// followed by a space.
fn haystack(doc: &PreparedDocument) -> String {
    let mut out = String::with_capacity(1024);
    out.push(' ');
    for field in Field::ALL {
        let t = doc.tokens(field);
        for i in 0..t.tokens.len() {
            out.push_str(t.text(i));
            out.push(' ');
        }
        for j in 0..t.joined.len() {
            out.push_str(t.joined_text(j));
            out.push(' ');
        }
    }
    out
}

/// Appends the tokens and joined hyphen compounds of `text` to `out` as the tokenizer
/// (`normalize::tokenize`) makes them, each followed by a space, when `text` is ASCII but
/// for some common punctuation; false (and `out` unusable) otherwise. On such text NFKC
/// changes no letter or digit, folding is ASCII lower-casing, and every token is of one
/// script class, so a token is a run of letters and digits, with the tokenizer's rules for
/// apostrophes (a possessive `'s` dropped, others joined) and hyphens (the joined form of
/// a compound added).
fn plain_tokens(text: &str, out: &mut Vec<u8>) -> bool {
    let mapped: Vec<u8>;
    let bytes = if text.is_ascii() {
        text.as_bytes()
    } else {
        // The punctuation the tokenizer reads as ASCII's: its apostrophes and hyphens, and
        // separators (NFKC and folding keep them punctuation) read as a space.
        let mut m = Vec::with_capacity(text.len());
        for c in text.chars() {
            m.push(match c {
                c if c.is_ascii() => c as u8,
                '\u{2018}' | '\u{2019}' => b'\'',
                '\u{2010}' | '\u{2011}' => b'-',
                '\u{00A0}' | '\u{00AB}' | '\u{00BB}' | '\u{2013}' | '\u{2014}' | '\u{201C}'
                | '\u{201D}' | '\u{201E}' | '\u{2022}' | '\u{2026}' => b' ',
                _ => return false,
            });
        }
        mapped = m;
        &mapped
    };
    let word = |b: u8| b.is_ascii_alphanumeric();
    // Where the first token of the current hyphen compound starts in `out`.
    let mut compound: Option<usize> = None;
    let n = bytes.len();
    let mut i = 0;
    while i < n {
        if !word(bytes[i]) {
            i += 1;
            continue;
        }
        let start = out.len();
        while i < n {
            let d = bytes[i];
            if word(d) {
                out.push(d.to_ascii_lowercase());
                i += 1;
            } else if matches!(d, b'\'' | b'`') && i + 1 < n && word(bytes[i + 1]) {
                if bytes[i + 1].eq_ignore_ascii_case(&b's') && (i + 2 == n || !word(bytes[i + 2])) {
                    i += 2;
                    break;
                }
                i += 1;
            } else {
                break;
            }
        }
        let end = out.len();
        out.push(b' ');
        let linked = i + 1 < n && bytes[i] == b'-' && word(bytes[i + 1]);
        let first = *compound.get_or_insert(start);
        if !linked {
            if first != start {
                let joined: Vec<u8> = out[first..end]
                    .iter()
                    .copied()
                    .filter(|&b| b != b' ')
                    .collect();
                out.extend_from_slice(&joined);
                out.push(b' ');
            }
            compound = None;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::eval::{Document, prepare};
    use crate::matcher::query::Aliases;

    fn topics() -> Vec<Topic> {
        let aliases = Aliases::parse(&[
            ("nk".into(), "\"north korea\" OR pyongyang OR 북한".into()),
            ("ru".into(), "russia* OR moscow".into()),
        ])
        .unwrap();
        vec![
            Topic::new("pair", "NEAR/10(@nk, @ru) NOT china", 1.0, &aliases).unwrap(),
            Topic::new("either", "jongun OR title:kremlin", 1.0, &aliases).unwrap(),
            Topic::new("negative", "NOT weather", 1.0, &aliases).unwrap(),
        ]
    }

    fn possible(title: &str) -> Vec<bool> {
        let t = topics();
        let refs: Vec<&Topic> = t.iter().collect();
        let doc = prepare(&Document {
            title,
            ..Document::default()
        });
        Prefilter::new(&refs).possible(&doc)
    }

    #[test]
    fn topics_need_their_terms() {
        assert_eq!(possible("Weather in Paris"), vec![false, false, true]);
        assert_eq!(
            possible("Pyongyang and the Russians"),
            vec![true, false, true]
        );
        // Only one side of the pair: cannot match.
        assert_eq!(possible("Pyongyang weather"), vec![false, false, true]);
        // Phrases match glued and hyphenated forms; prefix terms match longer tokens.
        assert_eq!(possible("Northkorea meets Russia"), vec![true, false, true]);
        assert_eq!(possible("Kim Jong-un in Moscow"), vec![false, true, true]);
        // Scopes are ignored: a Kremlin in the text still lets the topic be evaluated.
        assert_eq!(possible("The kremlin said"), vec![false, true, true]);
        // Hangul words match as prefixes.
        assert_eq!(possible("북한이 러시아와 moscow"), vec![true, false, true]);
    }

    #[test]
    fn never_refuses_what_the_topic_matches() {
        let t = topics();
        let refs: Vec<&Topic> = t.iter().collect();
        let pre = Prefilter::new(&refs);
        for title in [
            "North Korea sends shells to Russia",
            "Kim Jongun visits",
            "Kremlin news",
            "Pyongyang–Moscow ties",
            "nothing at all",
        ] {
            let doc = prepare(&Document {
                title,
                ..Document::default()
            });
            let possible = pre.possible(&doc);
            for (topic, ok) in t.iter().zip(possible) {
                assert!(ok || !topic.is_match(&doc), "{title}: {}", topic.name);
            }
        }
    }

    fn sorted_tokens(haystack: &str) -> Vec<&str> {
        let mut tokens: Vec<&str> = haystack.split(' ').filter(|t| !t.is_empty()).collect();
        tokens.sort_unstable();
        tokens
    }

    fn corpus_texts(dir: &std::path::Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                corpus_texts(&path, out);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                out.push(text);
            }
        }
    }

    /// The quick reading of plain text finds exactly the tokens and joined compounds the
    /// tokenizer makes, on tricky cases and on every corpus file it accepts (raw XML and
    /// HTML, so markup, entities and URLs too); it declines text with other characters.
    #[test]
    fn the_quick_reading_of_plain_text_finds_the_tokenizers_tokens() {
        let mut texts: Vec<String> = [
            "Kim Jong-un's visit to Moscow",
            "Russia\u{2019}s troops \u{2018}there\u{2019}",
            "O'Neill rock 'n' roll don't-stop-me a-b-c d x'-y 's Kim's-un end.-foo",
            "foo--bar foo-'s U.S.-N.Korea Jong\u{2011}un a\u{2010}b N. Korea\u{2026}Russia",
            "word\u{00A0}word \u{201C}quoted\u{201D} \u{00AB}x\u{00BB} abc's's s's it's-a x' 'x",
            "1990s-era A\u{2019}S RUSSIA'S-ALLY `tick`s ab`cd e-\nf g-\u{2013}h i\u{2014}j k\u{2022}l",
            "-lead trail- -- ' '' a'b'c a-b'c-d a's-b's x-1-y 2-3",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        let corpus =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/feeds-corpus");
        corpus_texts(&corpus, &mut texts);
        let mut checked = 0;
        for text in &texts {
            let mut quick = vec![b' '];
            if !plain_tokens(text, &mut quick) {
                continue;
            }
            let quick = String::from_utf8(quick).unwrap();
            let doc = prepare(&Document {
                text,
                ..Document::default()
            });
            assert_eq!(
                sorted_tokens(&quick),
                sorted_tokens(&haystack(&doc)),
                "{}",
                text.chars().take(200).collect::<String>()
            );
            checked += 1;
        }
        assert!(checked > 100, "only {checked} texts read quickly");
        assert!(!plain_tokens("Triều Tiên", &mut Vec::new()));
        assert!(!plain_tokens("北 발사", &mut Vec::new()));
        assert!(!plain_tokens("ＫＮＤＲ", &mut Vec::new()));
    }

    /// On text it reads, the quick check decides as the check on the prepared document.
    #[test]
    fn the_quick_check_decides_as_the_prepared_one() {
        let t = topics();
        let refs: Vec<&Topic> = t.iter().collect();
        let pre = Prefilter::new(&refs);
        for title in [
            "Weather in Paris",
            "Pyongyang and the Russians",
            "Pyongyang weather",
            "Northkorea meets Russia",
            "Kim Jong-un in Moscow",
            "The kremlin said",
            "North-Korea\u{2019}s Moscow-bound train",
        ] {
            let doc = Document {
                title,
                ..Document::default()
            };
            assert_eq!(
                pre.possible_in_text(&doc),
                Some(pre.possible(&prepare(&doc))),
                "{title}"
            );
        }
        let korean = Document {
            title: "북한이 러시아와 moscow",
            ..Document::default()
        };
        assert_eq!(pre.possible_in_text(&korean), None);
    }

    /// An OR of conjunctions needs one term of each pair of its branches' clauses: a text
    /// with one side of each pair alone is ruled out.
    #[test]
    fn or_of_conjunctions_needs_both_sides() {
        let aliases = Aliases::parse(&[]).unwrap();
        let t = [Topic::new("p", "(alpha AND beta) OR (gamma AND delta)", 1.0, &aliases).unwrap()];
        let refs: Vec<&Topic> = t.iter().collect();
        let pre = Prefilter::new(&refs);
        let possible = |title: &str| {
            pre.possible(&prepare(&Document {
                title,
                ..Document::default()
            }))[0]
        };
        assert!(!possible("alpha gamma"));
        assert!(!possible("beta delta"));
        assert!(possible("alpha beta"));
        assert!(possible("gamma delta"));
        assert!(possible("alpha delta beta"));
    }
}
