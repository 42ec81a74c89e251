//! Matching, scoring and explanation of a parsed query against a prepared document.
//!
//! # Matching
//! The boolean structure decides whether a document can match: a term matches a token equal
//! to it (or starting with it for `word*` and Hangul words) or a joined hyphen compound; a
//! phrase matches consecutive positions (never across a sentence gap) and also matches
//! query words glued together in the text (`"kim jong un"` matches `Kim Jongun`) and the
//! joined form of a hyphenated text word (`"kim jongun"` matches `Kim Jong-un`).
//! `NEAR/n(a, b)` needs an occurrence of `a` and one of `b` in the same field with at most
//! `n` positions between them (sentence breaks count [`SENTENCE_GAP`] positions, paragraph
//! breaks [`PARAGRAPH_GAP`]). The occurrences of a `NEAR` itself, as seen by an enclosing
//! `NEAR`, are only those with a partner in range, so `NEAR/1(russia, NEAR/1(iran, korea))`
//! finds the list "Russia, Iran and Korea" and not three scattered mentions. Occurrences of
//! `AND`/`OR` groups are the union of their children's; `NOT` has none.
//!
//! # Scoring
//! Every matched leaf (term or phrase) scores, per field it occurs in:
//!
//! `weight × field_weight × saturation(count)`
//!
//! * `field_weight`: title 3, summary 2, text 1 — but only 0.5 when the first occurrence in
//!   the article text is at token 100 or later (a passing mention deep in the text); feed 1,
//!   url 1, author 1.
//! * `saturation(c) = 2c / (c + 1)`: 1 for one occurrence, 1.33 for two, 1.5 for three,
//!   never more than 2.
//! * `weight`: the product of the `^w` weights around the leaf (default 1).
//!
//! Combination: `AND` adds its children; `OR` takes, in each field, its best child plus half
//! of each other matching child (synonyms add evidence without counting twice); `NOT` adds
//! nothing; an
//! alias scores like its expansion. `NEAR/n(a, b)` adds the scores of `a` and `b` in the
//! fields where they occur within range of each other (a mention of `a` in the title does
//! not add to a proximity found in the article text) plus a proximity bonus
//! `field_weight × (0.5 + 0.5 × (1 − gap/(n+1)))` for its closest pair (`gap` = positions
//! between the two occurrences, 0 when adjacent).
//!
//! [`Topic::matches`](super::Topic::matches) passes when the score is at least the topic's
//! `min_score`.
//!
//! This file holds the evaluation and the scoring; `prepare` turns a [`Document`] into the
//! indexed [`PreparedDocument`] it runs on, and `explain` turns the scored parts into
//! [`MatchedTerm`]s and the text of [`explain()`].
//!
//! [`SENTENCE_GAP`]: super::normalize::SENTENCE_GAP
//! [`PARAGRAPH_GAP`]: super::normalize::PARAGRAPH_GAP

mod explain;
mod prepare;

pub use explain::explain;
pub use prepare::{Document, PreparedDocument, prepare, split_headline};

use std::cell::RefCell;

use super::normalize::is_prefix_script;
use super::query::{Field, Node, Query};
use explain::matched_term;

/// Article text beyond this token index counts as a passing mention.
pub const DEEP_TEXT_TOKEN: u32 = 100;
/// Field weights, indexed by [`Field::index`].
pub const FIELD_WEIGHTS: [f64; 6] = [3.0, 2.0, 1.0, 1.0, 1.0, 1.0];
/// Field weight of an article-text occurrence at or beyond [`DEEP_TEXT_TOKEN`].
pub const DEEP_TEXT_WEIGHT: f64 = 0.5;

/// What produced a score part.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum MatchKind {
    /// A term or phrase occurrence.
    Term,
    /// A `NEAR/n` proximity bonus; `gap` is the distance of the closest pair.
    Near { n: u32, gap: u32 },
}

