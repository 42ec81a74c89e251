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
//! [`learned`] (a topic's learned layer: candidates from the query, a logistic-regression
//! model decides), [`labelled`] (labelled examples in the dev-set JSONL shape),
//! [`validation`] (precision/recall in sample and held out: date split, folds, learning
//! curve), [`prefilter`] (which topics can match an item at all, for all topics at once).
//! A search module can compile a [`Query`] to FTS5 by walking [`Query::root`] (see
//! [`Node::walk`]).

pub mod eval;
pub mod labelled;
pub mod learned;
pub mod normalize;
pub mod prefilter;
pub mod query;
pub mod validation;

use std::sync::Arc;

pub use eval::{
    Document, MatchKind, MatchResult, MatchedTerm, PreparedDocument, evaluate, explain, prepare,
    score,
};
pub use labelled::{LabelError, LabelledExample, read_labelled};
pub use learned::{LearnedLayer, Model, ModelVerdict};
pub use normalize::normalize;
pub use prefilter::Prefilter;
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

/// A named query with a pass threshold and, when it has one, a learned layer that decides
/// among the candidates its query finds.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    pub name: String,
    pub query: Query,
    pub min_score: f64,
    pub learned: Option<Arc<LearnedLayer>>,
}

impl Topic {
    /// Parses `query` with `aliases` into a topic (no learned layer).
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
            learned: None,
        })
    }

    /// This topic with `layer` deciding among its candidates.
    pub fn with_learned(self, layer: LearnedLayer) -> Topic {
        Topic {
            learned: Some(Arc::new(layer)),
            ..self
        }
    }

    /// This topic as its query alone decides (no learned layer).
    pub fn query_alone(&self) -> Topic {
        Topic {
            learned: None,
            ..self.clone()
        }
    }

    /// The query that finds what the topic reports: the candidate query of a learned layer,
    /// else the topic's query.
    pub fn reporting_query(&self) -> &Query {
        match &self.learned {
            Some(layer) => &layer.candidates,
            None => &self.query,
        }
    }

    /// The match result if the topic matches: with a learned layer, a candidate the model
    /// calls relevant (the result carries the model's verdict); without, the query matches
    /// with a score of at least `min_score`.
    pub fn matches(&self, doc: &PreparedDocument) -> Option<MatchResult> {
        match &self.learned {
            Some(layer) => {
                // The decision first; the verdict's explanation only for a match.
                if !layer.decides(doc) {
                    return None;
                }
                let verdict = layer.verdict(doc)?;
                let mut result =
                    evaluate(&layer.candidates, doc).or_else(|| evaluate(&self.query, doc))?;
                result.model = Some(verdict);
                Some(result)
            }
            None => {
                // Cheap pass first: most documents fail the boolean structure or the threshold.
                if score(&self.query, doc)? < self.min_score {
                    return None;
                }
                evaluate(&self.query, doc)
            }
        }
    }

    /// True if the topic matches (no explanation built).
    pub fn is_match(&self, doc: &PreparedDocument) -> bool {
        match &self.learned {
            Some(layer) => layer.decides(doc),
            None => self.query_matches(doc),
        }
    }

    /// True if the query alone matches (score at least `min_score`), learned layer or not.
    pub fn query_matches(&self, doc: &PreparedDocument) -> bool {
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
