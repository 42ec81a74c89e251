//! Boilerplate removal: DOM rules before readability runs, paragraph rules after it.
//!
//! Every rule is generic: element names, ARIA roles, schema.org `itemprop`s, common words
//! in class/id names (share, related, newsletter, caption …) and common phrases in short
//! paragraphs ("Read more", "Sign up for our newsletter" …). Nothing keys on one site.

use dom_query::{Document, NodeRef};

use super::ExtractError;
use super::guard::Deadline;
use super::text::Para;

/// When the `EXTRACT_DEBUG` environment variable is set, removals are printed to stderr.
fn debug() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("EXTRACT_DEBUG").is_some())
}

/// Words that, found as a whole word in an element's class or id, mark page furniture.
const BOILER_WORDS: &[&str] = &[
    "share",
    "shares",
    "sharing",
    "sharebar",
    "sharetools",
    "social",
    "socials",
    "newsletter",
    "newsletters",
    "subscribe",
    "subscription",
    "signup",
    "related",
    "recommended",
    "recommendation",
    "recommendations",
    "promo",
    "promos",
    "promotion",
    "advert",
    "advertisement",
    "advertising",
    "ads",
    "ad",
    "sponsored",
    "sponsor",
    "outbrain",
    "taboola",
    "breadcrumb",
    "breadcrumbs",
    "byline",
    "bylines",
    "author",
    "authors",
    "caption",
    "captions",
    "credit",
    "credits",
    "figcaption",
    "comment",
    "comments",
    "disqus",
    "donate",
    "donation",
    "donations",
    "tags",
    "tag",
    "popular",
    "trending",
    "mostread",
    "readmore",
    "morestories",
    "print",
    "toolbar",
    "paywall",
    "cookie",
    "cookies",
    "consent",
    "modal",
    "popup",
    "gdpr",
    "timestamp",
    "dateline",
    "date",
    "published",
    "pubdate",
    "meta",
    "skip",
    "nav",
    "navigation",
    "menu",
    "footer",
    "sidebar",
    "bio",
    "seealso",
    "alsoread",
    "supportus",
    "dek",
    "standfirst",
    "subheadline",
    "subtitle",
    "kicker",
    "eyebrow",
];

/// ARIA roles of page furniture.
const BOILER_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "dialog",
    "alertdialog",
    "search",
    "menu",
    "menubar",
    "toolbar",
];

/// schema.org properties that hold metadata, not article text.
const BOILER_ITEMPROPS: &[&str] = &[
    "author",
    "datepublished",
    "datemodified",
    "publisher",
    "caption",
    "creator",
    "headline",
];

/// Elements removed outright, whatever their size.
const DROP_TAGS: &[&str] = &["figcaption", "nav", "button", "dialog", "menu", "select"];

/// Elements removed when they hold little text (they sometimes wrap the whole page).
const DROP_SMALL_TAGS: &[&str] = &["aside", "footer", "header", "form", "figure"];

/// Lowercase words of an element's class and id, split at punctuation and camelCase,
/// plus each adjacent pair joined ("read-more" gives read, more, readmore).
fn attr_words(node: &NodeRef) -> Vec<String> {
    let mut words = Vec::new();
    for attr in ["class", "id"] {
        let Some(v) = node.attr(attr) else { continue };
        let mut w = String::new();
        let mut prev_lower = false;
        let mut raw: Vec<String> = Vec::new();
        for c in v.chars() {
            if c.is_alphanumeric() {
                if c.is_uppercase() && prev_lower && !w.is_empty() {
                    raw.push(std::mem::take(&mut w));
                }
                prev_lower = c.is_lowercase();
                w.extend(c.to_lowercase());
            } else {
                prev_lower = false;
                if !w.is_empty() {
                    raw.push(std::mem::take(&mut w));
                }
                if c.is_whitespace() {
                    raw.push(String::new()); // class boundary: no pair across it
                }
            }
        }
        if !w.is_empty() {
            raw.push(w);
        }
        for pair in raw.windows(2) {
            if !pair[0].is_empty() && !pair[1].is_empty() {
                words.push(format!("{}{}", pair[0], pair[1]));
            }
        }
        words.extend(raw.into_iter().filter(|s| !s.is_empty()));
    }
    words
}