/// One scored part of a match: a leaf in one field, or a proximity bonus.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MatchedTerm {
    /// The leaf in canonical query syntax, e.g. `"north korea"` or `title:russia*^2`.
    pub term: String,
    /// The aliases the leaf was reached through: `@outer > @inner`, or `@name`.
    pub via: Option<String>,
    pub kind: MatchKind,
    pub field: Field,
    /// Number of occurrences in this field.
    pub count: u32,
    /// Token indices (within the field) of the occurrences.
    pub positions: Vec<u32>,
    /// The first occurrence in context, the match marked with `[...]`.
    pub snippet: String,
    /// Score contributed after OR-scaling.
    pub score: f64,
}

/// The result of a successful boolean match.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MatchResult {
    pub score: f64,
    pub terms: Vec<MatchedTerm>,
    /// For a topic with a learned layer: the model's verdict (the query found a candidate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<crate::matcher::learned::ModelVerdict>,
}

#[derive(Debug, Clone, Copy)]
struct Hit {
    field: Field,
    tok: u32,
    len: u32,
}

/// The outermost and innermost alias a node was reached through.
#[derive(Debug, Clone, Copy, Default)]
struct Via<'q> {
    outer: Option<&'q str>,
    inner: Option<&'q str>,
}

impl Via<'_> {
    fn describe(self) -> Option<String> {
        match (self.outer, self.inner) {
            (Some(o), Some(i)) if o != i => Some(format!("@{o} > @{i}")),
            (Some(o), _) => Some(format!("@{o}")),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
struct Part<'q> {
    node: &'q Node,
    via: Via<'q>,
    kind: MatchKind,
    field: Field,
    hits: Vec<(u32, u32)>,
    value: f64,
}

#[derive(Debug, Default)]
struct Eval<'q> {
    hits: Vec<Hit>,
    parts: Vec<Part<'q>>,
    /// Score per field (indexed by [`Field::index`]); the node's score is their sum.
    fields: [f64; 6],
}

impl<'q> Eval<'q> {
    fn score(&self) -> f64 {
        self.fields.iter().sum()
    }

    /// Adds `other`, its score in each field scaled by `factors` (parts included).
    fn absorb(&mut self, mut other: Eval<'q>, factors: [f64; 6]) {
        for ((f, o), k) in self.fields.iter_mut().zip(other.fields).zip(factors) {
            *f += o * k;
        }
        for p in &mut other.parts {
            p.value *= factors[p.field.index()];
        }
        self.hits.extend(other.hits);
        self.parts.extend(other.parts);
    }
}

fn saturation(count: usize) -> f64 {
    let c = count as f64;
    2.0 * c / (c + 1.0)
}

fn field_weight(field: Field, first_tok: u32) -> f64 {
    if field == Field::Text && first_tok >= DEEP_TEXT_TOKEN {
        DEEP_TEXT_WEIGHT
    } else {
        FIELD_WEIGHTS[field.index()]
    }
}

fn fields_of(field: Option<Field>) -> &'static [Field] {
    match field {
        None => &Field::DEFAULT,
        Some(f) => &Field::ALL[f.index()..f.index() + 1],
    }
}

/// Evaluation context: the document, and whether to keep the parts for explanation.
struct Cx<'d, 'q> {
    doc: &'d PreparedDocument,
    collect: bool,
    /// Score-only mode: results of alias references already evaluated, keyed by
    /// (name, scope, weight), which determine the expansion. Topics reuse the same alias in
    /// several places (`title:@dprk`, `NEAR(@dprk, ...)`), so this saves most lookups.
    memo: RefCell<Vec<AliasMemo<'q>>>,
}

/// A memoized alias result: a hash of its key (compared first: most entries differ in it),
/// the key, and the result.
type AliasMemo<'q> = (u64, AliasKey<'q>, Option<(Vec<Hit>, [f64; 6])>);

/// What determines an alias reference's expansion: its name, scope and weight (as bits).
type AliasKey<'q> = (&'q str, Option<Field>, u64);

