//! Feed autodiscovery: finding the feeds an HTML page advertises, and telling feeds from pages.
//!
//! [`discover_feeds`] reads `<link rel="alternate" type="..." href="...">` elements:
//! - `rel` is a space-separated token list and must contain `alternate` (any case);
//! - `type` (any case, parameters such as `; charset=utf-8` ignored) picks the kind:
//!   `application/rss+xml` is `"rss"`, `application/atom+xml` is `"atom"`,
//!   `application/feed+json` and `application/json` are `"json"`;
//! - `href` is resolved against the first `<base href>` (itself resolved against the page
//!   URL; ignored unless `http`/`https`) or the page URL; only `http`/`https` results are kept;
//! - results are in document order, deduplicated by URL (the first one wins).
//!
//! Links are looked for in the whole document, not only in `<head>`: after stray content in
//! the head, HTML parsers move the remaining `<link>`s into `<body>`.
//! `application/json` links pointing at the WordPress REST API (`/wp-json/...` or
//! `?rest_route=`) are skipped: WordPress advertises one as `rel="alternate"` on every page.
//!
//! [`looks_like_feed`] decides whether a fetched body is a feed rather than a page.

use dom_query::Document;
use url::Url;

/// A feed advertised by an HTML page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredFeed {
    pub url: Url,
    pub title: Option<String>,
    /// `"rss"`, `"atom"` or `"json"`.
    pub kind: &'static str,
}

/// The feeds advertised by `html`, which was fetched from `page_url`.
pub fn discover_feeds(html: &str, page_url: &Url) -> Vec<DiscoveredFeed> {
    let document = Document::from(html);
    let base = document
        .select("base[href]")
        .nodes()
        .first()
        .and_then(|base| base.attr("href"))
        .and_then(|href| page_url.join(href.trim()).ok())
        .filter(|base| matches!(base.scheme(), "http" | "https"))
        .unwrap_or_else(|| page_url.clone());

    let mut feeds: Vec<DiscoveredFeed> = Vec::new();
    for link in document.select("link[rel][type][href]").nodes() {
        let rel = link.attr("rel").unwrap_or_default().to_ascii_lowercase();
        if !rel
            .split_ascii_whitespace()
            .any(|token| token == "alternate")
        {
            continue;
        }
        let Some(kind) = feed_kind(&link.attr("type").unwrap_or_default()) else {
            continue;
        };
        let href = link.attr("href").unwrap_or_default();
        let href = href.trim();
        if href.is_empty() {
            continue;
        }
        let Ok(url) = base.join(href) else {
            continue;
        };
        if !matches!(url.scheme(), "http" | "https") || feeds.iter().any(|f| f.url == url) {
            continue;
        }
        if kind == "json" && is_wordpress_api(&url) {
            continue;
        }
        let title = link
            .attr("title")
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        feeds.push(DiscoveredFeed { url, title, kind });
    }
    feeds
}

/// The feed kind for a `<link type>` value, if it is a feed type.
fn feed_kind(mime_type: &str) -> Option<&'static str> {
    let essence = mime_type.split(';').next().unwrap_or("").trim();
    match essence.to_ascii_lowercase().as_str() {
        "application/rss+xml" => Some("rss"),
        "application/atom+xml" => Some("atom"),
        "application/feed+json" | "application/json" => Some("json"),
        _ => None,
    }
}

fn is_wordpress_api(url: &Url) -> bool {
    url.path().contains("/wp-json/") || url.query_pairs().any(|(key, _)| key == "rest_route")
}

/// Whether a fetched body is a feed (RSS, Atom, RDF or JSON Feed) rather than a web page.
///
/// The body decides when it can. A feed's root element (its first tag, after any BOM,
/// whitespace, XML declaration, processing instructions, comments and doctype) is `<rss>`, `<feed>` or `<rdf:RDF>`, and a JSON Feed is an object naming a
/// `https://jsonfeed.org/version/...`; any other root (`<html>`, XHTML, sitemaps, OPML) is
/// not a feed. Only when the body is inconclusive (empty, not markup, or JSON without the
/// marker) does the content type decide: the feed types, plus the generic `application/xml`
/// and `text/xml`. The body is trusted over the content type because servers label XHTML
/// pages `application/xml` and feeds `text/html` often enough. UTF-16 bodies are not
/// recognised (inconclusive).
pub fn looks_like_feed(body: &[u8], content_type: Option<&str>) -> bool {
    match sniff(body) {
        Sniffed::Feed => true,
        Sniffed::NotFeed => false,
        Sniffed::Unknown => content_type.is_some_and(is_feed_content_type),
    }
}

