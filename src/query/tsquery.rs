//! Compiles a parsed topic-language query into a PostgreSQL `tsquery`, for the same searches
//! `fts` compiles to FTS5. Pure. Every word goes out as a quoted lexeme (`'word'`, an inner
//! `'` doubled, `\` escaped), so no raw tsquery syntax ever reaches PostgreSQL. The index
//! (built by the store from tidings' own tokenizer) weighs title A, summary B, text C:
//!
//! | query | tsquery |
//! |---|---|
//! | `word`, `word*` | `'word'`, `'word':*` |
//! | `"north korea"`, `Jong-un` | `'north' <-> 'korea'` |
//! | `title:x`, `summary:x`, `text:x` | `'x':A`, `'x':B`, `'x':C` (every word of the scope) |
//! | `a b`, `a OR b`, `a NOT b` | `(a & b)`, `(a \| b)`, `(a & !b)` |
//! | `NEAR/n(a, b)` | `a <k> b` or `b <k> a` for every k from 1 to n + 1 (FTS5's "at most n words between"), distributed over ORs as in `fts` |
//! | `@alias` | its expansion |
//!
//! `feed:`, `url:` and `author:` are filters, taken out by `fts::compile` before this runs.

use crate::matcher::{Field, Node, Word};

fn lexeme(word: &Word, field: Option<Field>) -> String {
    let mut s = format!("'{}'", word.text.replace('\\', "\\\\").replace('\'', "''"));
    let weight = match field {
        Some(Field::Title) => "A",
        Some(Field::Summary) => "B",
        Some(Field::Text) => "C",
        _ => "",
    };
    if word.prefix || !weight.is_empty() {
        s.push(':');
        if word.prefix {
            s.push('*');
        }
        s.push_str(weight);
    }
    s
}

fn phrase(words: &[Word], field: Option<Field>) -> String {
    let parts: Vec<String> = words.iter().map(|w| lexeme(w, field)).collect();
    if parts.len() == 1 {
        parts[0].clone()
    } else {
        format!("({})", parts.join(" <-> "))
    }
}

fn join(parts: &[String], op: &str) -> String {
    if parts.len() == 1 {
        parts[0].clone()
    } else {
        format!("({})", parts.join(op))
    }
}

/// The tsquery of one node (its field checks were made by `fts::expr` already).
pub fn expr(node: &Node) -> Result<String, String> {
    expr_in(node, None)
}

fn expr_in(node: &Node, outer: Option<Field>) -> Result<String, String> {
    match node {
        Node::Term {
            field,
            word,
            prefix,
            ..
        } => Ok(lexeme(
            &Word {
                text: word.clone(),
                prefix: *prefix,
            },
            field.or(outer),
        )),
        Node::Phrase { field, words, .. } => Ok(phrase(words, field.or(outer))),
        Node::Alias { expr: inner, .. } => expr_in(inner, outer),
        Node::And(children) => {
            let mut parts = Vec::new();
            for c in children {
                match c {
                    Node::Not(inner) => parts.push(format!("!{}", expr_in(inner, outer)?)),
                    other => parts.push(expr_in(other, outer)?),
                }
            }
            Ok(join(&parts, " & "))
        }
        Node::Or(children) => {
            let parts = children
                .iter()
                .map(|c| expr_in(c, outer))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(join(&parts, " | "))
        }
        Node::Not(inner) => Ok(format!("!{}", expr_in(inner, outer)?)),
        Node::Near { n, a, b } => {
            let left = near_leaves(a, outer)?;
            let right = near_leaves(b, outer)?;
            let mut parts = Vec::new();
            for pa in &left {
                for pb in &right {
                    for k in 1..=(*n as usize + 1) {
                        parts.push(format!("{pa} <{k}> {pb}"));
                        parts.push(format!("{pb} <{k}> {pa}"));
                    }
                }
            }
            Ok(join(&parts, " | "))
        }
    }
}

fn near_leaves(node: &Node, outer: Option<Field>) -> Result<Vec<String>, String> {
    match node {
        Node::Term { .. } | Node::Phrase { .. } => Ok(vec![expr_in(node, outer)?]),
        Node::Alias { expr, .. } => near_leaves(expr, outer),
        Node::Or(children) => {
            let mut out = Vec::new();
            for c in children {
                out.extend(near_leaves(c, outer)?);
            }
            Ok(out)
        }
        _ => Err(
            "NEAR arguments must be words, phrases or OR groups of them (no AND, NOT or nested NEAR)"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::matcher::{Aliases, parse_query};

    fn ts(src: &str) -> String {
        let q = parse_query(src, &Aliases::default()).unwrap();
        crate::query::compile(&q).unwrap().tsquery.unwrap()
    }

    #[test]
    fn words_phrases_fields_and_booleans() {
        assert_eq!(ts("Pyongyang"), "'pyongyang'");
        assert_eq!(ts("russ*"), "'russ':*");
        assert_eq!(ts("Północna"), "'polnocna'");
        assert_eq!(ts("\"North Korea\""), "('north' <-> 'korea')");
        assert_eq!(ts("Kim Jong-un"), "('kim' & ('jong' <-> 'un'))");
        assert_eq!(ts("title:korea text:x*"), "('korea':A & 'x':*C)");
        assert_eq!(ts("a OR b"), "('a' | 'b')");
        assert_eq!(ts("a b NOT c"), "('a' & 'b' & !'c')");
        assert_eq!(ts("x OR (a NOT b)"), "('x' | ('a' & !'b'))");
        assert_eq!(ts("it's"), "'it'");
    }

    #[test]
    fn near_covers_every_distance_in_both_orders() {
        assert_eq!(
            ts("NEAR/1(a, b)"),
            "('a' <1> 'b' | 'b' <1> 'a' | 'a' <2> 'b' | 'b' <2> 'a')"
        );
        assert_eq!(
            ts("title:NEAR/1(a, b)"),
            "('a':A <1> 'b':A | 'b':A <1> 'a':A | 'a':A <2> 'b':A | 'b':A <2> 'a':A)"
        );
    }

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(
            super::lexeme(
                &crate::matcher::Word {
                    text: "a'b\\".into(),
                    prefix: false
                },
                None
            ),
            "'a''b\\\\'"
        );
    }
}