/// How sure a furniture verdict is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Drop whatever its size.
    Always,
    /// Drop when it holds a small share of the page's text.
    IfSmall,
    /// Drop when small and holding no `blockquote` (embedded posts and quotes often sit in
    /// "social embed" wrappers and are part of the story).
    IfSmallNoQuote,
}

/// What the walk needs to know about one element, read in one borrow of it.
struct ElementFacts {
    verdict: Option<Verdict>,
    is_p: bool,
    is_quote: bool,
    protected: bool,
    skip: bool,
}

/// Whether an element is furniture (and how sure that is), plus the flags the walk uses.
fn element_facts(node: &NodeRef) -> Option<ElementFacts> {
    let el = node.element_ref()?;
    let name: &str = &el.name.local;
    let mut facts = ElementFacts {
        verdict: None,
        is_p: name == "p",
        is_quote: name == "blockquote",
        protected: matches!(name, "article" | "main"),
        skip: matches!(name, "script" | "style" | "noscript" | "template" | "svg"),
    };
    if facts.skip {
        return Some(facts);
    }
    if DROP_TAGS.contains(&name) {
        facts.verdict = Some(Verdict::Always);
        return Some(facts);
    }
    if DROP_SMALL_TAGS.contains(&name) {
        facts.verdict = Some(Verdict::IfSmall);
    }
    let mut class_hit = false;
    for a in &el.attrs {
        let v: &str = &a.value;
        match &*a.name.local {
            "role" if BOILER_ROLES.iter().any(|r| v.eq_ignore_ascii_case(r)) => {
                facts.verdict.get_or_insert(Verdict::IfSmall);
            }
            "itemprop" => {
                if v.eq_ignore_ascii_case("articleBody") {
                    facts.protected = true;
                } else if BOILER_ITEMPROPS.iter().any(|r| v.eq_ignore_ascii_case(r)) {
                    facts.verdict.get_or_insert(Verdict::IfSmall);
                }
            }
            "class" | "id" => class_hit |= prefilter().is_match(v),
            _ => {}
        }
    }
    drop(el);
    if facts.verdict.is_none() && class_hit {
        let words = attr_words(node);
        let mut hits = words
            .iter()
            .filter(|w| BOILER_WORDS.contains(&w.as_str()))
            .peekable();
        if hits.peek().is_some() {
            let social =
                hits.all(|w| matches!(w.as_str(), "social" | "share" | "shares" | "sharing"));
            facts.verdict = Some(if social {
                Verdict::IfSmallNoQuote
            } else {
                Verdict::IfSmall
            });
        }
    }
    Some(facts)
}

/// An element marked as holding the author's name.
fn is_byline_element(node: &NodeRef) -> bool {
    node.attr("rel")
        .is_some_and(|r| r.eq_ignore_ascii_case("author"))
        || node
            .attr("itemprop")
            .is_some_and(|r| r.eq_ignore_ascii_case("author"))
        || attr_words(node)
            .iter()
            .any(|w| matches!(w.as_str(), "byline" | "author"))
}

/// "By Jane Doe and John Roe" → "Jane Doe and John Roe"; `None` when it is not short.
fn byline_text(node: &NodeRef) -> Option<String> {
    let t = node.text();
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    let t = t
        .strip_prefix("By ")
        .or_else(|| t.strip_prefix("by "))
        .unwrap_or(&t)
        .trim();
    (!t.is_empty() && t.split_whitespace().count() <= 8).then(|| t.to_string())
}

/// Case-insensitive substring test for any boilerplate word: most elements fail it, and
/// only those that pass are split into words.
fn prefilter() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        let alts: Vec<String> = BOILER_WORDS.iter().map(|w| regex::escape(w)).collect();
        regex::Regex::new(&format!("(?i){}", alts.join("|"))).expect("static regex")
    })
}

