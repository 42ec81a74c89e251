//! What class and id values say about an element: the words that name page furniture
//! (whole sections, or small things such as a byline or a tag list), CMS tokens that name
//! no kind of element, and the word splitter they are all read with. `cleanup` asks.

/// Class/id words that name a whole section of page furniture (comments, a related list,
/// a share bar, navigation): such an element is removed when it holds a small share of the
/// page's text.
#[rustfmt::skip]
pub(super) const SECTION_WORDS: &[&str] = &[
    "share", "shares", "sharing", "sharebar", "sharetools", "social", "socials", "newsletter",
    "newsletters", "subscribe", "subscription", "signup", "related", "recommended",
    "recommendation", "recommendations", "promo", "promos", "promotion", "outbrain", "taboola",
    "breadcrumb", "breadcrumbs", "comment", "comments", "disqus", "donate", "donation",
    "donations", "popular", "trending", "mostread", "readmore", "morestories", "toolbar",
    "paywall", "cookie", "cookies", "consent", "modal", "popup", "gdpr", "nav", "navigation",
    "menu", "footer", "sidebar", "seealso", "alsoread", "supportus", "copyright", "slideshow",
    "gallery", "carousel",
];

/// Class/id words that name a small thing (a byline, a date, a tag list, a caption, an ad
/// slot): such an element is removed only when it is a couple of paragraphs or less, since
/// themes put these words on the article's own wrapper too ("entry-author", "post-meta").
#[rustfmt::skip]
pub(super) const SMALL_WORDS: &[&str] = &[
    "advert", "advertisement", "advertising", "ads", "ad", "sponsored", "sponsor", "byline",
    "bylines", "author", "authors", "caption", "captions", "credit", "credits", "figcaption",
    "tags", "tag", "print", "timestamp", "dateline", "date", "published", "pubdate", "meta",
    "skip", "bio", "dek", "standfirst", "kicker", "eyebrow",
];

/// Stems that mark furniture even inside a run-together class word ("relatedposts",
/// "newslettersignup"): long and unambiguous enough not to occur in content class names.
/// The first [`SECTION_STEM_COUNT`] are section stems, the rest small-thing stems.
#[rustfmt::skip]
pub(super) const BOILER_STEMS: &[&str] = &[
    "related", "newsletter", "breadcrumb", "sidebar", "outbrain", "taboola", "disqus",
    "paywall", "sharebar", "sharing", "subscribe",
    "advert", "sponsor", "byline", "postmeta",
];
pub(super) const SECTION_STEM_COUNT: usize = 11;

/// Class words of comments: comment boxes repeat as siblings and stay removable one by one.
pub(super) const COMMENT_WORDS: &[&str] = &["comment", "comments", "disqus", "reply", "replies"];

/// What one pass over a class/id value found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ClassSignal {
    /// No boilerplate word or stem anywhere in it.
    None,
    /// A section stem: furniture.
    SectionStem,
    /// A small-thing stem.
    SmallStem,
    /// A boilerplate word as a substring: split the value into words to be sure.
    MaybeWord,
}

/// One Aho-Corasick pass (ASCII case-insensitive) over a class or id value for every
/// stem and word; most values match nothing and cost no more.
pub(super) fn class_signal(value: &str) -> ClassSignal {
    static AC: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    let ac = AC.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(BOILER_STEMS.iter().chain(SECTION_WORDS).chain(SMALL_WORDS))
            .expect("static patterns")
    });
    let mut signal = ClassSignal::None;
    for m in ac.find_overlapping_iter(value) {
        let i = m.pattern().as_usize();
        if i < SECTION_STEM_COUNT {
            return ClassSignal::SectionStem;
        } else if i < BOILER_STEMS.len() {
            signal = ClassSignal::SmallStem;
        } else if signal == ClassSignal::None {
            signal = ClassSignal::MaybeWord;
        }
    }
    signal
}

pub(super) fn word_set(
    cell: &'static std::sync::OnceLock<std::collections::HashSet<&'static str>>,
    words: &'static [&'static str],
) -> &'static std::collections::HashSet<&'static str> {
    cell.get_or_init(|| words.iter().copied().collect())
}

pub(super) fn section_word_set() -> &'static std::collections::HashSet<&'static str> {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    word_set(&SET, SECTION_WORDS)
}

pub(super) fn small_word_set() -> &'static std::collections::HashSet<&'static str> {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    word_set(&SET, SMALL_WORDS)
}

/// Prefixes of the class tokens a CMS generates for a post from its metadata
/// (`tag-<slug>`, `category-<slug>`, `author-<name>`, `status-publish`, `format-standard`).
pub(super) const CMS_PREFIXES: &[&str] = &[
    "tag-",
    "category-",
    "author-",
    "status-",
    "format-",
    "type-",
];

