//! Training of the learned layer's logistic-regression model: L2-regularised toward a prior
//! model (the shipped model, or the default that follows the query), minimised with L-BFGS.
//!
//! Objective over labelled candidates `i` with features `x_i` and label `y_i`:
//!
//! `Σ_i [log(1 + e^{z_i}) − y_i z_i] + ½ Σ_j λ_j (w_j − p_j)²`, with `z_i = b + w·x_i`
//!
//! where `p` is the prior's weights and `λ_j` is [`Regularization::query`] for the query's
//! features (`q:`, `a:`) and [`Regularization::text`] for the words. With few labels the
//! model stays near its prior; with many, the data decides. Word features seen in fewer
//! than [`MIN_COUNT`] training items are left out (they would only memorise one item).
//! Everything is done in a fixed order, so the same labels give the same model, bit for bit.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::model::{Model, sigmoid};

/// Word features must occur in at least this many training items.
pub const MIN_COUNT: usize = 2;
/// Weights smaller than this are not kept in the trained model.
const PRUNE_BELOW: f64 = 1e-3;
/// L-BFGS: history length, iteration cap, and convergence on the gradient's largest entry.
const HISTORY: usize = 8;
const MAX_ITERATIONS: usize = 300;
const TOLERANCE: f64 = 1e-6;

/// Strength of the pull toward the prior, per kind of feature (larger: stays nearer).
///
/// The default is strong (8 per weight, 1 on the bias) because a candidate has many features
/// at once (the verdict, a handful of clauses and aliases, five kinds of text features of
/// norm 1 each) and the candidates of one topic share most of them: with 1 per weight, a
/// reader's first "irrelevant" mark moved every candidate below the threshold and the topic
/// went silent (the learning-curve test in `validation`). On the development data the
/// held-out figures are the same with either (see the README's figures).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Regularization {
    pub query: f64,
    pub text: f64,
    pub bias: f64,
}

impl Default for Regularization {
    fn default() -> Self {
        Regularization {
            query: 8.0,
            text: 8.0,
            bias: 1.0,
        }
    }
}

/// True for the features that describe the query's view of an item (not its words).
pub fn is_query_feature(name: &str) -> bool {
    name.starts_with("q:") || name.starts_with("a:")
}

/// One labelled candidate, as features.
#[derive(Debug, Clone)]
pub struct TrainingItem {
    pub features: Vec<(String, f64)>,
    pub label: bool,
    /// The item's fingerprint (recorded in the model).
    pub fingerprint: u64,
    /// Its date (`YYYY-MM-DD…`, empty when unknown): the inner cross-validation's order.
    pub date: String,
}

/// Trains a model from `items`, starting from and regularised toward `prior`.
pub fn train(items: &[TrainingItem], prior: &Model, reg: Regularization) -> Model {
    // Columns: every query feature, and word features seen often enough; in name order.
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for item in items {
        for (name, _) in &item.features {
            *counts.entry(name.as_str()).or_default() += 1;
        }
    }
    let mut names: Vec<&str> = counts
        .iter()
        .filter(|(n, c)| is_query_feature(n) || **c >= MIN_COUNT)
        .map(|(n, _)| *n)
        .collect();
    names.sort_unstable();
    let column: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i + 1)).collect();
    // Rows (column, value); column 0 is the bias.
    let rows: Vec<Vec<(usize, f64)>> = items
        .iter()
        .map(|item| {
            let mut row: Vec<(usize, f64)> = item
                .features
                .iter()
                .filter_map(|(n, v)| column.get(n.as_str()).map(|c| (*c, *v)))
                .collect();
            row.sort_unstable_by_key(|e| e.0);
            row
        })
        .collect();
    let labels: Vec<f64> = items.iter().map(|i| f64::from(u8::from(i.label))).collect();
    let dim = names.len() + 1;
    let mut centre = vec![prior.bias; 1];
    centre.extend(names.iter().map(|n| prior.weight(n)));
    let mut lambda = vec![reg.bias; 1];
    lambda.extend(names.iter().map(|n| {
        if is_query_feature(n) {
            reg.query
        } else {
            reg.text
        }
    }));

    let objective = |w: &[f64], grad: &mut [f64]| -> f64 {
        let mut loss = 0.0;
        for (j, g) in grad.iter_mut().enumerate() {
            let d = w[j] - centre[j];
            loss += 0.5 * lambda[j] * d * d;
            *g = lambda[j] * d;
        }
        for (row, y) in rows.iter().zip(&labels) {
            let z = w[0] + row.iter().map(|(c, v)| w[*c] * v).sum::<f64>();
            // log(1 + e^z) computed without overflow.
            loss += if z > 0.0 {
                z + (-z).exp().ln_1p()
            } else {
                z.exp().ln_1p()
            } - y * z;
            let r = sigmoid(z) - y;
            grad[0] += r;
            for (c, v) in row {
                grad[*c] += r * v;
            }
        }
        loss
    };
    let w = lbfgs(centre.clone(), dim, objective);

    let mut weights: BTreeMap<String, f64> = prior
        .weights()
        .iter()
        .filter(|(n, _)| !column.contains_key(n.as_str()))
        .map(|(n, w)| (n.clone(), *w))
        .collect();
    for (i, name) in names.iter().enumerate() {
        let value = w[i + 1];
        if value.abs() >= PRUNE_BELOW {
            weights.insert((*name).to_string(), value);
        }
    }
    let mut seen: BTreeSet<u64> = prior.seen.clone();
    seen.extend(items.iter().map(|i| i.fingerprint));
    Model::new(w[0], weights, seen)
}