/// Remove page furniture from the whole document before readability scores it.
/// An element that is not always furniture is kept when it holds more than `MAX_SHARE`
/// of the page's visible text or of the text in its `<p>`s (a "share-enabled" article
/// wrapper must survive), or is or contains an `article`, `main` or `itemprop=articleBody`.
/// Metadata read from elements that [`preclean`] removes, for when readability's own
/// metadata (meta tags, ld+json) has none.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Text of the first short byline/author element, without a leading "By".
    pub byline: Option<String>,
    /// `datetime` of the first `<time>` element.
    pub published: Option<String>,
}

pub fn preclean(doc: &Document, deadline: &Deadline) -> Result<Found, ExtractError> {
    let mut found = Found::default();
    const MAX_SHARE: f64 = 0.35;
    let Some(body) = doc.select("body").nodes().first().cloned() else {
        return Ok(found);
    };
    // One iterative post-order walk: text sizes of every subtree, then the decisions.
    struct Frame<'a> {
        node: NodeRef<'a>,
        is_p: bool,
        chars: usize,
        p_chars: usize,
        protected: bool,
        quote: bool,
        verdict: Option<Verdict>,
    }
    let mut stack: Vec<(NodeRef, bool)> = vec![(body, true)];
    let mut frames: Vec<Frame> = Vec::new();
    let mut candidates: Vec<(NodeRef, usize, usize, Verdict, bool)> = Vec::new();
    let mut steps = 0usize;
    let mut totals = (0usize, 0usize);
    while let Some((node, entering)) = stack.pop() {
        steps += 1;
        if steps.is_multiple_of(1024) {
            deadline.check()?;
        }
        if entering {
            if node.is_text() {
                if let Some(top) = frames.last_mut() {
                    let n = node.query_or(0, |t| match &t.data {
                        dom_query::NodeData::Text { contents } => {
                            contents.chars().filter(|c| !c.is_whitespace()).count()
                        }
                        _ => 0,
                    });
                    top.chars += n;
                    if top.is_p {
                        top.p_chars += n;
                    }
                }
                continue;
            }
            if !node.is_element() {
                continue;
            }
            let Some(facts) = element_facts(&node) else {
                continue;
            };
            if facts.skip {
                continue;
            }
            frames.push(Frame {
                node,
                is_p: facts.is_p,
                chars: 0,
                p_chars: 0,
                protected: facts.protected,
                quote: facts.is_quote,
                verdict: facts.verdict,
            });
            stack.push((node, false));
            let mut child = node.last_child();
            while let Some(c) = child {
                child = c.prev_sibling();
                stack.push((c, true));
            }
        } else {
            let f = frames.pop().expect("balanced walk");
            if let Some(parent) = frames.last_mut() {
                parent.chars += f.chars;
                parent.p_chars += if parent.is_p { f.chars } else { f.p_chars };
                parent.protected |= f.protected;
                parent.quote |= f.quote;
            } else {
                totals = (f.chars, f.p_chars);
            }
            if found.published.is_none() && node.has_name("time") {
                found.published = node
                    .attr("datetime")
                    .map(|d| d.trim().to_string())
                    .filter(|d| !d.is_empty());
            }
            if let Some(verdict) = f.verdict {
                if found.byline.is_none() && f.chars < 80 && is_byline_element(&f.node) {
                    found.byline = byline_text(&f.node);
                }
                let keep = f.protected || (verdict == Verdict::IfSmallNoQuote && f.quote);
                candidates.push((f.node, f.chars, f.p_chars, verdict, keep));
            }
        }
    }
    let (body_chars, body_p) = (totals.0.max(1), totals.1.max(1));
    for (node, chars, p_chars, verdict, protected) in candidates {
        if verdict != Verdict::Always
            && (protected
                || chars as f64 > MAX_SHARE * body_chars as f64
                || p_chars as f64 > MAX_SHARE * body_p as f64)
        {
            continue;
        }
        if debug() {
            let t = node.text();
            let t: String = t
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(100)
                .collect();
            eprintln!(
                "preclean drop <{} class={:?} id={:?}> {t}",
                node.node_name().unwrap_or_default(),
                node.attr("class"),
                node.attr("id")
            );
        }
        node.remove_from_parent();
    }
    Ok(found)
}

