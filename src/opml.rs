//! OPML subscription lists: import ([`parse_opml`]) and export ([`write_opml`]).
//!
//! Import rules:
//! - Every `<outline>` with an `xmlUrl` attribute is a feed, at any depth.
//! - Outlines without `xmlUrl` are folders: the `text` (or else `title`) of every enclosing
//!   folder becomes a tag of the feeds inside it.
//! - The `category` attribute of a feed is a comma-separated list; each entry is split on
//!   `/` and every non-empty segment becomes a tag, so `"/Boston/Weather,news"` gives the
//!   tags `Boston`, `Weather` and `news` (the same as folders `Boston` > `Weather`).
//! - The feed title is `title`, or else `text`.
//! - Feeds are deduplicated by `xmlUrl` (first occurrence keeps its position, title and
//!   `htmlUrl`; later ones add their tags and fill in missing fields).
//! - Tags are trimmed, empty ones dropped, duplicates removed, first occurrence order kept.
//! - Element and attribute names are matched case-insensitively; attribute values have
//!   their entities decoded, except values with unknown entities (`&eacute;`) or a bare
//!   `&`, which are kept verbatim rather than failing the import.
//! - Errors: malformed XML (with the byte position and what was wrong), a root element other
//!   than `<opml>`, an empty document, or bytes that are neither UTF-8 nor in the declared
//!   encoding. A document with no feeds is not an error.
//!
//! Export writes a flat OPML 2.0 list, one `<outline type="rss">` per feed, with the tags
//! in `category`. Since `,` and `/` separate tags there, they are replaced by spaces
//! inside a tag when writing.

use chrono::{DateTime, Utc};
use quick_xml::XmlVersion;
use quick_xml::encoding::{decode, detect_encoding};
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use std::borrow::Cow;

/// One subscription from an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    pub xml_url: String,
    pub title: Option<String>,
    pub html_url: Option<String>,
    pub tags: Vec<String>,
}

/// Why an OPML document could not be read. Positions are byte offsets into the document
/// after decoding it to UTF-8 (the same as the input offsets for UTF-8 input).
#[derive(Debug, thiserror::Error)]
pub enum OpmlError {
    #[error("malformed XML at byte {position}: {message}")]
    Xml { position: u64, message: String },
    #[error("not an OPML document: root element is <{root}>, expected <opml>")]
    NotOpml { root: String },
    #[error("not an OPML document: no root element found")]
    Empty,
    /// `declared` is the encoding named by the BOM or XML declaration, if any.
    #[error(
        "cannot decode the document: not UTF-8, declared encoding: {}",
        declared.as_deref().unwrap_or("none")
    )]
    Encoding { declared: Option<String> },
    #[error("malformed attributes on the <outline> at byte {position}: {message}")]
    Attribute { position: u64, message: String },
}

/// Reads the feeds of an OPML document (any version; UTF-8, or the encoding named by its
/// BOM or XML declaration).
pub fn parse_opml(bytes: &[u8]) -> Result<Vec<OpmlFeed>, OpmlError> {
    let text = decode_document(bytes)?;
    let mut reader = Reader::from_str(&text);
    let mut feeds: Vec<OpmlFeed> = Vec::new();
    // One entry per open element: its name, and the folder name it contributes if it is a
    // folder outline.
    let mut open: Vec<(String, Option<String>)> = Vec::new();
    let mut seen_root = false;

    loop {
        let position = reader.buffer_position();
        let event = reader.read_event().map_err(|e| OpmlError::Xml {
            position: reader.error_position(),
            message: e.to_string(),
        })?;
        let (element, is_empty) = match event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                open.pop();
                continue;
            }
            Event::Eof => match open.last() {
                Some((name, _)) => {
                    return Err(OpmlError::Xml {
                        position,
                        message: format!("document ends inside <{name}>"),
                    });
                }
                None => break,
            },
            _ => continue,
        };

        if !seen_root {
            seen_root = true;
            let root = element.name().as_ref().to_string();
            if !root.eq_ignore_ascii_case("opml") {
                return Err(OpmlError::NotOpml { root });
            }
        }

        let mut folder = None;
        if element.name().as_ref().eq_ignore_ascii_case("outline") {
            let outline = read_outline(&element, position)?;
            match outline.xml_url {
                Some(xml_url) => {
                    let mut tags: Vec<String> =
                        open.iter().filter_map(|(_, f)| f.clone()).collect();
                    tags.extend(outline.categories);
                    add_feed(
                        &mut feeds,
                        OpmlFeed {
                            xml_url,
                            title: outline.title.or(outline.text),
                            html_url: outline.html_url,
                            tags: dedup_tags(tags),
                        },
                    );
                }
                None => folder = outline.text.or(outline.title),
            }
        }
        if !is_empty {
            open.push((element.name().as_ref().to_string(), folder));
        }
    }

    if !seen_root {
        return Err(OpmlError::Empty);
    }
    Ok(feeds)
}