fn alias_key_hash(key: &AliasKey) -> u64 {
    let scope = key.1.map_or(0, |f| f.index() as u64 + 1);
    xxhash_rust::xxh3::xxh3_64(key.0.as_bytes()) ^ scope.rotate_left(56) ^ key.2
}

impl<'d, 'q> Cx<'d, 'q> {
    fn new(doc: &'d PreparedDocument, collect: bool) -> Self {
        Cx {
            doc,
            collect,
            memo: RefCell::new(Vec::new()),
        }
    }
}

/// True if leaf `node` surely matches nothing in `doc`: no indexed text of its fields
/// starts with its (first) word's first two bytes. One test for an unscoped leaf's three
/// fields together; callers make it before the call, since most leaves miss.
#[inline]
fn leaf_surely_absent(node: &Node, doc: &PreparedDocument) -> bool {
    match node {
        Node::Term { field, word, .. } => !doc.may_contain(*field, word),
        Node::Phrase { field, words, .. } => !doc.may_contain(*field, &words[0].text),
        _ => false,
    }
}

fn eval_leaf<'q>(node: &'q Node, via: Via<'q>, cx: &Cx<'_, 'q>) -> Option<Eval<'q>> {
    let (field, weight) = match node {
        Node::Term { field, weight, .. } | Node::Phrase { field, weight, .. } => (*field, *weight),
        _ => unreachable!("eval_leaf on a non-leaf"),
    };
    if leaf_surely_absent(node, cx.doc) {
        return None;
    }
    let term_prefix = match node {
        Node::Term { word, prefix, .. } => *prefix || is_prefix_script(word),
        _ => false,
    };
    let mut ev = Eval::default();
    for &f in fields_of(field) {
        let pf = cx.doc.field(f);
        let mut hits: Vec<(u32, u32)> = Vec::new();
        match node {
            Node::Term { word, .. } => {
                pf.lookup(word, term_prefix, |t, l| hits.push((t, l)));
            }
            Node::Phrase { words, .. } => {
                // Candidates: tokens starting with the first word (glued forms included).
                let mut starts: Vec<u32> = Vec::new();
                pf.lookup(&words[0].text, true, |t, _| starts.push(t));
                starts.sort_unstable();
                starts.dedup();
                for t in starts {
                    if let Some(end) = pf.phrase_at(words, t as usize, true) {
                        hits.push((t, end as u32 - t));
                    }
                }
            }
            _ => unreachable!(),
        }
        if hits.is_empty() {
            continue;
        }
        hits.sort_unstable();
        hits.dedup_by_key(|h| h.0);
        let value = weight * field_weight(f, hits[0].0) * saturation(hits.len());
        ev.fields[f.index()] += value;
        ev.hits
            .extend(hits.iter().map(|&(tok, len)| Hit { field: f, tok, len }));
        if !cx.collect {
            continue;
        }
        ev.parts.push(Part {
            node,
            via,
            kind: MatchKind::Term,
            field: f,
            hits,
            value,
        });
    }
    if ev.hits.is_empty() { None } else { Some(ev) }
}

