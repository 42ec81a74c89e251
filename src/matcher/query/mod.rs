//! Query language: AST, alias sets, parser with positioned errors, canonical printer.
//!
//! Grammar (keywords are upper case; everything else is normalized like document text):
//!
//! ```text
//! query   := or EOF                             -- field names are case-insensitive
//! or      := and ( "OR" and )*
//! and     := unary ( ["AND"] unary )*          -- adjacent terms are ANDed
//! unary   := "NOT" unary | weighted
//! weighted:= scoped ( "^" number )?             -- weight multiplies the leaf scores
//! scoped  := FIELD ":" primary | primary        -- FIELD: title summary text feed url author
//! primary := "(" or ")" | "\"phrase words\"" | "@alias" | word["*"]
//!          | "NEAR/" n "(" or "," or ")"          -- NEAR( ... ) means NEAR/10
//! ```
//!
//! Field scopes and weights are pushed down into the leaves (terms, phrases, alias
//! references) when parsing; an inner scope wins over an outer one. An alias reference keeps
//! its name, its own scope/weight and its expanded expression, so the printer can print
//! `title:@dprk^3` and a search compiler can walk the expansion. A Hangul query word always
//! matches as a token prefix (Korean particles attach to nouns), which the parser records as
//! `prefix: true`. A bare word that normalizes to several tokens (`jong-un`, `u.s.`) becomes
//! a phrase; a one-word phrase becomes a term.
//!
//! This file holds the AST and its canonical printer; the pipeline around it is split into
//! `lex` (source → positioned tokens), `parse` (tokens → AST, [`parse_query`]) and `aliases`
//! ([`Aliases`]: definitions resolved in dependency order).

mod aliases;
mod lex;
mod parse;

pub use aliases::{AliasError, Aliases};
pub use parse::{MAX_DEPTH, parse_query};

use std::fmt;

use super::normalize::is_prefix_script;

/// Document fields a query can be scoped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Field {
    Title,
    Summary,
    Text,
    Feed,
    Url,
    Author,
}

impl Field {
    pub const ALL: [Field; 6] = [
        Field::Title,
        Field::Summary,
        Field::Text,
        Field::Feed,
        Field::Url,
        Field::Author,
    ];
    /// The fields an unscoped leaf searches.
    pub const DEFAULT: [Field; 3] = [Field::Title, Field::Summary, Field::Text];

    pub fn name(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Summary => "summary",
            Field::Text => "text",
            Field::Feed => "feed",
            Field::Url => "url",
            Field::Author => "author",
        }
    }

    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One word of a phrase.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    pub prefix: bool,
}

/// The query AST. Leaves carry their field scope (`None` = title+summary+text) and weight.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Term {
        field: Option<Field>,
        word: String,
        prefix: bool,
        weight: f64,
    },
    Phrase {
        field: Option<Field>,
        words: Vec<Word>,
        weight: f64,
    },
    /// `@name`: the expansion has the reference's scope and weight already applied.
    Alias {
        name: String,
        field: Option<Field>,
        weight: f64,
        expr: Box<Node>,
    },
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// Both sides occur in one field within `n` positions of each other, either order.
    Near {
        n: u32,
        a: Box<Node>,
        b: Box<Node>,
    },
}

impl Node {
    /// Applies an outer field scope (inner scopes win) and multiplies weights.
    pub fn scoped(self, scope: Option<Field>, mult: f64) -> Node {
        let set = |f: Option<Field>| f.or(scope);
        match self {
            Node::Term {
                field,
                word,
                prefix,
                weight,
            } => Node::Term {
                field: set(field),
                word,
                prefix,
                weight: weight * mult,
            },
            Node::Phrase {
                field,
                words,
                weight,
            } => Node::Phrase {
                field: set(field),
                words,
                weight: weight * mult,
            },
            Node::Alias {
                name,
                field,
                weight,
                expr,
            } => Node::Alias {
                name,
                field: set(field),
                weight: weight * mult,
                expr: Box::new(expr.scoped(scope, mult)),
            },
            Node::And(v) => Node::And(v.into_iter().map(|c| c.scoped(scope, mult)).collect()),
            Node::Or(v) => Node::Or(v.into_iter().map(|c| c.scoped(scope, mult)).collect()),
            Node::Not(c) => Node::Not(Box::new(c.scoped(scope, mult))),
            Node::Near { n, a, b } => Node::Near {
                n,
                a: Box::new(a.scoped(scope, mult)),
                b: Box::new(b.scoped(scope, mult)),
            },
        }
    }

