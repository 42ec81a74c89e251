//! Feed bytes in any charset → UTF-8 bytes whose XML declaration says UTF-8, before feed-rs
//! reads them. feed-rs knows only encoding_rs's labels (so `windows_1252` or `ibm850` fail) and
//! panics inside quick-xml on some UTF-16 documents; decoding here first avoids both.
//!
//! The charset is chosen as feedparser chooses it: a byte-order mark or the UTF-16/32 byte
//! pattern of `<?` first, then the HTTP `charset`, then the XML declaration, then UTF-8, then
//! windows-1252; the first that decodes the whole body without error wins. One exception: a body
//! that is valid UTF-8 with non-ASCII text is not read as the single-byte charset an HTTP header
//! names unless its own declaration names it too (servers often add a default charset to every
//! response; a multi-byte UTF-8 sequence is practically never meant as legacy text).

use std::borrow::Cow;

use encoding_rs::Encoding;

/// A charset we can decode.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Charset {
    /// Anything encoding_rs decodes (the WHATWG set: UTF-8, UTF-16, windows-*, ISO-8859-*,
    /// KOI8, Mac Roman/Cyrillic, CJK multi-byte charsets).
    Standard(&'static Encoding),
    Utf32Le,
    Utf32Be,
    /// A DOS (OEM) code page: bytes 0x80..=0xFF through oem_cp's table, ASCII below.
    Oem(u16),
    /// A code page of `codepages::TABLES`, by index.
    Table(usize),
}

impl Charset {
    /// True for charsets in which `<?xml` is written in ASCII bytes.
    fn ascii_compatible(self) -> bool {
        match self {
            Charset::Standard(e) => e.is_ascii_compatible(),
            Charset::Utf32Le | Charset::Utf32Be => false,
            Charset::Oem(_) | Charset::Table(_) => true,
        }
    }

    /// True when every byte sequence decodes (single-byte tables), so a clean decode says
    /// nothing about whether the charset is right.
    fn single_byte(self) -> bool {
        match self {
            Charset::Standard(e) => e.is_single_byte(),
            Charset::Oem(_) | Charset::Table(_) => true,
            Charset::Utf32Le | Charset::Utf32Be => false,
        }
    }
}

/// The body as UTF-8 with its declaration naming UTF-8 and no byte-order mark, borrowed when it
/// already was. `content_type` is the HTTP Content-Type header, if any.
pub fn to_utf8<'a>(body: &'a [u8], content_type: Option<&str>) -> Cow<'a, [u8]> {
    let decoded = decode_body(body, content_type);
    // An XML declaration after the start (two documents run together) makes feed-rs switch
    // encodings mid-stream, which panics inside quick-xml: only the first one counts.
    match drop_inner_declarations(&decoded) {
        Some(fixed) => Cow::Owned(fixed),
        None => decoded,
    }
}

fn decode_body<'a>(body: &'a [u8], content_type: Option<&str>) -> Cow<'a, [u8]> {
    // A body whose first bytes are `<` in UTF-16/32 is UTF-16/32 whatever else it holds: a
    // malformed sequence further on becomes U+FFFD rather than a reason to read it as bytes.
    if let Some((charset, bom_len)) = sniff(body) {
        let text = decode_lossy(charset, &body[bom_len..]);
        return Cow::Owned(declare_utf8(&text).into_bytes());
    }
    // Space before the declaration (not allowed, but common) would hide it from feed-rs too,
    // which then meets it mid-stream.
    let body = body
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(body)
        .trim_ascii_start();
    let declared_label = declared_encoding(body);
    let declared = declared_label.as_deref().and_then(charset_for_label);
    let http = content_type
        .and_then(http_charset)
        .as_deref()
        .and_then(charset_for_label);

    let utf8 = Charset::Standard(encoding_rs::UTF_8);
    let valid_utf8 = std::str::from_utf8(body).is_ok();
    let says_utf8 = |c: Option<Charset>| c.is_none_or(|c| c == utf8);
    if valid_utf8
        && says_utf8(declared)
        && (says_utf8(http) || http.is_some_and(Charset::single_byte))
    {
        // feed-rs reads a UTF-8 declaration (or none) itself.
        return Cow::Borrowed(body);
    }
    // A body that declares UTF-8 (or nothing) but carries stray Latin-1 bytes keeps its valid
    // UTF-8 and reads each stray byte as windows-1252, unless HTTP names another charset.
    if !valid_utf8 && says_utf8(declared) && says_utf8(http) {
        return Cow::Owned(declare_utf8(&repair_utf8(body)).into_bytes());
    }
    let candidates = [
        http,
        declared,
        Some(utf8),
        Some(Charset::Standard(encoding_rs::WINDOWS_1252)),
    ];
    for charset in candidates.into_iter().flatten() {
        // A declaration of UTF-16 in a document written in ASCII bytes is wrong, not UTF-16.
        if !charset.ascii_compatible() {
            continue;
        }
        if let Some(text) = decode(charset, body) {
            return Cow::Owned(declare_utf8(&text).into_bytes());
        }
    }
    // Unreachable: windows-1252 decodes every byte. Keep the body as it is.
    Cow::Borrowed(body)
}

