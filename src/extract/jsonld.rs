//! schema.org `articleBody` from `<script type="application/ld+json">`, and how it is
//! weighed against the readability text.

use std::collections::HashSet;

use dom_query::Document;

use super::metric;
use super::text::{self, Para};

/// Longest `articleBody` string in the page's ld+json blocks, as plain-text paragraphs.
/// Bodies holding markup or entities are parsed as HTML fragments.
pub fn article_body(doc: &Document, html: &str) -> Option<Vec<String>> {
    if !html.contains("articleBody") {
        return None;
    }
    let mut best: Option<String> = None;
    for script in doc.select(r#"script[type="application/ld+json"]"#).nodes() {
        let raw = script.text();
        let raw = raw
            .trim()
            .trim_start_matches("<![CDATA[")
            .trim_end_matches("]]>");
        let Ok(value) = serde_json::from_str::<serde_json::Value>(raw) else {
            continue;
        };
        let mut stack = vec![&value];
        while let Some(v) = stack.pop() {
            match v {
                serde_json::Value::Object(map) => {
                    if let Some(serde_json::Value::String(body)) = map.get("articleBody")
                        && best.as_ref().is_none_or(|b| body.len() > b.len())
                    {
                        best = Some(body.clone());
                    }
                    stack.extend(map.values());
                }
                serde_json::Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
    }
    let body = best?;
    let paras: Vec<String> = if body.contains('<') || body.contains('&') {
        let frag = Document::fragment(body);
        frag.root()
            .first_child()
            .map(|root| {
                text::paragraphs(&root)
                    .into_iter()
                    .map(|p| p.text)
                    .collect()
            })
            .unwrap_or_default()
    } else {
        body.split('\n')
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .collect()
    };
    (!paras.is_empty()).then_some(paras)
}

/// The 4-word shingles of `text` (as in [`metric`]), each kept as a 64-bit hash.
fn shingle_set(text: &str) -> HashSet<u64> {
    shingle_hashes(&metric::tokens(text))
}

fn shingle_hashes(toks: &[&str]) -> HashSet<u64> {
    // FNV-1a over the tokens with a separator byte: deterministic, and collisions among a
    // page's few thousand shingles are too rare to move a share
    let hash = |w: &[&str]| {
        let mut h: u64 = 0xcbf29ce484222325;
        for t in w {
            for b in t.bytes().chain(std::iter::once(0xff)) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x100000001b3);
            }
        }
        h
    };
    if toks.len() < metric::SHINGLE {
        return std::iter::once(hash(toks)).collect();
    }
    toks.windows(metric::SHINGLE).map(hash).collect()
}

/// Share of `part`'s shingles that occur in `whole`.
pub fn containment(part: &str, whole: &str) -> f64 {
    let p = shingle_set(part);
    let w = shingle_set(whole);
    p.iter().filter(|x| w.contains(*x)).count() as f64 / p.len().max(1) as f64
}

/// What to do with an `articleBody` next to the readability paragraphs.
#[derive(Debug, PartialEq)]
pub enum Decision {
    /// Nothing to learn from it.
    Ignore,
    /// It is the whole article and readability kept extra blocks: keep only the
    /// readability paragraphs found in it.
    Filter,
    /// Readability missed much of it: use it instead.
    Replace,
}

/// Least number of words for an `articleBody` to count (shorter ones are teasers).
const MIN_WORDS: usize = 60;

pub fn decide(ld: &[String], paras: &[Para]) -> Decision {
    let ld_text = ld.join("\n\n");
    let ld_toks = metric::tokens(&ld_text);
    let ld_words = ld_toks.len();
    if ld_words < MIN_WORDS {
        return Decision::Ignore;
    }
    let ours = text::join(paras);
    let our_toks = metric::tokens(&ours);
    let our_words = our_toks.len();
    if our_words == 0 {
        return Decision::Replace;
    }
    let (l, r) = (shingle_hashes(&ld_toks), shingle_hashes(&our_toks));
    let shared = l.intersection(&r).count() as f64;
    let ld_in_ours = shared / l.len().max(1) as f64;
    let ours_in_ld = shared / r.len().max(1) as f64;
    if our_words * 5 < ld_words {
        // readability found next to nothing (a script-rendered or teaser page)
        return Decision::Replace;
    }
    if ld_in_ours >= 0.95 && (0.85..0.98).contains(&ours_in_ld) {
        Decision::Filter
    } else if ours_in_ld >= 0.8 && ld_words as f64 >= 1.3 * our_words as f64 {
        Decision::Replace
    } else {
        Decision::Ignore
    }
}

