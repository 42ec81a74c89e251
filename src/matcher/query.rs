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

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use super::normalize::{is_prefix_script, normalize_words};

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

/// An error in an alias definition.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AliasError {
    #[error("alias '{alias}': {error}")]
    Parse { alias: String, error: ParseError },
    #[error("alias '{alias}' is defined in a cycle: {}", path.join(" -> "))]
    Cycle { alias: String, path: Vec<String> },
    #[error("alias '{alias}' is defined twice")]
    Duplicate { alias: String },
    #[error("alias '{alias}': invalid name (use letters, digits, '_' or '-')")]
    InvalidName { alias: String },
}

/// Named alias sets (`name -> expression`), referenced as `@name`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Aliases(BTreeMap<String, Node>);

fn is_alias_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

impl Aliases {
    /// Parses alias definitions given in any order; aliases may use other aliases.
    pub fn parse(defs: &[(String, String)]) -> Result<Aliases, AliasError> {
        let mut src: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, body) in defs {
            if name.is_empty() || !name.chars().all(is_alias_char) {
                return Err(AliasError::InvalidName {
                    alias: name.clone(),
                });
            }
            if src.insert(name, body).is_some() {
                return Err(AliasError::Duplicate {
                    alias: name.clone(),
                });
            }
        }
        let mut done = Aliases::default();
        for name in src.keys() {
            let mut stack = Vec::new();
            resolve(name, &src, &mut done, &mut stack)?;
        }
        Ok(done)
    }

    /// The expansion of alias `name`.
    pub fn get(&self, name: &str) -> Option<&Node> {
        self.0.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

fn resolve(
    name: &str,
    src: &BTreeMap<&str, &str>,
    done: &mut Aliases,
    stack: &mut Vec<String>,
) -> Result<(), AliasError> {
    if done.0.contains_key(name) {
        return Ok(());
    }
    if let Some(i) = stack.iter().position(|s| s == name) {
        let mut path = stack[i..].to_vec();
        path.push(name.to_string());
        return Err(AliasError::Cycle {
            alias: name.to_string(),
            path,
        });
    }
    let Some(body) = src.get(name) else {
        return Ok(()); // undefined: reported by the parser of the referring alias
    };
    let perr = |error| AliasError::Parse {
        alias: name.to_string(),
        error,
    };
    let toks = lex(body).map_err(perr)?;
    stack.push(name.to_string());
    let deps: HashSet<&str> = toks
        .iter()
        .filter_map(|t| match &t.kind {
            Tok::Alias(n) => Some(n.as_str()),
            _ => None,
        })
        .collect();
    for dep in deps {
        resolve(dep, src, done, stack)?;
    }
    stack.pop();
    let q = parse_query(body, done).map_err(perr)?;
    done.0.insert(name.to_string(), q.root);
    Ok(())
}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    And,
    Or,
    Not,
    Near(u32),
    Field(Field),
    Weight(f64),
    Alias(String),
    Phrase(String),
    Word(String),
    End,
}

#[derive(Debug, Clone)]
struct Lexed {
    kind: Tok,
    pos: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Comma => "','".into(),
        Tok::And => "'AND'".into(),
        Tok::Or => "'OR'".into(),
        Tok::Not => "'NOT'".into(),
        Tok::Near(n) => format!("'NEAR/{n}'"),
        Tok::Field(f) => format!("'{f}:'"),
        Tok::Weight(w) => format!("'^{w}'"),
        Tok::Alias(a) => format!("'@{a}'"),
        Tok::Phrase(p) => format!("phrase \"{p}\""),
        Tok::Word(w) => format!("'{w}'"),
        Tok::End => "end of query".into(),
    }
}

fn is_special(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"' | ',' | ':' | '^' | '@')
}

