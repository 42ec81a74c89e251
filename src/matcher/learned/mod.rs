//! The learned layer of a topic: the boolean query finds candidates (a recall-oriented form
//! of it), a logistic-regression model trained on the topic's labelled examples decides.
//!
//! - Candidates: items the candidate query matches (any score), and items the topic's own
//!   query matches, so the layer never sees less than the query alone would show.
//! - Features of a candidate ([`features`]): the query's verdict, score, clauses and aliases
//!   per field, and the item's words and character n-grams.
//! - Decision ([`gate`]): the query's verdict, unless the model is confident against it
//!   within a band chosen by inner cross-validation on the training labels (the query alone
//!   when they show no gain); a `threshold` set in the config is one threshold instead.
//! - Training ([`train`]): on the labelled examples that are candidates, pulled toward a
//!   prior model. The default prior follows the query alone (`q:match` +2, bias −1: a
//!   candidate the query matches has probability 0.73, one it does not 0.27), so a topic
//!   with no labels decides exactly as its query does, and a few labels move it a little.
//!   A shipped model (a file named in the config) is the prior instead.
//!
//! [`model`] holds the weights and their file format.

pub mod features;
pub mod gate;
pub mod model;
pub mod train;

use std::collections::BTreeMap;

pub use features::{QueryFeatures, text_features};
pub use gate::{Band, Choice};
pub use model::{Model, ModelError};
pub use train::{Regularization, TrainingItem};

use super::eval::{PreparedDocument, prepare, score};
use super::labelled::LabelledExample;
use super::query::{Aliases, Node, Query};

/// The model decides relevant at this probability unless the topic sets its own threshold.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// Features shown in an explanation.
const EXPLAINED_FEATURES: usize = 8;

/// The candidate query a topic uses when its config names none: the query without its
/// top-level exclusions (`NOT …` clauses of its top-level AND); its score threshold is not
/// applied to candidates.
pub fn default_candidates(query: &Query) -> Query {
    let root = match &query.root {
        Node::And(children) => {
            let mut kept: Vec<Node> = children
                .iter()
                .filter(|c| !matches!(c, Node::Not(_)))
                .cloned()
                .collect();
            match kept.len() {
                0 => query.root.clone(),
                1 => kept.pop().expect("one clause"),
                _ => Node::And(kept),
            }
        }
        other => other.clone(),
    };
    Query { root }
}

/// One feature's part in a decision.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Contribution {
    pub feature: String,
    pub value: f64,
    pub weight: f64,
}

impl Contribution {
    pub fn amount(&self) -> f64 {
        self.value * self.weight
    }
}

/// The model's verdict on a candidate, with the features that weighed most.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelVerdict {
    pub probability: f64,
    /// The probability this candidate needed: the band's `keep` when the query matches it,
    /// its `add` when not (infinite: the query decides; serialized as null).
    pub threshold: f64,
    pub query_matches: bool,
    pub bias: f64,
    /// The largest contributions (weight × value), largest first.
    pub top: Vec<Contribution>,
}

/// A topic's learned layer: candidate query, features, model and threshold.
#[derive(Debug, Clone)]
pub struct LearnedLayer {
    pub candidates: Query,
    /// The config's `threshold`: one threshold decides, no band is chosen by training.
    /// `None`: the layer is gated (its band chosen by inner cross-validation).
    pub fixed_threshold: Option<f64>,
    /// Where the model overrules the query (what decides).
    pub band: Band,
    /// What training chose, and why (`None` before any training on labels).
    pub choice: Option<Choice>,
    pub features: QueryFeatures,
    /// What training starts from and is pulled toward.
    pub prior: Model,
    pub model: Model,
    pub regularization: Regularization,
    /// Labelled candidates the model was trained on (beyond its prior).
    pub trained_on: usize,
    /// The topic's own query and threshold (a candidate it matches is always a candidate).
    query: Query,
    min_score: f64,
}

impl PartialEq for LearnedLayer {
    fn eq(&self, other: &Self) -> bool {
        self.candidates == other.candidates
            && self.fixed_threshold == other.fixed_threshold
            && self.band == other.band
            && self.model == other.model
            && self.prior == other.prior
    }
}

/// The band of a layer not trained on labels: the config's threshold, else the band its
/// prior was trained to, else the default threshold.
fn untrained_band(fixed_threshold: Option<f64>, prior: &Model) -> Band {
    match (fixed_threshold, prior.band) {
        (Some(t), _) => Band::threshold(t),
        (None, Some(band)) => band,
        (None, None) => Band::threshold(DEFAULT_THRESHOLD),
    }
}

