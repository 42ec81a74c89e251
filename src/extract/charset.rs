//! Charset detection and decoding of fetched HTML bodies (BOM, HTTP header, `<meta>`, sniffing).

use std::sync::OnceLock;

use encoding_rs::{Encoding, UTF_8};
use regex::bytes::Regex;

/// How many leading bytes are searched for a `<meta>` charset declaration.
/// The HTML spec says 1024; real pages often put it later, so look further.
const META_SCAN_BYTES: usize = 16 * 1024;

/// Decode an HTML body to text.
///
/// Precedence: a byte-order mark wins; then the HTTP `Content-Type` charset, unless it
/// fails to decode cleanly while the `<meta>` charset decodes cleanly (or the header names a
/// legacy charset, the `<meta>` says UTF-8 and the body is valid non-ASCII UTF-8); then
/// `<meta charset>` / `<meta http-equiv>`; then UTF-8 when the bytes are valid UTF-8;
/// then a guess by chardetng. Undecodable bytes become U+FFFD.
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
    let utf8_ok = std::str::from_utf8(body).is_ok();
    if let Some(h) = header {
        let Some(m) = meta.filter(|&m| m != h) else {
            return (h, 0);
        };
        if !decodes_cleanly(h, body) && decodes_cleanly(m, body) {
            return (m, 0);
        }
        if m == UTF_8 && utf8_ok && !body.is_ascii() && h != UTF_8 {
            // A legacy single-byte charset decodes anything "cleanly"; real multi-byte
            // UTF-8 sequences that the page itself declares are the stronger evidence.
            return (m, 0);
        }
        return (h, 0);
    }
    if let Some(m) = meta {
        if m != UTF_8 && utf8_ok && !body.is_ascii() && !decodes_cleanly(m, body) {
            return (UTF_8, 0);
        }
        return (m, 0);
    }
    if utf8_ok {
        return (UTF_8, 0);
    }
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    det.feed(
        &body[..body.len().min(256 * 1024)],
        body.len() <= 256 * 1024,
    );
    (det.guess(None, chardetng::Utf8Detection::Allow), 0)
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

/// A `<meta charset=…>` or `<meta http-equiv=Content-Type content="…charset=…">` in `head`.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r#"(?i-u)<meta\s[^>]*?charset\s*=\s*["']?\s*([a-z0-9_:.\-]+)"#)
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
    fn undeclared_utf8_and_unknown_labels() {
        let html = page("", RU);
        assert!(decode_html(html.as_bytes(), None).contains(RU));
        assert!(decode_html(html.as_bytes(), Some("text/html; charset=bogus-9")).contains(RU));
    }
}