fn lex(src: &str) -> Result<Vec<Lexed>, ParseError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |pos: usize, expected: &str, found: String| ParseError {
        position: pos,
        expected: expected.to_string(),
        found,
    };
    let found_at = |i: usize| {
        chars
            .get(i)
            .map_or("end of query".to_string(), |c| format!("'{c}'"))
    };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let kind = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            ':' => return Err(err(i, "a term", "':'".into())),
            '"' => {
                i += 1;
                let s = i;
                while i < chars.len() && chars[i] != '"' {
                    i += 1;
                }
                if i == chars.len() {
                    return Err(err(i, "closing '\"'", "end of query".into()));
                }
                i += 1;
                Tok::Phrase(chars[s..i - 1].iter().collect())
            }
            '@' => {
                i += 1;
                let s = i;
                while i < chars.len() && is_alias_char(chars[i]) {
                    i += 1;
                }
                if s == i {
                    return Err(err(i, "alias name", found_at(i)));
                }
                Tok::Alias(chars[s..i].iter().collect())
            }
            '^' => {
                i += 1;
                let s = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[s..i].iter().collect();
                match text.parse::<f64>() {
                    Ok(w) if w > 0.0 && w.is_finite() => Tok::Weight(w),
                    _ => return Err(err(s, "positive weight number", found_at(s))),
                }
            }
            _ => {
                while i < chars.len() && !is_special(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if i < chars.len() && chars[i] == ':' {
                    let Some(f) = Field::from_name(&word.to_lowercase()) else {
                        return Err(err(
                            start,
                            "field name (title, summary, text, feed, url, author)",
                            format!("'{word}'"),
                        ));
                    };
                    i += 1;
                    Tok::Field(f)
                } else if word == "AND" {
                    Tok::And
                } else if word == "OR" {
                    Tok::Or
                } else if word == "NOT" {
                    Tok::Not
                } else if word == "NEAR" {
                    Tok::Near(10)
                } else if let Some(n) = word.strip_prefix("NEAR/") {
                    match n.parse::<u32>() {
                        Ok(n) if n > 0 => Tok::Near(n),
                        _ => {
                            return Err(err(
                                start + 5,
                                "NEAR distance (1 or more)",
                                format!("'{n}'"),
                            ));
                        }
                    }
                } else {
                    Tok::Word(word)
                }
            }
        };
        out.push(Lexed { kind, pos: start });
    }
    out.push(Lexed {
        kind: Tok::End,
        pos: chars.len(),
    });
    Ok(out)
}

// ---------------------------------------------------------------- parser

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

    fn no_aliases() -> Aliases {
        Aliases::default()
    }

    fn parse(src: &str) -> Node {
        parse_query(src, &no_aliases())
            .unwrap_or_else(|e| panic!("{src}: {e}"))
            .root
    }

    fn print(src: &str) -> String {
        parse(src).to_string()
    }

    fn err(src: &str, aliases: &Aliases) -> ParseError {
        parse_query(src, aliases).expect_err(src)
    }

    fn term(word: &str) -> Node {
        Node::Term {
            field: None,
            word: word.into(),
            prefix: false,
            weight: 1.0,
        }
    }

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

    fn defs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn aliases_expand_scope_and_weight() {
        let aliases = Aliases::parse(&defs(&[
            ("both", "@dprk @ru"),
            ("dprk", "\"north korea\" OR dprk"),
            ("ru", "russia*"),
        ]))
        .unwrap();
        assert_eq!(
            aliases.names().collect::<Vec<_>>(),
            vec!["both", "dprk", "ru"]
        );
        let q = parse_query("title:@dprk^3 @both", &aliases).unwrap();
        assert_eq!(q.to_string(), "title:@dprk^3 AND @both");
        let Node::And(items) = &q.root else { panic!() };
        let Node::Alias { expr, .. } = &items[0] else {
            panic!()
        };
        assert_eq!(expr.to_string(), "title:\"north korea\"^3 OR title:dprk^3");
        let Node::Alias { expr, .. } = &items[1] else {
            panic!()
        };
        assert_eq!(expr.to_string(), "@dprk AND @ru");
        assert_eq!(parse_query(&q.to_string(), &aliases).unwrap(), q);
    }

    #[test]
    fn alias_errors() {
        let cycle = Aliases::parse(&defs(&[("a", "x OR @b"), ("b", "@c"), ("c", "@a")]));
        assert_eq!(
            cycle.unwrap_err().to_string(),
            "alias 'a' is defined in a cycle: a -> b -> c -> a"
        );
        let own = Aliases::parse(&defs(&[("a", "x OR @a")])).unwrap_err();
        assert!(matches!(own, AliasError::Cycle { ref alias, .. } if alias == "a"));
        let dup = Aliases::parse(&defs(&[("a", "x"), ("a", "y")])).unwrap_err();
        assert_eq!(dup, AliasError::Duplicate { alias: "a".into() });
        let bad = Aliases::parse(&defs(&[("a b", "x")])).unwrap_err();
        assert!(matches!(bad, AliasError::InvalidName { .. }));
        let undefined = Aliases::parse(&defs(&[("a", "x OR @nope")])).unwrap_err();
        assert_eq!(
            undefined.to_string(),
            "alias 'a': at 5: expected a defined alias, found '@nope'"
        );
        let syntax = Aliases::parse(&defs(&[("a", "(x")])).unwrap_err();
        assert_eq!(
            syntax.to_string(),
            "alias 'a': at 2: expected ')', found end of query"
        );
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
