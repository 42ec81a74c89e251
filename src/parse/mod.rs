//! Feed bytes → `FeedMeta` and `NewItem`s: the body decoded to UTF-8 (`charset`), feed-rs over
//! it with the feed URL as base, repairs and an entry-by-entry reading when feed-rs rejects the
//! document (`salvage`), our own stable dedup key, canonical links and a content hash. Pure.

use std::borrow::Cow;
use std::collections::HashSet;

use feed_rs::model::{Entry, Text};
use url::Url;

use crate::model::{FeedMeta, NewItem};

mod charset;
mod codepages;
mod legacy;
mod salvage;

use salvage::Rejection;

/// A parsed feed.
#[derive(Debug, Clone, Default)]
pub struct ParsedFeed {
    pub meta: FeedMeta,
    /// How many entries the document had when it had more than [`MAX_ENTRIES`] (the rest were
    /// not read).
    pub truncated_from: Option<usize>,
    /// Entries in document order, one per dedup key (the first wins).
    pub items: Vec<NewItem>,
    /// Entries dropped because an earlier entry had the same key.
    pub duplicate_keys: usize,
    /// What had to be repaired for feed-rs to read the document (empty when it read it as
    /// served), for the log.
    pub repairs: Vec<String>,
    /// Entries that could not be read even on their own; every other entry is in `items`.
    pub skipped: Vec<SkippedEntry>,
}

/// An entry left out because feed-rs could not read it.
#[derive(Debug, Clone)]
pub struct SkippedEntry {
    /// Its place among the document's entries, from 0.
    pub index: usize,
    /// Its guid, link or title, to find it in the feed.
    pub label: String,
    /// feed-rs's reason.
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
#[error("parse feed {url}: {reason}")]
pub struct ParseError {
    pub url: String,
    pub reason: String,
}

/// Entries read from one feed document at most; a feed with more is cut (and says so).
pub const MAX_ENTRIES: usize = 10_000;

/// Query parameters that only track the reader; removed from links.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "at_medium",
    "at_campaign",
    "ocid",
    "ncid",
    "cmpid",
    "ref_src",
    "ns_mchannel",
    "ns_campaign",
    "ito",
];

/// Parses a feed from its raw bytes (never a decoded string: the XML declaration names the
/// charset). `url` is the base for relative links and names the feed in errors.
pub fn parse_feed(body: &[u8], url: &str) -> Result<ParsedFeed, ParseError> {
    parse_response(body, url, None)
}

/// Parses a feed as served: `content_type` is the HTTP Content-Type header, whose charset
/// (if any) takes part in choosing the body's charset (see `charset`).
pub fn parse_response(
    body: &[u8],
    url: &str,
    content_type: Option<&str>,
) -> Result<ParsedFeed, ParseError> {
    let error = |reason: String| ParseError {
        url: url.to_string(),
        reason,
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(error("the body is empty".into()));
    }
    let decoded = charset::to_utf8(body, content_type);
    let truncated = legacy::truncate_entries(&decoded, MAX_ENTRIES);
    let body: &[u8] = truncated
        .as_ref()
        .map_or(&decoded, |(cut, _)| cut.as_slice());
    let prepared = legacy::prepare(body);
    let read = match read_feed(&prepared, url, true) {
        Ok(read) => read,
        // `<rss version="2.0"></rss>` and friends: a feed with nothing in it yet.
        Err(e)
            if e.message.contains("no root element")
                && legacy::root_is_feed(&prepared)
                && salvage::split_entries(&prepared).is_none() =>
        {
            return Ok(ParsedFeed::default());
        }
        Err(e) => {
            let looks_html = body.len() > 20 && {
                let head =
                    String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
                head.contains("<html") || head.contains("<!doctype html")
            };
            return Err(if looks_html {
                error(format!(
                    "not a feed: the server sent an HTML page ({})",
                    e.message
                ))
            } else {
                error(e.message)
            });
        }
    };
    let feed = read.feed;

    let base = Url::parse(url).ok();
    let meta = FeedMeta {
        title: feed
            .title
            .as_ref()
            .map(plain_text)
            .filter(|t| !t.is_empty()),
        site_url: feed
            .links
            .iter()
            .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
            .map(|l| l.href.clone()),
        ttl_minutes: feed.ttl,
    };
    let mut seen = HashSet::with_capacity(feed.entries.len());
    let mut parsed = ParsedFeed {
        meta,
        truncated_from: truncated.as_ref().map(|(_, total)| *total),
        items: Vec::with_capacity(feed.entries.len()),
        duplicate_keys: 0,
        repairs: read.repairs,
        skipped: read.skipped,
    };
    // Entries are consumed one by one, so each parsed entry is freed as its item is built.
    for entry in feed.entries {
        let item = new_item(&entry, base.as_ref());
        if seen.insert(item.dedup_key.clone()) {
            parsed.items.push(item);
        } else {
            parsed.duplicate_keys += 1;
        }
    }
    Ok(parsed)
}

