//! Charset detection and decoding of fetched HTML bodies (BOM, HTTP header, `<meta>`, sniffing).

use std::sync::OnceLock;

use encoding_rs::{Encoding, UTF_8};
use regex::bytes::Regex;

/// How many leading bytes are searched for a `<meta>` charset declaration.
/// The HTML spec says 1024; real pages often put it later, so look further.
const META_SCAN_BYTES: usize = 16 * 1024;

/// Decode an HTML body to text.
///
/// Precedence: a byte-order mark wins; then the HTTP `Content-Type` charset; then
/// `<meta charset>` / `<meta http-equiv>`; then UTF-8 when the bytes are (mostly) valid
/// UTF-8; then a guess by chardetng. Two kinds of evidence overrule a declaration:
/// * a declared charset that fails to decode the bytes cleanly loses to a `<meta>` one
///   that decodes them cleanly (a wrong header with a right `<meta>`), or, without such a
///   `<meta>`, to chardetng's guess when that decodes them cleanly;
/// * a declared single-byte legacy charset (windows-1252, ISO-8859-x, KOI8 …) loses to
///   UTF-8 when the bytes are UTF-8 with many multi-byte sequences and (almost) no
///   malformed ones: legacy text practically never looks like that, while pages that
///   were re-encoded to UTF-8 keep their old declaration all the time.
///
/// Undecodable bytes become U+FFFD.
pub fn decode_html(body: &[u8], content_type: Option<&str>) -> String {
    let (enc, skip) = choose_encoding(body, content_type);
    let (text, _) = enc.decode_without_bom_handling(&body[skip..]);
    text.into_owned()
}

/// The encoding [`decode_html`] uses for `body`, and the BOM length to skip.
pub fn choose_encoding(body: &[u8], content_type: Option<&str>) -> (&'static Encoding, usize) {
    if let Some((enc, len)) = Encoding::for_bom(body) {
        return (enc, len);
    }
    let header = content_type.and_then(header_charset);
    let meta = meta_charset(&body[..body.len().min(META_SCAN_BYTES)]);
    let valid = std::str::from_utf8(body).is_ok();
    let evidence = std::cell::OnceCell::new();
    let convincing = || *evidence.get_or_init(|| Utf8Evidence::of(body).convincing());
    // A single-byte legacy declaration on UTF-8 bytes, or a declaration that cannot decode
    // bytes that are mostly UTF-8, is a stale label: UTF-8 wins.
    let overruled_by_utf8 = |enc: &'static Encoding| {
        enc != UTF_8 && convincing() && (enc.is_single_byte() || !decodes_cleanly(enc, body))
    };
    if let Some(h) = header {
        if h == UTF_8 && (valid || convincing()) {
            return (UTF_8, 0); // a stray bad byte does not make a UTF-8 page something else
        }
        if overruled_by_utf8(h) {
            return (UTF_8, 0);
        }
        if let Some(m) = meta.filter(|&m| m != h)
            && !decodes_cleanly(h, body)
            && decodes_cleanly(m, body)
        {
            return (m, 0);
        }
        if !decodes_cleanly(h, body) {
            // A header that garbles the page and no usable `<meta>`: trust the bytes.
            let guess = guess(body);
            if decodes_cleanly(guess, body) {
                return (guess, 0);
            }
        }
        return (h, 0);
    }
    if let Some(m) = meta {
        if m == UTF_8 && (valid || convincing()) {
            return (UTF_8, 0);
        }
        if m != UTF_8 {
            return if overruled_by_utf8(m) {
                (UTF_8, 0)
            } else {
                (m, 0)
            };
        }
        // `<meta charset=utf-8>` on bytes that are not UTF-8: guess below.
    } else if valid || convincing() {
        return (UTF_8, 0);
    }
    (guess(body), 0)
}

/// chardetng's guess from the first 256 KiB.
fn guess(body: &[u8]) -> &'static Encoding {
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    det.feed(
        &body[..body.len().min(256 * 1024)],
        body.len() <= 256 * 1024,
    );
    det.guess(None, chardetng::Utf8Detection::Allow)
}