    /// Calls `f` on this node and every node below it (alias expansions included), pre-order.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Node)) {
        f(self);
        match self {
            Node::Term { .. } | Node::Phrase { .. } => {}
            Node::Alias { expr, .. } => expr.walk(f),
            Node::And(v) | Node::Or(v) => v.iter().for_each(|c| c.walk(f)),
            Node::Not(c) => c.walk(f),
            Node::Near { a, b, .. } => {
                a.walk(f);
                b.walk(f);
            }
        }
    }
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub root: Node,
}

/// A parse error at a character offset of the query source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at {position}: expected {expected}, found {found}")]
pub struct ParseError {
    /// Offset in characters (not bytes) from the start of the query.
    pub position: usize,
    pub expected: String,
    pub found: String,
}

// ---------------------------------------------------------------- printer

fn write_scope(f: &mut fmt::Formatter<'_>, field: Option<Field>) -> fmt::Result {
    match field {
        Some(field) => write!(f, "{field}:"),
        None => Ok(()),
    }
}

fn write_weight(f: &mut fmt::Formatter<'_>, weight: f64) -> fmt::Result {
    if weight == 1.0 {
        Ok(())
    } else {
        write!(f, "^{weight}")
    }
}

fn write_node(f: &mut fmt::Formatter<'_>, node: &Node, nested: bool) -> fmt::Result {
    match node {
        Node::Term {
            field,
            word,
            prefix,
            weight,
        } => {
            write_scope(f, *field)?;
            f.write_str(word)?;
            if *prefix && !is_prefix_script(word) {
                f.write_str("*")?;
            }
            write_weight(f, *weight)
        }
        Node::Phrase {
            field,
            words,
            weight,
        } => {
            write_scope(f, *field)?;
            f.write_str("\"")?;
            for (i, w) in words.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                f.write_str(&w.text)?;
                if w.prefix && !is_prefix_script(&w.text) {
                    f.write_str("*")?;
                }
            }
            f.write_str("\"")?;
            write_weight(f, *weight)
        }
        Node::Alias {
            name,
            field,
            weight,
            ..
        } => {
            write_scope(f, *field)?;
            write!(f, "@{name}")?;
            write_weight(f, *weight)
        }
        Node::And(v) | Node::Or(v) => {
            let op = if matches!(node, Node::And(_)) {
                " AND "
            } else {
                " OR "
            };
            if nested {
                f.write_str("(")?;
            }
            for (i, c) in v.iter().enumerate() {
                if i > 0 {
                    f.write_str(op)?;
                }
                write_node(f, c, true)?;
            }
            if nested {
                f.write_str(")")?;
            }
            Ok(())
        }
        Node::Not(c) => {
            f.write_str("NOT ")?;
            write_node(f, c, true)
        }
        Node::Near { n, a, b } => {
            write!(f, "NEAR/{n}(")?;
            write_node(f, a, false)?;
            f.write_str(", ")?;
            write_node(f, b, false)?;
            f.write_str(")")
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_node(f, self, false)
    }
}

/// Canonical form: keywords upper case, words normalized, scopes and weights on the leaves,
/// parentheses around every nested AND/OR group. `parse(print(q)) == q`.
impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_node(f, &self.root, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Helpers, also used by the tests of the submodules.

    pub(super) fn no_aliases() -> Aliases {
        Aliases::default()
    }

    pub(super) fn parse(src: &str) -> Node {
        parse_query(src, &no_aliases())
            .unwrap_or_else(|e| panic!("{src}: {e}"))
            .root
    }

    pub(super) fn print(src: &str) -> String {
        parse(src).to_string()
    }

    pub(super) fn err(src: &str, aliases: &Aliases) -> ParseError {
        parse_query(src, aliases).expect_err(src)
    }

    pub(super) fn term(word: &str) -> Node {
        Node::Term {
            field: None,
            word: word.into(),
            prefix: false,
            weight: 1.0,
        }
    }

    pub(super) fn defs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn walk_visits_alias_expansions() {
        let aliases = Aliases::parse(&defs(&[("d", "x OR \"y z\"")])).unwrap();
        let q = parse_query("NEAR/2(@d, w) NOT v", &aliases).unwrap();
        let mut leaves = Vec::new();
        q.root.walk(&mut |n| {
            if matches!(n, Node::Term { .. } | Node::Phrase { .. }) {
                leaves.push(n.to_string());
            }
        });
        assert_eq!(leaves, vec!["x", "\"y z\"", "w", "v"]);
    }
}
