//! Parser of the query language: tokens to the AST, with field scopes and weights pushed
//! into the leaves, the nesting limit and positioned errors.

use super::lex::{Lexed, Tok, describe, lex};
use super::{Aliases, Node, ParseError, Query, Word};
use crate::matcher::normalize::{is_prefix_script, normalize_words};

struct Parser<'a> {
    toks: Vec<Lexed>,
    at: usize,
    aliases: &'a Aliases,
    /// Current nesting of groups, NEARs and NOTs (bounded to keep recursion shallow).
    depth: usize,
}

/// Deepest nesting of parentheses, `NEAR` and `NOT` a query may use.
pub const MAX_DEPTH: usize = 64;

/// Parses `src` using `aliases` for `@name` references.
pub fn parse_query(src: &str, aliases: &Aliases) -> Result<Query, ParseError> {
    let mut p = Parser {
        toks: lex(src)?,
        at: 0,
        aliases,
        depth: 0,
    };
    let root = p.or()?;
    if p.peek() != &Tok::End {
        let expected = if p.peek() == &Tok::RParen {
            "end of query (unbalanced ')')"
        } else {
            "operator or end of query"
        };
        return Err(p.error(expected));
    }
    // The canonical print adds the parentheses that precedence implies (`a b OR c` prints as
    // `(a AND b) OR c`); it must stay within the limit so that it parses again.
    if printed_depth(&root, false) > MAX_DEPTH {
        return Err(ParseError {
            position: 0,
            expected: "at most 64 nested groups, NEARs or NOTs (counting the parentheses AND inside OR implies)".into(),
            found: "a deeper query".into(),
        });
    }
    Ok(Query { root })
}

/// True if every weight in `node` is a positive finite number.
fn weights_in_range(node: &Node) -> bool {
    let mut ok = true;
    node.walk(&mut |n| {
        if let Node::Term { weight, .. }
        | Node::Phrase { weight, .. }
        | Node::Alias { weight, .. } = n
        {
            ok &= weight.is_finite() && *weight > 0.0;
        }
    });
    ok
}

/// How deeply the canonical print of `node` nests groups, NEARs and NOTs, counted as the
/// parser counts them (`nested` as in `write_node`; alias expansions print as `@name`).
fn printed_depth(node: &Node, nested: bool) -> usize {
    match node {
        Node::Term { .. } | Node::Phrase { .. } | Node::Alias { .. } => 0,
        Node::And(v) | Node::Or(v) => {
            let inner = v.iter().map(|c| printed_depth(c, true)).max().unwrap_or(0);
            inner + usize::from(nested)
        }
        Node::Not(c) => 1 + printed_depth(c, true),
        Node::Near { a, b, .. } => 1 + printed_depth(a, false).max(printed_depth(b, false)),
    }
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].kind
    }

    fn next(&mut self) -> Lexed {
        let t = self.toks[self.at].clone();
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
        t
    }

    fn error(&self, expected: &str) -> ParseError {
        let t = &self.toks[self.at];
        ParseError {
            position: t.pos,
            expected: expected.to_string(),
            found: describe(&t.kind),
        }
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<(), ParseError> {
        if *self.peek() == tok {
            self.next();
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    fn or(&mut self) -> Result<Node, ParseError> {
        let mut items = vec![self.and()?];
        while *self.peek() == Tok::Or {
            self.next();
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Node::Or(items)
        })
    }

    fn and(&mut self) -> Result<Node, ParseError> {
        let mut items = vec![self.unary()?];
        loop {
            match self.peek() {
                Tok::And => {
                    self.next();
                    items.push(self.unary()?);
                }
                Tok::Not
                | Tok::LParen
                | Tok::Near(_)
                | Tok::Field(_)
                | Tok::Alias(_)
                | Tok::Phrase(_)
                | Tok::Word(_) => items.push(self.unary()?),
                _ => break,
            }
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Node::And(items)
        })
    }

    fn nest<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error("at most 64 nested groups, NEARs or NOTs"));
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn unary(&mut self) -> Result<Node, ParseError> {
        if *self.peek() == Tok::Not {
            return self.nest(|p| {
                p.next();
                Ok(Node::Not(Box::new(p.unary()?)))
            });
        }
        let node = self.scoped()?;
        if let Tok::Weight(w) = *self.peek() {
            let node = node.scoped(None, w);
            // Weights multiply through groups: `(a^1e200)^1e200` would be infinite, and its
            // printed form `a^inf` would not parse.
            if !weights_in_range(&node) {
                return Err(self.error(
                    "a weight whose product with the outer weights is a positive finite number",
                ));
            }
            self.next();
            return Ok(node);
        }
        Ok(node)
    }

    fn scoped(&mut self) -> Result<Node, ParseError> {
        if let Tok::Field(f) = *self.peek() {
            self.next();
            let node = self.primary()?;
            return Ok(node.scoped(Some(f), 1.0));
        }
        self.primary()
    }

    fn near(&mut self, n: u32) -> Result<Node, ParseError> {
        self.next();
        self.expect(Tok::LParen, "'(' after NEAR")?;
        let a = self.or()?;
        self.expect(Tok::Comma, "',' between NEAR arguments")?;
        let b = self.or()?;
        self.expect(Tok::RParen, "')'")?;
        Ok(Node::Near {
            n,
            a: Box::new(a),
            b: Box::new(b),
        })
    }

    fn primary(&mut self) -> Result<Node, ParseError> {
        let t = self.toks[self.at].clone();
        match t.kind {
            Tok::LParen => self.nest(|p| {
                p.next();
                let node = p.or()?;
                p.expect(Tok::RParen, "')'")?;
                Ok(node)
            }),
            Tok::Near(n) => self.nest(|p| p.near(n)),
            Tok::Alias(name) => {
                let Some(expr) = self.aliases.get(&name) else {
                    return Err(self.error("a defined alias"));
                };
                self.next();
                Ok(Node::Alias {
                    name,
                    field: None,
                    weight: 1.0,
                    expr: Box::new(expr.clone()),
                })
            }
            Tok::Phrase(text) => {
                let words = phrase_words(&text);
                if words.is_empty() {
                    return Err(self.error("words in phrase"));
                }
                self.next();
                Ok(leaf(words))
            }
            Tok::Word(w) => {
                let (body, star) = match w.strip_suffix('*') {
                    Some(b) => (b, true),
                    None => (w.as_str(), false),
                };
                let mut words: Vec<Word> = normalize_words(body)
                    .into_iter()
                    .map(|text| Word {
                        prefix: is_prefix_script(&text),
                        text,
                    })
                    .collect();
                if words.is_empty() {
                    return Err(self.error("a term"));
                }
                if star {
                    words.last_mut().unwrap().prefix = true;
                }
                self.next();
                Ok(leaf(words))
            }
            _ => Err(self.error("a term")),
        }
    }
}