/// What feed-rs read from a document, and what it took.
struct Read {
    feed: feed_rs::model::Feed,
    repairs: Vec<String>,
    skipped: Vec<SkippedEntry>,
}

/// feed-rs over the whole document; when it rejects it, the element it names is repaired and
/// the document read again; when that is not enough, the feed's own elements and each entry
/// are read on their own, and an entry that still cannot be read is skipped (see `salvage`).
/// Fails only when the feed's own elements cannot be read, or no entry can.
/// `look_inside`: whether a document whose root is not a feed may be searched for a feed element
/// (once: the inner document is not searched again).
fn read_feed(doc: &[u8], url: &str, look_inside: bool) -> Result<Read, Rejection> {
    let parse = |d: &[u8]| run_feed_rs(d, url);
    let whole = match salvage::parse_with_repairs(doc, parse) {
        Ok((feed, repairs)) => {
            return Ok(Read {
                feed,
                repairs,
                skipped: Vec::new(),
            });
        }
        Err(rejection) => rejection,
    };
    if !legacy::root_is_feed(doc) {
        if !look_inside {
            return Err(whole);
        }
        // A feed pasted inside a page: read the feed alone.
        let inner = salvage::embedded_feed(doc).ok_or_else(|| whole.clone())?;
        let mut read = read_feed(&inner, url, false).map_err(|_| whole.clone())?;
        read.repairs.insert(
            0,
            "read the feed element found inside the document".to_string(),
        );
        return Ok(read);
    }
    let Some(split) = salvage::split_entries(doc) else {
        return Err(whole);
    };
    let (mut feed, mut repairs) = match salvage::parse_with_repairs(&split.shell, parse) {
        Ok(read) => read,
        // The feed's own elements are unreadable: its entries may still be read, inside the
        // bare elements around them.
        Err(_) => {
            let bare = [split.prefix.as_slice(), split.suffix.as_slice()].concat();
            salvage::parse_with_repairs(&bare, parse).map_err(|_| whole.clone())?
        }
    };
    feed.entries.clear();
    let mut skipped = Vec::new();
    for index in 0..split.entries.len() {
        match salvage::parse_with_repairs(&split.document(index), parse) {
            Ok((one, entry_repairs)) => {
                feed.entries.extend(one.entries);
                repairs.extend(entry_repairs);
            }
            Err(rejection) => skipped.push(SkippedEntry {
                index,
                label: salvage::entry_label(split.entries[index]),
                reason: rejection.message,
            }),
        }
    }
    if split.cut_short_in_entry {
        skipped.push(SkippedEntry {
            index: split.entries.len(),
            label: "cut short by the end of the document".to_string(),
            reason: whole.message.clone(),
        });
    }
    if feed.entries.is_empty() && !skipped.is_empty() {
        return Err(whole);
    }
    repairs.insert(0, format!("read entry by entry after: {}", whole.message));
    Ok(Read {
        feed,
        repairs,
        skipped,
    })
}

/// One feed-rs parse with a fresh parser (its state is not reusable after an error). A panic
/// inside feed-rs on hostile input becomes a parse error instead of taking the daemon down.
fn run_feed_rs(body: &[u8], url: &str) -> Result<feed_rs::model::Feed, Rejection> {
    use feed_rs::parser::{ParseErrorKind, ParseFeedError};
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(url))
        // An empty id marks "the publisher gave no guid"; we derive our own key then.
        .id_generator(|_, _, _| String::new())
        .timestamp_parser(crate::dates::parse_feed_date)
        .build();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parser.parse(body))) {
        Ok(Ok(feed)) => Ok(feed),
        Ok(Err(e)) => {
            let position = match &e {
                ParseFeedError::ParseError(
                    ParseErrorKind::MissingContent { position, .. }
                    | ParseErrorKind::UnknownMimeType { position, .. }
                    | ParseErrorKind::UnknownEnumVariant { position, .. }
                    | ParseErrorKind::IllegalState { position, .. },
                ) => usize::try_from(*position).ok(),
                _ => None,
            };
            Err(Rejection {
                message: e.to_string(),
                position,
            })
        }
        Err(_) => Err(Rejection {
            message: "the feed parser failed on this document (internal panic)".to_string(),
            position: None,
        }),
    }
}

