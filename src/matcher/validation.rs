//! How well a topic does on labelled examples: precision, recall and F1 for all, clear and
//! borderline items; in sample, and held out (fit on some items, score the others) so that a
//! learned layer is judged on items it never saw.
//!
//! - [`evaluate_as_configured`]: the topic as it runs (its query; its model, if any).
//! - [`held_out`]: a date split (the earlier share fits, the later items score) or K folds
//!   (by source or by date block, every item scored once by a model that never saw it).
//!   The query alone is scored on the same items, so the two figures compare.
//! - [`learning_curve`]: labels revealed in date order as a reader gives them (every item
//!   the topic showed, and now and then one it did not show that a search for the topic's
//!   words finds), the model retrained after each, F1 on the later items never seen.
//!
//! A held-out model starts from the topic's prior (its shipped model) only when that model
//! was not trained on any of the scored items; otherwise from the default prior, and the
//! report says so. The topic's own labelled examples (its config's label files) join the
//! training items, except those among the scored ones.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::Topic;
use super::eval::{PreparedDocument, prepare};
use super::labelled::LabelledExample;
use super::learned::{LearnedLayer, TrainingItem, default_candidates};
use super::query::Aliases;

/// Counts of right and wrong decisions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Confusion {
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    pub true_negatives: usize,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

impl Confusion {
    pub fn add(&mut self, predicted: bool, actual: bool) {
        match (predicted, actual) {
            (true, true) => self.true_positives += 1,
            (true, false) => self.false_positives += 1,
            (false, true) => self.false_negatives += 1,
            (false, false) => self.true_negatives += 1,
        }
    }

    pub fn items(&self) -> usize {
        self.true_positives + self.false_positives + self.false_negatives + self.true_negatives
    }

    pub fn positives(&self) -> usize {
        self.true_positives + self.false_negatives
    }

    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.positives())
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// Scores of one set of decisions: all items, clear ones, borderline ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Scores {
    pub all: Confusion,
    pub clear: Confusion,
    pub borderline: Confusion,
}

impl Scores {
    pub fn add(&mut self, predicted: bool, example: &LabelledExample) {
        self.all.add(predicted, example.label);
        if example.borderline {
            self.borderline.add(predicted, example.label);
        } else {
            self.clear.add(predicted, example.label);
        }
    }

    /// Adds the counts of `other`.
    pub fn merge(&mut self, other: &Scores) {
        for (mine, theirs) in [
            (&mut self.all, &other.all),
            (&mut self.clear, &other.clear),
            (&mut self.borderline, &other.borderline),
        ] {
            mine.true_positives += theirs.true_positives;
            mine.false_positives += theirs.false_positives;
            mine.false_negatives += theirs.false_negatives;
            mine.true_negatives += theirs.true_negatives;
        }
    }
}

/// A misclassified item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Miss {
    pub id: String,
    pub title: String,
    pub borderline: bool,
    /// True: relevant but not matched; false: matched but not relevant.
    pub relevant: bool,
    /// The model's probability, when the item was a candidate of a learned layer.
    pub probability: Option<f64>,
}

/// The topic as it runs, on `examples`: its query alone, and with its learned layer when it
/// has one; the items it got wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AsConfigured {
    pub query: Scores,
    pub learned: Option<Scores>,
    pub misses: Vec<Miss>,
}

/// Items prepared once (documents are reused by every model of a protocol).
pub struct Prepared<'a> {
    pub examples: Vec<&'a LabelledExample>,
    pub docs: Vec<PreparedDocument>,
}