fn is_feed_content_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    matches!(
        essence.to_ascii_lowercase().as_str(),
        "application/rss+xml"
            | "application/atom+xml"
            | "application/rdf+xml"
            | "application/feed+json"
            | "application/xml"
            | "text/xml"
    )
}

enum Sniffed {
    Feed,
    NotFeed,
    Unknown,
}

fn sniff(body: &[u8]) -> Sniffed {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let body = body.trim_ascii_start();
    if body.starts_with(b"{") {
        // JSON may escape the slashes: "https:\/\/jsonfeed.org\/version\/1.1"
        let marker =
            contains(body, b"jsonfeed.org/version/") || contains(body, br"jsonfeed.org\/version\/");
        return if marker {
            Sniffed::Feed
        } else {
            Sniffed::Unknown
        };
    }
    match root_element_name(body) {
        Some(name) => {
            let name = name.to_ascii_lowercase();
            let local = name.rsplit(|&b| b == b':').next().unwrap_or(&name);
            if matches!(local, b"rss" | b"feed" | b"rdf") {
                Sniffed::Feed
            } else {
                Sniffed::NotFeed
            }
        }
        None => Sniffed::Unknown,
    }
}

/// The name of the first element, skipping the XML declaration, processing instructions,
/// comments, doctype and whitespace in front of it.
fn root_element_name(mut rest: &[u8]) -> Option<&[u8]> {
    loop {
        rest = rest.trim_ascii_start();
        if rest.starts_with(b"<?") {
            rest = after(rest, b"?>")?;
        } else if rest.starts_with(b"<!--") {
            rest = after(rest, b"-->")?;
        } else if starts_with_ignore_case(rest, b"<!doctype") {
            // An internal subset `[...]` may contain '>'.
            let end = rest.iter().position(|&b| b == b'>')?;
            if rest[..end].contains(&b'[') {
                rest = after(rest, b"]")?;
            }
            rest = after(rest, b">")?;
        } else if let Some(tag) = rest.strip_prefix(b"<") {
            return leading_name(tag);
        } else {
            return None;
        }
    }
}