impl LearnedLayer {
    /// An untrained layer for the topic `query` / `min_score`: the model is the prior
    /// (`None`: the default prior, which decides as the query does).
    pub fn new(
        query: &Query,
        min_score: f64,
        candidates: Query,
        aliases: &Aliases,
        fixed_threshold: Option<f64>,
        prior: Option<Model>,
    ) -> LearnedLayer {
        let features = QueryFeatures::new(query, min_score, &candidates, aliases);
        let prior = prior.unwrap_or_else(|| features.prior());
        LearnedLayer {
            features,
            candidates,
            fixed_threshold,
            band: untrained_band(fixed_threshold, &prior),
            choice: None,
            model: prior.clone(),
            prior,
            regularization: Regularization::default(),
            trained_on: 0,
            query: query.clone(),
            min_score,
        }
    }

    /// The prior of a layer with no model of its own: decides as the query does.
    pub fn default_prior(&self) -> Model {
        self.features.prior()
    }

    /// True if the layer considers `doc` at all.
    pub fn is_candidate(&self, doc: &PreparedDocument) -> bool {
        score(&self.candidates, doc).is_some()
            || score(&self.query, doc).is_some_and(|s| s >= self.min_score)
    }

    /// Every feature of `doc` (query features first, then words), as `(name, value)`.
    pub fn features_of(&self, doc: &PreparedDocument) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        let mut push = |n: &str, v: f64| out.push((n.to_string(), v));
        self.features.extract(doc, &mut push);
        text_features(doc, &mut push);
        out
    }

    /// The probability that `doc` is relevant, or `None` if it is not a candidate. The
    /// item's text features are looked up by key, built once per item for every topic
    /// ([`PreparedDocument::text_feature_keys`]); no feature name is built but the query's.
    pub fn probability(&self, doc: &PreparedDocument) -> Option<f64> {
        self.probability_and_query(doc).map(|(p, _)| p)
    }

    /// The probability that `doc` is relevant and whether the query alone matches it, or
    /// `None` if it is not a candidate.
    pub fn probability_and_query(&self, doc: &PreparedDocument) -> Option<(f64, bool)> {
        let mut z = self.model.bias;
        let mut query = false;
        let candidate =
            self.features
                .extract_candidate(doc, &self.candidates, &mut |name, value| {
                    query |= name == "q:match";
                    z += self.model.weight(name) * value
                });
        if !candidate {
            return None;
        }
        z += doc.text_feature_keys().weighed(&self.model);
        Some((model::sigmoid(z), query))
    }

    /// True if `doc` is a candidate the layer calls relevant (by its band).
    pub fn decides(&self, doc: &PreparedDocument) -> bool {
        self.probability_and_query(doc)
            .is_some_and(|(p, q)| self.band.decides(q, p))
    }

    /// The decision on a candidate described by `features` (as [`features_of`] gives them).
    ///
    /// [`features_of`]: Self::features_of
    pub fn decides_features(&self, features: &[(String, f64)]) -> bool {
        self.band.decides(
            gate::query_matches(features),
            self.model.probability(features),
        )
    }

    /// The verdict on a candidate with its largest contributions.
    pub fn verdict(&self, doc: &PreparedDocument) -> Option<ModelVerdict> {
        let (probability, query_matches) = self.probability_and_query(doc)?;
        let features = self.features_of(doc);
        let mut top: Vec<Contribution> = features
            .into_iter()
            .map(|(feature, value)| Contribution {
                weight: self.model.weight(&feature),
                feature,
                value,
            })
            .filter(|c| c.weight != 0.0)
            .collect();
        top.sort_by(|a, b| {
            b.amount()
                .abs()
                .total_cmp(&a.amount().abs())
                .then_with(|| a.feature.cmp(&b.feature))
        });
        top.truncate(EXPLAINED_FEATURES);
        Some(ModelVerdict {
            probability,
            threshold: if query_matches {
                self.band.keep
            } else {
                self.band.add
            },
            query_matches,
            bias: self.model.bias,
            top,
        })
    }

    /// The training items among `examples`: the candidates, as features.
    pub fn training_items(&self, examples: &[&LabelledExample]) -> Vec<TrainingItem> {
        examples
            .iter()
            .filter_map(|ex| {
                let doc = prepare(&ex.document());
                self.is_candidate(&doc).then(|| TrainingItem {
                    features: self.features_of(&doc),
                    label: ex.label,
                    fingerprint: ex.fingerprint(),
                    date: ex.date.clone(),
                })
            })
            .collect()
    }

    /// This layer trained on `examples` (starting again from its prior).
    pub fn trained(&self, examples: &[&LabelledExample]) -> LearnedLayer {
        let items = self.training_items(examples);
        self.trained_on_items(&items)
    }

    /// This layer trained on items already turned into features: a gated layer chooses its
    /// band by inner cross-validation ([`gate::choose`]) first.
    pub fn trained_on_items(&self, items: &[TrainingItem]) -> LearnedLayer {
        if items.is_empty() {
            return LearnedLayer {
                model: self.prior.clone(),
                band: untrained_band(self.fixed_threshold, &self.prior),
                choice: None,
                trained_on: 0,
                ..self.clone()
            };
        }
        let (band, choice) = match self.fixed_threshold {
            None => {
                let choice = gate::choose(items, &self.prior, self.regularization);
                (choice.band, Some(choice))
            }
            Some(t) => (Band::threshold(t), None),
        };
        let model = train::train(items, &self.prior, self.regularization)
            .with_band(self.fixed_threshold.is_none().then_some(band));
        LearnedLayer {
            model,
            band,
            choice,
            trained_on: items.len(),
            ..self.clone()
        }
    }

    /// The model's weights with the largest magnitude, largest first.
    pub fn strongest_weights(&self, n: usize) -> Vec<(String, f64)> {
        let mut all: Vec<(String, f64)> = self
            .model
            .weights()
            .iter()
            .map(|(k, w)| (k.clone(), *w))
            .collect();
        all.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(&b.0)));
        all.truncate(n);
        all
    }
}

