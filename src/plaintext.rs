//! HTML fragments (feed summaries and content) → plain text, for the search index, matching and
//! excerpts. Pure.

/// Closing tags (and `<br`) that end a line, matched as lowercase prefixes of the tag.
const BLOCK_TAGS: [&str; 10] = [
    "</p",
    "<br",
    "</div",
    "</li",
    "</h1",
    "</h2",
    "</h3",
    "</h4",
    "</blockquote",
    "</tr",
];

/// The text of an HTML fragment: tags, comments, scripts and styles dropped, entities decoded,
/// block boundaries kept as line breaks, runs of spaces collapsed.
///
/// A single pass over the bytes, not a DOM: this runs on every summary and content of every
/// new item (search index, matching), and building an html5ever tree for each was the largest
/// CPU cost of a cold poll (issue 8). It tokenizes as HTML does where it matters for text: a
/// `<` starts a tag only before a letter, `/`, `!` or `?`; quoted attribute values may hold
/// `>`; a tag cut off by the end of the input is dropped.
pub fn html_to_text(html: &str) -> String {
    if !html.contains('<') && !html.contains('&') {
        return collapse(html);
    }
    let bytes = html.as_bytes();
    let mut text = String::with_capacity(html.len());
    let mut copy_from = 0;
    let mut pos = 0;
    while let Some(found) = memchr::memchr(b'<', &bytes[pos..]) {
        let lt = pos + found;
        let Some(end) = tag_end(bytes, lt) else {
            // A `<` that starts no tag is text.
            pos = lt + 1;
            continue;
        };
        push_text(&mut text, &html[copy_from..lt]);
        let tag = &bytes[lt..end];
        if BLOCK_TAGS
            .iter()
            .any(|b| tag.len() >= b.len() && tag[..b.len()].eq_ignore_ascii_case(b.as_bytes()))
        {
            text.push('\n');
        }
        pos = end;
        // The content of a script or style element is not text.
        for raw in ["script", "style"] {
            if starts_tag(tag, raw) {
                pos = closing_tag(bytes, end, raw).unwrap_or(bytes.len());
            }
        }
        copy_from = pos;
    }
    push_text(&mut text, &html[copy_from..]);
    collapse(&text)
}

/// Appends a run of text with its entities decoded.
fn push_text(out: &mut String, run: &str) {
    if run.contains('&') {
        html_escape::decode_html_entities_to_string(run, out);
    } else {
        out.push_str(run);
    }
}

/// If a tag, comment or declaration starts at `lt` (a `<`), where it ends (just past its `>`,
/// or the end of the input when it is cut off); `None` when the `<` is plain text.
fn tag_end(bytes: &[u8], lt: usize) -> Option<usize> {
    let rest = &bytes[lt..];
    let next = *rest.get(1)?;
    let find = |from: usize, pat: &[u8]| {
        memchr::memmem::find(&rest[from.min(rest.len())..], pat)
            .map(|i| lt + from + i + pat.len())
            .unwrap_or(bytes.len())
    };
    if rest.starts_with(b"<!--") {
        return Some(find(4, b"-->"));
    }
    if next == b'!' || next == b'?' {
        return Some(find(2, b">"));
    }
    if next == b'/' {
        return match rest.get(2) {
            Some(c) if c.is_ascii_alphabetic() || *c == b'>' => Some(find(2, b">")),
            // `</` followed by anything else is a bogus comment up to `>`.
            Some(_) => Some(find(2, b">")),
            None => None,
        };
    }
    if !next.is_ascii_alphabetic() {
        return None;
    }
    // A start tag: `>` inside a quoted attribute value does not end it.
    let mut i = 2;
    let mut after_equals = false;
    while i < rest.len() {
        match rest[i] {
            b'>' => return Some(lt + i + 1),
            b'=' => after_equals = true,
            b'"' | b'\'' if after_equals => {
                let quote = rest[i];
                match memchr::memchr(quote, &rest[i + 1..]) {
                    Some(close) => i += close + 1,
                    None => return Some(bytes.len()),
                }
                after_equals = false;
            }
            c if c.is_ascii_whitespace() => {}
            _ => after_equals = false,
        }
        i += 1;
    }
    Some(bytes.len())
}