/// The XML name at the start of `s`, if any.
fn leading_name(s: &[u8]) -> Option<&[u8]> {
    let len = s
        .iter()
        .position(|&b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/' | b'['))
        .unwrap_or(s.len());
    (len > 0).then(|| &s[..len])
}

/// The part of `haystack` after the first `needle`.
fn after<'a>(haystack: &'a [u8], needle: &[u8]) -> Option<&'a [u8]> {
    let at = haystack.windows(needle.len()).position(|w| w == needle)?;
    Some(&haystack[at + needle.len()..])
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn starts_with_ignore_case(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack.len() >= prefix.len() && haystack[..prefix.len()].eq_ignore_ascii_case(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://example.com/blog/post.html").unwrap()
    }

    fn urls(feeds: &[DiscoveredFeed]) -> Vec<&str> {
        feeds.iter().map(|f| f.url.as_str()).collect()
    }

    #[test]
    fn finds_alternate_links_in_order() {
        let html = r#"<!DOCTYPE html><html><head>
            <title>Blog</title>
            <link rel="stylesheet" type="text/css" href="/style.css">
            <link rel="Alternate" type="application/RSS+XML" title=" Posts " href="feed.xml">
            <link rel="alternate nofollow" type="application/atom+xml; charset=utf-8" href="/atom.xml">
            <link rel="alternate" type="application/feed+json" href="//cdn.example.com/feed.json">
            <link rel="alternate" type="application/json" href="https://example.com/wp-json/wp/v2/posts/1">
            <link rel="alternate" type="application/json" href="/?rest_route=/wp/v2/posts/1">
            <link rel="alternate" type="application/rss+xml" href="https://example.com/blog/feed.xml">
            <link rel="alternate" type="text/html" hreflang="de" href="/de/">
            <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
            <link rel="alternate" type="application/rss+xml" href="  ">
            <link rel="feed" type="application/rss+xml" href="/not-alternate.xml">
            </head><body><a rel="alternate" type="application/rss+xml" href="/a.xml">a</a></body></html>"#;
        let feeds = discover_feeds(html, &page());
        assert_eq!(
            urls(&feeds),
            [
                "https://example.com/blog/feed.xml",
                "https://example.com/atom.xml",
                "https://cdn.example.com/feed.json",
            ]
        );
        assert_eq!(
            feeds.iter().map(|f| f.kind).collect::<Vec<_>>(),
            ["rss", "atom", "json"]
        );
        assert_eq!(feeds[0].title.as_deref(), Some("Posts"));
        assert_eq!(feeds[1].title, None);
    }

    #[test]
    fn base_href_and_links_pushed_into_body() {
        let html = r#"<html><head><base href="/feeds/sub/">
            <title>x</title>stray text
            <link rel="alternate" type="application/atom+xml" href="../atom.xml">
            </head><body></body></html>"#;
        let feeds = discover_feeds(html, &page());
        assert_eq!(urls(&feeds), ["https://example.com/feeds/atom.xml"]);
    }

    /// A page of the shared feeds corpus beside the checkout.
    fn corpus_page(name: &str) -> String {
        let path = crate::shared_file("feeds-corpus/edge/not-a-feed").join(name);
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn corpus_pages() {
        let expectations: [(&str, &[&str]); 4] = [
            (
                "feedjira-2009-JoomlapoweredSite.html",
                &["http://gslounge.com/rss.xml"],
            ),
            (
                "feedjira-2009-SFRubyorgHome.html",
                &["http://sfruby.org/?feed=rss2"],
            ),
            ("feedjira-2009-scRUBYt.html", &[]),
            ("feedjira-2009-titleunknown.html", &[]),
        ];
        for (name, expected) in expectations {
            let html = corpus_page(name);
            let feeds = discover_feeds(&html, &Url::parse("http://example.org/").unwrap());
            assert_eq!(urls(&feeds), expected, "{name}");
            assert!(feeds.iter().all(|f| f.kind == "rss" && f.title.is_some()));
            assert!(
                !looks_like_feed(html.as_bytes(), Some("text/html")),
                "{name}"
            );
            assert!(
                !looks_like_feed(html.as_bytes(), Some("application/xml")),
                "{name}"
            );
        }
    }

    #[test]
    fn sniffs_feeds() {
        let feeds: [&[u8]; 8] = [
            b"\xEF\xBB\xBF\n  <?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel/></rss>",
            b"<?xml version='1.0'?><!-- generator --><?xml-stylesheet href='a.xsl'?>\n<feed xmlns='http://www.w3.org/2005/Atom'>",
            b"<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">",
            b"<!DOCTYPE rss PUBLIC \"-//Netscape Communications//DTD RSS 0.91//EN\" \"x.dtd\"><rss>",
            b"<!DOCTYPE rss [<!ENTITY a \"<b>\">]><rss version=\"0.91\">",
            b"<RSS version=\"2.0\">",
            b"  {\"version\": \"https://jsonfeed.org/version/1.1\", \"title\": \"x\", \"items\": []}",
            br#"{"title": "x", "version": "https:\/\/jsonfeed.org\/version\/1"}"#,
        ];
        for body in feeds {
            assert!(
                looks_like_feed(body, None),
                "{}",
                String::from_utf8_lossy(body)
            );
            // The body wins over a wrong content type.
            assert!(looks_like_feed(body, Some("text/html")));
        }
    }

    #[test]
    fn sniffs_non_feeds() {
        let pages: [&[u8]; 6] = [
            b"<!doctype html><html><head><link rel=alternate type=application/rss+xml href=/f>",
            b"<?xml version=\"1.0\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"x.dtd\"><html>",
            b"<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\">",
            b"<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">",
            b"<?xml version=\"1.0\"?><opml version=\"2.0\">",
            b"<html><body>feed</body></html>",
        ];
        for body in pages {
            assert!(
                !looks_like_feed(body, Some("application/rss+xml")),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn content_type_decides_when_body_is_inconclusive() {
        assert!(looks_like_feed(
            b"",
            Some("application/atom+xml; charset=utf-8")
        ));
        assert!(looks_like_feed(
            b"{\"items\": []}",
            Some("application/feed+json")
        ));
        assert!(looks_like_feed(b"   ", Some("TEXT/XML")));
        assert!(!looks_like_feed(
            b"{\"items\": []}",
            Some("application/json")
        ));
        assert!(!looks_like_feed(b"plain text", Some("text/plain")));
        assert!(!looks_like_feed(b"", None));
    }
}
