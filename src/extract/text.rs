//! Rendering a DOM subtree to plain-text paragraphs (blocks split paragraphs, `<br>` lines).

use dom_query::NodeRef;

/// Elements that start a new paragraph.
#[rustfmt::skip]
const BLOCKS: &[&str] = &[
    "address", "article", "aside", "blockquote", "center", "dd", "details", "dialog", "dir",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "menu", "nav", "ol", "p", "pre",
    "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "td", "th", "ul", "caption",
    "body", "html", "option", "legend",
];

/// Elements whose content is never text a reader sees.
#[rustfmt::skip]
const SKIP: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "math", "head", "iframe", "object",
    "embed", "canvas", "video", "audio", "select", "button", "input", "textarea",
];

pub fn is_block(name: &str) -> bool {
    BLOCKS.contains(&name)
}

/// One rendered paragraph and what it was made of.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Para {
    pub text: String,
    /// Characters of `text` (whitespace excluded) that were inside links.
    pub link_chars: usize,
    /// The innermost block element that held the text (`p`, `li`, `h2`, `div` …).
    pub tag: String,
    /// Identifies the element containing that block: paragraphs with the same `group`
    /// are siblings in one container.
    pub group: Option<dom_query::NodeId>,
    /// Inside a `blockquote` (quotes, embedded posts).
    pub quoted: bool,
    /// The block is held by a list item (`<li><h2><a>…</a></h2></li>`): an item of a list,
    /// whatever block it is set in.
    pub in_list_item: bool,
}

impl Para {
    /// Share of non-space characters inside links.
    pub fn link_density(&self) -> f64 {
        let n = self.text.chars().filter(|c| !c.is_whitespace()).count();
        if n == 0 {
            0.0
        } else {
            self.link_chars as f64 / n as f64
        }
    }
}

enum Step<'a> {
    Enter(NodeRef<'a>),
    Exit {
        block: bool,
        link: bool,
        quote: bool,
    },
}

/// Paragraphs of the subtree under `root`, whitespace collapsed, empty ones dropped.
/// Iterative, so deep trees cannot overflow the stack.
pub fn paragraphs<'a>(root: &NodeRef<'a>) -> Vec<Para> {
    let mut out = Vec::new();
    let mut cur = Para::default();
    let mut links = 0usize;
    let mut quotes = 0usize;
    let mut tags: Vec<(String, Option<dom_query::NodeId>)> = Vec::new();
    let mut stack: Vec<Step<'a>> = vec![Step::Enter(*root)];
    while let Some(step) = stack.pop() {
        let node = match step {
            Step::Exit { block, link, quote } => {
                if link {
                    links -= 1;
                }
                if block {
                    flush(&mut cur, &mut out, &tags, quotes > 0);
                    tags.pop();
                }
                if quote {
                    quotes -= 1;
                }
                continue;
            }
            Step::Enter(n) => n,
        };
        if node.is_text() {
            push_text(&mut cur, &node.text(), links > 0);
            continue;
        }
        if !node.is_element() && !node.is_document() && !node.is_fragment() {
            continue;
        }
        let name = node.node_name().map(|n| n.to_string()).unwrap_or_default();
        if SKIP.contains(&name.as_str()) || hidden(&node) {
            continue;
        }
        if name == "br" {
            if !cur.text.trim().is_empty() {
                cur.text.push('\n');
            }
            continue;
        }
        let block = is_block(&name);
        let link = name == "a";
        let quote = name == "blockquote";
        if block {
            flush(&mut cur, &mut out, &tags, quotes > 0);
            let parent = node.parent().map(|p| p.id);
            tags.push((name.clone(), parent));
        } else if !cur.text.ends_with(char::is_whitespace)
            && matches!(name.as_str(), "img" | "label")
        {
            cur.text.push(' ');
        }
        if link {
            links += 1;
        }
        if quote {
            quotes += 1;
        }
        stack.push(Step::Exit { block, link, quote });
        let mut child = node.last_child();
        while let Some(c) = child {
            child = c.prev_sibling();
            stack.push(Step::Enter(c));
        }
    }
    flush(&mut cur, &mut out, &tags, quotes > 0);
    out
}

/// Paragraph texts joined by "\n\n".
pub fn join(paras: &[Para]) -> String {
    paras
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn hidden(node: &NodeRef) -> bool {
    node.has_attr("hidden")
        || node
            .attr("aria-hidden")
            .is_some_and(|v| v.as_ref() == "true")
        || node.attr("style").is_some_and(|s| {
            let s = s.to_ascii_lowercase().replace(' ', "");
            s.contains("display:none") || s.contains("visibility:hidden")
        })
}

/// Invisible characters that pages use as fillers.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}'
    )
}

fn push_text(cur: &mut Para, t: &str, in_link: bool) {
    let cleaned: String;
    let t = if t.contains(invisible) {
        cleaned = t.chars().filter(|c| !invisible(*c)).collect();
        cleaned.as_str()
    } else {
        t
    };
    for (i, piece) in t.split(char::is_whitespace).enumerate() {
        if i > 0 && !cur.text.is_empty() && !cur.text.ends_with(char::is_whitespace) {
            cur.text.push(' ');
        }
        cur.text.push_str(piece);
        if in_link {
            cur.link_chars += piece.chars().count();
        }
    }
}

fn flush(
    cur: &mut Para,
    out: &mut Vec<Para>,
    tags: &[(String, Option<dom_query::NodeId>)],
    quoted: bool,
) {
    let tag = tags.last();
    // each line's words joined by one space, the non-empty lines by "\n"
    let mut text = String::with_capacity(cur.text.len());
    for line in cur.text.split('\n') {
        for (i, word) in line.split_whitespace().enumerate() {
            if i > 0 {
                text.push(' ');
            } else if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(word);
        }
    }
    if !text.is_empty() {
        out.push(Para {
            text,
            link_chars: cur.link_chars,
            tag: tag.map(|t| t.0.clone()).unwrap_or_default(),
            group: tag.and_then(|t| t.1),
            quoted,
            in_list_item: tags.len() >= 2 && tags[tags.len() - 2].0 == "li",
        });
    }
    cur.text.clear();
    cur.link_chars = 0;
}

#[cfg(test)]
mod tests {
    use super::*;
    use dom_query::Document;

    #[test]
    fn blocks_become_paragraphs() {
        let doc = Document::from(
            "<div><h2>Head</h2><p>One <b>bold</b>\n  word.</p><p>Two<br>lines</p><p>\u{200b}</p>\
             <ul><li>a</li><li><a href=x>b</a></li></ul><script>x()</script><p style='display: none'>no</p></div>",
        );
        let root = doc.select("div").nodes()[0];
        let paras = paragraphs(&root);
        let texts: Vec<&str> = paras.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(
            texts,
            vec!["Head", "One bold word.", "Two\nlines", "a", "b"]
        );
        assert_eq!(paras[0].tag, "h2");
        assert_eq!(paras[4].tag, "li");
        assert_eq!(paras[4].link_density(), 1.0);
        assert_eq!(paras[3].link_density(), 0.0);
    }
}