/// Whether `tag` is a start tag of the element `name`.
fn starts_tag(tag: &[u8], name: &str) -> bool {
    tag.len() > name.len() + 1
        && tag[1..=name.len()].eq_ignore_ascii_case(name.as_bytes())
        && matches!(
            tag[name.len() + 1],
            b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r' | 0x0c
        )
}

/// Where the closing tag `</name ...>` after `from` ends.
fn closing_tag(bytes: &[u8], from: usize, name: &str) -> Option<usize> {
    let mut pos = from;
    while let Some(found) = memchr::memmem::find(&bytes[pos..], b"</") {
        let at = pos + found;
        let after = at + 2 + name.len();
        if bytes.len() >= after
            && bytes[at + 2..after].eq_ignore_ascii_case(name.as_bytes())
            && bytes.get(after).is_none_or(|c| !c.is_ascii_alphanumeric())
        {
            return Some(tag_end(bytes, at).unwrap_or(bytes.len()));
        }
        pos = at + 2;
    }
    None
}

/// The previous implementation, over an html5ever DOM; kept to check the fast one against.
#[cfg(test)]
fn html_to_text_dom(html: &str) -> String {
    if !html.contains('<') && !html.contains('&') {
        return collapse(html);
    }
    let mut marked = String::with_capacity(html.len() + 16);
    let lower = html.to_ascii_lowercase();
    let mut last = 0;
    for (pos, _) in lower.match_indices('<') {
        let rest = &lower[pos..];
        if BLOCK_TAGS.iter().any(|tag| rest.starts_with(tag)) {
            marked.push_str(&html[last..pos]);
            marked.push('\n');
            last = pos;
        }
    }
    marked.push_str(&html[last..]);
    let text = dom_query::Document::fragment(marked).text().to_string();
    collapse(&text)
}

/// Collapses spaces within lines and drops empty lines.
///
/// The words of `text` (runs of anything but Unicode white space), each separated from the
/// one before by "\n" when the gap between them holds a line feed and by " " otherwise. One
/// pass over the bytes, decoding only non-ASCII characters: splitting each line with
/// `split_whitespace` and joining cost 4% of a cold poll's CPU (issue 8).
fn collapse(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut word_start = None;
    let mut line_feed_in_gap = false;
    let mut pos = 0;
    while pos < bytes.len() {
        let (width, space) = white_space_at(text, pos);
        if space {
            if let Some(start) = word_start.take() {
                out.push_str(&text[start..pos]);
            }
            line_feed_in_gap |= bytes[pos] == b'\n';
        } else if word_start.is_none() {
            if !out.is_empty() {
                out.push(if line_feed_in_gap { '\n' } else { ' ' });
            }
            line_feed_in_gap = false;
            word_start = Some(pos);
        }
        pos += width;
    }
    if let Some(start) = word_start {
        out.push_str(&text[start..]);
    }
    out
}

/// The width of the character at byte `pos` of `text` and whether it is white space (as
/// `char::is_whitespace`).
fn white_space_at(text: &str, pos: usize) -> (usize, bool) {
    let byte = text.as_bytes()[pos];
    if byte.is_ascii() {
        return (
            1,
            matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c),
        );
    }
    let ch = text[pos..]
        .chars()
        .next()
        .expect("pos is a character boundary");
    (ch.len_utf8(), ch.is_whitespace())
}