/// The document without the `<?xml …?>` declarations that follow its start, or `None`.
fn drop_inner_declarations(doc: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(doc.len());
    let mut copied = 0;
    for at in memchr::memmem::find_iter(doc, b"<?xml") {
        if at == 0 || at < copied || !doc.get(at + 5).is_some_and(u8::is_ascii_whitespace) {
            continue;
        }
        let Some(end) = memchr::memmem::find(&doc[at..], b"?>") else {
            break;
        };
        out.extend_from_slice(&doc[copied..at]);
        copied = at + end + 2;
    }
    if copied == 0 {
        return None;
    }
    out.extend_from_slice(&doc[copied..]);
    Some(out)
}

/// Keeps valid UTF-8 and reads each invalid byte as windows-1252.
pub fn repair_utf8(body: &[u8]) -> String {
    let mut out = String::with_capacity(body.len() + 64);
    let mut rest = body;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                out.push_str(valid);
                return out;
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                // Safe: `valid_up_to` bytes are valid UTF-8.
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                let bad = e.error_len().unwrap_or(after.len()).max(1).min(after.len());
                let (decoded, _, _) = encoding_rs::WINDOWS_1252.decode(&after[..bad]);
                out.push_str(&decoded);
                rest = &after[bad..];
            }
        }
    }
}

/// A charset the first bytes prove: a byte-order mark (with its length) or `<` written in
/// UTF-16/32 (XML 1.0 appendix F).
fn sniff(body: &[u8]) -> Option<(Charset, usize)> {
    const BOMS: &[(&[u8], Charset)] = &[
        (b"\xFF\xFE\x00\x00", Charset::Utf32Le),
        (b"\x00\x00\xFE\xFF", Charset::Utf32Be),
        (b"\xFF\xFE", Charset::Standard(encoding_rs::UTF_16LE)),
        (b"\xFE\xFF", Charset::Standard(encoding_rs::UTF_16BE)),
    ];
    for (bom, charset) in BOMS {
        if body.starts_with(bom) {
            return Some((*charset, bom.len()));
        }
    }
    match body.get(..4)? {
        [0, 0, 0, b'<'] => Some((Charset::Utf32Be, 0)),
        [b'<', 0, 0, 0] => Some((Charset::Utf32Le, 0)),
        [0, b'<', 0, _] => Some((Charset::Standard(encoding_rs::UTF_16BE), 0)),
        [b'<', 0, _, 0] => Some((Charset::Standard(encoding_rs::UTF_16LE), 0)),
        _ => None,
    }
}

/// The whole body decoded by a UTF-16/32 `charset`, malformed sequences as U+FFFD.
fn decode_lossy(charset: Charset, body: &[u8]) -> String {
    match charset {
        Charset::Utf32Le | Charset::Utf32Be => body
            .chunks(4)
            .map(|c| {
                let mut unit = [0u8; 4];
                unit[..c.len()].copy_from_slice(c);
                let code = if charset == Charset::Utf32Le {
                    u32::from_le_bytes(unit)
                } else {
                    u32::from_be_bytes(unit)
                };
                char::from_u32(code).unwrap_or('\u{fffd}')
            })
            .collect(),
        Charset::Standard(encoding) => encoding.decode_without_bom_handling(body).0.into_owned(),
        other => decode(other, body).unwrap_or_default(),
    }
}

/// The whole body decoded, or `None` if `charset` cannot decode it (malformed sequences).
/// Single-byte charsets always decode.
fn decode(charset: Charset, body: &[u8]) -> Option<String> {
    match charset {
        Charset::Standard(encoding) => {
            let (text, had_errors) = encoding.decode_without_bom_handling(body);
            (!had_errors).then(|| text.into_owned())
        }
        Charset::Utf32Le | Charset::Utf32Be => {
            let chunks = body.chunks_exact(4);
            if !chunks.remainder().is_empty() {
                return None;
            }
            chunks
                .map(|c| {
                    let c: [u8; 4] = c.try_into().ok()?;
                    let code = if charset == Charset::Utf32Le {
                        u32::from_le_bytes(c)
                    } else {
                        u32::from_be_bytes(c)
                    };
                    char::from_u32(code)
                })
                .collect()
        }
        Charset::Oem(page) => {
            let table = oem_cp::code_table::DECODING_TABLE_CP_MAP.get(&page)?;
            table.decode_string_checked(body)
        }
        Charset::Table(index) => {
            let (_, _, table) = &super::codepages::TABLES[index];
            body.iter()
                .map(|&b| match b {
                    0..=0x7f => Some(char::from(b)),
                    _ => Some(table[usize::from(b - 0x80)]).filter(|c| *c != '\u{fffd}'),
                })
                .collect()
        }
    }
}