/// Words that make a class token a layout state ("has-sidebar", "sidebar-enabled--false",
/// "no-comments"): it says what the element holds or lacks, not what it is.
pub(super) const STATE_WORDS: &[&str] = &[
    "has", "with", "no", "without", "enabled", "disabled", "true", "false",
];

/// A class token that names a layout state (see [`STATE_WORDS`]).
pub(super) fn is_state_token(token: &str) -> bool {
    token
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| STATE_WORDS.iter().any(|s| w.eq_ignore_ascii_case(s)))
}

/// A token with a [`CMS_PREFIXES`] prefix and a slug after it ("tag-halloween").
fn is_cms_token(token: &str) -> bool {
    CMS_PREFIXES.iter().any(|p| {
        token.len() > p.len() && token.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
    })
}

/// A class list a CMS generated for a post from its metadata: two or more tokens carry a
/// [`CMS_PREFIXES`] prefix. Its other tokens come from the same metadata too ("tag" when
/// the post has tags, "publish"), so they name no small thing.
pub(super) fn is_post_class_list(value: &str) -> bool {
    value.split_whitespace().filter(|t| is_cms_token(t)).count() >= 2
}

/// The class value without tokens that say nothing about what the element is: layout
/// states ([`is_state_token`]), and CMS-generated metadata tokens in a post's class list
/// ([`is_post_class_list`]).
pub(super) fn without_cms_tokens(value: &str) -> std::borrow::Cow<'_, str> {
    let cms = is_post_class_list(value);
    if !cms && !value.split_whitespace().any(is_state_token) {
        return value.into();
    }
    value
        .split_whitespace()
        .filter(|t| !(is_state_token(t) || cms && is_cms_token(t)))
        .collect::<Vec<_>>()
        .join(" ")
        .into()
}

/// An id made from a heading's words ("menu-innovation-strategies-for-caterers", the
/// target of a table-of-contents link): five words of three letters or more say what the
/// section is about, not what kind of element it is.
pub(super) fn is_heading_slug(id: &str) -> bool {
    id.split(['-', '_'])
        .filter(|w| w.len() >= 3 && w.chars().all(char::is_alphabetic))
        .count()
        >= 5
}

/// An id that spells out the element's own text ("h-why-use-social-shopping" on the
/// heading "Why Use Social Shopping?", an anchor a CMS or a table of contents made): at
/// least two of its words, and at least half of them, are words of `text`. It names
/// what the heading says, not what kind of element it is.
pub(super) fn is_own_text_slug(id: &str, text: &str) -> bool {
    let id_words: Vec<String> = id
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 2)
        .map(str::to_lowercase)
        .collect();
    let text_words: std::collections::HashSet<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let matched = id_words.iter().filter(|w| text_words.contains(*w)).count();
    matched >= 2 && 2 * matched >= id_words.len()
}

/// Calls `f` with each lowercase word of a class or id value, split at punctuation and
/// camelCase, and with each adjacent pair joined ("read-more" gives read, more, readmore;
/// no pair spans two classes). Stops and returns true as soon as `f` does.
pub(super) fn any_attr_word(value: &str, mut f: impl FnMut(&str) -> bool) -> bool {
    let (mut prev, mut cur, mut pair) = (String::new(), String::new(), String::new());
    let mut emit = |prev: &mut String, cur: &mut String| -> bool {
        if cur.is_empty() {
            return false;
        }
        if f(cur) {
            return true;
        }
        if !prev.is_empty() {
            pair.clear();
            pair.push_str(prev);
            pair.push_str(cur);
            if f(&pair) {
                return true;
            }
        }
        std::mem::swap(prev, cur);
        cur.clear();
        false
    };
    let mut prev_lower = false;
    for c in value.chars() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && prev_lower && emit(&mut prev, &mut cur) {
                return true;
            }
            prev_lower = c.is_lowercase();
            cur.extend(c.to_lowercase());
        } else {
            prev_lower = false;
            if emit(&mut prev, &mut cur) {
                return true;
            }
            if c.is_whitespace() {
                prev.clear(); // class boundary
            }
        }
    }
    emit(&mut prev, &mut cur)
}

/// Lowercase words (and joined pairs) of an element's class and id; see [`any_attr_word`].
#[cfg(test)]
pub(super) fn attr_words(node: &dom_query::NodeRef) -> Vec<String> {
    let mut words = Vec::new();
    for attr in ["class", "id"] {
        if let Some(v) = node.attr(attr) {
            any_attr_word(&v, |w| {
                words.push(w.to_string());
                false
            });
        }
    }
    words
}
