//! Renders a topic's matches as an Atom 1.0 feed (RFC 4287). Pure.
//!
//! Ids are stable URNs: the feed is `urn:tidings:topic:NAME`, each entry
//! `urn:tidings:item:ID` (one item matched by two topics is one entry to a reader). Third-party
//! HTML is never re-published: the summary is reduced to plain text and escaped.

use crate::model::UnixTime;
use crate::store::TopicEntry;

use super::rfc3339;

/// Longest summary text kept per entry, in characters.
const SUMMARY_CHARS: usize = 1000;

/// XML text and attribute escaping; drops characters XML 1.0 forbids.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The feed document. `self_url` is the absolute URL the feed is served at; `now` dates an
/// empty feed.
pub fn topic_feed(
    name: &str,
    title: &str,
    self_url: &str,
    entries: &[TopicEntry],
    now: UnixTime,
) -> String {
    let updated_of = |e: &TopicEntry| e.matched_at.max(e.updated_at.unwrap_or(0));
    let updated = entries.iter().map(updated_of).max().unwrap_or(now);
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    x.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    x.push_str(&format!(
        "  <id>urn:tidings:topic:{}</id>\n",
        escape(&urn_part(name))
    ));
    x.push_str(&format!("  <title>{}</title>\n", escape(title)));
    x.push_str(&format!("  <updated>{}</updated>\n", rfc3339(updated)));
    x.push_str(&format!(
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n",
        escape(self_url)
    ));
    x.push_str("  <author><name>tidings</name></author>\n");
    x.push_str(&format!(
        "  <generator version=\"{}\">tidings</generator>\n",
        env!("CARGO_PKG_VERSION")
    ));
    for e in entries {
        x.push_str("  <entry>\n");
        x.push_str(&format!("    <id>urn:tidings:item:{}</id>\n", e.item_id));
        let title = e
            .title
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or("(untitled)");
        x.push_str(&format!(
            "    <title type=\"text\">{}</title>\n",
            escape(title)
        ));
        x.push_str(&format!(
            "    <updated>{}</updated>\n",
            rfc3339(updated_of(e))
        ));
        x.push_str(&format!(
            "    <published>{}</published>\n",
            rfc3339(e.published_at)
        ));
        if let Some(url) = e.url.as_deref().filter(|u| is_http(u)) {
            x.push_str(&format!(
                "    <link rel=\"alternate\" href=\"{}\"/>\n",
                escape(url)
            ));
        }
        let author = e.author.as_deref().unwrap_or(&e.feed_title);
        x.push_str(&format!(
            "    <author><name>{}</name></author>\n",
            escape(author)
        ));
        let summary = summary_text(e.summary.as_deref());
        if !summary.is_empty() {
            x.push_str(&format!(
                "    <summary type=\"text\">{}</summary>\n",
                escape(&summary)
            ));
        }
        x.push_str("  </entry>\n");
    }
    x.push_str("</feed>\n");
    x
}

fn is_http(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

/// A topic name made safe for a URN (letters, digits, `-`, `_`, `.`; others percent-encoded).
fn urn_part(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn summary_text(html: Option<&str>) -> String {
    let text = html.map(crate::plaintext::html_to_text).unwrap_or_default();
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= SUMMARY_CHARS {
        flat
    } else {
        let cut: String = flat.chars().take(SUMMARY_CHARS).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_html_is_text() {
        let entry = TopicEntry {
            match_id: 1,
            item_id: 7,
            title: Some("<b>Kim</b> & Putin".into()),
            url: Some("javascript:alert(1)".into()),
            author: None,
            feed_title: "Feed".into(),
            summary: Some("<script>alert(1)</script><p>Talks in <i>Moscow</i></p>".into()),
            published_at: 0,
            matched_at: 60,
            updated_at: None,
        };
        let xml = topic_feed("nk-russia", "NK & RU", "http://h/t.atom", &[entry], 100);
        assert!(xml.contains("<title type=\"text\">&lt;b&gt;Kim&lt;/b&gt; &amp; Putin</title>"));
        assert!(!xml.contains("<script"), "{xml}");
        assert!(!xml.contains("javascript:"), "{xml}");
        assert!(xml.contains("Talks in Moscow"), "{xml}");
        assert!(xml.contains("<updated>1970-01-01T00:01:00Z</updated>"));
    }
}