fn eval_node<'q>(node: &'q Node, via: Via<'q>, cx: &Cx<'_, 'q>) -> Option<Eval<'q>> {
    match node {
        Node::Term { .. } | Node::Phrase { .. } => eval_leaf(node, via, cx),
        Node::Alias {
            name,
            field,
            weight,
            expr,
        } => {
            let via = Via {
                outer: via.outer.or(Some(name)),
                inner: Some(name),
            };
            if cx.collect {
                return eval_node(expr, via, cx);
            }
            let key = (name.as_str(), *field, weight.to_bits());
            let hash = alias_key_hash(&key);
            if let Some((_, _, memo)) = cx
                .memo
                .borrow()
                .iter()
                .find(|(h, k, _)| *h == hash && *k == key)
            {
                return memo.as_ref().map(|(hits, fields)| Eval {
                    hits: hits.clone(),
                    parts: Vec::new(),
                    fields: *fields,
                });
            }
            let ev = eval_node(expr, via, cx);
            let memo = ev.as_ref().map(|e| (e.hits.clone(), e.fields));
            cx.memo.borrow_mut().push((hash, key, memo));
            ev
        }
        Node::And(children) => {
            let mut ev = Eval::default();
            for c in children {
                if leaf_surely_absent(c, cx.doc) {
                    return None;
                }
                ev.absorb(eval_node(c, via, cx)?, [1.0; 6]);
            }
            Some(ev)
        }
        Node::Or(children) => {
            let mut matched: Vec<Eval<'q>> = children
                .iter()
                .filter(|c| !leaf_surely_absent(c, cx.doc))
                .filter_map(|c| eval_node(c, via, cx))
                .collect();
            if matched.is_empty() {
                return None;
            }
            // Per field: the best child counts fully, the others half.
            let mut best = [0usize; 6];
            for (f, b) in best.iter_mut().enumerate() {
                *b = (0..matched.len())
                    .max_by(|&x, &y| matched[x].fields[f].total_cmp(&matched[y].fields[f]))
                    .unwrap_or(0);
            }
            let mut ev = Eval::default();
            for (i, e) in matched.drain(..).enumerate() {
                let factors = best.map(|b| if b == i { 1.0 } else { 0.5 });
                ev.absorb(e, factors);
            }
            Some(ev)
        }
        Node::Not(c) => match eval_node(c, via, cx) {
            Some(_) => None,
            None => Some(Eval::default()),
        },
        Node::Near { n, a, b } => eval_near(node, *n, a, b, via, cx),
    }
}

/// `NEAR/n(a, b)` (kept out of [`eval_node`], whose every call would otherwise carry its
/// stack frame).
#[inline(never)]
fn eval_near<'q>(
    node: &'q Node,
    n: u32,
    a: &'q Node,
    b: &'q Node,
    via: Via<'q>,
    cx: &Cx<'_, 'q>,
) -> Option<Eval<'q>> {
    let ea = eval_node(a, via, cx)?;
    let eb = eval_node(b, via, cx)?;
    // Closest pair in one field: (gap, field, hit a, hit b). Only occurrences with a
    // partner within `n` count as this node's occurrences (for an enclosing NEAR).
    let mut best: Option<(u32, Field, Hit, Hit)> = None;
    let mut used_a = vec![false; ea.hits.len()];
    let mut used_b = vec![false; eb.hits.len()];
    // `b` occurrences sorted by (field, start position): each `a` occurrence only
    // looks at the window of `b` occurrences that can be in range.
    let span = |h: &Hit| {
        let pf = cx.doc.field(h.field);
        (pf.pos(h.tok), pf.pos(h.tok + h.len - 1))
    };
    let mut sorted_b: Vec<(usize, u32, u32, usize)> = eb
        .hits
        .iter()
        .enumerate()
        .map(|(j, h)| {
            let (s, e) = span(h);
            (h.field.index(), s, e, j)
        })
        .collect();
    sorted_b.sort_unstable();
    let max_span = sorted_b.iter().map(|b| b.2 - b.1).max().unwrap_or(0);
    for (i, ha) in ea.hits.iter().enumerate() {
        let (a0, a1) = span(ha);
        let f = ha.field.index();
        let lo = (f, a0.saturating_sub(n + 1 + max_span));
        let first = sorted_b.partition_point(|b| (b.0, b.1) < lo);
        for &(bf, b0, b1, j) in &sorted_b[first..] {
            if bf != f || b0 > a1.saturating_add(n + 1) {
                break;
            }
            let gap = if a1 < b0 {
                b0 - a1 - 1
            } else if b1 < a0 {
                a0 - b1 - 1
            } else {
                0 // overlapping occurrences
            };
            if gap > n {
                continue;
            }
            used_a[i] = true;
            used_b[j] = true;
            let hb = &eb.hits[j];
            let better = match best {
                None => true,
                Some((g, bf, ..)) => {
                    gap < g || (gap == g && FIELD_WEIGHTS[f] > FIELD_WEIGHTS[bf.index()])
                }
            };
            if better {
                best = Some((gap, ha.field, *ha, *hb));
            }
        }
    }
    let (gap, field, ha, hb) = best?;
    let closeness = 1.0 - f64::from(gap) / f64::from(n + 1);
    let bonus = field_weight(field, ha.tok.min(hb.tok)) * (0.5 + 0.5 * closeness);
    // Only the fields where the two sides are near each other count.
    let mut near_field = [false; 6];
    let near_a = ea.hits.iter().zip(&used_a).filter(|(_, u)| **u);
    let near_b = eb.hits.iter().zip(&used_b).filter(|(_, u)| **u);
    let mut ev = Eval::default();
    for (h, _) in near_a.chain(near_b) {
        near_field[h.field.index()] = true;
        ev.hits.push(*h);
    }
    for side in [ea, eb] {
        for (i, near) in near_field.iter().enumerate() {
            if *near {
                ev.fields[i] += side.fields[i];
            }
        }
        let kept = side
            .parts
            .into_iter()
            .filter(|p| near_field[p.field.index()]);
        ev.parts.extend(kept);
    }
    ev.fields[field.index()] += bonus;
    if !cx.collect {
        return Some(ev);
    }
    ev.parts.push(Part {
        node,
        via,
        kind: MatchKind::Near { n, gap },
        field,
        hits: vec![(ha.tok, ha.len), (hb.tok, hb.len)],
        value: bonus,
    });
    Some(ev)
}

