//! Labelled examples of a topic: the JSON-lines shape of `../shared/topics-dev` and of
//! `tidings topics labels NAME --format jsonl`, read into [`LabelledExample`]s.
//!
//! One object per line: `id`, `label` (1 or 0, or true/false) and `title` are required;
//! `summary`, `text`, `date` (`YYYY-MM-DD…`), `source`, `link`, `lang` and `borderline` are
//! optional (`title` and `summary` may be null: archives that kept only one of them). Other
//! fields (`subtopic`, `note`, `provenance`) are ignored. Blank lines are skipped.

use serde::Deserialize;

use super::Document;
use super::normalize::normalize;

/// A line of a labelled set could not be read.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct LabelError {
    pub line: usize,
    pub message: String,
}

/// One labelled item.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LabelledExample {
    pub id: String,
    /// Publication date, `YYYY-MM-DD` (or a longer ISO form); empty when unknown.
    pub date: String,
    /// Outlet or feed name.
    pub source: String,
    pub title: String,
    pub summary: String,
    /// Article text, when the set carries it.
    pub text: String,
    pub link: String,
    pub lang: String,
    /// True: relevant to the topic.
    pub label: bool,
    /// True where the labeller needed a judgement call.
    pub borderline: bool,
}

#[derive(Deserialize)]
struct Line {
    id: serde_json::Value,
    label: serde_json::Value,
    title: Option<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    link: Option<String>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    borderline: Option<bool>,
}

fn label_of(value: &serde_json::Value) -> Option<bool> {
    match value {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Reads every labelled line of `jsonl`.
pub fn read_labelled(jsonl: &str) -> Result<Vec<LabelledExample>, LabelError> {
    let mut out = Vec::new();
    for (i, raw) in jsonl.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let error = |message: String| LabelError {
            line: i + 1,
            message,
        };
        let line: Line = serde_json::from_str(raw).map_err(|e| error(e.to_string()))?;
        let label = label_of(&line.label).ok_or_else(|| {
            error(format!(
                "`label` must be 1, 0, true or false, not {}",
                line.label
            ))
        })?;
        let id = match line.id {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            other => {
                return Err(error(format!(
                    "`id` must be a string or a number, not {other}"
                )));
            }
        };
        out.push(LabelledExample {
            id,
            date: line.date.unwrap_or_default(),
            source: line.source.unwrap_or_default(),
            title: line.title.unwrap_or_default(),
            summary: line.summary.unwrap_or_default(),
            text: line.text.unwrap_or_default(),
            link: line.link.unwrap_or_default(),
            lang: line.lang.unwrap_or_default(),
            label,
            borderline: line.borderline.unwrap_or(false),
        });
    }
    Ok(out)
}

impl LabelledExample {
    /// The example as a document to match (title, summary, text, feed = source, url = link).
    pub fn document(&self) -> Document<'_> {
        Document {
            title: &self.title,
            summary: &self.summary,
            text: &self.text,
            feed: &self.source,
            url: &self.link,
            author: "",
        }
    }

    /// Identity of the example's wording (normalized title and summary), so that the same
    /// item in two files, or in a model's training set and a file being scored, is
    /// recognised as one.
    pub fn fingerprint(&self) -> u64 {
        let text = format!(
            "{}\u{0}{}",
            normalize(&self.title),
            normalize(&self.summary)
        );
        xxhash_rust::xxh3::xxh3_64(text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_dev_set_shape_and_names_bad_lines() {
        let jsonl = r#"{"id":"a","title":"Russia","summary":"","label":1,"date":"2024-06-19","source":"BBC","borderline":true}
{"id":"b","title":null,"summary":null,"label":0}

{"id":7,"title":"Other","label":false,"subtopic":"x","note":"why"}"#;
        let items = read_labelled(jsonl).unwrap();
        assert_eq!(items.len(), 3);
        assert!(items[0].label && items[0].borderline);
        assert_eq!(
            (items[0].date.as_str(), items[0].source.as_str()),
            ("2024-06-19", "BBC")
        );
        assert_eq!(items[1].title, "");
        assert_eq!(items[2].id, "7");
        assert!(!items[2].label);
        let bad = read_labelled(
            "{\"id\":1,\"title\":\"x\",\"label\":1}\n{\"id\":2,\"title\":\"x\",\"label\":2}",
        )
        .unwrap_err();
        assert_eq!(bad.line, 2);
        assert!(bad.message.contains("label"), "{bad}");
        assert_eq!(read_labelled("not json").unwrap_err().line, 1);
        let same = |t: &str| LabelledExample {
            title: t.into(),
            ..items[0].clone()
        };
        assert_eq!(
            same("Kim Jong-un's visit").fingerprint(),
            same("kim jong un visit").fingerprint()
        );
        assert_ne!(same("a").fingerprint(), same("b").fingerprint());
    }
}