/// Phrases that open short boilerplate paragraphs (compared case-insensitively, at word
/// boundaries). Chosen to be rare as the opening of a sentence of news prose.
const BOILER_STARTS: &[&str] = &[
    "join the conversation",
    "source:",
    "sources:",
    "read next",
    "more great",
    "recent articles",
    "popular this",
    "related news",
    "read more",
    "read also",
    "also read",
    "related:",
    "related post",
    "related article",
    "related stories",
    "related coverage",
    "see more",
    "see also",
    "also:",
    "more:",
    "click here",
    "sign up",
    "subscribe",
    "follow us",
    "follow him",
    "follow her",
    "share this",
    "like this story",
    "photo:",
    "photo by",
    "photograph:",
    "image:",
    "image copyright",
    "image caption",
    "(image",
    "credit:",
    "credit…",
    "credit...",
    "posted:",
    "published:",
    "first published",
    "updated:",
    "last updated",
    "tags:",
    "tags |",
    "tag:",
    "leia também",
    "veja também",
    "leggi anche",
    "lesen sie auch",
    "lire aussi",
    "читайте также",
    "смотрите также",
    "follow @",
    "reach the reporter",
    "contact the reporter",
    "contact the author",
    "email the reporter",
    "©",
    "ⓒ",
    "you may also like",
    "you might also like",
    "tell us what",
    "join our",
    "continue reading",
    "comments are closed",
    "post comment",
    "post a comment",
    "sharing is caring",
    "filed under",
    "this post may contain",
    "your support",
    "get the latest",
    "want more",
    "view author",
    "email the author",
    "don't miss",
    "don’t miss",
    "recommended:",
    "most read",
    "more from",
    "more stories",
    "top stories",
    "get our",
    "download the app",
    "listen:",
    "watch:",
    "video:",
    "file photo",
    "reporting by",
    "editing by",
    "additional reporting",
    "contributed reporting",
    "(reporting by",
    "all rights reserved",
    "this article was originally",
    "this story was originally",
    "this article first appeared",
    "this story first appeared",
    "this article has been updated",
    "this story has been updated",
    "have a tip",
];

/// Phrases that make a short paragraph a plea or a prompt rather than article text,
/// wherever they stand in it. Plain words that news prose uses ("comments",
/// "subscribers", "donation", "copyright") are not here.
const PLEA_WORDS: &[&str] = &[
    "contributed to this report",
    "contributed reporting",
    "requires javascript",
    "enable javascript",
    "newsletter",
    "newsletters",
    "sign up for",
    "sign up to",
    "subscribe to",
    "subscribe now",
    "subscribe today",
    "in your inbox",
    "to your inbox",
    "your support",
    "support us",
    "donate now",
    "make a donation",
    "commenting",
    "follow us",
    "click here",
    "getty images",
    "all rights reserved",
    "already a subscriber",
    "successfully subscribed",
    "log in to",
    "sign in to",
    "listen live",
    "listen back",
    "listen now",
    "listen to the full",
    "follow him on",
    "follow her on",
    "follow them on",
    "follow me on",
    "find us on",
    "like us on",
    "on twitter at",
    "full coverage of",
    "affiliate commission",
    "affiliate link",
    "affiliate links",
    "earn a commission",
    "min read",
    "minute read",
    "minutes read",
    "reading time",
    "read time",
    "tempo de leitura",
    "tiempo de lectura",
    "temps de lecture",
    "lesezeit",
    "tempo di lettura",
    "время чтения",
    "©",
];

/// An unrendered CMS shortcode such as `[button link="…"]Send[/button]`.
fn has_shortcode(text: &str) -> bool {
    text.match_indices("[/").any(|(i, _)| {
        let rest = &text[i + 2..];
        let name_len = rest
            .chars()
            .take_while(|c| c.is_ascii_alphabetic() || *c == '_')
            .count();
        name_len > 0 && rest[name_len..].starts_with(']')
    })
}