impl<'a> Prepared<'a> {
    pub fn new(examples: &'a [LabelledExample]) -> Prepared<'a> {
        Prepared {
            docs: examples.iter().map(|e| prepare(&e.document())).collect(),
            examples: examples.iter().collect(),
        }
    }
}

pub fn evaluate_as_configured(topic: &Topic, items: &Prepared) -> AsConfigured {
    let mut query = Scores::default();
    let mut learned = topic.learned.as_ref().map(|_| Scores::default());
    let mut misses = Vec::new();
    for (ex, doc) in items.examples.iter().zip(&items.docs) {
        let by_query = topic.query_matches(doc);
        query.add(by_query, ex);
        let (decision, probability) = match (&topic.learned, &mut learned) {
            (Some(layer), Some(scores)) => {
                let pq = layer.probability_and_query(doc);
                let d = pq.is_some_and(|(p, q)| layer.band.decides(q, p));
                scores.add(d, ex);
                (d, pq.map(|(p, _)| p))
            }
            _ => (by_query, None),
        };
        if decision != ex.label {
            misses.push(Miss {
                id: ex.id.clone(),
                title: if ex.title.is_empty() {
                    ex.summary.chars().take(120).collect()
                } else {
                    ex.title.clone()
                },
                borderline: ex.borderline,
                relevant: ex.label,
                probability,
            });
        }
    }
    AsConfigured {
        query,
        learned,
        misses,
    }
}

/// How items are split for a held-out figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Protocol {
    /// Sorted by date: the first `fit_share` of the items fit, the rest score.
    DateSplit { fit_share: f64 },
    /// `k` folds; each is scored by a model fitted on the others.
    Folds { k: usize, by: FoldBy },
}

/// What keeps the folds apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldBy {
    /// Every item of one source (outlet) in the same fold.
    Source,
    /// Consecutive date blocks.
    Date,
}

/// One part of a held-out protocol: which items fit and which score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Part {
    pub fit: usize,
    pub scored: usize,
    /// What the scored items have in common (date range, or sources).
    pub scored_desc: String,
    /// What the model started from (see [`PriorUse`]).
    pub prior: PriorUse,
    /// Labelled candidates the model was trained on.
    pub trained_on: usize,
    /// Where the model overrules the query, and why (inner cross-validation on `fit`).
    pub decision: String,
}

/// Held-out and in-sample figures of the query alone and of the query with a learned layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldOut {
    pub protocol: String,
    pub parts: Vec<Part>,
    /// Scored items, held out: the query alone and the query with a model fitted without them.
    pub query: Scores,
    pub learned: Scores,
    /// In sample: the query, and a model fitted on every item, on every item.
    pub in_sample_query: Scores,
    pub in_sample_learned: Scores,
}

/// The layer a held-out evaluation trains: the topic's own, or a default one for a topic
/// without a learned layer.
pub fn layer_for(topic: &Topic, aliases: &Aliases) -> LearnedLayer {
    match &topic.learned {
        Some(layer) => (**layer).clone(),
        None => LearnedLayer::new(
            &topic.query,
            topic.min_score,
            default_candidates(&topic.query),
            aliases,
            None,
            None,
        ),
    }
}

/// What a held-out model started from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorUse {
    /// The default prior: the query's verdict (the topic has no model of its own).
    Default,
    /// The topic's own model (it was not trained on any scored item).
    TopicModel,
    /// The default prior, because the topic's model was trained on some scored items.
    DefaultModelSawScoredItems,
}

impl PriorUse {
    pub fn describe(self) -> &'static str {
        match self {
            PriorUse::Default => "from the default prior (the query's verdict)",
            PriorUse::TopicModel => "from the topic's model (it never saw the scored items)",
            PriorUse::DefaultModelSawScoredItems => {
                "from the default prior (the topic's model was trained on scored items)"
            }
        }
    }
}

/// The layer to train when `scored` are held out: the topic's prior unless it saw one.
fn base_layer(layer: &LearnedLayer, scored_prints: &BTreeSet<u64>) -> (LearnedLayer, PriorUse) {
    let mut base = layer.clone();
    let prior = if layer.prior == layer.default_prior() {
        PriorUse::Default
    } else if layer.prior.seen.is_disjoint(scored_prints) {
        PriorUse::TopicModel
    } else {
        base.prior = layer.default_prior();
        PriorUse::DefaultModelSawScoredItems
    };
    (base, prior)
}