/// Minimises `f` (which returns the value and writes the gradient) from `x` with L-BFGS and
/// a backtracking (Armijo) line search.
fn lbfgs(mut x: Vec<f64>, dim: usize, mut f: impl FnMut(&[f64], &mut [f64]) -> f64) -> Vec<f64> {
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut g = vec![0.0; dim];
    let mut fx = f(&x, &mut g);
    let mut history: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> =
        std::collections::VecDeque::new();
    let mut x_new = vec![0.0; dim];
    let mut g_new = vec![0.0; dim];
    for _ in 0..MAX_ITERATIONS {
        let gmax = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if gmax < TOLERANCE {
            break;
        }
        // Two-loop recursion: d = −H·g.
        let mut d: Vec<f64> = g.iter().map(|v| -v).collect();
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let a = rho * dot(s, &d);
            for (di, yi) in d.iter_mut().zip(y) {
                *di -= a * yi;
            }
            alphas.push(a);
        }
        if let Some((s, y, _)) = history.back() {
            let gamma = dot(s, y) / dot(y, y);
            d.iter_mut().for_each(|v| *v *= gamma);
        } else {
            let scale = 1.0 / gmax.max(1.0);
            d.iter_mut().for_each(|v| *v *= scale);
        }
        for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &d);
            for (di, si) in d.iter_mut().zip(s) {
                *di += (a - b) * si;
            }
        }
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction: restart from steepest descent.
            history.clear();
            d = g.iter().map(|v| -v / gmax.max(1.0)).collect();
            slope = dot(&g, &d);
        }
        let mut step = 1.0;
        let mut accepted = false;
        for _ in 0..40 {
            for i in 0..dim {
                x_new[i] = x[i] + step * d[i];
            }
            let f_new = f(&x_new, &mut g_new);
            if f_new <= fx + 1e-4 * step * slope {
                let s: Vec<f64> = (0..dim).map(|i| x_new[i] - x[i]).collect();
                let y: Vec<f64> = (0..dim).map(|i| g_new[i] - g[i]).collect();
                let sy = dot(&s, &y);
                if sy > 1e-12 {
                    if history.len() == HISTORY {
                        history.pop_front();
                    }
                    history.push_back((s, y, 1.0 / sy));
                }
                std::mem::swap(&mut x, &mut x_new);
                std::mem::swap(&mut g, &mut g_new);
                let improved = fx - f_new;
                fx = f_new;
                accepted = true;
                if improved.abs() <= 1e-12 * fx.abs().max(1.0) {
                    return x;
                }
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            break;
        }
    }
    x
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A labelled item with these features (value 1), fingerprint `n` and a date in
    /// January 2024 that cycles with `n`.
    pub(in crate::matcher::learned) fn item(
        features: &[&str],
        label: bool,
        n: u64,
    ) -> TrainingItem {
        TrainingItem {
            features: features.iter().map(|f| (f.to_string(), 1.0)).collect(),
            label,
            fingerprint: n,
            date: format!("2024-01-{:02}", 1 + n % 28),
        }
    }

    #[test]
    fn learns_a_separable_rule_and_is_deterministic() {
        let mut items = Vec::new();
        for i in 0..20 {
            items.push(item(&["q:match", "w:troops", "w:kursk"], true, i));
            items.push(item(&["q:match", "w:briefing", "w:kursk"], false, 100 + i));
            items.push(item(&["w:briefing"], false, 200 + i));
        }
        let weak = Regularization {
            query: 1.0,
            text: 1.0,
            bias: 0.01,
        };
        let m = train(&items, &Model::default(), weak);
        assert!(m.weight("w:troops") > 1.0, "{:?}", m.weights());
        assert!(m.weight("w:briefing") < -1.0, "{:?}", m.weights());
        let p =
            |f: &[&str]| m.probability(&f.iter().map(|n| (n.to_string(), 1.0)).collect::<Vec<_>>());
        // The pull toward the prior keeps even separable data short of certainty.
        assert!(p(&["q:match", "w:troops", "w:kursk"]) > 0.85);
        assert!(p(&["q:match", "w:troops"]) > p(&["q:match"]));
        assert!(p(&["q:match", "w:briefing"]) < 0.1);
        assert_eq!(m.seen.len(), 60);
        let again = train(&items, &Model::default(), weak);
        assert_eq!(m, again);
    }

    #[test]
    fn stays_near_the_prior_with_few_labels_and_drops_rare_words() {
        let prior = Model::new(-1.0, [("q:match".to_string(), 2.0)].into(), BTreeSet::new());
        let items = vec![item(&["q:match", "w:once"], false, 1)];
        let strong = Regularization {
            query: 10.0,
            text: 10.0,
            bias: 10.0,
        };
        let m = train(&items, &prior, strong);
        assert!((m.weight("q:match") - 2.0).abs() < 0.1, "{:?}", m.weights());
        assert_eq!(m.weight("w:once"), 0.0, "seen in one item only");
        // A feature of the prior that no item has keeps its prior weight.
        let prior = Model::new(0.0, [("q:other".to_string(), 1.5)].into(), BTreeSet::new());
        let m = train(&items, &prior, Regularization::default());
        assert_eq!(m.weight("q:other"), 1.5);
    }
}