/// Evaluates `query` against `doc`: `None` if the boolean structure does not match,
/// otherwise the score and its parts (see the module documentation for the formula).
pub fn evaluate(query: &Query, doc: &PreparedDocument) -> Option<MatchResult> {
    let cx = Cx::new(doc, true);
    let ev = eval_node(&query.root, Via::default(), &cx)?;
    let terms = ev.parts.iter().map(|p| matched_term(p, doc)).collect();
    Some(MatchResult {
        score: ev.score(),
        terms,
        model: None,
    })
}

/// The score of each of `nodes` in each field (indexed by [`Field::index`]), `None` where a
/// node does not match: one evaluation shares its alias results between the nodes, so
/// asking about many aliases of one topic costs about one evaluation of the topic.
pub fn field_scores(nodes: &[&Node], doc: &PreparedDocument) -> Vec<Option<[f64; 6]>> {
    let scorer = FieldScorer::new(doc);
    nodes.iter().map(|n| scorer.scores(n)).collect()
}

/// Scores nodes against one document one at a time, sharing alias results between them
/// (what [`field_scores`] does for a list known in advance): a caller can stop early.
pub struct FieldScorer<'d, 'q> {
    cx: Cx<'d, 'q>,
}

impl<'d, 'q> FieldScorer<'d, 'q> {
    pub fn new(doc: &'d PreparedDocument) -> Self {
        FieldScorer {
            cx: Cx::new(doc, false),
        }
    }

    /// The score of `node` in each field, `None` if it does not match.
    pub fn scores(&self, node: &'q Node) -> Option<[f64; 6]> {
        eval_node(node, Via::default(), &self.cx).map(|e| e.fields)
    }
}

/// Fast check of the boolean structure and score only (no explanation parts kept).
pub fn score(query: &Query, doc: &PreparedDocument) -> Option<f64> {
    let cx = Cx::new(doc, false);
    eval_node(&query.root, Via::default(), &cx).map(|e| e.score())
}

#[cfg(test)]
mod tests {
    use super::super::query::{Aliases, parse_query};
    use super::*;

    // Helpers, also used by the tests of the submodules.

