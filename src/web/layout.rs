//! The frame every page shares (head, navigation, footer) and the small pieces pages are made
//! of: times, links out, marked snippets, feedback and retry forms. maud escapes every
//! string it is given; nothing here writes third-party text unescaped.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::model::UnixTime;

/// The stylesheet, embedded in the binary and served at [`CSS_PATH`].
pub const CSS: &str = include_str!("style.css");
/// Where the stylesheet is served; the name carries a hash of its text so a changed sheet is
/// never read from a stale cache.
pub fn css_path() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        format!(
            "/static/tidings-{:08x}.css",
            xxhash_rust::xxh3::xxh3_64(CSS.as_bytes()) as u32
        )
    })
}

/// Which section of the navigation a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Topics,
    Search,
    Feeds,
    Deliveries,
    None,
}

/// What every page needs to know about the request: the CSRF token for its forms, and
/// whether a sign-out button makes sense.
#[derive(Debug, Clone)]
pub struct Frame {
    pub csrf: String,
    pub signed_in_by_token: bool,
    /// "Now", for relative times.
    pub now: UnixTime,
}

/// A whole page: `title` (plain text) in the head, the navigation, `body` in `<main>`.
pub fn page(frame: &Frame, title: &str, section: Section, body: Markup) -> Markup {
    let nav = [
        (Section::Topics, "/", "Topics"),
        (Section::Search, "/search", "Search"),
        (Section::Feeds, "/feeds", "Feeds"),
        (Section::Deliveries, "/deliveries", "Deliveries"),
    ];
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                meta name="color-scheme" content="light dark";
                title { (title) " · tidings" }
                link rel="stylesheet" href=(css_path());
            }
            body {
                header.top {
                    a.brand href="/" { "tidings" }
                    nav {
                        @for (s, href, label) in nav {
                            @if s == section {
                                a href=(href) aria-current="page" { (label) }
                            } @else {
                                a href=(href) { (label) }
                            }
                        }
                    }
                    @if frame.signed_in_by_token {
                        form.signout method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(frame.csrf);
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A time as `2026-11-20 14:03 UTC`, with the exact instant in `datetime`.
pub fn time(t: UnixTime, now: UnixTime) -> Markup {
    let dt = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
    html! {
        time datetime=(crate::query::rfc3339(t)) title=(dt.format("%Y-%m-%d %H:%M:%S UTC").to_string()) {
            (ago(t, now))
        }
    }
}

/// "5 min ago", "3 h ago", "2 days ago"; older than a month, the date.
pub fn ago(t: UnixTime, now: UnixTime) -> String {
    let d = now - t;
    let dt = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
    match d {
        d if d < -60 => dt.format("%Y-%m-%d %H:%M UTC").to_string(),
        d if d < 60 => "just now".into(),
        d if d < 3600 => format!("{} min ago", d / 60),
        d if d < 86_400 => format!("{} h ago", d / 3600),
        d if d < 2 * 86_400 => "yesterday".into(),
        d if d < 30 * 86_400 => format!("{} days ago", d / 86_400),
        _ => dt.format("%Y-%m-%d").to_string(),
    }
}

/// Whether `url` may be a link target: http or https only (never `javascript:` or `data:`).
pub fn safe_href(url: &str) -> Option<&str> {
    let parsed = url::Url::parse(url).ok()?;
    matches!(parsed.scheme(), "http" | "https").then_some(url)
}

/// The host of a link out, shown beside it.
pub fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .host_str()
        .map(|h| h.trim_start_matches("www.").to_string())
}

/// A link out of tidings (to the publisher), or plain text when the URL is not http(s).
pub fn link_out(url: Option<&str>, text: &str) -> Markup {
    match url.and_then(safe_href) {
        Some(href) => html! { a.out href=(href) rel="noopener noreferrer" { (text) } },
        None => html! { (text) },
    }
}

/// A title to show: the item's, or a placeholder when the feed gave none.
pub fn title_text(title: Option<&str>) -> &str {
    match title.map(str::trim) {
        Some(t) if !t.is_empty() => t,
        _ => "(untitled)",
    }
}

/// A search snippet with its matched words (between `«` and `»`) in `<mark>`.
pub fn marked(snippet: &str) -> Markup {
    let mut parts: Vec<(bool, &str)> = Vec::new();
    let mut rest = snippet;
    while let Some(open) = rest.find('«') {
        parts.push((false, &rest[..open]));
        let after = &rest[open + '«'.len_utf8()..];
        match after.find('»') {
            Some(close) => {
                parts.push((true, &after[..close]));
                rest = &after[close + '»'.len_utf8()..];
            }
            None => {
                rest = after;
                break;
            }
        }
    }
    parts.push((false, rest));
    html! {
        @for (is_match, text) in parts {
            @if is_match { mark { (text) } } @else { (text) }
        }
    }
}

/// One matched term as stored with a match (see `pipeline::matching::evaluate`).
#[derive(Debug, serde::Deserialize)]
struct StoredTerm {
    #[serde(default)]
    term: String,
    #[serde(default)]
    field: String,
    #[serde(default = "one")]
    count: u64,
    #[serde(default)]
    context: String,
}

fn one() -> u64 {
    1
}

/// The stored explanation of a match (its terms, as JSON), as `tidings matches list` and
/// `topics test` print it: one line per matched term with its field, count and context,
/// each line started by `indent` and ended by a line break.
pub fn write_terms(out: &mut String, terms_json: &str, indent: &str) {
    use std::fmt::Write as _;
    let terms: Vec<StoredTerm> = serde_json::from_str(terms_json).unwrap_or_default();
    for t in terms {
        let _ = writeln!(
            out,
            "{indent}{} in {} ×{}: {}",
            t.term, t.field, t.count, t.context
        );
    }
}

/// The reader's word on a match so far, to show beside its buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Relevant,
    NotRelevant,
}

/// "Relevant" / "Not relevant" buttons of one match: one POST form (with the CSRF token)
/// whose two buttons send `relevant=yes` or `relevant=no`; `back` is where the browser
/// returns to.
pub fn feedback_buttons(
    frame: &Frame,
    match_id: i64,
    given: Option<Verdict>,
    back: &str,
) -> Markup {
    html! {
        form.feedback method="post" action={"/matches/" (match_id) "/feedback"} {
            input type="hidden" name="csrf" value=(frame.csrf);
            input type="hidden" name="back" value=(back);
            @for (value, label, verdict) in [("yes", "Relevant", Verdict::Relevant), ("no", "Not relevant", Verdict::NotRelevant)] {
                @if given == Some(verdict) {
                    button type="submit" name="relevant" value=(value) aria-pressed="true" { "✓ " (label) }
                } @else {
                    button type="submit" name="relevant" value=(value) aria-pressed="false" { (label) }
                }
            }
        }
    }
}

/// A hidden field carrying the CSRF token.
pub fn csrf_field(frame: &Frame) -> Markup {
    html! { input type="hidden" name="csrf" value=(frame.csrf); }
}

/// A short message box (errors, confirmations).
pub fn notice(kind: &str, text: &str) -> Markup {
    html! { p class={"notice " (kind)} role="status" { (text) } }
}

/// Plain text as paragraphs (split at blank lines), each line break kept.
pub fn paragraphs(text: &str) -> Markup {
    html! {
        @for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
            p {
                @for (i, line) in para.lines().enumerate() {
                    @if i > 0 { br; }
                    (line)
                }
            }
        }
    }
}