/// "Copyright © 2019 …", "Copyright 2019 …": the word followed by a symbol or a year.
fn is_copyright_line(lower: &str) -> bool {
    lower
        .strip_prefix("copyright")
        .map(str::trim_start)
        .is_some_and(|rest| rest.starts_with(|c: char| !c.is_ascii_alphabetic()))
}

const MONTHS: &[&str] = &[
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Other words of English date/time stamps.
const DATE_WORDS: &[&str] = &[
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thur",
    "thurs",
    "fri",
    "sat",
    "sun",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "am",
    "pm",
    "a",
    "m",
    "p",
    "est",
    "edt",
    "cst",
    "cdt",
    "mst",
    "mdt",
    "pst",
    "pdt",
    "gmt",
    "utc",
    "bst",
    "cet",
    "cest",
    "ist",
    "et",
    "pt",
    "updated",
    "published",
    "posted",
    "modified",
    "last",
    "on",
    "at",
    "by",
    "ago",
    "today",
    "yesterday",
    "hour",
    "hours",
    "hr",
    "hrs",
    "minute",
    "minutes",
    "min",
    "mins",
    "day",
    "days",
    "week",
    "weeks",
    "h",
    "first",
    "st",
    "nd",
    "rd",
    "th",
];

fn word_count(s: &str) -> usize {
    s.split_whitespace().count()
}

/// A short line that is a date/time stamp ("Updated 10:01 pm PST, Tuesday, November 19").
/// It needs a number plus a month name, a clock time or a year, and at most two words
/// that are not date vocabulary.
fn is_dateline(text: &str) -> bool {
    let tokens: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if tokens.is_empty() || tokens.len() > 16 {
        return false;
    }
    let numeric = tokens
        .iter()
        .filter(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .count();
    let months = tokens
        .iter()
        .filter(|w| MONTHS.contains(&w.as_str()))
        .count();
    let unknown = tokens
        .iter()
        .filter(|w| {
            !w.starts_with(|c: char| c.is_ascii_digit())
                && !MONTHS.contains(&w.as_str())
                && !DATE_WORDS.contains(&w.as_str())
        })
        .count();
    let clock = text
        .as_bytes()
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b':' && w[2].is_ascii_digit());
    let year = tokens.iter().any(|w| {
        w.len() == 4
            && (w.starts_with("19") || w.starts_with("20"))
            && w.chars().all(|c| c.is_ascii_digit())
    });
    let relative = tokens
        .iter()
        .any(|w| matches!(w.as_str(), "ago" | "today" | "yesterday"));
    (numeric >= 1 || relative) && (months >= 1 || clock || year || relative) && unknown <= 2
}

/// Whole-paragraph interface labels: buttons, gallery and ad markers (a few languages).
const UI_LABELS: &[&str] = &[
    "caption",
    "close",
    "advertisement",
    "advert",
    "ad",
    "ads",
    "sponsored",
    "highlights",
    "comments",
    "share",
    "print",
    "email",
    "tweet",
    "anzeige",
    "werbung",
    "publicidade",
    "publicidad",
    "pubblicità",
    "publicité",
    "реклама",
    "iklan",
    "광고",
    "广告",
    "広告",
    "loading",
    "more",
    "menu",
    "skip",
    "next",
    "previous",
    "prev",
    "expand",
    "collapse",
];

/// "Image 1 of 5", "1 of 6", "3/12": a gallery position.
fn is_gallery_counter(lower: &str) -> bool {
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let numbers = words
        .iter()
        .filter(|w| w.chars().all(|c| c.is_ascii_digit()))
        .count();
    let of = words.contains(&"of") || lower.contains('/');
    numbers == 2
        && of
        && words.len() <= 5
        && words.iter().all(|w| {
            w.chars().all(|c| c.is_ascii_digit())
                || matches!(
                    *w,
                    "of" | "image"
                        | "images"
                        | "photo"
                        | "photos"
                        | "slide"
                        | "picture"
                        | "gallery"
                )
        })
}

/// A short line that is only contact details: an e-mail address, a URL or a handle.
fn is_contact_line(t: &str) -> bool {
    let words: Vec<&str> = t.split_whitespace().collect();
    if words.is_empty() || words.len() > 2 {
        return false;
    }
    words.iter().any(|w| {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '@');
        (w.contains('@') && w.contains('.'))
            || w.starts_with("http")
            || w.starts_with("www.")
            || w.contains(".com/")
    })
}

