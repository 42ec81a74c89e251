//! Cheap checks run before any tree is built (content type, nesting depth) and the deadline.

use std::time::{Duration, Instant};

use super::ExtractError;

/// Deepest element nesting we build a tree for. The readability walks recurse over the
/// tree: on a 2 MiB thread stack (tokio's `spawn_blocking`, test threads) a debug build
/// survived 5,000 levels and overflowed by 10,000. Browsers stop nesting at 512, and the
/// 181 benchmark pages stay under 60 by this scan's (over-)estimate.
pub const MAX_DEPTH: usize = 512;

/// A wall-clock deadline checked between phases and inside long loops.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    end: Instant,
    limit: Duration,
}

impl Deadline {
    pub fn new(limit: Duration) -> Self {
        let now = Instant::now();
        Self {
            end: now
                .checked_add(limit)
                .unwrap_or(now + Duration::from_secs(86_400 * 365)),
            limit,
        }
    }

    /// `Err(TimedOut)` when less than `need` is left: a step that cannot be interrupted
    /// is refused up front rather than allowed to overrun.
    pub fn require(&self, need: Duration) -> Result<(), ExtractError> {
        if Instant::now() + need >= self.end {
            Err(ExtractError::TimedOut { limit: self.limit })
        } else {
            Ok(())
        }
    }

    /// `Err(TimedOut)` once the deadline has passed.
    pub fn check(&self) -> Result<(), ExtractError> {
        if Instant::now() >= self.end {
            Err(ExtractError::TimedOut { limit: self.limit })
        } else {
            Ok(())
        }
    }
}

/// Refuse content types that are not HTML. `None`, empty, `application/octet-stream` and
/// `text/plain` fall back to sniffing the body.
pub fn check_content_type(content_type: Option<&str>, body: &[u8]) -> Result<(), ExtractError> {
    let essence = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|s| s.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let refuse = || ExtractError::NotHtml {
        content_type: content_type.unwrap_or("").to_string(),
    };
    match essence.as_str() {
        "text/html" | "application/xhtml+xml" => Ok(()),
        "" | "application/octet-stream" | "text/plain" | "binary/octet-stream" => {
            if looks_like_html(body) {
                Ok(())
            } else {
                Err(refuse())
            }
        }
        _ => Err(refuse()),
    }
}

/// Sniff: markup near the start (after a BOM and whitespace) and no binary magic.
fn looks_like_html(body: &[u8]) -> bool {
    let head = &body[..body.len().min(1024)];
    let head = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head);
    let trimmed = head.trim_ascii_start();
    if trimmed.first() != Some(&b'<') {
        return false;
    }
    let lower = trimmed.to_ascii_lowercase();
    [
        &b"<!doctype html"[..],
        b"<html",
        b"<head",
        b"<body",
        b"<div",
        b"<p",
        b"<!--",
        b"<meta",
        b"<title",
    ]
    .iter()
    .any(|m| lower.windows(m.len()).any(|w| w == *m))
}

/// Elements that never have children.
#[rustfmt::skip]
const VOID: &[&[u8]] = &[
    b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta",
    b"param", b"source", b"track", b"wbr", b"keygen", b"command", b"basefont", b"frame",
];

/// Elements whose end tag is often omitted; a naive count would only ever grow on them.
#[rustfmt::skip]
const OPTIONAL_END: &[&[u8]] = &[
    b"p", b"li", b"dt", b"dd", b"tr", b"td", b"th", b"option", b"optgroup", b"thead", b"tbody",
    b"tfoot", b"colgroup", b"rb", b"rt", b"rp", b"rtc", b"html", b"head", b"body",
];

/// Elements whose content is raw text (no tags inside).
const RAW_TEXT: &[&[u8]] = &[b"script", b"style", b"textarea", b"title", b"xmp"];

/// What one byte pass over the page found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scan {
    /// Upper estimate of the element nesting depth (stops counting past the limit).
    pub depth: usize,
    /// Start tags seen.
    pub elements: usize,
    /// Most `=` signs in one tag: an upper estimate of its attribute count.
    pub max_attrs: usize,
}

/// Most attributes one tag may carry. html5ever checks each new attribute against the
/// earlier ones, so a tag with a million of them costs seconds; real tags have dozens
/// (a data URI or a long URL adds a few `=`, not thousands).
pub const MAX_ATTRS: usize = 10_000;

/// Refuse, before parsing, a page nested deeper than [`MAX_DEPTH`], with more start tags
/// than `max_elements`, or with a tag of more than [`MAX_ATTRS`] attributes.
pub fn prescan(html: &[u8], max_elements: usize) -> Result<Scan, ExtractError> {
    let scan = scan(html, MAX_DEPTH, max_elements);
    if scan.depth > MAX_DEPTH {
        return Err(ExtractError::Parse(format!(
            "element nesting deeper than {MAX_DEPTH} levels (refused before parsing)"
        )));
    }
    if scan.elements > max_elements {
        return Err(ExtractError::Parse(format!(
            "more than {max_elements} elements (refused before parsing)"
        )));
    }
    if scan.max_attrs > MAX_ATTRS {
        return Err(ExtractError::Parse(format!(
            "a tag with {} attributes, more than {MAX_ATTRS} (refused before parsing)",
            scan.max_attrs
        )));
    }
    Ok(scan)
}

/// Upper estimate of the element nesting depth; see [`scan`].
#[cfg(test)]
pub fn max_nesting_depth(html: &[u8], limit: usize) -> usize {
    scan(html, limit, usize::MAX).depth
}