    pub(super) fn q(src: &str) -> Query {
        parse_query(src, &Aliases::default()).unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    pub(super) fn title(t: &str) -> PreparedDocument {
        prepare(&Document {
            title: t,
            ..Document::default()
        })
    }

    pub(super) fn text(t: &str) -> PreparedDocument {
        prepare(&Document {
            text: t,
            ..Document::default()
        })
    }

    pub(super) fn hit(query: &str, doc: &PreparedDocument) -> bool {
        evaluate(&q(query), doc).is_some()
    }

    #[test]
    fn possessives_diacritics_and_scripts() {
        assert!(hit("russia", &title("Russia's war")));
        assert!(hit("\"korea polnocna\"", &title("Korea Północna")));
        assert!(hit("\"kore* poln*\"", &title("dostawy z Korei Północnej")));
        assert!(hit("кндр", &title("КНДР и Россия")));
        assert!(hit("\"trieu tien\"", &title("Triều Tiên")));
        assert!(hit("nordkorea*", &title("Nordkoreas Soldaten")));
    }

    #[test]
    fn hangul_prefix_and_han_tokens() {
        let d = title("北, 러 파병 결정… 북한이 러시아에 파병 북러관계");
        assert!(hit("북한", &d)); // 북한이
        assert!(hit("러시아", &d)); // 러시아에
        assert!(hit("북러", &d)); // 북러관계
        assert!(hit("北", &d));
        assert!(hit("러", &d)); // exact one-syllable token
        assert!(!hit("러", &title("러시아")));
        assert!(hit("러*", &title("러시아")));
        assert!(hit("\"북한 러시아\"", &title("북한과 러시아의")));
    }

    #[test]
    fn boolean_operators_and_fields() {
        let d = prepare(&Document {
            title: "Putin meets Kim",
            summary: "talks in Pyongyang",
            text: "long article",
            feed: "World News",
            url: "https://example.com/asia/putin-kim",
            author: "Jane Doe",
        });
        assert!(hit("putin pyongyang", &d));
        assert!(hit("putin OR nothing", &d));
        assert!(!hit("putin nothing", &d));
        assert!(!hit("putin NOT pyongyang", &d));
        assert!(hit("title:putin", &d));
        assert!(!hit("title:pyongyang", &d));
        assert!(hit("summary:pyongyang", &d));
        assert!(hit("text:article", &d));
        assert!(hit("feed:\"world news\"", &d));
        assert!(hit("url:asia", &d));
        assert!(hit("url:putinkim", &d)); // joined form of putin-kim
        assert!(hit("author:doe", &d));
        assert!(!hit("doe", &d)); // unscoped = title + summary + text
        assert!(hit("NOT missing", &d));
    }

    #[test]
    fn proximity() {
        let d = text("North Korea sent shells to Russia, officials said.");
        assert!(hit("NEAR/3(\"north korea\", russia)", &d));
        assert!(!hit("NEAR/2(\"north korea\", russia)", &d));
        assert!(hit("NEAR/3(russia, \"north korea\")", &d)); // either order
        assert!(hit("NEAR/3((moscow OR russia), korea)", &d));
        // Same sentence counts; another paragraph does not, even for a wide window.
        let para = text("North Korea fired a missile.\n\nRussia said nothing.");
        assert!(!hit("NEAR/50(\"north korea\", russia)", &para));
        // A sentence break counts as SENTENCE_GAP positions.
        let sent = text("North Korea fired. Russia said nothing.");
        assert!(!hit("NEAR/10(korea, russia)", &sent));
        assert!(hit("NEAR/30(korea, russia)", &sent));
        // Both sides must be in the same field.
        let split = prepare(&Document {
            title: "North Korea",
            summary: "Russia",
            ..Document::default()
        });
        assert!(!hit("NEAR/5(korea, russia)", &split));
    }

    #[test]
    fn nested_near_uses_only_occurrences_in_range() {
        let list = "NEAR/1(russia, NEAR/1(iran, korea))";
        assert!(hit(list, &title("Russia, Iran and Korea")));
        assert!(hit(list, &title("Korea and Iran, Russia")));
        // Iran is near Korea and (another) Iran is near Russia, but no single list.
        assert!(!hit(
            list,
            &title("Korea and Iran met. Later Iran, Russia spoke")
        ));
        assert!(!hit(
            list,
            &title("Iran and Korea were joined by far away Russia")
        ));
    }

    pub(super) fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn scoring_follows_the_documented_formula() {
        // One title occurrence: 3 × saturation(1) = 3.
        assert!(close(score(&q("russia"), &title("Russia")).unwrap(), 3.0));
        // Two: 3 × 4/3.
        assert!(close(
            score(&q("russia"), &title("Russia, Russia")).unwrap(),
            4.0
        ));
        // Weighted.
        assert!(close(score(&q("russia^2"), &title("Russia")).unwrap(), 6.0));
        // Summary 2, text 1, deep text 0.5 (an item with a headline: one without gets its
        // summary's first sentence as the headline).
        let d = prepare(&Document {
            title: "Report",
            summary: "Russia",
            ..Document::default()
        });
        assert!(close(score(&q("russia"), &d).unwrap(), 2.0));
        assert!(close(score(&q("russia"), &text("Russia")).unwrap(), 1.0));
        let deep = format!("{} Russia", "word ".repeat(150));
        assert!(close(score(&q("russia"), &text(&deep)).unwrap(), 0.5));
        // AND adds, OR takes the best plus half of the rest, NOT adds nothing.
        let d = title("Russia Moscow");
        assert!(close(score(&q("russia moscow"), &d).unwrap(), 6.0));
        assert!(close(
            score(&q("russia OR moscow^2"), &d).unwrap(),
            6.0 + 1.5
        ));
        assert!(close(score(&q("russia NOT kyiv"), &d).unwrap(), 3.0));
        // NEAR: both sides plus 3 × (0.5 + 0.5 × (1 − 0/4)) for adjacent words.
        assert!(close(
            score(&q("NEAR/3(russia, moscow)"), &d).unwrap(),
            6.0 + 3.0
        ));
        let gap = title("Russia a b Moscow");
        let bonus = 3.0 * (0.5 + 0.5 * (1.0 - 2.0 / 4.0));
        assert!(close(
            score(&q("NEAR/3(russia, moscow)"), &gap).unwrap(),
            6.0 + bonus
        ));
        // OR picks its best child per field: Russia in the title, Moscow in the summary.
        let two = prepare(&Document {
            title: "Russia",
            summary: "Moscow",
            ..Document::default()
        });
        assert!(close(
            score(&q("russia OR moscow"), &two).unwrap(),
            3.0 + 2.0
        ));
        // NEAR only counts its sides in the fields where they are near each other: the
        // title's Russia does not add to a proximity found in the text.
        let split = prepare(&Document {
            title: "Russia",
            text: "Russia and Moscow",
            ..Document::default()
        });
        let bonus = 1.0 * (0.5 + 0.5 * (1.0 - 1.0 / 4.0));
        assert!(close(
            score(&q("NEAR/3(russia, moscow)"), &split).unwrap(),
            1.0 + 1.0 + bonus
        ));
        let r = evaluate(&q("NEAR/3(russia, moscow)"), &split).unwrap();
        assert!(r.terms.iter().all(|t| t.field == Field::Text));
        // Title beats a passing mention deep in the text.
        let deep_pair = format!("{} Russia and Moscow", "word ".repeat(150));
        assert!(
            score(&q("NEAR/3(russia, moscow)"), &title("Russia and Moscow")).unwrap()
                > 4.0 * score(&q("NEAR/3(russia, moscow)"), &text(&deep_pair)).unwrap()
        );
    }

    #[test]
    fn topic_threshold() {
        let aliases = Aliases::default();
        let topic = super::super::Topic::new("t", "russia", 2.5, &aliases).unwrap();
        assert!(topic.matches(&title("Russia")).is_some());
        assert!(topic.is_match(&title("Russia")));
        assert!(topic.matches(&text("Russia")).is_none()); // 1.0 < 2.5
        assert!(topic.matches(&title("Moscow")).is_none());
    }
}
