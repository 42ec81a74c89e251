//! Which topics can match an item at all, decided for all topics at once: one Aho–Corasick
//! automaton over every topic's terms runs over the item's normalized tokens once, and each
//! topic is evaluated only if the terms its query cannot do without are there.
//!
//! What a query cannot do without is a conjunction of alternatives (each clause: at least
//! one of these terms occurs), read off its tree: a term needs itself; a phrase needs its
//! first word (as a token prefix: phrases also match glued forms); `AND` and `NEAR` need
//! what each side needs; `OR` needs one clause of one of its branches (the smallest of
//! each, joined); `NOT` needs nothing. So the check never refuses an item the topic would
//! match; it only spares the full evaluation of items that cannot match (most items, for
//! most topics). A topic with a learned layer needs what its candidate query or its own
//! query needs. Field scopes are ignored (a term is looked for in every field).

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, MatchKind};

use super::Topic;
use super::eval::PreparedDocument;
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
            Node::Phrase { words, .. } => match words.first() {
                Some(w) => vec![vec![self.atom(&w.text, true)]],
                None => Vec::new(),
            },
            Node::Alias { expr, .. } => self.needs(expr),
            Node::And(children) => children.iter().flat_map(|c| self.needs(c)).collect(),
            Node::Near { a, b, .. } => {
                let mut out = self.needs(a);
                out.extend(self.needs(b));
                out
            }
            Node::Or(children) => {
                let mut clause = Vec::new();
                for c in children {
                    let cnf = self.needs(c);
                    // A branch that needs nothing makes the whole OR need nothing.
                    let Some(smallest) = cnf.into_iter().min_by_key(Vec::len) else {
                        return Vec::new();
                    };
                    clause.extend(smallest);
                }
                clause.sort_unstable();
                clause.dedup();
                vec![clause]
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
        let mut found = vec![false; self.atoms];
        if let Some(ac) = &self.automaton {
            let haystack = haystack(doc);
            for m in ac.find_overlapping_iter(&haystack) {
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
}