/// Why a paragraph of the extracted text is boilerplate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boiler {
    /// It repeats the page title or the byline.
    Title,
    /// A plea or prompt: newsletter, donation, "read more", captions, credits …
    Phrase,
    /// A date/time stamp.
    Date,
    /// A short paragraph that is all link: a teaser for another page.
    Link,
}

/// What the page's metadata says, to recognise repeated title and byline lines.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub title: Option<String>,
    pub byline: Option<String>,
}

/// Headings that end an article's text: what follows is teasers, promos or comments.
const END_MARKERS: &[&str] = &[
    "want more stories",
    "more stories",
    "more news from",
    "more from",
    "you may also like",
    "you might also like",
    "recommended for you",
    "related stories",
    "related articles",
    "related posts",
    "read next",
    "most popular",
    "most read",
    "trending now",
    "join the conversation",
    "leave a comment",
    "leave a reply",
    "post a comment",
    "comments",
    // the same in a few other languages
    "самые популярные",
    "читайте также",
    "похожие статьи",
    "leia também",
    "veja também",
    "notícias relacionadas",
    "leggi anche",
    "articoli correlati",
    "lesen sie auch",
    "mehr zum thema",
    "weitere artikel",
    "lire aussi",
    "à lire aussi",
    "articles similaires",
    "artículos relacionados",
    "te puede interesar",
    "관련기사",
    "関連記事",
    "相关文章",
    "相关阅读",
];

fn is_end_marker(p: &Para) -> bool {
    let lower = p.text.trim().to_lowercase();
    word_count(&lower) <= 8
        && !lower.ends_with('.')
        && p.link_density() < 0.5
        && END_MARKERS.iter().any(|m| starts_with_phrase(&lower, m))
}

/// Phrases of photo captions and credits, anywhere in a paragraph of up to 70 words.
const CAPTION_MARKS: &[&str] = &[
    "file photo",
    "(ap photo",
    "ap photo/",
    "(photo:",
    "(photo by",
    "photo credit",
    "(image:",
    "(image credit",
    "image credit:",
    "getty images",
    "via getty",
    "shutterstock",
    "photo illustration",
    "(pictured)",
    "photograph:",
];

/// Classify a paragraph of the extracted text by its words alone (`None` = keep).
pub fn boiler_para(p: &Para, known: &Known) -> Option<Boiler> {
    let t = p.text.trim();
    let words = word_count(t);
    if words > 70 {
        return None; // every rule below is for short paragraphs
    }
    let lower = t.to_lowercase();
    if words <= 40 {
        let n = norm(t);
        for k in [&known.title, &known.byline].into_iter().flatten() {
            let k = norm(k);
            if !k.is_empty() && (n == k || n.strip_prefix("by") == Some(k.as_str())) {
                return Some(Boiler::Title);
            }
        }
    }
    let (caption, plea) = phrase_hits(&lower);
    if caption {
        return Some(Boiler::Phrase);
    }
    if words <= 40
        && (BOILER_STARTS.iter().any(|s| starts_with_phrase(&lower, s))
            || is_copyright_line(&lower))
    {
        return Some(Boiler::Phrase);
    }
    if words <= 30 && plea || words <= 40 && has_shortcode(t) {
        return Some(Boiler::Phrase);
    }
    if is_dateline(t) {
        return Some(Boiler::Date);
    }
    let bare = lower.trim_matches(|c: char| !c.is_alphanumeric());
    if UI_LABELS.contains(&bare) || is_gallery_counter(&lower) || is_contact_line(t) {
        return Some(Boiler::Phrase);
    }
    if words <= 25 && p.link_density() > 0.8 {
        return Some(Boiler::Link);
    }
    None
}