/// The document as text: UTF-8 if it is valid UTF-8 (whatever it declares, since
/// mislabelled UTF-8 is common), otherwise decoded per its BOM or XML declaration.
fn decode_document(bytes: &[u8]) -> Result<Cow<'_, str>, OpmlError> {
    let without_bom = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(without_bom) {
        return Ok(Cow::Borrowed(text));
    }
    let (encoding, bom_len) = match detect_encoding(bytes) {
        Some(detected) if detected.bom_len() > 0 => (detected.encoding(), detected.bom_len()),
        // The declaration is ASCII, so it can be read before the encoding is known.
        _ => match Reader::from_reader(bytes).read_event() {
            Ok(Event::Decl(decl)) => {
                let declared = decl.encoding().and_then(Result::ok).map(|e| e.to_string());
                match decl.encoder() {
                    Some(encoding) => (encoding, 0),
                    None => return Err(OpmlError::Encoding { declared }),
                }
            }
            _ => return Err(OpmlError::Encoding { declared: None }),
        },
    };
    decode(&bytes[bom_len..], encoding).map_err(|_| OpmlError::Encoding {
        declared: Some(encoding.name().to_string()),
    })
}

/// The attributes of an `<outline>` we care about, trimmed, empty ones as `None`.
#[derive(Default)]
struct Outline {
    xml_url: Option<String>,
    html_url: Option<String>,
    title: Option<String>,
    text: Option<String>,
    categories: Vec<String>,
}

fn read_outline(element: &BytesStart, position: u64) -> Result<Outline, OpmlError> {
    let mut outline = Outline::default();
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|e| OpmlError::Attribute {
            position,
            message: e.to_string(),
        })?;
        let name = attribute.key.as_ref().to_ascii_lowercase();
        // Undecodable values (HTML entities such as `&eacute;`, a bare `&` in a URL) are
        // kept verbatim rather than failing the whole import.
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .unwrap_or_else(|_| attribute.value.clone());
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let value = value.to_string();
        match name.as_str() {
            "xmlurl" => outline.xml_url = Some(value),
            "htmlurl" => outline.html_url = Some(value),
            "title" => outline.title = Some(value),
            "text" => outline.text = Some(value),
            "category" => outline.categories = split_category(&value),
            _ => {}
        }
    }
    Ok(outline)
}

/// `"/a/b, c"` -> `["a", "b", "c"]`.
fn split_category(category: &str) -> Vec<String> {
    category
        .split([',', '/'])
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .map(String::from)
        .collect()
}

fn dedup_tags(tags: Vec<String>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        if !unique.contains(&tag) {
            unique.push(tag);
        }
    }
    unique
}

/// Appends `feed`, or merges it into an earlier feed with the same URL.
fn add_feed(feeds: &mut Vec<OpmlFeed>, feed: OpmlFeed) {
    let Some(existing) = feeds.iter_mut().find(|f| f.xml_url == feed.xml_url) else {
        feeds.push(feed);
        return;
    };
    if existing.title.is_none() {
        existing.title = feed.title;
    }
    if existing.html_url.is_none() {
        existing.html_url = feed.html_url;
    }
    let merged = existing.tags.iter().cloned().chain(feed.tags).collect();
    existing.tags = dedup_tags(merged);
}

/// Writes `feeds` as an OPML 2.0 document titled `title`, created now.
pub fn write_opml(title: &str, feeds: &[OpmlFeed]) -> String {
    write_opml_at(title, feeds, Utc::now())
}