/// The `·` separator between facts on one line.
pub fn dot() -> Markup {
    PreEscaped(" · ".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_mark_their_words_and_escape_the_rest() {
        let html = marked("a <b>«Kim» said «Putin»… «open").into_string();
        assert_eq!(
            html,
            "a &lt;b&gt;<mark>Kim</mark> said <mark>Putin</mark>… open"
        );
    }

    #[test]
    fn only_web_links_are_links() {
        assert!(safe_href("https://example.org/a").is_some());
        assert!(safe_href("javascript:alert(1)").is_none());
        assert!(safe_href("data:text/html,<script>").is_none());
        let a = link_out(Some("https://example.org/?a=\"><script>"), "x").into_string();
        assert!(a.contains("rel=\"noopener noreferrer\""));
        assert!(!a.contains("<script>"), "{a}");
        assert_eq!(link_out(Some("javascript:x"), "t").into_string(), "t");
    }

    #[test]
    fn relative_times() {
        let now = 1_000_000_000;
        assert_eq!(ago(now - 30, now), "just now");
        assert_eq!(ago(now - 300, now), "5 min ago");
        assert_eq!(ago(now - 7200, now), "2 h ago");
        assert_eq!(ago(now - 3 * 86_400, now), "3 days ago");
        assert_eq!(ago(now - 90 * 86_400, now), "2001-06-11");
    }
}