/// Whether lowercase `text` holds a caption mark and a plea phrase (at word boundaries),
/// in one pass of an Aho-Corasick automaton over both lists.
fn phrase_hits(text: &str) -> (bool, bool) {
    static AC: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    let ac = AC.get_or_init(|| {
        aho_corasick::AhoCorasick::new(CAPTION_MARKS.iter().chain(PLEA_WORDS))
            .expect("static patterns")
    });
    let (mut caption, mut plea) = (false, false);
    for m in ac.find_overlapping_iter(text) {
        let i = m.pattern().as_usize();
        let phrase = if i < CAPTION_MARKS.len() {
            CAPTION_MARKS[i]
        } else {
            PLEA_WORDS[i - CAPTION_MARKS.len()]
        };
        if bounded(text, m.start(), phrase) {
            if i < CAPTION_MARKS.len() {
                caption = true;
            } else {
                plea = true;
            }
        }
    }
    (caption, plea)
}

/// `phrase` occurs in `text` at word boundaries (a phrase edge that is punctuation needs
/// no boundary: "photo:" matches "photo: x").
#[cfg(test)]
fn contains_phrase(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase)
        .any(|(i, _)| bounded(text, i, phrase))
}

fn starts_with_phrase(text: &str, phrase: &str) -> bool {
    text.starts_with(phrase) && bounded(text, 0, phrase)
}

fn bounded(text: &str, at: usize, phrase: &str) -> bool {
    let word = |c: char| c.is_alphanumeric();
    let before_ok = !phrase.starts_with(word) || !text[..at].ends_with(word);
    let after_ok = !phrase.ends_with(word) || !text[at + phrase.len()..].starts_with(word);
    before_ok && after_ok
}

fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Drop boilerplate paragraphs from the extracted text. When a small container of
/// sibling paragraphs (a plea box, a promo) opens with a boilerplate paragraph and holds
/// at least two plea paragraphs, the whole container goes.
pub fn postclean(paras: Vec<Para>, known: &Known) -> Vec<Para> {
    const SMALL_GROUP_WORDS: usize = 250;
    let why: Vec<Option<Boiler>> = paras.iter().map(|p| boiler_para(p, known)).collect();
    let drop: Vec<bool> = why.iter().map(Option::is_some).collect();
    let wc: Vec<usize> = paras.iter().map(|p| word_count(&p.text)).collect();
    let total_words: usize = wc.iter().sum();
    let mut group_drop = vec![false; paras.len()];
    // Tail cut: an end-of-article marker ("More stories", "Comments" …) past the middle
    // of the text ends the article; what follows is teasers and comments.
    let mut seen = 0usize;
    for (k, p) in paras.iter().enumerate() {
        if 2 * seen >= total_words && is_end_marker(p) {
            group_drop[k..].iter_mut().for_each(|d| *d = true);
            break;
        }
        seen += wc[k];
    }
    // A dropped short heading ("More great stories", "Related") takes the list of
    // linked items under it along.
    for k in 0..paras.len() {
        if (why[k] == Some(Boiler::Phrase) || is_end_marker(&paras[k])) && wc[k] <= 8 {
            let mut j = k + 1;
            while j < paras.len() && paras[j].tag == "li" && paras[j].link_chars > 0 {
                group_drop[j] = true;
                j += 1;
            }
        }
    }
    let mut i = 0;
    while i < paras.len() {
        let g = paras[i].group;
        let mut j = i;
        while j < paras.len() && paras[j].group == g {
            j += 1;
        }
        let words: usize = wc[i..j].iter().sum();
        let pleas = why[i..j]
            .iter()
            .filter(|w| **w == Some(Boiler::Phrase))
            .count();
        let small = words <= SMALL_GROUP_WORDS && (words as f64) < 0.3 * total_words as f64;
        let heading = matches!(
            paras[i].tag.as_str(),
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
        );
        if j - i >= 2 && small && heading && drop[i] && pleas >= 2 {
            group_drop[i..j].iter_mut().for_each(|d| *d = true);
        }
        i = j;
    }
    paras
        .into_iter()
        .enumerate()
        .filter(|(i, p)| {
            let gone = drop[*i] || group_drop[*i];
            if gone && debug() {
                let why = if drop[*i] { "para" } else { "group" };
                eprintln!(
                    "postclean drop {why} [{}] {}",
                    p.tag,
                    p.text.chars().take(100).collect::<String>()
                );
            }
            !gone
        })
        .map(|(_, p)| p)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_words() {
        let doc =
            Document::from(r#"<div class="article-body__shareBar js-x" id="read-more"></div>"#);
        let n = doc.select("div").nodes()[0];
        let w = attr_words(&n);
        for want in [
            "article", "body", "share", "bar", "sharebar", "readmore", "js", "x",
        ] {
            assert!(w.iter().any(|x| x == want), "{want} missing from {w:?}");
        }
        assert!(
            !w.iter().any(|x| x == "barjs"),
            "no pair across classes: {w:?}"
        );
    }

    #[test]
    fn datelines() {
        assert!(is_dateline(
            "Updated 10:01 pm PST, Tuesday, November 19, 2019"
        ));
        assert!(is_dateline("Nov. 20, 2019, 9:28 AM UTC"));
        assert!(is_dateline("PUBLISHED: 10:48, Tue, Nov 19, 2019"));
        assert!(is_dateline("Published 1 day ago"));
        assert!(!is_dateline(
            "The vote on November 19 was close, and 12 members abstained from it."
        ));
        assert!(!is_dateline(
            "Portion Fix Containers: 1 Green, 1 Red, 1 Yellow, 1 tsp."
        ));
        assert!(!is_dateline("In 2019 the company hired 300 people."));
    }
}

#[cfg(test)]
mod label_tests {
    use super::*;

    #[test]
    fn shortcodes() {
        assert!(has_shortcode(
            r#"[button link="x" type="big"] Send us yours[/button]"#
        ));
        assert!(!has_shortcode("a [1] footnote and [/] nothing"));
    }

    #[test]
    fn copyright_lines() {
        assert!(is_copyright_line("copyright @ 2019 the new arab."));
        assert!(is_copyright_line("copyright ⓒ example.co.kr"));
        assert!(!is_copyright_line("copyright law protects authors"));
    }

    #[test]
    fn phrases_match_at_word_boundaries() {
        assert!(contains_phrase("please subscribe now", "subscribe"));
        assert!(!contains_phrase(
            "heavy oversubscription from",
            "subscription"
        ));
        assert!(starts_with_phrase("photo: reuters", "photo:"));
        assert!(!starts_with_phrase("advertisers pulled out", "advert"));
        assert!(starts_with_phrase("advert", "advert"));
    }

    #[test]
    fn gallery_counters_and_contact_lines() {
        assert!(is_gallery_counter("image 1 of 5"));
        assert!(is_gallery_counter("1 of 6"));
        assert!(is_gallery_counter("3/12"));
        assert!(!is_gallery_counter("5040"));
        assert!(!is_gallery_counter("17"));
        assert!(!is_gallery_counter("1 of the 6 suspects"));
        assert!(is_contact_line("someone@example.com"));
        assert!(is_contact_line("twitter.com/someone"));
        assert!(!is_contact_line(
            "Write to the desk at desk@example.com with tips"
        ));
    }

    #[test]
    fn table_cells_with_numbers_survive() {
        let cell = |t: &str| Para {
            text: t.into(),
            tag: "td".into(),
            ..Default::default()
        };
        for t in ["1", "5040", "-5.44%", "Kyle Busch"] {
            assert_eq!(boiler_para(&cell(t), &Known::default()), None, "{t}");
        }
    }
}
