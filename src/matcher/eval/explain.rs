//! Explanation of a match: each scored part as a [`MatchedTerm`] (canonical term, alias
//! path, positions, snippet) and the human-readable account of [`explain()`].

use std::fmt::Write as _;

use super::prepare::PreparedField;
use super::{MatchKind, MatchResult, MatchedTerm, Part, PreparedDocument};
use crate::matcher::query::{Field, Node, Query};

pub(super) fn matched_term(p: &Part<'_>, doc: &PreparedDocument) -> MatchedTerm {
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
/// occurrence count, alias and snippet, and the total; for a topic with a learned layer,
/// the model's probability and the features that weighed most.
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
    if let Some(m) = &result.model {
        let needed = if m.threshold.is_finite() {
            format!("threshold {:.2}", m.threshold)
        } else {
            "the query decides".to_string()
        };
        let query = if m.query_matches {
            "the query matches"
        } else {
            "the query does not match"
        };
        let _ = writeln!(
            out,
            "model: probability {:.3} ({query}; {needed}), bias {:+.2}; features that weighed most:",
            m.probability, m.bias
        );
        for c in &m.top {
            let _ = writeln!(
                out,
                "  {:+.2}  {} (weight {:+.2} × {:.2})",
                c.amount(),
                c.feature,
                c.weight,
                c.value
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::eval::tests::{close, q, text};
    use crate::matcher::eval::{Document, evaluate, prepare};
    use crate::matcher::query::{Aliases, parse_query};

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
}