fn new_item(entry: &Entry, base: Option<&Url>) -> NewItem {
    let title = entry
        .title
        .as_ref()
        .map(plain_text)
        .filter(|t| !t.is_empty());
    let link = entry
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or(entry.links.first())
        .map(|l| l.href.trim());
    // A link escaped twice in the feed (`&amp;amp;` in the XML) still reads `&amp;` here;
    // feedparser decodes it, and so do we.
    let decoded_link = link.map(decode_entities);
    let url = decoded_link
        .as_deref()
        .and_then(|href| canonical_url(href, base));
    let summary = entry
        .summary
        .as_ref()
        .map(|t| fix_c1_references(&fix_c1_controls(t.content.trim())))
        .filter(|s| !s.is_empty());
    let content = entry
        .content
        .as_ref()
        .and_then(|c| c.body.as_deref())
        .map(|b| fix_c1_references(&fix_c1_controls(b.trim())))
        .filter(|s| !s.is_empty());
    let author = entry
        .authors
        .iter()
        .filter_map(|p| p.name.as_deref().map(str::trim).filter(|n| !n.is_empty()))
        .next()
        .map(str::to_string);
    let published = entry.published.or(entry.updated);
    let guid = Some(entry.id.trim().to_string()).filter(|g| !g.is_empty());

    // Before links were decoded, such a link was keyed as it read.
    let former_key = match (&guid, link, &decoded_link) {
        (None, Some(raw), Some(Cow::Owned(_))) => canonical_url(raw, base)
            .map(|u| format!("u:{u}"))
            .filter(|k| url.as_deref().is_none_or(|u| k[2..] != *u)),
        _ => None,
    };
    let dedup_key = match (&guid, &url) {
        (Some(guid), _) => format!("g:{guid}"),
        (None, Some(url)) => format!("u:{url}"),
        (None, None) => {
            let date = published
                .map(|d| d.timestamp().to_string())
                .unwrap_or_default();
            let basis = format!(
                "{}\u{0}{date}\u{0}{}",
                title.as_deref().unwrap_or(""),
                summary.as_deref().unwrap_or("")
            );
            format!("h:{:032x}", xxhash_rust::xxh3::xxh3_128(basis.as_bytes()))
        }
    };
    let content_hash = content_hash(&[
        title.as_deref(),
        url.as_deref(),
        summary.as_deref(),
        content.as_deref(),
        author.as_deref(),
    ]);
    NewItem {
        dedup_key,
        guid,
        url,
        title,
        summary,
        content,
        author,
        published_original: published.map(|d| d.timestamp()),
        content_hash,
        former_key,
    }
}

/// A link with its HTML character references (`&amp;`, `&#38;`, `&#x26;`) decoded once;
/// borrowed when it has none. Only references closed by `;` count, so a query such as
/// `?a=1&copy=2` is left as it is.
fn decode_entities(href: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    for (at, _) in href.match_indices('&') {
        if at < copied {
            continue;
        }
        let rest = &href[at + 1..];
        let Some(end) = rest.find(';').filter(|&e| e > 0 && e <= 32) else {
            continue;
        };
        let name = &rest[..end];
        let valid = match name.strip_prefix('#') {
            Some(num) => {
                num.strip_prefix(['x', 'X'])
                    .map_or(num.bytes().all(|b| b.is_ascii_digit()), |hex| {
                        !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit())
                    })
                    && !num.is_empty()
            }
            None => name.bytes().all(|b| b.is_ascii_alphanumeric()),
        };
        if !valid {
            continue;
        }
        let reference = &href[at..at + end + 2];
        let decoded = html_escape::decode_html_entities(reference);
        if decoded == reference {
            continue;
        }
        out.push_str(&href[copied..at]);
        out.push_str(&decoded);
        copied = at + end + 2;
    }
    if copied == 0 {
        return Cow::Borrowed(href);
    }
    out.push_str(&href[copied..]);
    Cow::Owned(out)
}

