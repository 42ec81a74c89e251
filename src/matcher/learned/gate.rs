//! Where a topic's model may overrule its query, chosen by inner cross-validation on the
//! training labels alone.
//!
//! A candidate's decision is the query's verdict unless the model is confident against it:
//! a candidate the query matches is kept unless its probability is below [`Band::keep`]; one
//! the query does not match is added only when its probability reaches [`Band::add`].
//! [`Band::QUERY`] (keep at 0, add never) is the query alone.
//!
//! [`choose`] splits the labelled candidates, in date order, into [`INNER_FOLDS`]
//! consecutive blocks; each block is scored by a model trained on the others (with the
//! layer's own regularization); the band with the best pooled F1 wins if it beats the
//! query's own F1 on the same items by at least [`MIN_GAIN`]. Otherwise, and
//! whenever there are too few labels to tell ([`MIN_ITEMS`], [`MIN_EACH`]), the query
//! decides. So labels can move decisions only where items the model never saw say they
//! help, and early labels cannot make a topic worse than its query.

use super::model::Model;
use super::train::{Regularization, TrainingItem, train};

/// Consecutive date blocks of the inner cross-validation.
pub const INNER_FOLDS: usize = 4;
/// Fewer labelled candidates than this: the query decides.
pub const MIN_ITEMS: usize = 20;
/// Fewer relevant (or fewer irrelevant) labelled candidates than this: the query decides.
pub const MIN_EACH: usize = 4;
/// Inner F1 the model must gain over the query to decide anything.
pub const MIN_GAIN: f64 = 0.005;
/// Probabilities below which a query match is dropped (0: never).
const KEEP: [f64; 5] = [0.0, 0.1, 0.2, 0.3, 0.5];
/// Probabilities from which a candidate the query misses is added (∞: never).
const ADD: [f64; 5] = [0.5, 0.7, 0.8, 0.9, f64::INFINITY];

/// Where the model overrules the query (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Band {
    /// A candidate the query matches is kept at this probability or more.
    pub keep: f64,
    /// A candidate the query does not match is added at this probability or more.
    #[serde(serialize_with = "serialize_add")]
    pub add: f64,
}

fn serialize_add<S: serde::Serializer>(add: &f64, s: S) -> Result<S::Ok, S::Error> {
    if add.is_finite() {
        s.serialize_f64(*add)
    } else {
        s.serialize_none()
    }
}

impl Band {
    /// The query alone decides.
    pub const QUERY: Band = Band {
        keep: 0.0,
        add: f64::INFINITY,
    };

    /// One threshold for every candidate (a `threshold` set in the config).
    pub fn threshold(t: f64) -> Band {
        Band { keep: t, add: t }
    }

    /// The decision on a candidate of probability `p`, given the query's verdict.
    pub fn decides(&self, query_matches: bool, p: f64) -> bool {
        if query_matches {
            p >= self.keep
        } else {
            p >= self.add
        }
    }

    pub fn is_query(&self) -> bool {
        *self == Band::QUERY
    }

    /// In words, for reports and explanations.
    pub fn describe(&self) -> String {
        if self.is_query() {
            return "the query decides".into();
        }
        if self.keep == self.add {
            return format!("threshold {:.2}", self.keep);
        }
        let keep = if self.keep > 0.0 {
            format!("a query match is dropped below {:.2}", self.keep)
        } else {
            "every query match is kept".into()
        };
        let add = if self.add.is_finite() {
            format!("another candidate is added from {:.2}", self.add)
        } else {
            "no other candidate is added".into()
        };
        format!("{keep}; {add}")
    }
}

/// What the inner cross-validation found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InnerCv {
    /// Labelled candidates it was run on.
    pub items: usize,
    /// Pooled F1 over the inner folds: the query alone, and the best band and model.
    pub query_f1: f64,
    pub model_f1: f64,
    /// The best band (also when it did not beat the query).
    pub best: Band,
}

/// The band a layer decides by, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub band: Band,
    /// `None`: too few labels to cross-validate.
    pub inner: Option<InnerCv>,
}

impl Choice {
    pub fn describe(&self) -> String {
        match &self.inner {
            None => format!(
                "{} (too few labels to cross-validate)",
                self.band.describe()
            ),
            Some(cv) => format!(
                "{} (inner cross-validation, {INNER_FOLDS} date blocks of {} labelled candidates: query F1 {:.3}, best model F1 {:.3})",
                self.band.describe(),
                cv.items,
                cv.query_f1,
                cv.model_f1
            ),
        }
    }
}

/// True if the query matches the item these features describe.
pub fn query_matches(features: &[(String, f64)]) -> bool {
    features.iter().any(|(n, _)| n == "q:match")
}