/// How UTF-8-like a byte string is.
struct Utf8Evidence {
    /// Valid multi-byte characters.
    multibyte: usize,
    /// Malformed sequences.
    invalid: usize,
}

impl Utf8Evidence {
    fn of(body: &[u8]) -> Self {
        let (mut multibyte, mut invalid) = (0, 0);
        for chunk in body.utf8_chunks() {
            multibyte += chunk.valid().chars().filter(|c| c.len_utf8() > 1).count();
            invalid += usize::from(!chunk.invalid().is_empty());
        }
        Self { multibyte, invalid }
    }

    /// Enough multi-byte characters, and at most one malformed sequence per 20 of them.
    fn convincing(&self) -> bool {
        self.multibyte >= 8 && self.invalid * 20 <= self.multibyte
    }
}

/// True when `body` decodes in `enc` without malformed sequences.
fn decodes_cleanly(enc: &'static Encoding, body: &[u8]) -> bool {
    enc.decode_without_bom_handling_and_without_replacement(body)
        .is_some()
}

/// Charset parameter of a `Content-Type` value, when it names an encoding we know.
fn header_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (k, v) = param.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
        normalize(Encoding::for_label(v.as_bytes())?)
    })
}

/// A `<meta charset=…>` or `<meta http-equiv=Content-Type content="…charset=…">` in `head`,
/// or the `encoding` of a leading XML declaration (XHTML).
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r#"(?i-u)(?:<meta\s[^>]*?charset\s*=\s*["']?\s*|^\s*<\?xml\s[^>]*?encoding\s*=\s*["'])([a-z0-9_:.\-]+)"#,
        )
            .expect("static regex")
    });
    re.captures_iter(head)
        .find_map(|c| normalize(Encoding::for_label(c.get(1)?.as_bytes())?))
}

