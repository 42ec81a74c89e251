//! What is done when feed-rs rejects a whole document: repair the element it names and try
//! again, then, if that is not enough, read the document entry by entry so one unreadable entry
//! costs that entry and not the feed. Only tried after the first parse failed, so well-formed
//! feeds pay nothing. Pure; works on UTF-8 bytes (see `charset`).

use std::borrow::Cow;

use quick_xml::events::Event;

/// Why feed-rs rejected a document, and the byte offset just past the start tag of the element
/// it rejected, when it names one.
#[derive(Debug, Clone)]
pub struct Rejection {
    pub message: String,
    pub position: Option<usize>,
}

/// Repairs of one document at most: each costs a parse.
const MAX_REPAIRS: usize = 24;

/// Parses `doc` with `parse`, repairing the rejected element after each failure (see
/// [`repair_at`]) up to [`MAX_REPAIRS`] times. Returns the result and the repairs made, or the
/// last rejection when no repair applies.
pub fn parse_with_repairs<T>(
    doc: &[u8],
    parse: impl Fn(&[u8]) -> Result<T, Rejection>,
) -> Result<(T, Vec<String>), Rejection> {
    let mut doc = Cow::Borrowed(doc);
    let mut repairs = Vec::new();
    loop {
        match parse(&doc) {
            Ok(value) => return Ok((value, repairs)),
            Err(rejection) => {
                if repairs.len() >= MAX_REPAIRS {
                    return Err(rejection);
                }
                let Some((fixed, what)) = repair_at(&doc, &rejection) else {
                    return Err(rejection);
                };
                repairs.push(what);
                doc = Cow::Owned(fixed);
            }
        }
    }
}