/// [`write_opml`] with an explicit `dateCreated`.
pub fn write_opml_at(title: &str, feeds: &[OpmlFeed], created: DateTime<Utc>) -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<opml version=\"2.0\">\n");
    out.push_str("  <head>\n");
    out.push_str(&format!("    <title>{}</title>\n", escape(title)));
    out.push_str(&format!(
        "    <dateCreated>{}</dateCreated>\n",
        created.to_rfc2822()
    ));
    out.push_str("  </head>\n");
    out.push_str("  <body>\n");
    for feed in feeds {
        let text = feed.title.as_deref().unwrap_or(&feed.xml_url);
        out.push_str(&format!(
            "    <outline type=\"rss\" text=\"{}\"",
            escape(text)
        ));
        if let Some(title) = &feed.title {
            out.push_str(&format!(" title=\"{}\"", escape(title)));
        }
        out.push_str(&format!(" xmlUrl=\"{}\"", escape(&feed.xml_url)));
        if let Some(html_url) = &feed.html_url {
            out.push_str(&format!(" htmlUrl=\"{}\"", escape(html_url)));
        }
        let tags: Vec<String> = feed
            .tags
            .iter()
            .map(|tag| tag.replace([',', '/'], " ").trim().to_string())
            .filter(|tag| !tag.is_empty())
            .collect();
        if !tags.is_empty() {
            out.push_str(&format!(" category=\"{}\"", escape(&tags.join(","))));
        }
        out.push_str("/>\n");
    }
    out.push_str("  </body>\n");
    out.push_str("</opml>\n");
    out
}

