//! HTML fragments (feed summaries and content) → plain text, for the search index, matching and
//! excerpts. Pure.

/// The text of an HTML fragment: tags dropped, entities decoded, block boundaries kept as line
/// breaks, runs of spaces collapsed.
pub fn html_to_text(html: &str) -> String {
    if !html.contains('<') && !html.contains('&') {
        return collapse(html);
    }
    // Block-level closings become line breaks before the tags go.
    let mut marked = String::with_capacity(html.len() + 16);
    let lower = html.to_ascii_lowercase();
    let mut last = 0;
    for (pos, _) in lower.match_indices('<') {
        let rest = &lower[pos..];
        let is_block = [
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
        ]
        .iter()
        .any(|tag| rest.starts_with(tag));
        if is_block {
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
fn collapse(text: &str) -> String {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
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
    fn excerpt_cuts_at_words() {
        assert_eq!(excerpt("one two three four", 100), "one two three four");
        assert_eq!(excerpt("alpha beta gamma delta epsilon", 14), "alpha beta…");
    }
}