/// Per the HTML spec, a UTF-16 declaration in ASCII-compatible bytes means UTF-8, and
/// `x-user-defined` means windows-1252.
fn normalize(enc: &'static Encoding) -> Option<&'static Encoding> {
    if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
        Some(UTF_8)
    } else if enc == encoding_rs::X_USER_DEFINED {
        Some(encoding_rs::WINDOWS_1252)
    } else if enc == encoding_rs::REPLACEMENT {
        None
    } else {
        Some(enc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RU: &str = "Привет, мир! Съешь же ещё этих мягких французских булок.";
    const JA: &str = "いろはにほへと ちりぬるを 日本語のニュース記事です。";

    fn page(meta: &str, body: &str) -> String {
        format!(
            "<!doctype html><html><head>{meta}<title>t</title></head><body><p>{body}</p></body></html>"
        )
    }

    fn encode(enc: &'static Encoding, s: &str) -> Vec<u8> {
        let (bytes, _, bad) = enc.encode(s);
        assert!(!bad, "test text not representable in {}", enc.name());
        bytes.into_owned()
    }

    #[test]
    fn windows_1251_page_with_meta_charset() {
        let html = page(r#"<meta charset="windows-1251">"#, RU);
        let bytes = encode(encoding_rs::WINDOWS_1251, &html);
        assert!(decode_html(&bytes, None).contains(RU));
        assert!(decode_html(&bytes, Some("text/html")).contains(RU));
    }

    #[test]
    fn windows_1251_page_with_http_equiv_and_header() {
        let html = page(
            r#"<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">"#,
            RU,
        );
        let bytes = encode(encoding_rs::WINDOWS_1251, &html);
        assert!(decode_html(&bytes, Some("text/html; charset=cp1251")).contains(RU));
    }

    #[test]
    fn shift_jis_page() {
        let html = page(
            r#"<meta http-equiv="content-type" content="text/html;charset=Shift_JIS">"#,
            JA,
        );
        let bytes = encode(encoding_rs::SHIFT_JIS, &html);
        assert!(decode_html(&bytes, None).contains(JA));
        assert!(decode_html(&bytes, Some("text/html; charset=\"shift_jis\"")).contains(JA));
    }

    #[test]
    fn undeclared_shift_jis_is_guessed() {
        let html = page("", &JA.repeat(20));
        let bytes = encode(encoding_rs::SHIFT_JIS, &html);
        assert!(decode_html(&bytes, None).contains(JA));
    }

    #[test]
    fn wrong_utf8_header_with_right_meta() {
        let html = page(r#"<meta charset="windows-1251">"#, RU);
        let bytes = encode(encoding_rs::WINDOWS_1251, &html);
        let text = decode_html(&bytes, Some("text/html; charset=utf-8"));
        assert!(text.contains(RU), "{text}");
    }

    #[test]
    fn wrong_legacy_header_with_right_utf8_meta() {
        let html = page(r#"<meta charset="utf-8">"#, RU);
        let text = decode_html(html.as_bytes(), Some("text/html; charset=ISO-8859-1"));
        assert!(text.contains(RU), "{text}");
    }

    #[test]
    fn right_header_beats_wrong_meta() {
        let html = page(r#"<meta charset="utf-8">"#, RU);
        let bytes = encode(encoding_rs::WINDOWS_1251, &html);
        let text = decode_html(&bytes, Some("text/html; charset=windows-1251"));
        assert!(text.contains(RU), "{text}");
    }

    #[test]
    fn bom_wins_over_everything() {
        let html = page(r#"<meta charset="windows-1251">"#, RU);
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(html.as_bytes());
        let text = decode_html(&bytes, Some("text/html; charset=shift_jis"));
        assert!(text.starts_with("<!doctype"), "BOM must be stripped");
        assert!(text.contains(RU));
    }

    #[test]
    fn utf8_page_with_a_stray_byte_and_a_stale_legacy_meta() {
        let html = page(r#"<meta charset="windows-1252">"#, &RU.repeat(3));
        let mut bytes = html.into_bytes();
        let at = bytes
            .windows(4)
            .position(|w| w == b"</p>")
            .expect("paragraph end");
        bytes.insert(at, 0xFF); // one malformed byte
        for ct in [
            Some("text/html; charset=utf-8"),
            None,
            Some("text/html; charset=iso-8859-1"),
        ] {
            let text = decode_html(&bytes, ct);
            assert!(text.contains(RU), "{ct:?}: {text}");
        }
    }

    #[test]
    fn wrong_header_without_meta_is_overruled_by_the_bytes() {
        let html = page("", &RU.repeat(5));
        let bytes = encode(encoding_rs::WINDOWS_1251, &html);
        assert!(decode_html(&bytes, Some("text/html; charset=utf-8")).contains(RU));
    }

    #[test]
    fn utf8_meta_on_legacy_bytes_is_guessed() {
        let html = page(r#"<meta charset="utf-8">"#, &RU.repeat(5));
        let bytes = encode(encoding_rs::WINDOWS_1251, &html);
        assert!(decode_html(&bytes, None).contains(RU));
    }

    #[test]
    fn xml_declaration_names_the_encoding() {
        let html = format!(
            "<?xml version=\"1.0\" encoding=\"windows-1251\"?>\n{}",
            page("", RU)
        );
        let bytes = encode(encoding_rs::WINDOWS_1251, &html);
        assert!(decode_html(&bytes, Some("application/xhtml+xml")).contains(RU));
        let head = b"<?xml version='1.0' encoding='iso-8859-2'?><html><head></head>";
        assert_eq!(meta_charset(head), Some(encoding_rs::ISO_8859_2));
        assert_eq!(meta_charset(b"<p>encoding='iso-8859-2'</p>"), None);
    }

    #[test]
    fn undeclared_utf8_and_unknown_labels() {
        let html = page("", RU);
        assert!(decode_html(html.as_bytes(), None).contains(RU));
        assert!(decode_html(html.as_bytes(), Some("text/html; charset=bogus-9")).contains(RU));
    }
}