/// Trains `layer` on `fit` (plus the topic's own labelled examples not among `scored`),
/// starting from the layer's prior unless the prior saw a scored item.
fn fit_layer(
    layer: &LearnedLayer,
    items: &Prepared,
    features: &[Option<Vec<(String, f64)>>],
    fit: &[usize],
    scored: &[usize],
    own: &[TrainingItem],
) -> (LearnedLayer, PriorUse) {
    let scored_prints: BTreeSet<u64> = scored
        .iter()
        .map(|&i| items.examples[i].fingerprint())
        .collect();
    let (base, prior) = base_layer(layer, &scored_prints);
    let mut training: Vec<TrainingItem> = own
        .iter()
        .filter(|t| !scored_prints.contains(&t.fingerprint))
        .cloned()
        .collect();
    for &i in fit {
        if let Some(f) = &features[i] {
            training.push(TrainingItem {
                features: f.clone(),
                label: items.examples[i].label,
                fingerprint: items.examples[i].fingerprint(),
                date: items.examples[i].date.clone(),
            });
        }
    }
    (base.trained_on_items(&training), prior)
}

fn decide(layer: &LearnedLayer, features: &Option<Vec<(String, f64)>>) -> bool {
    features.as_ref().is_some_and(|f| layer.decides_features(f))
}

/// How a trained layer decides, in words.
pub fn describe_decision(layer: &LearnedLayer) -> String {
    match &layer.choice {
        Some(choice) => choice.describe(),
        None => layer.band.describe(),
    }
}

/// The features of every item that is a candidate of `layer` (`None` for the others).
pub fn candidate_features(
    layer: &LearnedLayer,
    items: &Prepared,
) -> Vec<Option<Vec<(String, f64)>>> {
    items
        .docs
        .iter()
        .map(|doc| layer.is_candidate(doc).then(|| layer.features_of(doc)))
        .collect()
}

/// Items in date order (ties by id): the order splits and the learning curve use.
fn by_date(items: &Prepared) -> Vec<usize> {
    let mut order: Vec<usize> = (0..items.examples.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (items.examples[a], items.examples[b]);
        x.date.cmp(&y.date).then_with(|| x.id.cmp(&y.id))
    });
    order
}

fn date_range(items: &Prepared, idx: &[usize]) -> String {
    let dates: Vec<&str> = idx
        .iter()
        .map(|&i| items.examples[i].date.as_str())
        .filter(|d| !d.is_empty())
        .collect();
    match (dates.iter().min(), dates.iter().max()) {
        (Some(a), Some(b)) => format!("{a} … {b}"),
        _ => "no dates".into(),
    }
}

/// The parts (fit, scored) of `protocol` over `items`.
fn parts_of(protocol: Protocol, items: &Prepared) -> Vec<(Vec<usize>, Vec<usize>, String)> {
    let n = items.examples.len();
    match protocol {
        Protocol::DateSplit { fit_share } => {
            let order = by_date(items);
            let cut = ((n as f64) * fit_share).round() as usize;
            let (fit, scored) = order.split_at(cut.min(n));
            let desc = date_range(items, scored);
            vec![(fit.to_vec(), scored.to_vec(), desc)]
        }
        Protocol::Folds { k, by } => {
            let k = k.max(2);
            let mut fold_of = vec![0usize; n];
            match by {
                FoldBy::Date => {
                    for (rank, i) in by_date(items).into_iter().enumerate() {
                        fold_of[i] = rank * k / n.max(1);
                    }
                }
                FoldBy::Source => {
                    // Sources, largest first, each to the fold with fewest items so far.
                    let mut sizes: BTreeMap<&str, usize> = BTreeMap::new();
                    for ex in &items.examples {
                        *sizes.entry(ex.source.as_str()).or_default() += 1;
                    }
                    let mut sources: Vec<(&str, usize)> = sizes.into_iter().collect();
                    sources.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
                    let mut load = vec![0usize; k];
                    let mut assigned: BTreeMap<&str, usize> = BTreeMap::new();
                    for (source, size) in sources {
                        let fold = (0..k).min_by_key(|&f| (load[f], f)).unwrap_or(0);
                        load[fold] += size;
                        assigned.insert(source, fold);
                    }
                    for (i, ex) in items.examples.iter().enumerate() {
                        fold_of[i] = assigned[ex.source.as_str()];
                    }
                }
            }
            (0..k)
                .map(|f| {
                    let scored: Vec<usize> = (0..n).filter(|&i| fold_of[i] == f).collect();
                    let fit: Vec<usize> = (0..n).filter(|&i| fold_of[i] != f).collect();
                    let desc = match by {
                        FoldBy::Date => date_range(items, &scored),
                        FoldBy::Source => {
                            let names: BTreeSet<&str> = scored
                                .iter()
                                .map(|&i| items.examples[i].source.as_str())
                                .collect();
                            let list: Vec<&str> = names.iter().take(4).copied().collect();
                            let more = names.len().saturating_sub(list.len());
                            if more > 0 {
                                format!("{} and {more} more sources", list.join(", "))
                            } else {
                                list.join(", ")
                            }
                        }
                    };
                    (fit, scored, desc)
                })
                .collect()
        }
    }
}