/// The weights of a model grouped by kind of feature (for a summary of what it learned).
pub fn weights_by_kind(model: &Model) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for name in model.weights().keys() {
        let kind = name.split(':').next().unwrap_or("").to_string();
        *out.entry(kind).or_default() += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::eval::Document;
    use crate::matcher::query::parse_query;

    fn aliases() -> Aliases {
        Aliases::parse(&[
            ("nk".into(), "\"north korea\" OR pyongyang".into()),
            ("ru".into(), "russia OR moscow".into()),
        ])
        .unwrap()
    }

    fn example(id: &str, title: &str, label: bool) -> LabelledExample {
        LabelledExample {
            id: id.into(),
            date: String::new(),
            source: String::new(),
            title: title.into(),
            summary: String::new(),
            text: String::new(),
            link: String::new(),
            lang: String::new(),
            label,
            borderline: false,
        }
    }

    #[test]
    fn untrained_layer_decides_as_the_query_and_training_moves_it() {
        let a = aliases();
        let query = parse_query("title:NEAR/5(@nk, @ru) NOT briefing", &a).unwrap();
        let candidates = default_candidates(&query);
        assert_eq!(candidates.to_string(), "NEAR/5(title:@nk, title:@ru)");
        // One threshold, as a config's `threshold` sets it (the gate is tested in `gate`).
        let layer = LearnedLayer::new(&query, 1.0, candidates, &a, Some(0.5), None);
        assert_eq!(layer.band, Band::threshold(0.5));
        let doc = |t: &str| {
            prepare(&Document {
                title: t,
                ..Document::default()
            })
        };
        assert!(layer.decides(&doc("North Korea sends troops to Russia")));
        assert!(!layer.decides(&doc("Briefing: North Korea and Russia")));
        assert_eq!(layer.probability(&doc("Nothing here")), None);

        // Readers say briefings that name both are relevant, and "games" ones are not.
        let mut examples = Vec::new();
        for i in 0..15 {
            examples.push(example(
                &format!("a{i}"),
                &format!("Briefing {i}: North Korea sends troops to Russia"),
                true,
            ));
            examples.push(example(
                &format!("b{i}"),
                &format!("North Korea and Russia play games {i}"),
                false,
            ));
            examples.push(example(
                &format!("c{i}"),
                &format!("North Korea and Russia sign deal {i}"),
                true,
            ));
        }
        let refs: Vec<&LabelledExample> = examples.iter().collect();
        let trained = layer.trained(&refs);
        assert_eq!(trained.trained_on, 45);
        assert!(trained.decides(&doc("Briefing: North Korea sends troops to Russia")));
        assert!(!trained.decides(&doc("North Korea and Russia play games")));
        let verdict = trained
            .verdict(&doc("North Korea and Russia play games"))
            .unwrap();
        assert!(verdict.probability < 0.5);
        assert!(
            verdict
                .top
                .iter()
                .any(|c| c.feature.contains("games") && c.weight < 0.0),
            "{verdict:?}"
        );
        assert_eq!(trained.prior, layer.prior);
        // The decision's fast path (text features by key, once per item) gives what the
        // named features give.
        for t in [
            "Briefing: North Korea sends troops to Russia",
            "North Korea and Russia play games",
            "Russia and North Korea sign deal, Russia says",
        ] {
            let d = doc(t);
            let named = trained.model.probability(&trained.features_of(&d));
            let fast = trained.probability(&d).unwrap();
            assert!((named - fast).abs() < 1e-12, "{t}: {named} vs {fast}");
        }
    }
}
