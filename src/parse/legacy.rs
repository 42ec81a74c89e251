//! Byte-level fixes that let feed-rs read old and sloppy feeds: Atom 0.3, RSS without a
//! version or with 0.90, and the Userland RSS 2 default namespace. Only the prolog and root tag
//! are rewritten, never item content. Works on UTF-8 (see `charset`).

use std::borrow::Cow;

const ATOM_03_NS: &[u8] = b"http://purl.org/atom/ns#";
const ATOM_10_NS: &[u8] = b"http://www.w3.org/2005/Atom";
const USERLAND_RSS2_NS: &[u8] = b" xmlns=\"http://backend.userland.com/rss2\"";

/// RSS versions feed-rs dispatches on.
const KNOWN_RSS_VERSIONS: &[&str] = &["0.91", "0.92", "2.0"];

/// Returns the body with legacy markers rewritten, or unchanged (borrowed) when none apply.
pub fn prepare(body: &[u8]) -> Cow<'_, [u8]> {
    let Some((root_start, root_end)) = root_tag(body) else {
        return Cow::Borrowed(body);
    };
    let root = &body[root_start..root_end];
    let mut out: Option<Vec<u8>> = None;

    if root.starts_with(b"<rss")
        && root
            .get(4)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'>')
    {
        let mut tag = root.to_vec();
        let version = attribute(&tag, b"version");
        if !version
            .as_deref()
            .is_some_and(|v| KNOWN_RSS_VERSIONS.contains(&v))
        {
            tag = set_version(&tag, version.is_some());
        }
        if let Some(pos) = find(&tag, USERLAND_RSS2_NS) {
            tag.drain(pos..pos + USERLAND_RSS2_NS.len());
        }
        if tag != root {
            let mut v = Vec::with_capacity(body.len() + 16);
            v.extend_from_slice(&body[..root_start]);
            v.extend_from_slice(&tag);
            v.extend_from_slice(&body[root_end..]);
            out = Some(v);
        }
    } else if root.starts_with(b"<feed") && find(root, ATOM_03_NS).is_some() {
        // Atom 0.3 is read as Atom 1.0: same namespace role, issued/modified renamed.
        let mut v = replace_all(body, ATOM_03_NS, ATOM_10_NS);
        for (old, new) in [("issued", "published"), ("modified", "updated")] {
            v = replace_all(
                &v,
                format!("<{old}>").as_bytes(),
                format!("<{new}>").as_bytes(),
            );
            v = replace_all(
                &v,
                format!("</{old}>").as_bytes(),
                format!("</{new}>").as_bytes(),
            );
        }
        // 0.3's mode="escaped" content is HTML; say so the 1.0 way.
        v = replace_all(&v, b"type=\"text/html\" mode=\"escaped\"", b"type=\"html\"");
        v = replace_all(&v, b"mode=\"escaped\" type=\"text/html\"", b"type=\"html\"");
        out = Some(v);
    }
    match out {
        Some(v) => Cow::Owned(v),
        None => Cow::Borrowed(body),
    }
}

