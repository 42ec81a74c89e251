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
//! [`SENTENCE_GAP`]: super::normalize::SENTENCE_GAP
//! [`PARAGRAPH_GAP`]: super::normalize::PARAGRAPH_GAP

use std::cell::RefCell;
use std::fmt::Write as _;

use super::normalize::{Tokens, is_prefix_script, tokenize};
use super::query::{Field, Node, Query, Word};

/// Article text beyond this token index counts as a passing mention.
pub const DEEP_TEXT_TOKEN: u32 = 100;
/// Field weights, indexed by [`Field::index`].
pub const FIELD_WEIGHTS: [f64; 6] = [3.0, 2.0, 1.0, 1.0, 1.0, 1.0];
/// Field weight of an article-text occurrence at or beyond [`DEEP_TEXT_TOKEN`].
pub const DEEP_TEXT_WEIGHT: f64 = 0.5;

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

/// One normalized, tokenized field with a sorted term index.
#[derive(Debug, Clone, Default)]
struct PreparedField {
    toks: Tokens,
    /// Every token and joined compound, sorted by text then first token.
    index: Vec<IndexEntry>,
    /// Bloom-style bitmap of the first two bytes of every indexed text: a lookup whose word
    /// is absent from it skips the binary search (most lookups miss).
    starts: [u64; 16],
}

/// Bit of [`PreparedField::starts`] for a word (its first two bytes).
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

impl PreparedField {
    fn new(text: &str) -> PreparedField {
        let toks = tokenize(text);
        let entry = |norm: (u32, u32), tok: u32, len: u32| IndexEntry {
            head: head(&toks.norm[norm.0 as usize..norm.1 as usize]),
            norm,
            tok,
            len,
        };
        let mut index: Vec<IndexEntry> = Vec::with_capacity(toks.tokens.len() + toks.joined.len());
        for (i, t) in toks.tokens.iter().enumerate() {
            index.push(entry(t.norm, i as u32, 1));
        }
        for j in &toks.joined {
            index.push(entry(j.norm, j.first, j.len));
        }
        let norm = &toks.norm;
        let key = |r: (u32, u32)| &norm[r.0 as usize..r.1 as usize];
        let mut starts = [0u64; 16];
        for e in &index {
            let bit = start_bit(&toks.norm[e.norm.0 as usize..e.norm.1 as usize]);
            starts[bit / 64] |= 1 << (bit % 64);
        }
        index.sort_unstable_by(|a, b| {
            a.head
                .cmp(&b.head)
                .then_with(|| key(a.norm).cmp(key(b.norm)))
                .then(a.tok.cmp(&b.tok))
        });
        PreparedField {
            toks,
            index,
            starts,
        }
    }

    fn key(&self, r: (u32, u32)) -> &str {
        &self.toks.norm[r.0 as usize..r.1 as usize]
    }

