//! A linear model over named features: its weights, its prediction, and its text file (the
//! form a trained model is committed in and read back from).
//!
//! The file is plain text, one entry per line, its fields separated by one tab (shown as a
//! space here), so that a change to a model reads as a diff:
//!
//! ```text
//! # comments (what it was trained on, the command that rebuilds it)
//! bias -1.25000
//! w 2.10000 q:match
//! w -0.41250 w:briefing
//! band 0.30000 0.80000
//! seen 0f3a…,91c2…
//! ```
//!
//! `band` (optional) is where the model overrules the query ([`Band`]; `never` for a
//! candidate the query misses that is never added): what training chose, used as it is
//! when the topic has no labels of its own.
//!
//! `seen` lists the fingerprints ([`LabelledExample::fingerprint`]) of the items it was
//! trained on, so an evaluation can tell when the items it scores were among them.
//!
//! [`LabelledExample::fingerprint`]: crate::matcher::LabelledExample::fingerprint

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use super::gate::Band;

/// A model file that could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ModelError {
    pub line: usize,
    pub message: String,
}

/// Weights of a logistic-regression model, by feature name.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub bias: f64,
    weights: BTreeMap<String, f64>,
    /// Fingerprints of the items the model was trained on.
    pub seen: BTreeSet<u64>,
    /// Where it overrules the query, as training chose (`None`: not chosen).
    pub band: Option<Band>,
    /// The weights again, keyed by a hash of the name (what prediction looks up).
    lookup: HashMap<u64, f64, BuildHasherDefault<KeyHasher>>,
}

/// The key a feature's weight is looked up by: a 64-bit hash of its name.
pub fn feature_key(name: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(name.as_bytes())
}

/// The lookup's keys are hashes already: they are used as they are.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The logistic function.
pub fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl PartialEq for Model {
    fn eq(&self, other: &Model) -> bool {
        self.bias == other.bias
            && self.weights == other.weights
            && self.seen == other.seen
            && self.band == other.band
    }
}

impl Model {
    /// A model with the given bias and weights.
    pub fn new(bias: f64, weights: BTreeMap<String, f64>, seen: BTreeSet<u64>) -> Model {
        let lookup = weights.iter().map(|(n, w)| (feature_key(n), *w)).collect();
        Model {
            bias,
            weights,
            seen,
            band: None,
            lookup,
        }
    }

    /// This model with `band` recorded.
    pub fn with_band(self, band: Option<Band>) -> Model {
        Model { band, ..self }
    }

    /// The weight of feature `name` (0 when the model does not know it).
    pub fn weight(&self, name: &str) -> f64 {
        self.weight_of_key(feature_key(name))
    }

    /// The weight of the feature whose [`feature_key`] is `key`.
    pub fn weight_of_key(&self, key: u64) -> f64 {
        self.lookup.get(&key).copied().unwrap_or(0.0)
    }

    /// Every weight, by name.
    pub fn weights(&self) -> &BTreeMap<String, f64> {
        &self.weights
    }

    /// The probability of relevance given features `(name, value)`.
    pub fn probability(&self, features: &[(String, f64)]) -> f64 {
        let z: f64 = self.bias
            + features
                .iter()
                .map(|(n, v)| self.weight(n) * v)
                .sum::<f64>();
        sigmoid(z)
    }

    /// A fingerprint of the weights (to notice that a topic's model changed).
    pub fn fingerprint(&self) -> u64 {
        let mut text = format!("{}", self.bias);
        for (n, w) in &self.weights {
            text.push_str(&format!("\u{0}{n}={w}"));
        }
        xxhash_rust::xxh3::xxh3_64(text.as_bytes())
    }

    /// The model file: `comments` (one per line, without `#`), then the weights.
    pub fn to_text(&self, comments: &[String]) -> String {
        let mut out = String::new();
        for c in comments {
            out.push_str(&format!("# {c}\n"));
        }
        out.push_str(&format!("bias\t{:.5}\n", self.bias));
        for (name, w) in &self.weights {
            let name = name.replace(['\t', '\n', '\r'], " ");
            out.push_str(&format!("w\t{w:.5}\t{name}\n"));
        }
        if let Some(band) = self.band {
            let add = if band.add.is_finite() {
                format!("{:.5}", band.add)
            } else {
                "never".to_string()
            };
            out.push_str(&format!("band\t{:.5}\t{add}\n", band.keep));
        }
        if !self.seen.is_empty() {
            let seen: Vec<String> = self.seen.iter().map(|s| format!("{s:016x}")).collect();
            out.push_str(&format!("seen\t{}\n", seen.join(",")));
        }
        out
    }

    /// Reads a model file.
    pub fn from_text(text: &str) -> Result<Model, ModelError> {
        let mut bias = None;
        let mut weights = BTreeMap::new();
        let mut seen = BTreeSet::new();
        let mut band = None;
        for (i, line) in text.lines().enumerate() {
            let error = |message: String| ModelError {
                line: i + 1,
                message,
            };
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let number = |s: &str| {
                s.parse::<f64>()
                    .ok()
                    .filter(|w| w.is_finite())
                    .ok_or_else(|| error(format!("`{s}` is not a number")))
            };
            let mut parts = line.splitn(3, '\t');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("bias"), Some(w), None) => bias = Some(number(w)?),
                (Some("w"), Some(w), Some(name)) if !name.is_empty() => {
                    weights.insert(name.to_string(), number(w)?);
                }
                (Some("band"), Some(keep), Some(add)) => {
                    let add = if add == "never" {
                        f64::INFINITY
                    } else {
                        number(add)?
                    };
                    band = Some(Band {
                        keep: number(keep)?,
                        add,
                    });
                }
                (Some("seen"), Some(list), None) => {
                    for hex in list.split(',').filter(|s| !s.is_empty()) {
                        let f = u64::from_str_radix(hex, 16)
                            .map_err(|_| error(format!("`{hex}` is not a fingerprint")))?;
                        seen.insert(f);
                    }
                }
                _ => {
                    return Err(error(
                        "expected `bias<TAB>number`, `w<TAB>number<TAB>feature`, `band<TAB>number<TAB>number` or `seen<TAB>list`"
                            .into(),
                    ));
                }
            }
        }
        let bias = bias.ok_or(ModelError {
            line: 0,
            message: "no `bias` line".into(),
        })?;
        Ok(Model::new(bias, weights, seen).with_band(band))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_and_errors() {
        let weights: BTreeMap<String, f64> = [
            ("q:match".to_string(), 2.0),
            ("w:kim jong".to_string(), -0.125),
        ]
        .into();
        let m = Model::new(-1.5, weights, [1u64, 0xfeed].into()).with_band(Some(Band {
            keep: 0.25,
            add: f64::INFINITY,
        }));
        let text = m.to_text(&["trained on nothing".into()]);
        assert!(
            text.starts_with("# trained on nothing\nbias\t-1.50000\n"),
            "{text}"
        );
        assert!(text.contains("band\t0.25000\tnever\n"), "{text}");
        let back = Model::from_text(&text).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.weight("q:match"), 2.0);
        assert_eq!(back.weight("unknown"), 0.0);
        let p = back.probability(&[("q:match".into(), 1.0)]);
        assert!((p - sigmoid(0.5)).abs() < 1e-12);
        assert_eq!(Model::from_text("w\tx\tname\n").unwrap_err().line, 1);
        assert_eq!(Model::from_text("w\t1\tq:match\n").unwrap_err().line, 0);
        assert_eq!(Model::from_text("bias\t0\nnonsense\n").unwrap_err().line, 2);
        assert_ne!(m.fingerprint(), Model::default().fingerprint());
    }
}