/// The first `max_chars` characters of `text`, cut at a word boundary, with "…" when cut.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max_chars {
        return flat;
    }
    let cut: String = flat.chars().take(max_chars).collect();
    let cut = match cut.rfind(' ') {
        Some(pos) if pos > max_chars / 2 => &cut[..pos],
        _ => &cut,
    };
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tags_and_keeps_blocks() {
        assert_eq!(
            html_to_text("<p>Kim &amp; Putin</p><p>met <b>again</b></p>"),
            "Kim & Putin\nmet again"
        );
        assert_eq!(html_to_text("plain  text"), "plain text");
        assert_eq!(html_to_text("a<br>b &yen;"), "a\nb ¥");
    }

    #[test]
    fn fast_text_handles_tags_comments_scripts_and_stray_brackets() {
        assert_eq!(
            html_to_text("<a href=\"x>y\" title='a>b'>link</a> 1 < 2 <!-- <p>no</p> -->ok"),
            "link 1 < 2 ok"
        );
        assert_eq!(
            html_to_text("a<script>if (a<b) x='</p>';</script>b<style>p{}</style>c"),
            "abc"
        );
        assert_eq!(
            html_to_text("<DIV>x</DIV><Br/>y &lt;tag&gt; &#233;&#x41;"),
            "x\ny <tag> éA"
        );
        assert_eq!(html_to_text("cut <b class=\"x"), "cut");
        assert_eq!(html_to_text("<![CDATA[gone]]>kept"), "kept");
    }

    /// The single-pass text agrees with the html5ever DOM on every summary and content of the
    /// feed corpus.
    #[test]
    fn fast_text_matches_the_dom_on_the_corpus() {
        let corpus = crate::shared_file("feeds-corpus");
        let manifest = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
        let (mut total, mut differ) = (0usize, Vec::new());
        for line in manifest.lines().skip(1) {
            let path = line.split('\t').next().unwrap_or("");
            let Ok(body) = std::fs::read(corpus.join(path)) else {
                continue;
            };
            let Ok(parsed) = crate::parse::parse_feed(&body, "http://example.org/") else {
                continue;
            };
            for item in parsed.items {
                for html in [item.summary, item.content].into_iter().flatten() {
                    total += 1;
                    // Ignore how whitespace falls: only the words matter to the index.
                    let words = |t: String| t.split_whitespace().collect::<Vec<_>>().join(" ");
                    let (fast, dom) = (words(html_to_text(&html)), words(html_to_text_dom(&html)));
                    // Scripts and styles are dropped on purpose; the DOM kept their code.
                    let lower = html.to_ascii_lowercase();
                    if fast != dom && !lower.contains("<script") && !lower.contains("<style") {
                        let at = fast
                            .char_indices()
                            .zip(dom.chars())
                            .find(|((_, a), b)| a != b)
                            .map(|((i, _), _)| i)
                            .unwrap_or(fast.len().min(dom.len()));
                        let at = fast.floor_char_boundary(at.saturating_sub(40));
                        let around = |t: &str| {
                            t.get(at..)
                                .unwrap_or("")
                                .chars()
                                .take(120)
                                .collect::<String>()
                        };
                        differ.push((path.to_string(), around(&fast), around(&dom)));
                    }
                }
            }
        }
        eprintln!(
            "{} of {total} fragments differ in their words",
            differ.len()
        );
        for d in differ.iter().take(10) {
            eprintln!("{d:#?}");
        }
        assert!(total > 1000, "only {total} fragments in the corpus");
        assert!(
            differ.len() * 1000 <= total,
            "{} of {total} fragments differ",
            differ.len()
        );
    }

    /// The single-pass collapse gives what splitting lines and words gave.
    #[test]
    fn collapse_matches_splitting_lines_and_words() {
        let by_lines = |text: &str| {
            text.lines()
                .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let cases = [
            "",
            "   ",
            "one",
            "  one  two\t\tthree  ",
            "a\n\n\nb\r\nc \n d",
            "\n  \n lead and trail \n\n",
            "nbsp\u{a0}and\u{2003}em\u{3000}ideographic\u{85}nel",
            "line\u{2028}separator is a space, not a line\x0bvt\x0cff",
            "Kim\u{a0}\n\u{a0}Putin  ünïcödé  словa 北朝鮮",
        ];
        for case in cases {
            assert_eq!(collapse(case), by_lines(case), "{case:?}");
        }
    }

    #[test]
    fn excerpt_cuts_at_words() {
        assert_eq!(excerpt("one two three four", 100), "one two three four");
        assert_eq!(excerpt("alpha beta gamma delta epsilon", 14), "alpha beta…");
    }
}