/// A hash over the fields whose change means the item was edited.
fn content_hash(fields: &[Option<&str>]) -> String {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for field in fields {
        hasher.update(field.unwrap_or("").as_bytes());
        hasher.update(&[0]);
    }
    format!("{:032x}", hasher.digest128())
}

/// The link as we store and compare it: absolute, scheme and host lower-cased (the url crate
/// does that), no fragment, no tracking parameters. `None` if it is not an http(s) URL.
pub fn canonical_url(href: &str, base: Option<&Url>) -> Option<String> {
    let mut url = match base {
        Some(base) => base.join(href).ok()?,
        None => Url::parse(href).ok()?,
    };
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.set_fragment(None);
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| {
                let k = k.to_ascii_lowercase();
                !k.starts_with("utm_") && !TRACKING_PARAMS.contains(&k.as_str())
            })
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    Some(url.to_string())
}

/// A feed text field as plain text: tags dropped and every HTML entity decoded (feeds use
/// HTML entities such as `&yen;` that XML leaves undefined).
fn plain_text(text: &Text) -> String {
    let raw = text.content.trim();
    let text = if raw.contains('<') || raw.contains('&') {
        dom_query::Document::fragment(raw).text().to_string()
    } else {
        raw.to_string()
    };
    collapse_whitespace(&fix_c1_controls(&text))
}

fn collapse_whitespace(s: &str) -> String {
    s.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}

/// C1 control characters in feed text are windows-1252 bytes mislabelled as Latin-1
/// (`don\u{92}t` was `don’t`); read them as windows-1252.
fn fix_c1_controls(s: &str) -> String {
    // U+0080..U+009F are encoded as 0xC2 0x80..0x9F; look for those bytes, not characters.
    let bytes = s.as_bytes();
    let has_c1 = memchr::memchr_iter(0xc2, bytes)
        .any(|at| bytes.get(at + 1).is_some_and(|b| (0x80..=0x9f).contains(b)));
    if !has_c1 {
        return s.to_string();
    }
    s.chars()
        .map(|c| match c {
            '\u{80}'..='\u{9f}' => {
                let byte = [c as u32 as u8];
                encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(&byte)
                    .0
                    .chars()
                    .next()
                    .unwrap_or(c)
            }
            c => c,
        })
        .collect()
}