/// Drop the short readability paragraphs (captions, credits, promos) that the
/// `articleBody` lacks; long ones stay, as bodies are sometimes abridged, and so do
/// quotes (embedded posts are left out of bodies) and the section headings over kept
/// paragraphs (bodies are often the paragraphs alone).
pub fn filter(ld: &[String], paras: Vec<Para>) -> Vec<Para> {
    const SHORT_WORDS: usize = 40;
    let l = shingle_set(&ld.join("\n\n"));
    let in_body = |p: &Para| {
        if p.quoted || p.text.split_whitespace().count() > SHORT_WORDS {
            return true;
        }
        let s = shingle_set(&p.text);
        let hit = s.iter().filter(|x| l.contains(*x)).count();
        2 * hit >= s.len()
    };
    let kept: Vec<bool> = paras.iter().map(in_body).collect();
    paras
        .into_iter()
        .enumerate()
        .filter(|(i, p)| kept[*i] || is_subheading(p) && kept.get(i + 1) == Some(&true))
        .map(|(_, p)| p)
        .collect()
}

/// A section heading of the article: bodies are often its paragraphs alone. (Not `h1`:
/// the page's title, which the extracted text leaves out.)
fn is_subheading(p: &Para) -> bool {
    matches!(p.tag.as_str(), "h2" | "h3" | "h4" | "h5" | "h6")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn para(t: &str) -> Para {
        Para {
            text: t.into(),
            ..Default::default()
        }
    }

    const BODY: &str = "The river rose two metres overnight and the old bridge was closed to traffic. \
        Engineers said the pillars were sound but the approach road had been undermined. \
        The council will meet on Friday to decide how the repairs are paid for, and residents \
        were told to use the ferry until then. Shops near the bridge said trade had halved since \
        the closure, and some owners asked for help with rent while the work goes on. The mayor \
        promised an answer within a week.";

    #[test]
    fn reads_article_body_from_graph_and_markup() {
        let html = format!(
            r#"<html><head><script type="application/ld+json">{{"@graph":[{{"@type":"WebPage"}},
            {{"@type":"NewsArticle","articleBody":"<p>{BODY}</p><p>Second &amp; last.</p>"}}]}}</script></head><body></body></html>"#
        );
        let doc = Document::from(html.as_str());
        let paras = article_body(&doc, &html).expect("body");
        assert_eq!(paras.len(), 2);
        assert_eq!(paras[1], "Second & last.");
    }

    #[test]
    fn containment_of_text() {
        assert!(containment(BODY, &format!("menu {BODY} footer")) > 0.99);
        assert!(containment(BODY, "nothing of the sort here at all, just other words") < 0.01);
    }

    #[test]
    fn filters_extra_paragraphs_and_replaces_short_extractions() {
        let ld = vec![BODY.to_string()];
        let ours = vec![
            para(BODY),
            para("Sign up for the morning briefing and get the best stories every day."),
        ];
        assert_eq!(decide(&ld, &ours), Decision::Filter);
        assert_eq!(filter(&ld, ours).len(), 1);
        // a section heading the body leaves out stays over a kept paragraph, not over a promo
        let heading = |t: &str| Para {
            text: t.into(),
            tag: "h2".into(),
            ..Default::default()
        };
        let ours = vec![
            heading("The flood"),
            para(BODY),
            heading("More from us"),
            para("Sign up for the morning briefing and get the best stories every day."),
        ];
        let kept: Vec<String> = filter(&ld, ours).into_iter().map(|p| p.text).collect();
        assert_eq!(kept, vec!["The flood".to_string(), BODY.to_string()]);
        let half: String = BODY.split(". ").take(2).collect::<Vec<_>>().join(". ");
        assert_eq!(decide(&ld, &[para(&half)]), Decision::Replace);
        assert_eq!(
            decide(
                &ld,
                &[para(
                    "Something else entirely, about football and the weather this week: the home \
                     side lost again in the rain, the coach blamed the pitch, and the fans left early."
                )]
            ),
            Decision::Ignore
        );
    }
}
