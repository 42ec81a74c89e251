//! Evaluation of a topic against a labelled JSONL set (precision, recall, F1, errors).

use serde::{Deserialize, Serialize};

use super::{Document, Topic, prepare, score};

/// A line of a labelled set could not be read.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct EvalError {
    pub line: usize,
    pub message: String,
}

#[derive(Deserialize)]
struct Line {
    id: serde_json::Value,
    title: String,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    text: Option<String>,
    label: i64,
}

/// A misclassified item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelledItem {
    pub id: String,
    pub title: String,
    /// The query score (`None` if the boolean structure did not match).
    pub score: Option<f64>,
}

/// Quality of a topic on a labelled set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    pub items: usize,
    pub positives: usize,
    pub true_positives: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub false_positives: Vec<LabelledItem>,
    pub false_negatives: Vec<LabelledItem>,
}

impl std::fmt::Display for EvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "items {}  positives {}  P {:.3}  R {:.3}  F1 {:.3}",
            self.items, self.positives, self.precision, self.recall, self.f1
        )?;
        for (what, list) in [("FP", &self.false_positives), ("FN", &self.false_negatives)] {
            for it in list {
                let s = it.score.map_or("-".to_string(), |s| format!("{s:.2}"));
                writeln!(f, "  {what} {} [{s}] {}", it.id, it.title)?;
            }
        }
        Ok(())
    }
}

/// Matches `topic` against every labelled line of `jsonl` (fields `id`, `title`, `summary`,
/// optional `text`, `label` 1 or 0; blank lines are skipped).
pub fn eval_labelled(topic: &Topic, jsonl: &str) -> Result<EvalReport, EvalError> {
    let (mut items, mut positives, mut tp) = (0, 0, 0);
    let mut fps = Vec::new();
    let mut fns = Vec::new();
    for (i, raw) in jsonl.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(raw).map_err(|e| EvalError {
            line: i + 1,
            message: e.to_string(),
        })?;
        let doc = prepare(&Document {
            title: &line.title,
            summary: line.summary.as_deref().unwrap_or(""),
            text: line.text.as_deref().unwrap_or(""),
            ..Document::default()
        });
        let s = score(&topic.query, &doc);
        let predicted = s.is_some_and(|s| s >= topic.min_score);
        let actual = line.label == 1;
        items += 1;
        positives += usize::from(actual);
        let item = || LabelledItem {
            id: match &line.id {
                serde_json::Value::String(s) => s.clone(),
                v => v.to_string(),
            },
            title: line.title.clone(),
            score: s,
        };
        match (predicted, actual) {
            (true, true) => tp += 1,
            (true, false) => fps.push(item()),
            (false, true) => fns.push(item()),
            (false, false) => {}
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let precision = ratio(tp, tp + fps.len());
    let recall = ratio(tp, positives);
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Ok(EvalReport {
        items,
        positives,
        true_positives: tp,
        precision,
        recall,
        f1,
        false_positives: fps,
        false_negatives: fns,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Aliases;
    use super::*;

    #[test]
    fn precision_recall_and_errors() {
        let topic = Topic::new("t", "russia", 1.0, &Aliases::default()).unwrap();
        let jsonl = r#"{"id":"a","title":"Russia","summary":"","label":1}
{"id":"b","title":"Russia again","summary":null,"label":0}
{"id":"c","title":"Nothing","summary":"here","text":"at all","label":1}

{"id":7,"title":"Other","label":0}"#;
        let r = eval_labelled(&topic, jsonl).unwrap();
        assert_eq!((r.items, r.positives, r.true_positives), (4, 2, 1));
        assert!((r.precision - 0.5).abs() < 1e-9);
        assert!((r.recall - 0.5).abs() < 1e-9);
        assert!((r.f1 - 0.5).abs() < 1e-9);
        assert_eq!(r.false_positives[0].id, "b");
        assert_eq!(r.false_negatives[0].id, "c");
        assert_eq!(r.false_negatives[0].score, None);
        assert!(r.to_string().contains("FP b [3.00] Russia again"));
        let bad = eval_labelled(&topic, "{\"id\":1}\nnot json").unwrap_err();
        assert_eq!(bad.line, 1);
    }
}