/// The text with its XML declaration (if any) replaced by one naming UTF-8.
fn declare_utf8(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match text
        .strip_prefix("<?xml")
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_whitespace()))
        .and_then(|rest| rest.find("?>").map(|end| &rest[end + 2..]))
    {
        Some(after) => {
            let mut out = String::with_capacity(text.len());
            out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            out.push_str(after);
            out
        }
        None => text.to_string(),
    }
}

/// The `encoding` of the XML declaration, if the body (ASCII-compatible) starts with one.
fn declared_encoding(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(512)];
    let rest = head.strip_prefix(b"<?xml")?;
    let decl = &rest[..memchr::memmem::find(rest, b"?>")?];
    let at = memchr::memmem::find(decl, b"encoding")?;
    let after = decl[at + b"encoding".len()..].trim_ascii_start();
    let after = after.strip_prefix(b"=")?.trim_ascii_start();
    let quote = *after.first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let value = &after[1..];
    let end = value.iter().position(|&b| b == quote)?;
    Some(String::from_utf8_lossy(&value[..end]).trim().to_string())
}

/// The `charset` parameter of a Content-Type header (quotes and spaces around it removed).
fn http_charset(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| {
                value
                    .trim()
                    .trim_matches(|c| c == '"' || c == '\'')
                    .trim()
                    .to_string()
            })
            .filter(|v| !v.is_empty())
    })
}

/// Labels encoding_rs does not know, from glibc iconv and Python's codec aliases, mapped to
/// one it does.
const LABEL_ALIASES: &[(&str, &str)] = &[
    ("ms-ansi", "windows-1252"),
    ("ms-ee", "windows-1250"),
    ("ms-cyrl", "windows-1251"),
    ("ms-greek", "windows-1253"),
    ("ms-turk", "windows-1254"),
    ("ms-hebr", "windows-1255"),
    ("ms-arab", "windows-1256"),
    ("winbaltrim", "windows-1257"),
    ("cp874", "windows-874"),
    ("macroman", "macintosh"),
    ("mac-roman", "macintosh"),
    ("maccyrillic", "x-mac-cyrillic"),
    ("mac-cyrillic", "x-mac-cyrillic"),
    ("ucs-2", "utf-16be"),
    ("iso-10646-ucs-2", "utf-16be"),
    ("csunicode", "utf-16be"),
];

/// The charset a label names: encoding_rs's WHATWG labels, then Python/iconv spellings
/// (`windows_1252`, `ms-ansi`), then the DOS code pages by number (`437`, `cp850`, `ibm852`,
/// `cspc862latinhebrew`).
fn charset_for_label(label: &str) -> Option<Charset> {
    let label = label.trim().to_ascii_lowercase().replace('_', "-");
    if let Some(encoding) = Encoding::for_label(label.as_bytes()) {
        // The WHATWG replacement encoding (for ISO-2022-KR and friends) decodes to one U+FFFD.
        if encoding != encoding_rs::REPLACEMENT {
            return Some(Charset::Standard(encoding));
        }
    }
    if let Some((_, target)) = LABEL_ALIASES.iter().find(|(alias, _)| *alias == label) {
        return Encoding::for_label(target.as_bytes()).map(Charset::Standard);
    }
    if matches!(label.as_str(), "utf-32" | "utf-32le" | "ucs-4le") {
        return Some(Charset::Utf32Le);
    }
    if matches!(
        label.as_str(),
        "utf-32be" | "ucs-4" | "ucs-4be" | "iso-10646-ucs-4" | "csucs4"
    ) {
        return Some(Charset::Utf32Be);
    }
    if let Some(index) = super::codepages::TABLES
        .iter()
        .position(|(_, labels, _)| labels.contains(&label.as_str()))
    {
        return Some(Charset::Table(index));
    }
    oem_page(&label).map(Charset::Oem)
}