/// Escapes text for use in element content and double-quoted attributes. Whitespace
/// control characters become character references (so attribute normalisation keeps
/// them); other control characters, which XML 1.0 forbids, are dropped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if c < ' ' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(xml_url: &str, title: Option<&str>, tags: &[&str]) -> OpmlFeed {
        OpmlFeed {
            xml_url: xml_url.to_string(),
            title: title.map(String::from),
            html_url: None,
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn folders_categories_entities_and_dedup() {
        let opml = br#"<?xml version="1.0"?>
<opml version="2.0">
  <head><title>Mine</title></head>
  <body>
    <outline text="Top feed" xmlUrl="http://a.example/feed?x=1&amp;y=2"/>
    <outline text="Tech &amp; Science" title="ignored folder title">
      <outline text="Rust" type="rss" xmlURL="https://b.example/rss"
               htmlUrl="https://b.example/" category="/lang/systems, weekly"/>
      <outline text="Deeper">
        <outline title="C &#233;t&#xE9;" text="C text" xmlUrl="https://c.example/atom"/>
      </outline>
    </outline>
    <outline text="Other">
      <outline text="Rust again" xmlUrl="https://b.example/rss" category="weekly,news"/>
    </outline>
    <outline text="no url here"/>
  </body>
</opml>"#;
        let feeds = parse_opml(opml).unwrap();
        assert_eq!(
            feeds,
            vec![
                feed("http://a.example/feed?x=1&y=2", Some("Top feed"), &[]),
                OpmlFeed {
                    html_url: Some("https://b.example/".into()),
                    ..feed(
                        "https://b.example/rss",
                        Some("Rust"),
                        &[
                            "Tech & Science",
                            "lang",
                            "systems",
                            "weekly",
                            "Other",
                            "news"
                        ]
                    )
                },
                feed(
                    "https://c.example/atom",
                    Some("C été"),
                    &["Tech & Science", "Deeper"]
                ),
            ]
        );
    }

    #[test]
    fn errors_say_what_and_where() {
        let err = parse_opml(b"<opml><body><outline text='a'></body></opml>").unwrap_err();
        assert!(matches!(err, OpmlError::Xml { .. }), "{err}");
        assert!(err.to_string().contains("byte"), "{err}");

        let err = parse_opml(b"<opml><body><outline text='a'>").unwrap_err();
        assert_eq!(
            err.to_string(),
            "malformed XML at byte 30: document ends inside <outline>"
        );

        let err = parse_opml(b"<?xml version='1.0'?><rss version='2.0'/>").unwrap_err();
        assert_eq!(
            err.to_string(),
            "not an OPML document: root element is <rss>, expected <opml>"
        );

        assert!(matches!(parse_opml(b"  "), Err(OpmlError::Empty)));
        let err = parse_opml(b"<opml><body><outline text='a' text='b'/></body></opml>");
        assert_eq!(
            err.unwrap_err().to_string(),
            "malformed attributes on the <outline> at byte 12: \
             position 17: duplicated attribute, previous declaration at position 8"
        );

        // Unknown entities and bare ampersands are kept verbatim.
        let feeds = parse_opml(
            b"<opml><body><outline text=\"Caf&eacute;\" xmlUrl=\"/?a=1&b=2\"/></body></opml>",
        )
        .unwrap();
        assert_eq!(feeds[0].title.as_deref(), Some("Caf&eacute;"));
        assert_eq!(feeds[0].xml_url, "/?a=1&b=2");
    }

    #[test]
    fn latin1_document() {
        let mut opml =
            b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><opml><body><outline title=\"Caf"
                .to_vec();
        opml.push(0xE9);
        opml.extend_from_slice(b"\" xmlUrl=\"http://x.example/\"/></body></opml>");
        let feeds = parse_opml(&opml).unwrap();
        assert_eq!(feeds[0].title.as_deref(), Some("Café"));

        // Not UTF-8 and nothing declared.
        let err = parse_opml(b"<opml><body><outline title=\"Caf\xE9\"/></body></opml>");
        assert!(matches!(err, Err(OpmlError::Encoding { declared: None })));
        let err = parse_opml(b"<?xml version='1.0' encoding='klingon'?><opml>\xFF</opml>");
        assert_eq!(
            err.unwrap_err().to_string(),
            "cannot decode the document: not UTF-8, declared encoding: klingon"
        );
        // UTF-16 with a BOM.
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in
            "<opml><body><outline xmlUrl=\"http://x.example/\" title=\"Ωmega\"/></body></opml>"
                .encode_utf16()
        {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(
            parse_opml(&utf16).unwrap()[0].title.as_deref(),
            Some("Ωmega")
        );
    }

    #[test]
    fn write_escapes_and_round_trips() {
        let feeds = vec![
            OpmlFeed {
                xml_url: "http://a.example/?a=1&b=<2>".into(),
                title: Some("\"Quotes\" & <angles>\tand tabs".into()),
                html_url: Some("http://a.example/".into()),
                tags: vec!["x, y".into(), "a/b".into(), "plain".into()],
            },
            feed("http://b.example/", None, &[]),
        ];
        let created = DateTime::parse_from_rfc3339("2024-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let xml = write_opml_at("My <feeds>", &feeds, created);
        assert!(xml.contains("<title>My &lt;feeds&gt;</title>"), "{xml}");
        assert!(
            xml.contains("<dateCreated>Tue, 2 Jan 2024 03:04:05 +0000</dateCreated>"),
            "{xml}"
        );
        assert!(
            xml.contains(
                r#"<outline type="rss" text="http://b.example/" xmlUrl="http://b.example/"/>"#
            ),
            "{xml}"
        );
        let back = parse_opml(xml.as_bytes()).unwrap();
        assert_eq!(back[0].title, feeds[0].title);
        assert_eq!(back[0].xml_url, feeds[0].xml_url);
        assert_eq!(back[0].tags, ["x  y", "a b", "plain"]);
        // A feed without a title is written with text=xmlUrl, which reads back as its title.
        assert_eq!(back[1].title.as_deref(), Some("http://b.example/"));
    }

    #[test]
    fn google_reader_export_round_trip() {
        let path =
            crate::shared_file("feeds-corpus/opml/feedjira-2009-google-reader-subscriptions.opml");
        let bytes = std::fs::read(path).unwrap();
        let feeds = parse_opml(&bytes).unwrap();
        // 312 outlines: 12 folders and 300 feed outlines for 287 distinct feeds, 253 of them
        // in a folder and 12 in several (counted independently with Python's ElementTree).
        let distinct: std::collections::HashSet<_> = feeds.iter().map(|f| &f.xml_url).collect();
        assert_eq!(distinct.len(), feeds.len());
        assert_eq!(feeds.len(), 287);
        assert_eq!(feeds.iter().filter(|f| !f.tags.is_empty()).count(), 253);
        assert_eq!(feeds.iter().filter(|f| f.tags.len() > 1).count(), 12);
        assert!(feeds.iter().all(|f| f.title.is_some()));

        let brynary = feeds
            .iter()
            .find(|f| f.xml_url == "http://feeds.feedburner.com/brynary")
            .unwrap();
        assert_eq!(brynary.title.as_deref(), Some("Bryan’s Bytes - Home"));
        assert_eq!(brynary.tags, ["ruby", "people-i-know"]);
        let aidan = feeds
            .iter()
            .find(|f| f.xml_url == "http://www.aidanf.net/node/feed")
            .unwrap();
        assert_eq!(
            aidan.title.as_deref(),
            Some("aidanf.net - Aidan Finn&#39;s Home Page")
        );

        let written = write_opml("Paul Dix subscriptions", &feeds);
        assert_eq!(parse_opml(written.as_bytes()).unwrap(), feeds);
    }
}