/// One repair of the element whose start tag ends at the rejection's position:
/// - an element with no content (`<media:description/>`, `<media:title></media:title>`) is
///   removed, and every other empty element of the same name with it (a feed that writes one
///   usually writes many);
/// - a text construct with a `type` feed-rs does not know (`type="TEXT"`, `type="text/plain"`)
///   loses the attribute, so it is read as plain text;
/// - an Atom `<content src="…">` that also carries text loses `src`, keeping the text.
///
/// Returns the repaired document and a line saying what was done, or `None`.
pub fn repair_at(doc: &[u8], rejection: &Rejection) -> Option<(Vec<u8>, String)> {
    // An `xml:base` that is not a URL on the root element shows as "no root element".
    if (rejection.message.contains("Url error")
        || (rejection.message.contains("no root element")
            && memchr::memmem::find(doc, b"xml:base").is_some()))
        && let Some(fixed) = drop_bad_xml_bases(doc)
    {
        return Some(fixed);
    }
    // `&#X41;`: HTML reads an upper-case X in a character reference, XML does not.
    if rejection.message.contains("character reference") {
        let fixed = replace_all(doc, b"&#X", b"&#x");
        return (fixed.len() == doc.len() && fixed != doc)
            .then(|| (fixed, "read &#X…; references as &#x…;".to_string()));
    }
    // `<p>` closed by `</div>`: end tags put right as an HTML parser would.
    if rejection.message.contains("ill-formed document: expected") {
        return balance_end_tags(doc).map(|fixed| (fixed, "balanced end tags".to_string()));
    }
    let end_of_start = rejection.position?.min(doc.len());
    let start = memchr::memrchr(b'<', &doc[..end_of_start])?;
    let tag = &doc[start..end_of_start];
    let name_len = tag[1..]
        .iter()
        .position(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')?;
    let name = &tag[1..1 + name_len];
    if name.is_empty() || !tag.ends_with(b">") {
        return None;
    }
    let shown = String::from_utf8_lossy(name).into_owned();
    if element_is_empty(doc, start, end_of_start, name) {
        let fixed = remove_empty_elements(doc, name);
        if fixed.len() < doc.len() {
            return Some((fixed, format!("removed empty <{shown}> elements")));
        }
        return None;
    }
    let message = rejection.message.as_str();
    let attribute: &[u8] = if message.contains("unsupported content type") {
        b"type"
    } else if message.contains("with src") {
        b"src"
    } else {
        return None;
    };
    let (from, to) = attribute_span(tag, attribute)?;
    // Every element of that name carrying the same attribute: a feed that writes one writes
    // it on every entry.
    let span = &tag[from..to];
    let mut open = Vec::with_capacity(name.len() + 1);
    open.push(b'<');
    open.extend_from_slice(name);
    let mut fixed = Vec::with_capacity(doc.len());
    let mut copied = 0;
    let mut dropped = 0;
    for at in memchr::memmem::find_iter(doc, &open) {
        if at < copied
            || !doc
                .get(at + open.len())
                .is_some_and(|b| b.is_ascii_whitespace())
        {
            continue;
        }
        let Some(close) = memchr::memchr(b'>', &doc[at..]) else {
            break;
        };
        if let Some(pos) = memchr::memmem::find(&doc[at..at + close], span) {
            fixed.extend_from_slice(&doc[copied..at + pos]);
            copied = at + pos + span.len();
            dropped += 1;
        }
    }
    fixed.extend_from_slice(&doc[copied..]);
    (dropped > 0).then(|| {
        (
            fixed,
            format!(
                "dropped {} from {dropped} <{shown}>",
                String::from_utf8_lossy(span).trim()
            ),
        )
    })
}

/// feed-rs gives up a whole document over one `xml:base` that is not a URL (names no element):
/// drops every such attribute, so links resolve against the next base up.
fn drop_bad_xml_bases(doc: &[u8]) -> Option<(Vec<u8>, String)> {
    const NAME: &[u8] = b"xml:base";
    let mut out = Vec::with_capacity(doc.len());
    let mut copied = 0;
    let mut dropped = 0;
    for at in memchr::memmem::find_iter(doc, NAME) {
        if at < copied || at == 0 || !doc[at - 1].is_ascii_whitespace() {
            continue;
        }
        let Some((from, to)) = attribute_span(&doc[at - 1..], NAME) else {
            continue;
        };
        let span = &doc[at - 1 + from..at - 1 + to];
        let value = span
            .iter()
            .position(|&b| b == b'"' || b == b'\'')
            .map(|q| &span[q + 1..span.len() - 1])
            .unwrap_or_default();
        let value = String::from_utf8_lossy(value);
        let valid = match url::Url::parse(value.trim()) {
            Ok(_) | Err(url::ParseError::RelativeUrlWithoutBase) => true,
            Err(_) => false,
        };
        if !valid {
            out.extend_from_slice(&doc[copied..at - 1 + from]);
            copied = at - 1 + to;
            dropped += 1;
        }
    }
    if dropped == 0 {
        return None;
    }
    out.extend_from_slice(&doc[copied..]);
    Some((out, format!("dropped {dropped} xml:base that are not URLs")))
}

/// The document with its end tags matching its start tags, everything else byte for byte:
/// an end tag closes the open elements above the one it names first (`<p>a</div>` becomes
/// `<p>a</p></div>`), an end tag naming no open element is dropped, and elements still open at
/// the end are closed. `None` when nothing changed or the markup cannot be read at all.
fn balance_end_tags(doc: &[u8]) -> Option<Vec<u8>> {
    let mut reader = quick_xml::Reader::from_reader(doc);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    let mut open: Vec<Vec<u8>> = Vec::new();
    let mut out = Vec::with_capacity(doc.len() + 64);
    let mut changed = false;
    let close = |out: &mut Vec<u8>, name: &[u8]| {
        out.extend_from_slice(b"</");
        out.extend_from_slice(name);
        out.push(b'>');
    };
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader.read_event().ok()?;
        let after = reader.buffer_position() as usize;
        match event {
            Event::Start(start) => {
                open.push(start.name().as_ref().as_bytes().to_vec());
                out.extend_from_slice(&doc[before..after]);
            }
            Event::End(end) => {
                let name = end.name().as_ref().as_bytes().to_vec();
                match open.iter().rposition(|n| *n == name) {
                    Some(at) => {
                        while open.len() > at + 1 {
                            let inner = open.pop().unwrap_or_default();
                            close(&mut out, &inner);
                            changed = true;
                        }
                        open.pop();
                        out.extend_from_slice(&doc[before..after]);
                    }
                    None => changed = true,
                }
            }
            Event::Eof => break,
            _ => out.extend_from_slice(&doc[before..after]),
        }
    }
    while let Some(name) = open.pop() {
        close(&mut out, &name);
        changed = true;
    }
    changed.then_some(out)
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut copied = 0;
    for at in memchr::memmem::find_iter(haystack, needle) {
        out.extend_from_slice(&haystack[copied..at]);
        out.extend_from_slice(with);
        copied = at + needle.len();
    }
    out.extend_from_slice(&haystack[copied..]);
    out
}

