//! Lexer of the query language: source characters to positioned tokens, with the lexical
//! errors (unclosed phrase, bad field name, weight or NEAR distance).

use super::aliases::is_alias_char;
use super::{Field, ParseError};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
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
pub(super) struct Lexed {
    pub(super) kind: Tok,
    pub(super) pos: usize,
}

pub(super) fn describe(t: &Tok) -> String {
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

pub(super) fn lex(src: &str) -> Result<Vec<Lexed>, ParseError> {
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