/// Held-out (and in-sample) figures of `layer` under `protocol`; `own` are the topic's
/// labelled examples from its config, as training items.
pub fn held_out(
    topic: &Topic,
    layer: &LearnedLayer,
    items: &Prepared,
    own: &[TrainingItem],
    protocol: Protocol,
) -> HeldOut {
    let features = candidate_features(layer, items);
    let query_says: Vec<bool> = items.docs.iter().map(|d| topic.query_matches(d)).collect();
    let mut report = HeldOut {
        protocol: match protocol {
            Protocol::DateSplit { fit_share } => {
                format!(
                    "date split: the earliest {:.0}% of the items fit, the rest score",
                    fit_share * 100.0
                )
            }
            Protocol::Folds { k, by } => format!(
                "{k} folds by {}: each fold scored by a model fitted on the others",
                match by {
                    FoldBy::Source => "source",
                    FoldBy::Date => "date",
                }
            ),
        },
        parts: Vec::new(),
        query: Scores::default(),
        learned: Scores::default(),
        in_sample_query: Scores::default(),
        in_sample_learned: Scores::default(),
    };
    for (fit, scored, desc) in parts_of(protocol, items) {
        let (model, prior) = fit_layer(layer, items, &features, &fit, &scored, own);
        for &i in &scored {
            report.query.add(query_says[i], items.examples[i]);
            report
                .learned
                .add(decide(&model, &features[i]), items.examples[i]);
        }
        report.parts.push(Part {
            fit: fit.len(),
            scored: scored.len(),
            scored_desc: desc,
            prior,
            trained_on: model.trained_on,
            decision: describe_decision(&model),
        });
    }
    // In sample: fitted on every item, from the prior the held-out models started from.
    let all: Vec<usize> = (0..items.examples.len()).collect();
    let (model, _) = fit_layer(layer, items, &features, &all, &all, own);
    for i in all {
        report.in_sample_query.add(query_says[i], items.examples[i]);
        report
            .in_sample_learned
            .add(decide(&model, &features[i]), items.examples[i]);
    }
    report
}

/// One point of a learning curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurvePoint {
    /// Labels given so far.
    pub labels: usize,
    /// Of which on items the topic did not show (found by a search).
    pub searched: usize,
    /// Labels that were candidates (what the model trains on).
    pub trained_on: usize,
    /// Where the model overrules the query at this point.
    pub decision: String,
    pub scores: Scores,
}

/// A simulated reader's learning curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Curve {
    /// The items labels are drawn from (the earlier ones, in date order).
    pub stream: usize,
    pub stream_dates: String,
    /// The later items every point is scored on (never labelled).
    pub unseen: usize,
    pub unseen_dates: String,
    pub prior: PriorUse,
    pub points: Vec<CurvePoint>,
    /// True if the stream ran out of items to label before the last step.
    pub exhausted: bool,
}