fn f1(tp: usize, fp: usize, fn_: usize) -> f64 {
    if tp == 0 {
        0.0
    } else {
        2.0 * tp as f64 / (2 * tp + fp + fn_) as f64
    }
}

/// Pooled F1 of `decide` over `items` (indices into `all`).
fn pooled_f1(all: &[TrainingItem], decide: impl Fn(usize) -> bool) -> f64 {
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for (i, item) in all.iter().enumerate() {
        match (decide(i), item.label) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => {}
        }
    }
    f1(tp, fp, fn_)
}

/// Chooses the band for `items`, with models trained from `prior` at `regularization` (see
/// the module documentation).
pub fn choose(items: &[TrainingItem], prior: &Model, regularization: Regularization) -> Choice {
    let positives = items.iter().filter(|i| i.label).count();
    if items.len() < MIN_ITEMS || positives < MIN_EACH || items.len() - positives < MIN_EACH {
        return Choice {
            band: Band::QUERY,
            inner: None,
        };
    }
    // Date order (ties by fingerprint), cut into consecutive blocks.
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| {
        (items[a].date.as_str(), items[a].fingerprint)
            .cmp(&(items[b].date.as_str(), items[b].fingerprint))
    });
    let mut fold = vec![0usize; items.len()];
    for (rank, &i) in order.iter().enumerate() {
        fold[i] = rank * INNER_FOLDS / items.len();
    }
    let query: Vec<bool> = items.iter().map(|i| query_matches(&i.features)).collect();
    let query_f1 = pooled_f1(items, |i| query[i]);
    // Each item's probability from the model that did not see its block.
    let mut p = vec![0.0; items.len()];
    for f in 0..INNER_FOLDS {
        let fit: Vec<TrainingItem> = items
            .iter()
            .zip(&fold)
            .filter(|(_, g)| **g != f)
            .map(|(i, _)| i.clone())
            .collect();
        let model = train(&fit, prior, regularization);
        for (i, item) in items.iter().enumerate() {
            if fold[i] == f {
                p[i] = model.probability(&item.features);
            }
        }
    }
    let (mut model_f1, mut best) = (f64::NEG_INFINITY, Band::QUERY);
    for keep in KEEP {
        for add in ADD {
            let band = Band { keep, add };
            let score = pooled_f1(items, |i| band.decides(query[i], p[i]));
            // Ties go to what came first: the mildest band.
            if score > model_f1 + 1e-12 {
                (model_f1, best) = (score, band);
            }
        }
    }
    let band = if model_f1 >= query_f1 + MIN_GAIN {
        best
    } else {
        Band::QUERY
    };
    Choice {
        band,
        inner: Some(InnerCv {
            items: items.len(),
            query_f1,
            model_f1,
            best,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::train::tests::item;
    use super::*;

    fn prior() -> Model {
        Model::new(
            -1.0,
            [("q:match".to_string(), 2.0)].into(),
            Default::default(),
        )
    }

    #[test]
    fn the_query_decides_with_few_labels_or_no_gain() {
        let few: Vec<TrainingItem> = (0..10).map(|n| item(&["q:match"], n % 2 == 0, n)).collect();
        let c = choose(&few, &prior(), Regularization::default());
        assert_eq!((c.band, c.inner), (Band::QUERY, None));
        // The query is right on every item: nothing to gain.
        let right: Vec<TrainingItem> = (0..40)
            .map(|n| {
                let yes = n % 3 == 0;
                item(if yes { &["q:match", "w:a"] } else { &["w:b"] }, yes, n)
            })
            .collect();
        let c = choose(&right, &prior(), Regularization::default());
        assert_eq!(c.band, Band::QUERY);
        assert_eq!(c.inner.unwrap().query_f1, 1.0);
    }

    #[test]
    fn the_model_overrules_the_query_where_unseen_blocks_say_it_helps() {
        // The query matches every "briefing"; the labels say they are not relevant.
        let mut items = Vec::new();
        for n in 0..60 {
            items.push(match n % 3 {
                0 => item(&["q:match", "w:troops"], true, n),
                1 => item(&["q:match", "w:briefing"], false, n),
                _ => item(&["w:weather"], false, n),
            });
        }
        let weak = Regularization {
            query: 1.0,
            text: 1.0,
            bias: 1.0,
        };
        let c = choose(&items, &prior(), weak);
        let cv = c.inner.clone().unwrap();
        assert!(cv.model_f1 > cv.query_f1 + MIN_GAIN, "{cv:?}");
        assert!(!c.band.is_query() && c.band.keep > 0.0, "{c:?}");
        assert!(c.band.decides(true, 0.9) && !c.band.decides(true, 0.01));
        assert!(
            c.describe().contains("inner cross-validation"),
            "{}",
            c.describe()
        );
        assert_eq!(Band::QUERY.describe(), "the query decides");
    }
}