    /// Calls `f(first_token, token_count)` for every index entry equal to `word` (or
    /// starting with it when `prefix`).
    fn lookup(&self, word: &str, prefix: bool, mut f: impl FnMut(u32, u32)) {
        // A one-byte prefix word can match texts with any second byte: no filter then.
        if word.len() >= 2 {
            let bit = start_bit(word);
            if self.starts[bit / 64] & (1 << (bit % 64)) == 0 {
                return;
            }
        }
        let h = head(word);
        let start = self
            .index
            .partition_point(|e| e.head < h || (e.head == h && self.key(e.norm) < word));
        for e in &self.index[start..] {
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

    fn pos(&self, i: u32) -> u32 {
        self.toks.tokens[i as usize].pos
    }

    /// Tries to match `words` starting at token `ti`; returns the end token (exclusive).
    fn phrase_at(&self, words: &[Word], ti: usize, first: bool) -> Option<usize> {
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
}

/// Normalizes and indexes every field of `doc`.
pub fn prepare(doc: &Document) -> PreparedDocument {
    PreparedDocument {
        fields: [
            PreparedField::new(doc.title),
            PreparedField::new(doc.summary),
            PreparedField::new(doc.text),
            PreparedField::new(doc.feed),
            PreparedField::new(doc.url),
            PreparedField::new(doc.author),
        ],
    }
}

impl PreparedDocument {
    fn field(&self, f: Field) -> &PreparedField {
        &self.fields[f.index()]
    }

    /// The normalized tokens of a field, space separated.
    pub fn normalized(&self, f: Field) -> String {
        let pf = self.field(f);
        let n = pf.toks.tokens.len();
        (0..n).map(|i| pf.text(i)).collect::<Vec<_>>().join(" ")
    }
}

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

type AliasMemo<'q> = ((&'q str, Option<Field>, u64), Option<(Vec<Hit>, [f64; 6])>);

impl<'d, 'q> Cx<'d, 'q> {
    fn new(doc: &'d PreparedDocument, collect: bool) -> Self {
        Cx {
            doc,
            collect,
            memo: RefCell::new(Vec::new()),
        }
    }
}

fn eval_leaf<'q>(node: &'q Node, via: Via<'q>, cx: &Cx<'_, 'q>) -> Option<Eval<'q>> {
    let (field, weight) = match node {
        Node::Term { field, weight, .. } | Node::Phrase { field, weight, .. } => (*field, *weight),
        _ => unreachable!("eval_leaf on a non-leaf"),
    };
    let mut ev = Eval::default();
    for &f in fields_of(field) {
        let pf = cx.doc.field(f);
        let mut hits: Vec<(u32, u32)> = Vec::new();
        match node {
            Node::Term { word, prefix, .. } => {
                pf.lookup(word, *prefix || is_prefix_script(word), |t, l| {
                    hits.push((t, l))
                });
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
            if let Some((_, memo)) = cx.memo.borrow().iter().find(|(k, _)| *k == key) {
                return memo.as_ref().map(|(hits, fields)| Eval {
                    hits: hits.clone(),
                    parts: Vec::new(),
                    fields: *fields,
                });
            }
            let ev = eval_node(expr, via, cx);
            let memo = ev.as_ref().map(|e| (e.hits.clone(), e.fields));
            cx.memo.borrow_mut().push((key, memo));
            ev
        }
        Node::And(children) => {
            let mut ev = Eval::default();
            for c in children {
                ev.absorb(eval_node(c, via, cx)?, [1.0; 6]);
            }
            Some(ev)
        }
        Node::Or(children) => {
            let mut matched: Vec<Eval<'q>> = children
                .iter()
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
        Node::Near { n, a, b } => {
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
                    if gap > *n {
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
                kind: MatchKind::Near { n: *n, gap },
                field,
                hits: vec![(ha.tok, ha.len), (hb.tok, hb.len)],
                value: bonus,
            });
            Some(ev)
        }
    }
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
    })
}

/// Fast check of the boolean structure and score only (no explanation parts kept).
pub fn score(query: &Query, doc: &PreparedDocument) -> Option<f64> {
    let cx = Cx::new(doc, false);
    eval_node(&query.root, Via::default(), &cx).map(|e| e.score())
}

fn matched_term(p: &Part<'_>, doc: &PreparedDocument) -> MatchedTerm {
    let pf = doc.field(p.field);
    let (first, first_len) = p.hits[0];
    let (snip_start, snip_end) = match p.kind {
        MatchKind::Near { .. } => {
            let (b, bl) = p.hits[1];
            (first.min(b), (first + first_len).max(b + bl))
        }
        MatchKind::Term => (first, first + first_len),
    };
    let term = match (&p.kind, p.node) {
        (MatchKind::Near { n, .. }, Node::Near { a, b, .. }) => {
            format!("NEAR/{n}({a}, {b})")
        }
        _ => p.node.to_string(),
    };
    MatchedTerm {
        term,
        via: p.via.describe(),
        kind: p.kind.clone(),
        field: p.field,
        count: match p.kind {
            MatchKind::Term => p.hits.len() as u32,
            MatchKind::Near { .. } => 1,
        },
        positions: p.hits.iter().map(|h| h.0).collect(),
        snippet: snippet(pf, snip_start, snip_end),
        score: p.value,
    }
}

/// Text around tokens `[start, end)`, the tokens marked with `[...]`, about 60 characters
/// of context on each side.
fn snippet(pf: &PreparedField, start: u32, end: u32) -> String {
    const CONTEXT: usize = 60;
    let text = &pf.toks.display;
    let toks = &pf.toks.tokens;
    let s = toks[start as usize].src.0 as usize;
    let e = toks[end as usize - 1].src.1 as usize;
    let mut from = s;
    for (i, _) in text[..s].char_indices().rev().take(CONTEXT) {
        from = i;
    }
    let mut to = e;
    for (i, c) in text[e..].char_indices().take(CONTEXT) {
        to = e + i + c.len_utf8();
    }
    let clean = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.push_str(&clean(&text[from..s]));
    if from < s && text[..s].ends_with(char::is_whitespace) {
        out.push(' ');
    }
    out.push('[');
    out.push_str(&clean(&text[s..e]));
    out.push(']');
    if e < to && text[e..].starts_with(char::is_whitespace) {
        out.push(' ');
    }
    out.push_str(&clean(&text[e..to]));
    if to < text.len() {
        out.push('…');
    }
    out
}