/// Numeric references to C1 controls in feed HTML (`&#146;`, `&#x92;`) mean windows-1252
/// characters, as HTML5 parsers read them: written as the reference to that character
/// (`&#x2019;`), so the text reads right wherever it is shown, as feedparser writes it.
fn fix_c1_references(html: &str) -> String {
    if !html.contains("&#") {
        return html.to_string();
    }
    let mut out = String::with_capacity(html.len());
    let mut copied = 0;
    for (at, _) in html.match_indices("&#") {
        if at < copied {
            continue;
        }
        let rest = &html[at + 2..];
        let Some(end) = rest.find(';').filter(|&e| e > 0 && e <= 8) else {
            continue;
        };
        let code = match rest[..end].strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => rest[..end].parse::<u32>().ok(),
        };
        let Some(byte) = code.filter(|c| (0x80..=0x9f).contains(c)) else {
            continue;
        };
        let decoded = encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(&[byte as u8])
            .0
            .chars()
            .next()
            .filter(|c| u32::from(*c) > 0x9f);
        let Some(c) = decoded else {
            continue;
        };
        out.push_str(&html[copied..at]);
        out.push_str(&format!("&#x{:x};", u32::from(c)));
        copied = at + 2 + end + 1;
    }
    out.push_str(&html[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c1_controls_read_as_windows_1252_and_nothing_else_changes() {
        assert_eq!(
            fix_c1_controls("don\u{92}t \u{93}quoted\u{94}"),
            "don’t “quoted”"
        );
        // U+00A0 (0xC2 0xA0) shares the C1 controls' lead byte but is not one; Â is 0xC3 0x82.
        for plain in ["no\u{a0}break", "Âé", "plain", "", "€ ok"] {
            assert_eq!(fix_c1_controls(plain), plain);
        }
    }

    #[test]
    fn c1_references_become_windows_1252_references() {
        assert_eq!(fix_c1_references("don&#146;t"), "don&#x2019;t");
        assert_eq!(
            fix_c1_references("&#x93;q&#X94; &#8217; &#129;"),
            "&#x201c;q&#x201d; &#8217; &#129;"
        );
    }

    #[test]
    fn canonical_links_drop_tracking_and_fragment() {
        let base = Url::parse("https://Example.COM/feed.xml").unwrap();
        assert_eq!(
            canonical_url("/a/b?id=3&utm_source=rss&fbclid=x#top", Some(&base)).as_deref(),
            Some("https://example.com/a/b?id=3")
        );
        assert_eq!(
            canonical_url("HTTP://X.org/p?utm_medium=1", None).as_deref(),
            Some("http://x.org/p")
        );
        assert_eq!(canonical_url("mailto:a@b", None), None);
    }

    #[test]
    fn keys_prefer_guid_then_link_then_hash() {
        let rss = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
            <item><guid>abc</guid><title>One</title><link>https://e.org/1</link></item>
            <item><title>Two</title><link>https://e.org/2?utm_source=x</link></item>
            <item><title>Three</title><pubDate>Mon, 05 Jan 2026 10:00:00 GMT</pubDate></item>
            <item><guid>abc</guid><title>Dup</title></item>
            </channel></rss>"#;
        let parsed = parse_feed(rss, "https://e.org/feed").unwrap();
        let keys: Vec<_> = parsed.items.iter().map(|i| i.dedup_key.as_str()).collect();
        assert_eq!(keys[0], "g:abc");
        assert_eq!(keys[1], "u:https://e.org/2");
        assert!(keys[2].starts_with("h:"));
        assert_eq!(parsed.items.len(), 3);
        assert_eq!(parsed.duplicate_keys, 1);
        // Stable across parses (feed-rs alone would invent a random id here).
        let again = parse_feed(rss, "https://e.org/feed").unwrap();
        assert_eq!(again.items[2].dedup_key, parsed.items[2].dedup_key);
    }

    /// Issue 19: a YouTube channel feed with an empty `<media:description/>` in one video's
    /// `<media:group>` (feed-rs 3 rejects the whole document) keeps every video.
    #[test]
    fn issue_19_empty_media_description_costs_nothing() {
        let entry = |id: &str, description: &str| {
            format!(
                "<entry><id>yt:video:{id}</id><yt:videoId>{id}</yt:videoId><title>Video {id}</title>\
                 <link rel=\"alternate\" href=\"https://www.youtube.com/watch?v={id}\"/>\
                 <published>2021-03-0{}T10:00:00+00:00</published>\
                 <media:group><media:title>Video {id}</media:title>\
                 <media:content url=\"https://www.youtube.com/v/{id}\" type=\"application/x-shockwave-flash\" width=\"640\" height=\"390\"/>\
                 <media:thumbnail url=\"https://i.ytimg.com/vi/{id}/hqdefault.jpg\" width=\"480\" height=\"360\"/>\
                 {description}</media:group></entry>",
                id.len()
            )
        };
        for empty in [
            "<media:description/>",
            "<media:description></media:description>",
        ] {
            let atom = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><feed xmlns:yt=\"http://www.youtube.com/xml/schemas/2015\" \
                 xmlns:media=\"http://search.yahoo.com/mrss/\" xmlns=\"http://www.w3.org/2005/Atom\">\
                 <title>A channel</title>{}{}{}</feed>",
                entry("a", "<media:description>first</media:description>"),
                entry("bb", empty),
                entry("ccc", empty),
            );
            let parsed =
                parse_feed(atom.as_bytes(), "https://www.youtube.com/feeds/videos.xml").unwrap();
            let keys: Vec<_> = parsed.items.iter().map(|i| i.dedup_key.as_str()).collect();
            assert_eq!(
                keys,
                ["g:yt:video:a", "g:yt:video:bb", "g:yt:video:ccc"],
                "{empty}"
            );
            assert!(parsed.skipped.is_empty());
            assert!(
                parsed
                    .repairs
                    .iter()
                    .any(|r| r.contains("media:description")),
                "{:?}",
                parsed.repairs
            );
        }
    }

    /// Issue 19: one entry no repair makes readable (a character reference that is no
    /// number) is skipped, named; the rest are stored. Unbalanced markup is repaired.
    #[test]
    fn issue_19_one_unreadable_entry_costs_only_itself() {
        let rss = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
            <item><guid>1</guid><title>One</title></item>
            <item><guid>2</guid><title>Two &#xZZ; broken</title></item>
            <item><guid>3</guid><title>Three</title></item>
            </channel></rss>"#;
        let parsed = parse_feed(rss, "https://e.org/feed").unwrap();
        let keys: Vec<_> = parsed.items.iter().map(|i| i.dedup_key.as_str()).collect();
        assert_eq!(keys, ["g:1", "g:3"]);
        assert_eq!(parsed.meta.title.as_deref(), Some("T"));
        assert_eq!(parsed.skipped.len(), 1);
        assert_eq!(parsed.skipped[0].index, 1);
        assert_eq!(parsed.skipped[0].label, "id 2");
        // feed-rs reports an xml:base that is not a URL on the root as "no root element";
        // that is not an empty feed.
        let bad_base = br#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://exa mple.org/"><entry><id>1</id></entry></feed>"#;
        assert_eq!(
            parse_feed(bad_base, "https://e.org/b").unwrap().items.len(),
            1
        );
        let unbalanced = br#"<rss version="2.0"><channel><item><guid>1</guid><description>a <b>b</i></description></item></channel></rss>"#;
        let parsed = parse_feed(unbalanced, "https://e.org/u").unwrap();
        assert_eq!(parsed.items.len(), 1);
        assert_eq!(parsed.repairs, ["balanced end tags"]);
        // Every entry unreadable: the feed fails, with feed-rs's reason.
        let all_bad =
            br#"<rss version="2.0"><channel><item><title>a &#xZZ;</title></item></channel></rss>"#;
        assert!(parse_feed(all_bad, "https://e.org/bad").is_err());
    }

    /// Issue 19: a link written double-escaped (`&amp;amp;ref=rss`, no guid) is stored as
    /// feedparser reads it (`&ref=rss`), and remembers the key it was stored under before.
    #[test]
    fn issue_19_double_escaped_links_are_decoded() {
        let rss = br#"<rss version="2.0"><channel><title>T</title>
            <item><title>A</title><link>https://e.org/a?id=7&amp;amp;ref=rss</link></item>
            <item><title>B</title><link>https://e.org/b?id=8&amp;ref=rss</link></item>
            <item><title>C</title><link>https://e.org/c?q=1&amp;copy=2&amp;#38;x=3</link></item>
            </channel></rss>"#;
        let parsed = parse_feed(rss, "https://e.org/feed").unwrap();
        let urls: Vec<_> = parsed
            .items
            .iter()
            .map(|i| i.url.as_deref().unwrap())
            .collect();
        assert_eq!(
            urls,
            [
                "https://e.org/a?id=7&ref=rss",
                "https://e.org/b?id=8&ref=rss",
                "https://e.org/c?q=1&copy=2&x=3"
            ]
        );
        assert_eq!(parsed.items[0].dedup_key, "u:https://e.org/a?id=7&ref=rss");
        assert_eq!(
            parsed.items[0].former_key.as_deref(),
            Some("u:https://e.org/a?id=7&amp%3Bref=rss")
        );
        assert_eq!(parsed.items[1].former_key, None);
        assert_eq!(decode_entities("/p?a=1&copy=2"), "/p?a=1&copy=2");
        assert_eq!(decode_entities("/p?a=1&#x26;b=2"), "/p?a=1&b=2");
    }

    #[test]
    fn html_title_and_errors() {
        let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">A &lt;b&gt;bold&lt;/b&gt; title</title>
            <entry><id>x</id><title type="html">Kim &amp;amp; Putin</title></entry></feed>"#;
        let parsed = parse_feed(atom, "https://e.org/atom").unwrap();
        assert_eq!(parsed.meta.title.as_deref(), Some("A bold title"));
        assert_eq!(parsed.items[0].title.as_deref(), Some("Kim & Putin"));
        let err = parse_feed(b"<html><body>hi</body></html>", "https://e.org/x").unwrap_err();
        assert!(
            err.to_string().contains("https://e.org/x") && err.to_string().contains("HTML"),
            "{err}"
        );
        assert!(
            parse_feed(b"  ", "https://e.org/y")
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
    }
}