/// True when the element starting at `start` (start tag ending at `end_of_start`) is
/// self-closing or closed by `</name>` with only whitespace between.
fn element_is_empty(doc: &[u8], start: usize, end_of_start: usize, name: &[u8]) -> bool {
    if doc[start..end_of_start].ends_with(b"/>") {
        return true;
    }
    let rest = &doc[end_of_start..];
    let text_len = rest
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(rest.len());
    let rest = &rest[text_len..];
    rest.starts_with(b"</")
        && rest[2..].starts_with(name)
        && rest[2 + name.len()..].trim_ascii_start().starts_with(b">")
}

/// Removes every element named `name` that has no content (`<name/>`, `<name attr="…"/>`,
/// `<name …>  </name>`).
fn remove_empty_elements(doc: &[u8], name: &[u8]) -> Vec<u8> {
    let mut open = Vec::with_capacity(name.len() + 1);
    open.push(b'<');
    open.extend_from_slice(name);
    let mut out = Vec::with_capacity(doc.len());
    let mut copied = 0;
    for at in memchr::memmem::find_iter(doc, &open) {
        if at < copied {
            continue;
        }
        let after_name = at + open.len();
        if !doc
            .get(after_name)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
        {
            continue;
        }
        let Some(close) = memchr::memchr(b'>', &doc[after_name..]) else {
            break;
        };
        let end_of_start = after_name + close + 1;
        if !element_is_empty(doc, at, end_of_start, name) {
            continue;
        }
        let end = if doc[at..end_of_start].ends_with(b"/>") {
            end_of_start
        } else {
            let close_tag =
                end_of_start + memchr::memmem::find(&doc[end_of_start..], b"</").unwrap_or(0);
            close_tag + memchr::memchr(b'>', &doc[close_tag..]).map_or(0, |p| p + 1)
        };
        out.extend_from_slice(&doc[copied..at]);
        copied = end;
    }
    out.extend_from_slice(&doc[copied..]);
    out
}

/// The byte span (from the space before it to the closing quote) of attribute `name` in a
/// start tag.
fn attribute_span(tag: &[u8], name: &[u8]) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(pos) = memchr::memmem::find(&tag[from..], name) {
        let at = from + pos;
        from = at + name.len();
        if at == 0 || !tag[at - 1].is_ascii_whitespace() {
            continue;
        }
        let rest = &tag[at + name.len()..];
        let eq = rest.iter().position(|b| !b.is_ascii_whitespace())?;
        if rest[eq] != b'=' {
            continue;
        }
        let value_start = eq
            + 1
            + rest[eq + 1..]
                .iter()
                .position(|b| !b.is_ascii_whitespace())?;
        let quote = rest[value_start];
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let close = value_start + 1 + rest[value_start + 1..].iter().position(|&b| b == quote)?;
        return Some((at - 1, at + name.len() + close + 1));
    }
    None
}

/// A document taken apart at its entries.
#[derive(Debug)]
pub struct Entries<'a> {
    /// The document without its entries: the feed's own elements.
    pub shell: Vec<u8>,
    /// What goes before one entry to make it a document of its own: the prolog (declaration,
    /// DOCTYPE) and the start tags of the elements around the entries, namespaces and all.
    pub prefix: Vec<u8>,
    /// The end tags that close `prefix`.
    pub suffix: Vec<u8>,
    /// Each entry's bytes, in document order.
    pub entries: Vec<&'a [u8]>,
    /// The document ended inside one more entry (not in `entries`).
    pub cut_short_in_entry: bool,
}

