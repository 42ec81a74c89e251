//! Compiles a parsed topic-language query into an FTS5 MATCH expression plus SQL filters.
//!
//! Pure: the store executes the result. Every word goes out as an FTS5 string literal
//! (`"word"`, an inner `"` doubled), so no raw FTS5 syntax ever reaches SQLite. The mapping:
//!
//! | query | FTS5 |
//! |---|---|
//! | `word`, `word*` | `"word"`, `"word"*` |
//! | `"north korea"`, `Jong-un` (a hyphenated word is a phrase) | `"north" + "korea"` |
//! | `title:x`, `summary:x`, `text:x` | `{title} : ("x")` |
//! | `a b`, `a AND b` | `(a AND b)` |
//! | `a OR b` | `(a OR b)` |
//! | `a NOT b` | `(a NOT b)`; a NOT needs a positive term beside it (FTS5 NOT is binary) |
//! | `NEAR/n(a, b)` | `NEAR(a b, n)`, distributed over ORs of phrases: `NEAR/3(a OR b, c)` → `(NEAR(a c, 3) OR NEAR(b c, 3))` |
//! | `@alias` | its expansion |
//! | `feed:x`, `url:x`, `author:x` | not in the index: SQL filters (substring, case-insensitive), allowed only as top-level AND conditions |
//!
//! Weights (`^2`) do not change search ranking: the index ranks by bm25 with fixed column
//! weights (see `store::search`).

use crate::matcher::{Field, Node, Query, Word};

/// The compiled search: the FTS5 expression (none when the query has only filters) and the
/// filters on fields the index does not hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CompiledSearch {
    pub fts: Option<String>,
    /// The same condition as a PostgreSQL tsquery (see `query::tsquery`).
    pub tsquery: Option<String>,
    pub filters: Vec<FieldFilter>,
}

/// A condition on a column outside the full-text index: the field's text contains `pattern`
/// (a SQL LIKE pattern, `%`-wrapped, with `\` as the escape character).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldFilter {
    pub field: Field,
    pub like: String,
}

/// A query the full-text index cannot run, with what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("search query `{query}`: {message}")]
pub struct CompileError {
    pub query: String,
    pub message: String,
}

/// Compiles `query` for the `items_fts` table.
pub fn compile(query: &Query) -> Result<CompiledSearch, CompileError> {
    let fail = |message: String| CompileError {
        query: query.to_string(),
        message,
    };
    let conjuncts: Vec<&Node> = match &query.root {
        Node::And(children) => children.iter().collect(),
        other => vec![other],
    };
    let mut filters = Vec::new();
    let mut positive = Vec::new();
    let mut negative = Vec::new();
    let mut ts_parts = Vec::new();
    for node in conjuncts {
        if let Some(filter) = as_filter(node) {
            filters.push(filter);
            continue;
        }
        match node {
            Node::Not(inner) => negative.push(expr(inner).map_err(fail)?),
            other => positive.push(expr(other).map_err(fail)?),
        }
        ts_parts.push(super::tsquery::expr(node).map_err(fail)?);
    }
    if positive.is_empty() && !negative.is_empty() {
        return Err(fail(
            "NOT needs a positive term beside it (search for `x NOT y`, not `NOT y` alone)".into(),
        ));
    }
    let fts = if positive.is_empty() {
        None
    } else {
        let mut text = join(&positive, " AND ");
        for n in &negative {
            text = format!("{text} NOT {n}");
        }
        Some(text)
    };
    // Positive conjuncts first, as in the FTS5 expression.
    ts_parts.sort_by_key(|p| p.starts_with('!'));
    let tsquery = fts.as_ref().map(|_| join(&ts_parts, " & "));
    Ok(CompiledSearch {
        fts,
        tsquery,
        filters,
    })
}