/// Cuts a feed with more than `max` entries after its `max`-th `<item>`/`<entry>` and closes
/// the document, so a hostile feed of a million items cannot make the parser hold them all.
/// Returns the cut body and how many entries the original had, or `None` when under `max`.
pub fn truncate_entries(body: &[u8], max: usize) -> Option<(Vec<u8>, usize)> {
    let (start, end) = root_tag(body)?;
    let root = &body[start + 1..end];
    let name_end = root
        .iter()
        .position(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
        .unwrap_or(root.len());
    let (entry, closing): (&[u8], &[u8]) = match &root[..name_end] {
        b"rss" => (b"<item", b"</channel></rss>"),
        b"rdf:RDF" => (b"<item", b"</rdf:RDF>"),
        b"feed" => (b"<entry", b"</feed>"),
        _ => return None,
    };
    let mut count = 0;
    let mut cut = None;
    let finder = memchr::memmem::Finder::new(entry);
    for pos in finder.find_iter(body) {
        // `<item>` or `<item attr…>`, not `<items>`.
        if !body
            .get(pos + entry.len())
            .is_some_and(|b| *b == b'>' || b.is_ascii_whitespace())
        {
            continue;
        }
        count += 1;
        if count == max + 1 {
            cut = Some(pos);
        }
    }
    let cut = cut?;
    let mut out = Vec::with_capacity(cut + closing.len());
    out.extend_from_slice(&body[..cut]);
    out.extend_from_slice(closing);
    Some((out, count))
}

/// True when the document's root element is one a feed has (`rss`, `feed`, `rdf:RDF`).
pub fn root_is_feed(body: &[u8]) -> bool {
    root_tag(body).is_some_and(|(start, end)| {
        let tag = &body[start + 1..end];
        let name_end = tag
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
            .unwrap_or(tag.len());
        matches!(&tag[..name_end], b"rss" | b"feed" | b"rdf:RDF" | b"RDF")
    })
}

/// The byte range of the root element's start tag (skipping the declaration, comments,
/// processing instructions and DOCTYPE).
fn root_tag(body: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    let limit = body.len().min(64 * 1024);
    while i < limit {
        let start = i + body[i..limit].iter().position(|&b| b == b'<')?;
        let next = body.get(start + 1)?;
        if matches!(next, b'?' | b'!') {
            let close = if body[start..].starts_with(b"<!--") {
                &b"-->"[..]
            } else {
                &b">"[..]
            };
            i = start + find(&body[start..limit], close)? + close.len();
            continue;
        }
        let end = start + find(&body[start..limit], b">")? + 1;
        return Some((start, end));
    }
    None
}

fn attribute(tag: &[u8], name: &[u8]) -> Option<String> {
    let mut from = 0;
    while let Some(pos) = find(&tag[from..], name) {
        let at = from + pos;
        let before_ok = at > 0 && tag[at - 1].is_ascii_whitespace();
        let rest = &tag[at + name.len()..];
        let trimmed = rest
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map(|p| &rest[p..])
            .unwrap_or(&[]);
        if before_ok && trimmed.first() == Some(&b'=') {
            let value = &trimmed[1..];
            let value = &value[value
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(0)..];
            let quote = *value.first()?;
            if quote == b'"' || quote == b'\'' {
                let end = value[1..].iter().position(|&b| b == quote)?;
                return Some(String::from_utf8_lossy(&value[1..1 + end]).into_owned());
            }
        }
        from = at + name.len();
    }
    None
}

/// Sets `version="2.0"` on an `<rss` tag, replacing an unknown version or adding one.
fn set_version(tag: &[u8], has_version: bool) -> Vec<u8> {
    if has_version {
        let pos = find(tag, b"version").unwrap_or(0);
        let eq = pos + tag[pos..].iter().position(|&b| b == b'=').unwrap_or(0);
        let open = eq
            + tag[eq..]
                .iter()
                .position(|&b| b == b'"' || b == b'\'')
                .unwrap_or(0);
        let quote = tag[open];
        let close = open
            + 1
            + tag[open + 1..]
                .iter()
                .position(|&b| b == quote)
                .unwrap_or(0);
        let mut v = tag[..open + 1].to_vec();
        v.extend_from_slice(b"2.0");
        v.extend_from_slice(&tag[close..]);
        v
    } else {
        let mut v = b"<rss version=\"2.0\"".to_vec();
        v.extend_from_slice(&tag[4..]);
        v
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(pos) = find(rest, needle) {
        out.extend_from_slice(&rest[..pos]);
        out.extend_from_slice(with);
        rest = &rest[pos + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_versions_and_namespace() {
        let fixed = prepare(b"<?xml version=\"1.0\"?>\n<!DOCTYPE rss SYSTEM \"x.dtd\">\n<rss version=\"0.9\"><channel/></rss>");
        assert!(
            find(&fixed, b"<rss version=\"2.0\">").is_some(),
            "{}",
            String::from_utf8_lossy(&fixed)
        );
        let fixed = prepare(b"<rss>\n<channel/></rss>");
        assert!(fixed.starts_with(b"<rss version=\"2.0\">"));
        let fixed = prepare(
            b"<rss version=\"2.0\" xmlns=\"http://backend.userland.com/rss2\"><channel/></rss>",
        );
        assert_eq!(&fixed[..], b"<rss version=\"2.0\"><channel/></rss>");
        let untouched = b"<rss version=\"2.0\"><channel/></rss>";
        assert!(matches!(prepare(untouched), Cow::Borrowed(_)));
    }

    #[test]
    fn huge_feeds_are_cut_after_the_cap() {
        let mut rss = b"<rss version=\"2.0\"><channel><title>T</title><items/>".to_vec();
        for i in 0..10 {
            rss.extend(format!("<item><guid>{i}</guid></item>").as_bytes());
        }
        rss.extend(b"</channel></rss>");
        let (cut, total) = truncate_entries(&rss, 3).unwrap();
        assert_eq!(total, 10);
        let text = String::from_utf8(cut).unwrap();
        assert!(
            text.ends_with("<guid>2</guid></item></channel></rss>"),
            "{text}"
        );
        assert!(truncate_entries(&rss, 10).is_none());
    }
}