fn phrase_words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    for piece in text.split_whitespace() {
        let (body, star) = match piece.strip_suffix('*') {
            Some(b) => (b, true),
            None => (piece, false),
        };
        let before = out.len();
        out.extend(normalize_words(body).into_iter().map(|text| Word {
            prefix: is_prefix_script(&text),
            text,
        }));
        if star && out.len() > before {
            out.last_mut().unwrap().prefix = true;
        }
    }
    out
}

fn leaf(mut words: Vec<Word>) -> Node {
    if words.len() == 1 {
        let w = words.pop().unwrap();
        Node::Term {
            field: None,
            word: w.text,
            prefix: w.prefix,
            weight: 1.0,
        }
    } else {
        Node::Phrase {
            field: None,
            words,
            weight: 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::query::tests::{err, no_aliases, parse, print, term};

    #[test]
    fn weight_products_that_overflow_or_underflow_are_refused() {
        // Found by the query_parser fuzz target's round-trip check: these printed as `a^inf`
        // and `a^0`, which do not parse.
        let big = format!("1{}", "0".repeat(200));
        let e = err(&format!("(a^{big})^{big}"), &no_aliases());
        assert!(e.expected.contains("positive finite"), "{e}");
        let small = format!("0.{}1", "0".repeat(200));
        let e = err(&format!("(a^{small})^{small}"), &no_aliases());
        assert!(e.expected.contains("positive finite"), "{e}");
        // Large but finite products print and parse again.
        let q = parse(&format!("(a^{big})^1000"));
        assert_eq!(parse(&q.to_string()), q);
    }

    #[test]
    fn implied_and_groups_count_toward_the_depth_limit_so_printing_reparses() {
        // 64 explicit levels with `x y OR z` innermost: its print adds `(x AND y)`, a 65th.
        let nest = |levels: usize| {
            let mut q = String::from("x y OR z");
            for i in 0..levels {
                q = if i % 2 == 0 {
                    format!("a{i} ({q})")
                } else {
                    format!("a{i} OR ({q})")
                };
            }
            q
        };
        let e = err(&nest(64), &no_aliases());
        assert!(e.expected.contains("at most 64"), "{e}");
        let q = parse(&nest(63));
        assert_eq!(parse(&q.to_string()), q);
    }

    #[test]
    fn terms_prefixes_and_normalization() {
        assert_eq!(parse("Russia"), term("russia"));
        assert_eq!(
            parse("russia*"),
            Node::Term {
                field: None,
                word: "russia".into(),
                prefix: true,
                weight: 1.0
            }
        );
        assert_eq!(parse("Russia's"), term("russia"));
        assert_eq!(parse("Północna"), term("polnocna"));
        // Lower-case keywords are plain words.
        assert_eq!(print("and or not near"), "and AND or AND not AND near");
    }

    #[test]
    fn hangul_words_are_prefixes_unless_one_syllable() {
        assert_eq!(
            parse("북한"),
            Node::Term {
                field: None,
                word: "북한".into(),
                prefix: true,
                weight: 1.0
            }
        );
        assert_eq!(parse("러"), term("러"));
        assert_eq!(print("러*"), "러*");
        assert_eq!(print("북한"), "북한");
    }

    #[test]
    fn boolean_structure_and_precedence() {
        assert_eq!(print("a b"), "a AND b");
        assert_eq!(print("a AND b OR c"), "(a AND b) OR c");
        assert_eq!(print("a OR b c"), "a OR (b AND c)");
        assert_eq!(print("a (b OR c)"), "a AND (b OR c)");
        assert_eq!(print("a NOT b"), "a AND NOT b");
        assert_eq!(print("NOT (a OR b)"), "NOT (a OR b)");
        assert_eq!(print("NOT NOT a"), "NOT NOT a");
        assert_eq!(print("a AND (b AND c)"), "a AND (b AND c)");
        assert_eq!(parse("a OR b"), Node::Or(vec![term("a"), term("b")]));
    }

    #[test]
    fn phrases_and_multi_token_words() {
        assert_eq!(print("\"North  Korea\""), "\"north korea\"");
        assert_eq!(print("\"kore* poln*\""), "\"kore* poln*\"");
        assert_eq!(print("\"Russia\""), "russia");
        assert_eq!(print("Jong-un"), "\"jong un\"");
        assert_eq!(print("u.s.*"), "\"u s*\"");
        assert_eq!(print("\"kim jong-un\""), "\"kim jong un\"");
    }

    #[test]
    fn field_scopes() {
        assert_eq!(print("title:russia"), "title:russia");
        assert_eq!(print("summary:\"north korea\""), "summary:\"north korea\"");
        assert_eq!(print("title:(a OR text:b)"), "title:a OR text:b");
        assert_eq!(print("url:(a b)"), "url:a AND url:b");
        assert_eq!(print("feed:x author:y"), "feed:x AND author:y");
        assert_eq!(print("Title:x"), "title:x");
        assert_eq!(print("title:NEAR/3(a, b)"), "NEAR/3(title:a, title:b)");
    }

    #[test]
    fn weights_multiply_into_leaves() {
        assert_eq!(print("russia^2"), "russia^2");
        assert_eq!(print("(a OR b^3)^2"), "a^2 OR b^6");
        assert_eq!(print("title:\"a b\"^0.5"), "title:\"a b\"^0.5");
        assert_eq!(print("a^1"), "a");
    }

    #[test]
    fn near() {
        assert_eq!(
            parse("NEAR/5(a, \"b c\" OR d)"),
            Node::Near {
                n: 5,
                a: Box::new(term("a")),
                b: Box::new(parse("\"b c\" OR d")),
            }
        );
        assert_eq!(print("NEAR(a, b)"), "NEAR/10(a, b)");
        assert_eq!(print("x NEAR/2((a OR b), c)"), "x AND NEAR/2(a OR b, c)");
    }

    #[test]
    fn parse_errors() {
        let none = no_aliases();
        let cases: &[(&str, usize, &str, &str)] = &[
            ("", 0, "a term", "end of query"),
            ("(a OR b", 7, "')'", "end of query"),
            ("title:dprk OR (x", 16, "')'", "end of query"),
            ("a)", 1, "end of query (unbalanced ')')", "')'"),
            ("\"north korea", 12, "closing '\"'", "end of query"),
            ("\" \"", 0, "words in phrase", "phrase \" \""),
            (
                "foo:bar",
                0,
                "field name (title, summary, text, feed, url, author)",
                "'foo'",
            ),
            ("a^x", 2, "positive weight number", "'x'"),
            ("a^0", 2, "positive weight number", "'0'"),
            ("NEAR/x(a, b)", 5, "NEAR distance (1 or more)", "'x'"),
            ("NEAR/3 a", 7, "'(' after NEAR", "'a'"),
            ("NEAR/3(a b)", 10, "',' between NEAR arguments", "')'"),
            ("NEAR/3(a, b", 11, "')'", "end of query"),
            ("@", 1, "alias name", "end of query"),
            ("a OR @nope", 5, "a defined alias", "'@nope'"),
            ("OR a", 0, "a term", "'OR'"),
            ("a AND", 5, "a term", "end of query"),
            ("a NOT", 5, "a term", "end of query"),
            ("a : b", 2, "a term", "':'"),
            ("— a", 0, "a term", "'—'"),
            ("title:NOT a", 6, "a term", "'NOT'"),
            ("a,b", 1, "operator or end of query", "','"),
        ];
        for &(src, position, expected, found) in cases {
            let e = err(src, &none);
            assert_eq!(
                e,
                ParseError {
                    position,
                    expected: expected.into(),
                    found: found.into()
                },
                "{src}"
            );
        }
        let deep = format!("{}x{}", "(".repeat(70), ")".repeat(70));
        assert_eq!(err(&deep, &none).position, 64);
        assert!(parse_query(&format!("{}x{}", "(".repeat(60), ")".repeat(60)), &none).is_ok());
        assert_eq!(
            err("(a OR b", &none).to_string(),
            "at 7: expected ')', found end of query"
        );
        // Positions count characters, not bytes.
        assert_eq!(err("북한 (러", &none).position, 5);
    }
}
