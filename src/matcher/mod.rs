//! Topic matcher for tidings: query language, normalization, matching, scoring, explanation.
//!
//! Pure functions only (no I/O). Typical use:
//!
//! ```
//! use tidings::matcher::{Aliases, Document, Topic, prepare};
//! let aliases = Aliases::parse(&[
//!     ("dprk".into(), r#""north korea" OR dprk OR pyongyang"#.into()),
//!     ("russia".into(), "russia* OR moscow OR kremlin OR putin".into()),
//! ]).unwrap();
//! let topic = Topic::new("nk-russia", "NEAR/10(@dprk, @russia)", 2.0, &aliases).unwrap();
//! let doc = prepare(&Document {
//!     title: "North Korea sends shells to Russia",
//!     ..Document::default()
//! });
//! let result = topic.matches(&doc).expect("matches");
//! println!("{}", tidings::matcher::explain(&topic.query, &doc, &result));
//! ```
//!
//! Modules: [`normalize`](mod@normalize) (text → tokens, also for the search index), [`query`] (grammar,
//! aliases, AST, canonical printer), [`eval`] (matching, the scoring formula, explanations),
//! [`labelled`] (precision/recall on a labelled JSONL set). A search module can compile a
//! [`Query`] to FTS5 by walking [`Query::root`] (see [`Node::walk`]).

pub mod eval;
pub mod labelled;
pub mod normalize;
pub mod query;

pub use eval::{
    Document, MatchKind, MatchResult, MatchedTerm, PreparedDocument, evaluate, explain, prepare,
    score,
};
pub use labelled::{EvalError, EvalReport, LabelledItem, eval_labelled};
pub use normalize::normalize;
pub use query::{AliasError, Aliases, Field, Node, ParseError, Query, Word, parse_query};

/// A topic as written in the config file (`[[topic]]` in TOML), before parsing.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct TopicDef {
    pub name: String,
    /// Human-readable title, e.g. "North Korea–Russia relations".
    #[serde(default)]
    pub title: String,
    pub query: String,
    #[serde(default = "default_min_score")]
    pub min_score: f64,
}

fn default_min_score() -> f64 {
    1.0
}

/// An error in the topic configuration, naming the alias or topic at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TopicError {
    #[error(transparent)]
    Alias(#[from] AliasError),
    #[error("topic '{topic}': {error}")]
    Query { topic: String, error: ParseError },
}

/// Parses the alias definitions and every topic definition (the `[aliases]` table and the
/// `[[topic]]` array of the config file).
pub fn compile_topics(
    aliases: &[(String, String)],
    defs: &[TopicDef],
) -> Result<(Aliases, Vec<Topic>), TopicError> {
    let aliases = Aliases::parse(aliases)?;
    let topics = defs
        .iter()
        .map(|d| {
            Topic::new(&d.name, &d.query, d.min_score, &aliases).map_err(|error| {
                TopicError::Query {
                    topic: d.name.clone(),
                    error,
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((aliases, topics))
}

/// A named query with a pass threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    pub name: String,
    pub query: Query,
    pub min_score: f64,
}

impl Topic {
    /// Parses `query` with `aliases` into a topic.
    pub fn new(
        name: &str,
        query: &str,
        min_score: f64,
        aliases: &Aliases,
    ) -> Result<Topic, ParseError> {
        Ok(Topic {
            name: name.to_string(),
            query: parse_query(query, aliases)?,
            min_score,
        })
    }

    /// The match result if the query matches and its score is at least `min_score`.
    pub fn matches(&self, doc: &PreparedDocument) -> Option<MatchResult> {
        // Cheap pass first: most documents fail the boolean structure or the threshold.
        if score(&self.query, doc)? < self.min_score {
            return None;
        }
        evaluate(&self.query, doc)
    }

    /// True if the topic matches (no explanation built).
    pub fn is_match(&self, doc: &PreparedDocument) -> bool {
        score(&self.query, doc).is_some_and(|s| s >= self.min_score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(name: &str, query: &str) -> TopicDef {
        TopicDef {
            name: name.into(),
            title: String::new(),
            query: query.into(),
            min_score: 1.0,
        }
    }

    #[test]
    fn compile_topics_names_the_culprit() {
        let aliases = vec![("ru".to_string(), "russia*".to_string())];
        let (a, topics) = compile_topics(&aliases, &[def("t", "@ru korea")]).unwrap();
        assert!(a.get("ru").is_some());
        assert_eq!(topics[0].query.to_string(), "@ru AND korea");
        let e = compile_topics(&aliases, &[def("ok", "x"), def("bad", "(x")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "topic 'bad': at 2: expected ')', found end of query"
        );
        let bad_alias = vec![("ru".to_string(), "@ru".to_string())];
        let e = compile_topics(&bad_alias, &[]).unwrap_err();
        assert!(e.to_string().starts_with("alias 'ru'"), "{e}");
    }
}