/// The DOS code page a label names, if oem_cp has its table: a bare number or one after a
/// `cp`/`ibm`/`cs…` prefix (the first run of three or more digits).
fn oem_page(label: &str) -> Option<u16> {
    let prefixed = ["cp", "ibm", "csibm", "cspc", "oem", "dos"]
        .iter()
        .any(|p| label.starts_with(p));
    let bare = label.bytes().all(|b| b.is_ascii_digit());
    if !(prefixed || bare) {
        return None;
    }
    if label == "cp-is" {
        return Some(861);
    }
    let digits: String = label
        .split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() >= 3)?
        .to_string();
    let page: u16 = digits.parse().ok()?;
    oem_cp::code_table::DECODING_TABLE_CP_MAP
        .contains_key(&page)
        .then_some(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf8(body: &[u8], content_type: Option<&str>) -> String {
        String::from_utf8(to_utf8(body, content_type).into_owned()).unwrap()
    }

    #[test]
    fn utf16_and_utf32_with_and_without_bom() {
        let doc = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss><channel><title>Ä€</title></channel></rss>";
        let le: Vec<u8> = doc.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = doc.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let want = "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><channel><title>Ä€</title></channel></rss>";
        assert_eq!(utf8(&le, None), want);
        assert_eq!(utf8(&be, None), want);
        assert_eq!(utf8(&[&[0xFF, 0xFE][..], &le].concat(), None), want);
        assert_eq!(utf8(&[&[0xFE, 0xFF][..], &be].concat(), None), want);
        let be32: Vec<u8> = doc.chars().flat_map(|c| (c as u32).to_be_bytes()).collect();
        let le32: Vec<u8> = doc.chars().flat_map(|c| (c as u32).to_le_bytes()).collect();
        assert_eq!(utf8(&be32, None), want);
        assert_eq!(utf8(&le32, None), want);
    }

    #[test]
    fn declarations_after_the_start_are_dropped() {
        let doc = b"<?xml version=\"1.0\"?><rss><channel><?xml version=\"1.0\" encoding=\"utf-16\"?><item/></channel></rss>";
        assert_eq!(
            std::str::from_utf8(&drop_inner_declarations(doc).unwrap()).unwrap(),
            "<?xml version=\"1.0\"?><rss><channel><item/></channel></rss>"
        );
        assert_eq!(
            drop_inner_declarations(b"<?xml version=\"1.0\"?><rss/>"),
            None
        );
    }

    #[test]
    fn labels_encoding_rs_lacks() {
        for (label, byte, want) in [
            ("windows_1252", 0x80, '€'),
            ("ms-cyrl", 0x80, 'Ђ'),
            ("437", 0x80, 'Ç'),
            ("cspc862latinhebrew", 0x80, 'א'),
            ("ibm775", 0x80, 'Ć'),
            ("cp_is", 0x80, 'Ç'),
            ("macroman", 0x80, 'Ä'),
            ("cp874", 0x80, '€'),
            ("maccentraleurope", 0x80, 'Ä'),
            ("koi8-t", 0x80, 'қ'),
            ("cp1125", 0x80, 'А'),
        ] {
            let body = [
                format!("<?xml version=\"1.0\" encoding=\"{label}\"?><t>").as_bytes(),
                &[byte],
                b"</t>",
            ]
            .concat();
            let text = utf8(&body, None);
            assert!(text.contains(&format!("<t>{want}</t>")), "{label}: {text}");
            assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
        }
    }

    #[test]
    fn http_charset_declaration_and_fallbacks() {
        // HTTP names the charset: it wins over the declaration.
        let body = b"<?xml version='1.0' encoding='iso-8859-1'?><t>\x93q\x94</t>";
        assert!(utf8(body, Some("text/xml; charset=windows-1252")).contains("“q”"));
        // Valid UTF-8 is not re-read as the single-byte charset a server adds to everything.
        let body = "<?xml version='1.0' encoding='utf-8'?><t>café</t>".as_bytes();
        assert!(utf8(body, Some("text/xml; charset=ISO-8859-1")).contains("café"));
        // Untouched when nothing needs doing.
        let plain = "<rss><t>café</t></rss>".as_bytes();
        assert!(matches!(to_utf8(plain, None), Cow::Borrowed(_)));
        // Stray Latin-1 in a UTF-8 feed.
        assert!(utf8(b"<t>caf\xe9 \xc3\xa9</t>", None).contains("café é"));
        // A UTF-16 declaration on a document written in ASCII bytes.
        let body = b"<?xml version='1.0' encoding='utf-16'?><t>caf\xc3\xa9</t>";
        assert!(utf8(body, None).contains("café"));
        // GB2312 declared, decoded as GB18030 (its superset).
        let body = b"<?xml version='1.0' encoding='gb2312'?><t>\xd6\xd0</t>";
        assert!(utf8(body, None).contains("中"));
        assert_eq!(
            http_charset("application/xml;charset= \"us-ascii\"").as_deref(),
            Some("us-ascii")
        );
        assert_eq!(http_charset("text/xml; charset:iso-8859-1"), None);
    }
}
