//! Alias sets: `name -> expression` definitions, checked (names, duplicates, cycles) and
//! resolved in dependency order so that aliases may use other aliases.

use std::collections::{BTreeMap, HashSet};

use super::lex::{Tok, lex};
use super::{Node, ParseError, parse_query};

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

pub(super) fn is_alias_char(c: char) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::query::tests::defs;

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
}