impl Entries<'_> {
    /// Entry `index` as a document of its own.
    pub fn document(&self, index: usize) -> Vec<u8> {
        let entry = self.entries[index];
        let mut doc = Vec::with_capacity(self.prefix.len() + entry.len() + self.suffix.len());
        doc.extend_from_slice(&self.prefix);
        doc.extend_from_slice(entry);
        doc.extend_from_slice(&self.suffix);
        doc
    }
}

/// Finds the entries (`item`/`entry` elements not inside another) of an XML feed document.
/// Reads on past errors in an entry's markup where the XML reader can; a document that ends
/// early keeps the entries that were complete. `None` when there is no entry to find.
pub fn split_entries(doc: &[u8]) -> Option<Entries<'_>> {
    let mut reader = quick_xml::Reader::from_reader(doc);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    // Open elements: (start offset, end offset of the start tag, qualified name).
    let mut open: Vec<(usize, usize, Vec<u8>)> = Vec::new();
    let mut root_start = None;
    let mut ancestors: Option<Vec<(usize, usize, Vec<u8>)>> = None;
    let mut entry_start: Option<(usize, usize)> = None; // (offset, depth)
    let mut entries: Vec<(usize, usize)> = Vec::new();
    loop {
        let before = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(event) => event,
            // Markup the reader cannot get past: keep what was complete.
            Err(_) => break,
        };
        let after = reader.buffer_position() as usize;
        match event {
            Event::Start(start) => {
                root_start.get_or_insert(before);
                if entry_start.is_some() {
                    continue;
                }
                let name = start.name().as_ref().as_bytes().to_vec();
                if is_entry(&name) {
                    ancestors.get_or_insert_with(|| open.clone());
                    entry_start = Some((before, open.len()));
                }
                open.push((before, after, name));
            }
            Event::Empty(start) => {
                root_start.get_or_insert(before);
                if entry_start.is_none() && is_entry(start.name().as_ref().as_bytes()) {
                    ancestors.get_or_insert_with(|| open.clone());
                    entries.push((before, after));
                }
            }
            Event::End(end) => {
                match entry_start {
                    // An entry ends at its own end tag, even when markup inside it is not
                    // balanced (`<p>` closed by `</div>`).
                    Some((start, depth)) => {
                        if end.name().as_ref().as_bytes() == open[depth].2.as_slice() {
                            entries.push((start, after));
                            open.truncate(depth);
                            entry_start = None;
                        }
                    }
                    None => {
                        open.pop();
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let ancestors = ancestors?;
    let root_start = root_start?;
    let mut shell = Vec::with_capacity(doc.len());
    let mut copied = 0;
    for &(start, end) in &entries {
        shell.extend_from_slice(&doc[copied..start]);
        copied = end;
    }
    // A document cut short (inside an entry or after it) keeps its complete entries; the
    // elements around them are closed for it.
    let cut_short = entry_start.is_some() || !open.is_empty();
    if let Some((_, depth)) = entry_start {
        open.truncate(depth);
    }
    if !cut_short {
        shell.extend_from_slice(&doc[copied..]);
    }
    let mut prefix = doc[..root_start].to_vec();
    let mut suffix = Vec::new();
    for (start, end, _) in &ancestors {
        prefix.extend_from_slice(&doc[*start..*end]);
    }
    for (_, _, name) in ancestors.iter().rev() {
        suffix.extend_from_slice(b"</");
        suffix.extend_from_slice(name);
        suffix.push(b'>');
    }
    if cut_short {
        shell.extend_from_slice(&suffix);
    }
    Some(Entries {
        shell,
        prefix,
        suffix,
        entries: entries.iter().map(|&(s, e)| &doc[s..e]).collect(),
        cut_short_in_entry: entry_start.is_some(),
    })
}

/// A feed document pasted inside another (an Atom `<feed>` in the `<body>` of an XHTML page):
/// the first `feed`, `rss` or `RDF` element below the root, with the XML declaration, as a
/// document of its own. `None` when there is none.
pub fn embedded_feed(doc: &[u8]) -> Option<Vec<u8>> {
    let mut reader = quick_xml::Reader::from_reader(doc);
    reader.config_mut().check_end_names = false;
    let mut depth = 0usize;
    let mut found: Option<(usize, usize, Vec<u8>)> = None; // (start, depth, name)
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader.read_event().ok()?;
        let after = reader.buffer_position() as usize;
        match event {
            Event::Start(start) => {
                let name = start.name().as_ref().as_bytes().to_vec();
                if found.is_none() && depth > 0 && is_feed_root(&name) {
                    found = Some((before, depth, name));
                }
                depth += 1;
            }
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                if let Some((start, at, name)) = &found
                    && *at == depth
                    && end.name().as_ref().as_bytes() == name.as_slice()
                {
                    let mut out = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n".to_vec();
                    out.extend_from_slice(&doc[*start..after]);
                    return Some(out);
                }
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

fn is_feed_root(qualified: &[u8]) -> bool {
    matches!(local_name(qualified), b"feed" | b"rss" | b"RDF")
}

fn local_name(qualified: &[u8]) -> &[u8] {
    qualified
        .iter()
        .rposition(|&b| b == b':')
        .map_or(qualified, |p| &qualified[p + 1..])
}

fn is_entry(qualified: &[u8]) -> bool {
    matches!(local_name(qualified), b"item" | b"entry")
}

/// A short name for an entry in logs: its guid or id, else its link, else its title (the
/// first one found), cut to 120 characters.
pub fn entry_label(entry: &[u8]) -> String {
    let mut reader = quick_xml::Reader::from_reader(entry);
    reader.config_mut().check_end_names = false;
    let mut found: [Option<String>; 3] = [None, None, None];
    let mut current: Option<usize> = None;
    let mut depth = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                current = (depth == 2)
                    .then(|| field_slot(e.local_name().as_ref().as_bytes()))
                    .flatten();
                if current == Some(1)
                    && let Some(href) = e.try_get_attribute("href").ok().flatten()
                {
                    found[1].get_or_insert(href.value.to_string());
                }
            }
            Ok(Event::Empty(e))
                if depth == 1 && field_slot(e.local_name().as_ref().as_bytes()) == Some(1) =>
            {
                if let Some(href) = e.try_get_attribute("href").ok().flatten() {
                    found[1].get_or_insert(href.value.to_string());
                }
            }
            Ok(Event::Text(t)) => {
                if let Some(slot) = current {
                    let text = t.as_ref().trim().to_string();
                    if !text.is_empty() {
                        found[slot].get_or_insert(text);
                    }
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(slot) = current {
                    let text = t.as_ref().trim().to_string();
                    if !text.is_empty() {
                        found[slot].get_or_insert(text);
                    }
                }
            }
            Ok(Event::End(_)) => {
                depth = depth.saturating_sub(1);
                current = None;
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    let [id, link, title] = found;
    let label = id
        .map(|v| format!("id {v}"))
        .or(link.map(|v| format!("link {v}")))
        .or(title.map(|v| format!("title {v:?}")))
        .unwrap_or_else(|| "with no id, link or title".to_string());
    label.chars().take(120).collect()
}

/// Which label slot an entry child fills: 0 id, 1 link, 2 title.
fn field_slot(local: &[u8]) -> Option<usize> {
    match local {
        b"guid" | b"id" => Some(0),
        b"link" => Some(1),
        b"title" => Some(2),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_elements_are_removed_where_feed_rs_stops() {
        let doc = b"<feed><entry><media:group><media:description/><media:title>t</media:title></media:group></entry><entry><media:description></media:description></entry></feed>";
        let text = std::str::from_utf8(doc).unwrap();
        let position = text.find("<media:description/>").unwrap() + "<media:description/>".len();
        let (fixed, what) = repair_at(
            doc,
            &Rejection {
                message: "unable to parse feed: missing text at position 0".into(),
                position: Some(position),
            },
        )
        .unwrap();
        assert_eq!(
            std::str::from_utf8(&fixed).unwrap(),
            "<feed><entry><media:group><media:title>t</media:title></media:group></entry><entry></entry></feed>"
        );
        assert!(what.contains("media:description"), "{what}");
    }

    #[test]
    fn unknown_type_attribute_is_dropped() {
        let doc = b"<feed><entry><title type=\"TEXT\">Hello</title></entry><entry><title type=\"TEXT\">Again</title><title type=\"html\">x</title></entry></feed>";
        let text = std::str::from_utf8(doc).unwrap();
        let position = text.find("Hello").unwrap();
        let (fixed, _) = repair_at(
            doc,
            &Rejection {
                message: "unable to parse feed: unsupported content type TEXT at position 0".into(),
                position: Some(position),
            },
        )
        .unwrap();
        assert_eq!(
            std::str::from_utf8(&fixed).unwrap(),
            "<feed><entry><title>Hello</title></entry><entry><title>Again</title><title type=\"html\">x</title></entry></feed>"
        );
    }

    #[test]
    fn end_tags_are_balanced_as_an_html_parser_would() {
        let doc = b"<feed><entry><summary type=\"xhtml\"><div><p>a &amp; <b>b</div></summary></entry><entry>x</i></entry></feed>";
        assert_eq!(
            std::str::from_utf8(&balance_end_tags(doc).unwrap()).unwrap(),
            "<feed><entry><summary type=\"xhtml\"><div><p>a &amp; <b>b</b></p></div></summary></entry><entry>x</entry></feed>"
        );
        assert_eq!(balance_end_tags(b"<a><b/>ok</a>"), None);
    }

    #[test]
    fn an_xml_base_that_is_not_a_url_is_dropped() {
        let doc = b"<feed xml:base=\"http://exa mple.org/\"><entry xml:base=\"/ok/\"/></feed>";
        let rejection = Rejection {
            message: "unable to parse XML: Url error: invalid domain character".into(),
            position: None,
        };
        let (fixed, _) = repair_at(doc, &rejection).unwrap();
        assert_eq!(
            std::str::from_utf8(&fixed).unwrap(),
            "<feed><entry xml:base=\"/ok/\"/></feed>"
        );
    }

    #[test]
    fn entries_are_split_with_their_ancestors() {
        let doc = b"<?xml version=\"1.0\"?>\n<rss version=\"2.0\" xmlns:media=\"m\"><channel><title>T</title><item><guid>a</guid></item><item><link>https://e.org/b</link><title>B</title></item><ttl>5</ttl></channel></rss>";
        let split = split_entries(doc).unwrap();
        assert_eq!(split.entries.len(), 2);
        assert_eq!(
            std::str::from_utf8(&split.shell).unwrap(),
            "<?xml version=\"1.0\"?>\n<rss version=\"2.0\" xmlns:media=\"m\"><channel><title>T</title><ttl>5</ttl></channel></rss>"
        );
        assert_eq!(
            std::str::from_utf8(&split.document(1)).unwrap(),
            "<?xml version=\"1.0\"?>\n<rss version=\"2.0\" xmlns:media=\"m\"><channel><item><link>https://e.org/b</link><title>B</title></item></channel></rss>"
        );
        assert_eq!(entry_label(split.entries[0]), "id a");
        assert_eq!(entry_label(split.entries[1]), "link https://e.org/b");
    }

    #[test]
    fn unbalanced_markup_inside_an_entry_ends_at_the_entry_end_tag() {
        let doc = b"<feed><entry><id>1</id><summary><div><p>a</div></summary></entry><entry><id>2</id></entry></feed>";
        let split = split_entries(doc).unwrap();
        assert_eq!(split.entries.len(), 2);
        assert_eq!(split.entries[1], b"<entry><id>2</id></entry>");
        assert_eq!(std::str::from_utf8(&split.shell).unwrap(), "<feed></feed>");
    }

    #[test]
    fn a_feed_inside_a_page_is_found() {
        let doc = b"<?xml version=\"1.0\"?><html><body><feed xmlns=\"http://www.w3.org/2005/Atom\"><entry/></feed></body></html>";
        assert_eq!(
            std::str::from_utf8(&embedded_feed(doc).unwrap()).unwrap(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry/></feed>"
        );
    }

    #[test]
    fn a_document_cut_short_keeps_its_complete_entries() {
        let doc = b"<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title><entry><id>1</id></entry><entry><id>2</id><title>cut";
        let split = split_entries(doc).unwrap();
        assert_eq!(split.entries.len(), 1);
        assert_eq!(
            std::str::from_utf8(&split.shell).unwrap(),
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title></feed>"
        );
    }
}