/// One pass over the bytes, stopping early once the depth passes `depth_limit` or the
/// start tags pass `element_limit`. Every start tag except void, self-closed and
/// optional-end ones pushes; every end tag pops. Comments and raw-text elements are skipped.
fn scan(html: &[u8], depth_limit: usize, element_limit: usize) -> Scan {
    let in_list = |list: &[&[u8]], name: &[u8]| list.iter().any(|w| w.eq_ignore_ascii_case(name));
    let mut out = Scan::default();
    let mut depth = 0usize;
    // An `<a>` inside an open `<a>` closes it (HTML parsing rules), so links never nest.
    let mut a_open = false;
    let n = html.len();
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'<', &html[i..]) {
        i += off + 1;
        if i >= n {
            break;
        }
        if html[i..].starts_with(b"!--") {
            i = memchr::memmem::find(&html[i + 3..], b"-->").map_or(n, |o| i + 3 + o + 3);
            continue;
        }
        let closing = html[i] == b'/';
        let start = if closing { i + 1 } else { i };
        let mut end = start;
        while end < n && html[end].is_ascii_alphanumeric() {
            end += 1;
        }
        if end == start {
            continue; // `<!doctype`, `< `, `<?xml` …
        }
        let name = &html[start..end];
        let gt = memchr::memchr(b'>', &html[end..]).map_or(n, |o| end + o);
        i = gt;
        let ignored = in_list(VOID, name) || in_list(OPTIONAL_END, name);
        let is_a = name.eq_ignore_ascii_case(b"a");
        if closing {
            if is_a && !a_open {
                continue;
            }
            a_open &= !is_a;
            if !ignored {
                depth = depth.saturating_sub(1);
            }
            continue;
        }
        out.elements += 1;
        out.max_attrs = out
            .max_attrs
            .max(memchr::memchr_iter(b'=', &html[end..gt]).count());
        if out.elements > element_limit {
            break;
        }
        if in_list(RAW_TEXT, name) {
            i = find_end_tag(html, i, name);
            continue;
        }
        let self_closed = gt > end && gt < n && html[gt - 1] == b'/';
        if ignored || self_closed || (is_a && a_open) {
            continue;
        }
        a_open |= is_a;
        depth += 1;
        if depth > out.depth {
            out.depth = depth;
            if depth > depth_limit {
                break;
            }
        }
    }
    out
}

/// Position of the `</name` that ends a raw-text element opened before `from`, or the end.
fn find_end_tag(html: &[u8], mut from: usize, name: &[u8]) -> usize {
    while let Some(off) = memchr::memmem::find(&html[from..], b"</") {
        let at = from + off + 2;
        if html.len() >= at + name.len() && html[at..at + name.len()].eq_ignore_ascii_case(name) {
            return at;
        }
        from = at;
    }
    html.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_of_ordinary_markup() {
        let html = b"<html><body><div><p>a<p>b<br><img src=x><div><span>x</span></div></div>\
                     <script>if (a<b) { '<div><div><div>' }</script><!-- <div><div> --></body></html>";
        assert_eq!(max_nesting_depth(html, 100), 3);
    }

    #[test]
    fn prescan_refuses_attribute_and_element_bombs() {
        let attrs: String = (0..20_000).map(|i| format!(" a{i}=x")).collect();
        let html = format!("<html><body><div{attrs}>hi</div></body></html>");
        assert!(
            matches!(prescan(html.as_bytes(), 1000), Err(ExtractError::Parse(m)) if m.contains("attributes"))
        );
        let many = "<p>a</p>".repeat(2000);
        assert!(
            matches!(prescan(many.as_bytes(), 1000), Err(ExtractError::Parse(m)) if m.contains("elements"))
        );
        let ok = format!(
            "<p><img src=\"data:image/png;base64,{}==\"></p>",
            "QUJD".repeat(50_000)
        );
        assert!(prescan(ok.as_bytes(), 1000).is_ok());
    }

    #[test]
    fn unclosed_links_do_not_nest() {
        let links = "<a href=x>one".repeat(5000);
        assert_eq!(
            max_nesting_depth(format!("<div>{links}</div>").as_bytes(), 512),
            2
        );
    }

    #[test]
    fn depth_scan_stops_early_on_bombs() {
        let bomb = "<div>".repeat(100_000);
        assert_eq!(max_nesting_depth(bomb.as_bytes(), 10), 11);
    }

    #[test]
    fn deadline_refuses_steps_that_cannot_fit() {
        let d = Deadline::new(Duration::from_millis(200));
        assert!(d.check().is_ok());
        assert!(d.require(Duration::from_millis(1)).is_ok());
        assert!(matches!(
            d.require(Duration::from_secs(1)),
            Err(ExtractError::TimedOut { limit }) if limit == Duration::from_millis(200)
        ));
        let huge = Deadline::new(Duration::MAX);
        assert!(
            huge.check().is_ok(),
            "an unrepresentable deadline means no deadline"
        );
    }

    #[test]
    fn content_types() {
        let html = b"<!DOCTYPE html><html><body>x</body></html>";
        assert!(check_content_type(Some("text/html; charset=utf-8"), html).is_ok());
        assert!(check_content_type(Some("application/xhtml+xml"), html).is_ok());
        assert!(check_content_type(None, html).is_ok());
        assert!(check_content_type(Some("application/octet-stream"), html).is_ok());
        let pdf = b"%PDF-1.7 ...";
        assert!(matches!(
            check_content_type(Some("application/pdf"), pdf),
            Err(ExtractError::NotHtml { content_type }) if content_type == "application/pdf"
        ));
        assert!(check_content_type(Some("image/png"), html).is_err());
        assert!(check_content_type(None, pdf).is_err());
    }
}
