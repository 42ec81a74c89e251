//! The extraction-bench metric: 4-word shingle precision/recall per page, macro-averaged.
//!
//! Same definition as `shared/tools/score_extraction.py`: tokens are runs of word
//! characters (Python's `\w`: letters, digits and `_`; case kept), overlapping 4-token
//! shingles compared as multisets; P is the mean precision over pages with a non-empty
//! prediction, R the mean recall over pages with a non-empty truth, F1 = 2PR/(P+R).

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;

/// Shingle length.
pub const SHINGLE: usize = 4;

/// Scores of one page. `precision` is `None` when the prediction has no shingle,
/// `recall` is `None` when the truth has none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageScore {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    /// 2pr/(p+r); 0 when either side is undefined (1 when both are).
    pub f1: f64,
}

fn word_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // Python's `\w` for str is `isalnum() or '_'`: letters and numbers, no combining marks.
    RE.get_or_init(|| Regex::new(r"[\p{L}\p{N}_]+").expect("static regex"))
}

/// Word tokens of `text`, as the metric sees them.
pub fn tokens(text: &str) -> Vec<&str> {
    word_re().find_iter(text).map(|m| m.as_str()).collect()
}

fn shingles<'a>(toks: &[&'a str]) -> HashMap<Vec<&'a str>, usize> {
    let mut out = HashMap::new();
    if toks.is_empty() {
        return out;
    }
    if toks.len() < SHINGLE {
        out.insert(toks.to_vec(), 1);
        return out;
    }
    for w in toks.windows(SHINGLE) {
        *out.entry(w.to_vec()).or_insert(0) += 1;
    }
    out
}

/// Score one predicted text against its truth.
pub fn score(pred: &str, truth: &str) -> PageScore {
    let p_sh = shingles(&tokens(pred));
    let t_sh = shingles(&tokens(truth));
    let p_total: usize = p_sh.values().sum();
    let t_total: usize = t_sh.values().sum();
    let tp: usize = p_sh
        .iter()
        .map(|(k, &n)| n.min(t_sh.get(k).copied().unwrap_or(0)))
        .sum();
    let precision = (p_total > 0).then(|| tp as f64 / p_total as f64);
    let recall = (t_total > 0).then(|| tp as f64 / t_total as f64);
    let f1 = match (precision, recall) {
        (None, None) => 1.0,
        (Some(p), Some(r)) if p + r > 0.0 => 2.0 * p * r / (p + r),
        _ => 0.0,
    };
    PageScore {
        tp,
        fp: p_total - tp,
        fn_: t_total - tp,
        precision,
        recall,
        f1,
    }
}

/// Set-level (P, R, F1) over page scores, as the benchmark reports them.
pub fn aggregate<'a, I: IntoIterator<Item = &'a PageScore>>(pages: I) -> (f64, f64, f64) {
    let (mut ps, mut np, mut rs, mut nr) = (0.0, 0usize, 0.0, 0usize);
    for s in pages {
        if let Some(p) = s.precision {
            ps += p;
            np += 1;
        }
        if let Some(r) = s.recall {
            rs += r;
            nr += 1;
        }
    }
    let p = if np > 0 { ps / np as f64 } else { 0.0 };
    let r = if nr > 0 { rs / nr as f64 } else { 0.0 };
    let f = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    (p, r, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(truth: &str, pred: &str) -> (usize, usize, usize) {
        let s = score(pred, truth);
        (s.tp, s.fp, s.fn_)
    }

    #[test]
    fn hand_worked_cases_match_the_python_selftest() {
        let t = "one two three four five";
        assert_eq!(counts(t, t), (2, 0, 0));
        assert_eq!(counts(t, "one two three four"), (1, 0, 1));
        assert_eq!(counts(t, &format!("{t} six")), (2, 1, 0));
        assert_eq!(counts(t, ""), (0, 0, 2));
        assert_eq!(counts("", "x y"), (0, 1, 0));
        assert_eq!(counts("a b", "a b"), (1, 0, 0));
        assert_eq!(counts("a b c d a b c d", "a b c d"), (1, 0, 4));
        assert_eq!(counts("Hello, world!", "hello world"), (0, 1, 1));
    }

    #[test]
    fn aggregate_skips_empty_predictions_in_precision() {
        let empty = score("", "a b c d e");
        let half = score("a b c d", "a b c d x y z");
        assert_eq!(empty.precision, None);
        let (p, r, f) = aggregate([&empty, &half]);
        assert!((p - 1.0).abs() < 1e-12);
        assert!((r - 0.125).abs() < 1e-12, "{r}");
        assert!((f - 2.0 * 0.125 / 1.125).abs() < 1e-12);
    }

    #[test]
    fn tokens_are_python_word_runs() {
        assert_eq!(
            tokens("Ünïcode_x 42, 東京!"),
            vec!["Ünïcode_x", "42", "東京"]
        );
        // combining marks are not word characters in Python's `re`
        assert_eq!(tokens("e\u{301}t"), vec!["e", "t"]);
    }
}