/// Of the candidates the topic did not show, a simulated reader's search finds and labels
/// one in this many.
pub const SEARCH_ONE_IN: usize = 4;

/// Simulates a reader: items of the earliest `stream_share` arrive in date order; each one
/// the topic shows is labelled, and one in [`SEARCH_ONE_IN`] of the candidates it does not
/// show (what a search for the topic's words finds); the model is retrained after every
/// label. At each of `steps` labels, the topic is scored on the remaining later items.
pub fn learning_curve(
    layer: &LearnedLayer,
    items: &Prepared,
    own: &[TrainingItem],
    stream_share: f64,
    steps: &[usize],
) -> Curve {
    let features = candidate_features(layer, items);
    let order = by_date(items);
    let cut = ((order.len() as f64) * stream_share).round() as usize;
    let (stream, unseen) = order.split_at(cut.min(order.len()));
    let unseen_prints: BTreeSet<u64> = unseen
        .iter()
        .map(|&i| items.examples[i].fingerprint())
        .collect();
    let (mut current, prior) = base_layer(layer, &unseen_prints);
    let own: Vec<TrainingItem> = own
        .iter()
        .filter(|t| !unseen_prints.contains(&t.fingerprint))
        .cloned()
        .collect();
    current = current.trained_on_items(&own);
    let base = current.clone();
    let score_unseen = |l: &LearnedLayer| {
        let mut s = Scores::default();
        for &i in unseen {
            s.add(decide(l, &features[i]), items.examples[i]);
        }
        s
    };
    let mut steps: Vec<usize> = steps.to_vec();
    steps.sort_unstable();
    steps.dedup();
    let mut points = Vec::new();
    let (mut labels, mut searched, mut unshown) = (0usize, 0usize, 0usize);
    let mut training = own.clone();
    let mut next = 0;
    if steps.first() == Some(&0) {
        points.push(CurvePoint {
            labels: 0,
            searched: 0,
            trained_on: training.len(),
            decision: describe_decision(&current),
            scores: score_unseen(&current),
        });
        next = 1;
    }
    for &i in stream {
        if next == steps.len() {
            break;
        }
        let shown = decide(&current, &features[i]);
        let labelled = if shown {
            true
        } else if features[i].is_some() {
            unshown += 1;
            unshown % SEARCH_ONE_IN == 0
        } else {
            false
        };
        if !labelled {
            continue;
        }
        labels += 1;
        searched += usize::from(!shown);
        if let Some(f) = &features[i] {
            training.push(TrainingItem {
                features: f.clone(),
                label: items.examples[i].label,
                fingerprint: items.examples[i].fingerprint(),
                date: items.examples[i].date.clone(),
            });
            current = base.trained_on_items(&training);
        }
        if labels == steps[next] {
            points.push(CurvePoint {
                labels,
                searched,
                trained_on: training.len(),
                decision: describe_decision(&current),
                scores: score_unseen(&current),
            });
            next += 1;
        }
    }
    let exhausted = next < steps.len();
    if exhausted && points.last().is_none_or(|p| p.labels != labels) {
        points.push(CurvePoint {
            labels,
            searched,
            trained_on: training.len(),
            decision: describe_decision(&current),
            scores: score_unseen(&current),
        });
    }
    Curve {
        stream: stream.len(),
        stream_dates: date_range(items, stream),
        unseen: unseen.len(),
        unseen_dates: date_range(items, unseen),
        prior,
        points,
        exhausted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::query::Aliases;

    fn example(id: &str, date: &str, source: &str, title: &str, label: bool) -> LabelledExample {
        LabelledExample {
            id: id.into(),
            date: date.into(),
            source: source.into(),
            title: title.into(),
            summary: String::new(),
            text: String::new(),
            link: String::new(),
            lang: String::new(),
            label,
            borderline: id.ends_with('b'),
        }
    }

    #[test]
    fn confusion_arithmetic() {
        let mut c = Confusion::default();
        for (p, a) in [
            (true, true),
            (true, false),
            (false, true),
            (false, false),
            (true, true),
        ] {
            c.add(p, a);
        }
        assert_eq!((c.items(), c.positives()), (5, 3));
        assert!((c.precision() - 2.0 / 3.0).abs() < 1e-12);
        assert!((c.recall() - 2.0 / 3.0).abs() < 1e-12);
        assert!((c.f1() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(Confusion::default().f1(), 0.0);
    }

    fn data() -> Vec<LabelledExample> {
        let mut v = Vec::new();
        for i in 0..30 {
            let d = format!("2024-01-{:02}", 1 + i % 28);
            let s = ["A", "B", "C"][i % 3];
            v.push(example(
                &format!("p{i}"),
                &d,
                s,
                &format!("Russia sends troops to North Korea {i}"),
                true,
            ));
            v.push(example(
                &format!("n{i}b"),
                &d,
                s,
                &format!("Briefing: Russia, North Korea and more {i}"),
                false,
            ));
            v.push(example(
                &format!("o{i}"),
                &d,
                s,
                &format!("Weather today {i}"),
                false,
            ));
        }
        v
    }

    #[test]
    fn held_out_protocols_score_every_item_once_and_the_model_learns() {
        let aliases = Aliases::default();
        let topic = Topic::new("t", "\"north korea\" russia", 1.0, &aliases).unwrap();
        let examples = data();
        let items = Prepared::new(&examples);
        let layer = layer_for(&topic, &aliases);
        let split = held_out(
            &topic,
            &layer,
            &items,
            &[],
            Protocol::DateSplit {
                fit_share: 2.0 / 3.0,
            },
        );
        assert_eq!(split.parts.len(), 1);
        assert_eq!(split.parts[0].fit + split.parts[0].scored, 90);
        assert_eq!(split.query.all.items(), split.parts[0].scored);
        // The query takes every briefing; the model learns they are not relevant.
        assert!(split.query.all.false_positives > 0);
        assert_eq!(split.learned.all.false_positives, 0, "{split:?}");
        assert_eq!(split.learned.all.false_negatives, 0, "{split:?}");
        assert_eq!(split.in_sample_query.all.items(), 90);
        assert!(split.learned.borderline.items() > 0 && split.learned.clear.items() > 0);
        for by in [FoldBy::Source, FoldBy::Date] {
            let folds = held_out(&topic, &layer, &items, &[], Protocol::Folds { k: 3, by });
            assert_eq!(folds.parts.len(), 3);
            assert_eq!(folds.learned.all.items(), 90, "{by:?}");
            if by == FoldBy::Source {
                assert!(
                    folds
                        .parts
                        .iter()
                        .all(|p| p.scored == 30 && !p.scored_desc.contains(','))
                );
            }
        }
    }

    #[test]
    fn learning_curve_rises_from_the_query_alone() {
        let aliases = Aliases::default();
        let topic = Topic::new("t", "\"north korea\" russia", 1.0, &aliases).unwrap();
        let examples = data();
        let items = Prepared::new(&examples);
        let layer = layer_for(&topic, &aliases);
        let curve = learning_curve(&layer, &items, &[], 2.0 / 3.0, &[0, 10, 25, 1000]);
        assert_eq!(curve.points[0].labels, 0);
        assert_eq!(curve.points[1].labels, 10);
        assert!(curve.exhausted);
        let first = curve.points[0].scores.all.f1();
        let last = curve.points.last().unwrap().scores.all.f1();
        assert!(
            last > first,
            "{:?}",
            curve
                .points
                .iter()
                .map(|p| (p.labels, p.searched, p.trained_on, p.scores.all.f1()))
                .collect::<Vec<_>>()
        );
        assert!(
            curve
                .points
                .iter()
                .all(|p| p.scores.all.items() == curve.unseen)
        );
    }
}