/// An FTS5 string literal: the text in double quotes, inner quotes doubled.
pub fn literal(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

fn join(parts: &[String], op: &str) -> String {
    if parts.len() == 1 {
        parts[0].clone()
    } else {
        format!("({})", parts.join(op))
    }
}

/// A leaf on feed:/url:/author: becomes a filter.
fn as_filter(node: &Node) -> Option<FieldFilter> {
    let (field, words): (Field, Vec<&str>) = match node {
        Node::Term {
            field: Some(f),
            word,
            ..
        } => (*f, vec![word.as_str()]),
        Node::Phrase {
            field: Some(f),
            words,
            ..
        } => (*f, words.iter().map(|w| w.text.as_str()).collect()),
        _ => return None,
    };
    if !is_filter_field(field) {
        return None;
    }
    let escaped: Vec<String> = words
        .iter()
        .map(|w| {
            w.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        })
        .collect();
    Some(FieldFilter {
        field,
        like: format!("%{}%", escaped.join("%")),
    })
}

fn is_filter_field(field: Field) -> bool {
    matches!(field, Field::Feed | Field::Url | Field::Author)
}

fn scope(field: Option<Field>, body: String) -> Result<String, String> {
    match field {
        None => Ok(body),
        Some(f) if is_filter_field(f) => Err(format!(
            "{f}: is not in the full-text index; use it only as a top-level AND condition \
             (e.g. `korea {f}:example`), not inside OR, NOT or NEAR"
        )),
        Some(f) => Ok(format!("{{{f}}} : ({body})")),
    }
}

fn phrase_body(words: &[Word]) -> String {
    words
        .iter()
        .map(|w| {
            let mut s = literal(&w.text);
            if w.prefix {
                s.push('*');
            }
            s
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

fn expr(node: &Node) -> Result<String, String> {
    match node {
        Node::Term {
            field,
            word,
            prefix,
            ..
        } => {
            let words = [Word {
                text: word.clone(),
                prefix: *prefix,
            }];
            scope(*field, phrase_body(&words))
        }
        Node::Phrase { field, words, .. } => scope(*field, phrase_body(words)),
        Node::Alias { expr: inner, .. } => expr(inner),
        Node::And(children) => {
            let mut pos = Vec::new();
            let mut neg = Vec::new();
            for c in children {
                match c {
                    Node::Not(inner) => neg.push(expr(inner)?),
                    other => pos.push(expr(other)?),
                }
            }
            if pos.is_empty() {
                return Err("NOT needs a positive term beside it in its group".into());
            }
            let mut text = join(&pos, " AND ");
            for n in &neg {
                text = format!("({text} NOT {n})");
            }
            Ok(text)
        }
        Node::Or(children) => {
            let parts = children.iter().map(expr).collect::<Result<Vec<_>, _>>()?;
            Ok(join(&parts, " OR "))
        }
        Node::Not(_) => Err(
            "NOT needs a positive term beside it (FTS5 has no stand-alone NOT inside OR)".into(),
        ),
        Node::Near { n, a, b } => {
            let left = near_leaves(a)?;
            let right = near_leaves(b)?;
            let mut parts = Vec::new();
            for (fa, pa) in &left {
                for (fb, pb) in &right {
                    let field = match (fa, fb) {
                        (None, None) => None,
                        (Some(x), None) | (None, Some(x)) => Some(*x),
                        (Some(x), Some(y)) if x == y => Some(*x),
                        (Some(x), Some(y)) => {
                            return Err(format!(
                                "NEAR compares words in one field; {x}: and {y}: differ"
                            ));
                        }
                    };
                    parts.push(scope(field, format!("NEAR({pa} {pb}, {n})"))?);
                }
            }
            Ok(join(&parts, " OR "))
        }
    }
}

/// The phrases a NEAR argument stands for: terms and phrases, through aliases and ORs.
fn near_leaves(node: &Node) -> Result<Vec<(Option<Field>, String)>, String> {
    match node {
        Node::Term {
            field,
            word,
            prefix,
            ..
        } => Ok(vec![(
            *field,
            phrase_body(&[Word {
                text: word.clone(),
                prefix: *prefix,
            }]),
        )]),
        Node::Phrase { field, words, .. } => Ok(vec![(*field, phrase_body(words))]),
        Node::Alias { expr, .. } => near_leaves(expr),
        Node::Or(children) => {
            let mut out = Vec::new();
            for c in children {
                out.extend(near_leaves(c)?);
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
    use super::*;
    use crate::matcher::{Aliases, parse_query};

    fn fts(src: &str) -> String {
        fts_with(src, &Aliases::default())
    }

    fn fts_with(src: &str, aliases: &Aliases) -> String {
        let q = parse_query(src, aliases).unwrap();
        compile(&q).unwrap().fts.unwrap()
    }

    fn err(src: &str) -> String {
        compile(&parse_query(src, &Aliases::default()).unwrap())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn words_prefixes_and_phrases() {
        assert_eq!(fts("Pyongyang"), r#""pyongyang""#);
        assert_eq!(fts("russ*"), r#""russ"*"#);
        assert_eq!(fts("\"North Korea\""), r#""north" + "korea""#);
        assert_eq!(fts("\"kim jong*\""), r#""kim" + "jong"*"#);
        // Diacritics fold like the index's remove_diacritics.
        assert_eq!(fts("Północna"), r#""polnocna""#);
    }

    #[test]
    fn hyphenated_words_are_phrases() {
        assert_eq!(fts("Kim Jong-un"), r#"("kim" AND "jong" + "un")"#);
        assert_eq!(fts("\"Kim Jong-un\""), r#""kim" + "jong" + "un""#);
    }

    #[test]
    fn booleans() {
        assert_eq!(fts("a b"), r#"("a" AND "b")"#);
        assert_eq!(fts("a OR b"), r#"("a" OR "b")"#);
        assert_eq!(fts("a (b OR c)"), r#"("a" AND ("b" OR "c"))"#);
        assert_eq!(fts("a NOT b"), r#""a" NOT "b""#);
        assert_eq!(fts("a b NOT c NOT d"), r#"("a" AND "b") NOT "c" NOT "d""#);
        assert_eq!(fts("x OR (a NOT b)"), r#"("x" OR ("a" NOT "b"))"#);
    }

    #[test]
    fn field_scopes() {
        assert_eq!(fts("title:korea"), r#"{title} : ("korea")"#);
        assert_eq!(
            fts("summary:\"north korea\" text:x*"),
            r#"({summary} : ("north" + "korea") AND {text} : ("x"*))"#
        );
    }

    #[test]
    fn near_distributes_over_or() {
        assert_eq!(fts("NEAR/5(a, b)"), r#"NEAR("a" "b", 5)"#);
        assert_eq!(
            fts("NEAR/3(a OR \"b c\", d)"),
            r#"(NEAR("a" "d", 3) OR NEAR("b" + "c" "d", 3))"#
        );
        assert_eq!(fts("title:NEAR/2(a, b)"), r#"{title} : (NEAR("a" "b", 2))"#);
    }

    #[test]
    fn aliases_expand() {
        let aliases = Aliases::parse(&[
            ("dprk".into(), "\"north korea\" OR dprk".into()),
            ("ru".into(), "russia*".into()),
        ])
        .unwrap();
        assert_eq!(
            fts_with("@dprk @ru", &aliases),
            r#"(("north" + "korea" OR "dprk") AND "russia"*)"#
        );
        assert_eq!(
            fts_with("NEAR/10(@dprk, @ru)", &aliases),
            r#"(NEAR("north" + "korea" "russia"*, 10) OR NEAR("dprk" "russia"*, 10))"#
        );
    }

    #[test]
    fn quotes_are_escaped() {
        assert_eq!(literal(r#"a"b"#), r#""a""b""#);
        // Operators and FTS5 syntax in words are just words.
        assert_eq!(fts("and or near"), r#"("and" AND "or" AND "near")"#);
    }

    #[test]
    fn filter_fields() {
        let q = parse_query(
            "korea feed:bbc url:\"example org\" author:o_k",
            &Aliases::default(),
        )
        .unwrap();
        let c = compile(&q).unwrap();
        assert_eq!(c.fts.as_deref(), Some(r#""korea""#));
        assert_eq!(
            c.filters,
            vec![
                FieldFilter {
                    field: Field::Feed,
                    like: "%bbc%".into()
                },
                FieldFilter {
                    field: Field::Url,
                    like: "%example%org%".into()
                },
                FieldFilter {
                    field: Field::Author,
                    like: "%o%k%".into()
                },
            ]
        );
        let only = compile(&parse_query("feed:bbc", &Aliases::default()).unwrap()).unwrap();
        assert_eq!(only.fts, None);
        assert!(err("a OR feed:bbc").contains("feed: is not in the full-text index"));
    }

    #[test]
    fn unsupported_shapes_are_clear_errors() {
        assert!(err("NOT a").contains("NOT needs a positive term"));
        assert!(err("x OR NOT a").contains("NOT needs a positive term"));
        assert!(err("NEAR/3(a b, c)").contains("NEAR arguments"));
        assert!(err("NEAR/3(title:a, text:b)").contains("differ"));
    }
}