/// A human-readable account of `result`: the query, each scored part with its field,
/// occurrence count, alias and snippet, and the total.
pub fn explain(query: &Query, doc: &PreparedDocument, result: &MatchResult) -> String {
    let _ = doc; // snippets were taken when the result was built
    let mut out = String::new();
    let _ = writeln!(out, "query: {query}");
    let mut per_field = [0.0f64; 6];
    for t in &result.terms {
        per_field[t.field.index()] += t.score;
    }
    let fields: Vec<String> = Field::ALL
        .iter()
        .filter(|f| per_field[f.index()] != 0.0)
        .map(|f| format!("{f} {:.2}", per_field[f.index()]))
        .collect();
    let _ = writeln!(out, "score: {:.2} ({})", result.score, fields.join(", "));
    for t in &result.terms {
        let via = t
            .via
            .as_deref()
            .map(|v| format!(" via {v}"))
            .unwrap_or_default();
        match t.kind {
            MatchKind::Term => {
                let _ = writeln!(
                    out,
                    "  +{:.2}  {} in {}{} ×{}: {}",
                    t.score, t.term, t.field, via, t.count, t.snippet
                );
            }
            MatchKind::Near { n, gap } => {
                let _ = writeln!(
                    out,
                    "  +{:.2}  proximity {} in {} (gap {gap} ≤ {n}){}: {}",
                    t.score, t.term, t.field, via, t.snippet
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::query::{Aliases, parse_query};
    use super::*;

    fn q(src: &str) -> Query {
        parse_query(src, &Aliases::default()).unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    fn title(t: &str) -> PreparedDocument {
        prepare(&Document {
            title: t,
            ..Document::default()
        })
    }

    fn text(t: &str) -> PreparedDocument {
        prepare(&Document {
            text: t,
            ..Document::default()
        })
    }

    fn hit(query: &str, doc: &PreparedDocument) -> bool {
        evaluate(&q(query), doc).is_some()
    }

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
    fn phrases_do_not_cross_sentences() {
        assert!(hit("\"korea russia\"", &title("North Korea Russia")));
        assert!(!hit(
            "\"korea russia\"",
            &title("Talks with Korea. Russia said")
        ));
        assert!(!hit("\"korea russia\"", &title("Russia Korea")));
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

    fn close(a: f64, b: f64) -> bool {
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
        // Summary 2, text 1, deep text 0.5.
        let d = prepare(&Document {
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
    fn result_terms_and_explanation() {
        let aliases = Aliases::parse(&[
            ("dprk".into(), "\"north korea\" OR pyongyang".into()),
            ("ru".into(), "russia*".into()),
        ])
        .unwrap();
        let query = parse_query("title:NEAR/5(@dprk, @ru)", &aliases).unwrap();
        let doc = prepare(&Document {
            title: "Report: North Korea ships artillery shells to Russian forces in Ukraine, officials say",
            ..Document::default()
        });
        let r = evaluate(&query, &doc).unwrap();
        assert_eq!(r.terms.len(), 3);
        let t = &r.terms[0];
        assert_eq!(t.term, "title:\"north korea\"");
        assert_eq!(t.via.as_deref(), Some("@dprk"));
        assert_eq!(t.field, Field::Title);
        assert_eq!(t.positions, vec![1]);
        assert_eq!(t.count, 1);
        assert!(t.snippet.contains("[North Korea]"), "{}", t.snippet);
        assert_eq!(r.terms[2].kind, MatchKind::Near { n: 5, gap: 4 });
        assert!(
            r.terms[2]
                .snippet
                .contains("[North Korea ships artillery shells to Russian]")
        );
        let sum: f64 = r.terms.iter().map(|t| t.score).sum();
        assert!(close(sum, r.score));
        let e = explain(&query, &doc, &r);
        assert!(e.contains("score: "), "{e}");
        assert!(
            e.contains("title:\"north korea\" in title via @dprk ×1"),
            "{e}"
        );
        assert!(
            e.contains("proximity NEAR/5(title:@dprk, title:@ru) in title (gap 4 ≤ 5)"),
            "{e}"
        );
    }

    #[test]
    fn snippets_are_trimmed_with_ellipses() {
        let long = format!(
            "{}North Korea{}",
            "lorem ipsum ".repeat(20),
            " dolor sit".repeat(20)
        );
        let r = evaluate(&q("\"north korea\""), &text(&long)).unwrap();
        let s = &r.terms[0].snippet;
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains(" [North Korea] "), "{s}");
        assert!(s.chars().count() < 140, "{s}");
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

    #[test]
    fn normalized_field_view() {
        let d = title("Kim Jong-un's trip");
        assert_eq!(d.normalized(Field::Title), "kim jong un trip");
    }
}
