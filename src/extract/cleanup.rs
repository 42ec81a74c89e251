//! Boilerplate removal in the DOM before readability runs (page furniture by element,
//! role, schema.org property and class/id words).
//!
//! Every rule is generic: element names, ARIA roles, schema.org `itemprop`s and common
//! words in class/id names (share, related, newsletter, caption …). Nothing keys on one
//! site. The words, and how a class or id value is read, are in `class_words`.

use dom_query::{Document, NodeRef};

use super::ExtractError;
#[cfg(test)]
use super::class_words::attr_words;
use super::class_words::{
    COMMENT_WORDS, ClassSignal, any_attr_word, class_signal, is_heading_slug, is_post_class_list,
    section_word_set, small_word_set, without_cms_tokens,
};
use super::guard::Deadline;
use super::rules::Rules;

/// When the `EXTRACT_DEBUG` environment variable is set, removals are printed to stderr.
pub(super) fn debug() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("EXTRACT_DEBUG").is_some())
}

/// Most non-space characters of an element a small-thing word removes: a couple of
/// paragraphs (an author's bio box, a tag list). Swept on all three bench sets: F1 is flat
/// from 600 to 1200 and falls at 2000, where short articles in a "meta" wrapper go.
const SMALL_CHARS: usize = 800;

/// A run of text (non-space characters in one text node, outside links) this long is
/// counted as prose: sentences, not labels or menu items.
const PROSE_RUN: usize = 60;

/// Prose (non-space characters) that makes an element "the page's prose" when it also
/// holds most of the page's prose.
const MIN_PROSE_CHARS: usize = 150;

/// Substrings of class and id values that make readability (dom_smoothie, after
/// Readability.js) weigh an element down and, inside the article, remove it outright, but
/// that name layout rather than furniture: page builders put "widget" on every block of
/// the article ("elementor-widget-text-editor", "so-widget-sow-editor"), and utility
/// classes say "hidden" ("overflow-hidden", "field--label-hidden"). [`preclean`] takes
/// the tokens holding them off elements that hold prose and off the blocks inside those,
/// but not inside furniture it left in place. (Readability's other words, "media",
/// "meta", "promo", "footer" …, were measured too and cost more than they gave.)
const READABILITY_LAYOUT_PENALTIES: &[&str] = &["widget", "hidden"];

/// ARIA roles of page furniture.
#[rustfmt::skip]
const BOILER_ROLES: &[&str] = &[
    "navigation", "banner", "contentinfo", "complementary", "dialog", "alertdialog", "search",
    "menu", "menubar", "toolbar",
];

/// schema.org properties that hold metadata, not article text.
#[rustfmt::skip]
const BOILER_ITEMPROPS: &[&str] = &[
    "author", "datepublished", "datemodified", "publisher", "caption", "creator", "headline",
];

/// Inline (phrasing) elements.
#[rustfmt::skip]
const INLINE: &[&str] = &[
    "a", "span", "em", "strong", "b", "i", "u", "small", "abbr", "cite", "code", "mark", "q",
    "sub", "sup", "time", "font",
];

/// Elements removed outright, whatever their size.
const DROP_TAGS: &[&str] = &["figcaption", "nav", "button", "dialog", "menu", "select"];

/// Elements removed when they hold little text (they sometimes wrap the whole page).
const DROP_SMALL_TAGS: &[&str] = &["aside", "footer", "header", "form"];

/// How sure a furniture verdict is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Drop unless it holds most of the page's prose (a `nav` or `menu` wrapping the page).
    Always,
    /// Drop when it holds a small share of the page's text.
    IfSmall,
    /// Drop when small and holding no `blockquote` (embedded posts and quotes often sit in
    /// "social embed" wrappers and are part of the story).
    IfSmallNoQuote,
    /// Media: drop when small and holding no quote, table, list or `pre` (a `<figure>`
    /// that holds a table or a list is content).
    Media,
    /// A small thing (byline, date, caption, ad slot): drop when it is a couple of paragraphs
    /// or less.
    IfTiny,
}

/// What the walk needs to know about one element, read in one borrow of it.
struct ElementFacts {
    verdict: Option<Verdict>,
    /// 1 for `h1`, 2 for `h2`…`h6`, 0 otherwise.
    heading: u8,
    is_header: bool,
    is_link: bool,
    is_p: bool,
    is_quote: bool,
    /// A table, list or `pre`: structured content.
    is_structured: bool,
    /// `pre` or `code`: what is inside is code, whatever its classes say (a syntax
    /// highlighter marks code comments `hljs-comment`).
    is_code: bool,
    protected: bool,
    skip: bool,
}

/// Which kind of class/id word an element carries.
#[derive(Debug, Clone, Copy, Default)]
struct ClassHits {
    section: bool,
    /// Every section word is a sharing word ("social", "share").
    only_social: bool,
    small: bool,
}

impl ClassHits {
    fn scan(&mut self, value: &str) {
        // most values hold no boilerplate word at all: one automaton pass settles them
        if class_signal(value) == ClassSignal::None {
            return;
        }
        // small-thing words in a post's generated class list come from its metadata
        let small_words_count = !is_post_class_list(value);
        let value = without_cms_tokens(value);
        match class_signal(&value) {
            ClassSignal::None => {}
            ClassSignal::SectionStem => {
                self.section = true;
                self.only_social = false;
            }
            signal => {
                self.small |= small_words_count && signal == ClassSignal::SmallStem;
                let (section, small) = (section_word_set(), small_word_set());
                any_attr_word(&value, |w| {
                    if section.contains(w) {
                        if !self.section {
                            self.only_social = true;
                        }
                        self.section = true;
                        self.only_social &= matches!(w, "social" | "share" | "shares" | "sharing");
                    } else if small_words_count && small.contains(w) {
                        self.small = true;
                    }
                    false
                });
            }
        }
    }

    fn verdict(&self) -> Option<Verdict> {
        if self.section {
            Some(if self.only_social {
                Verdict::IfSmallNoQuote
            } else {
                Verdict::IfSmall
            })
        } else if self.small {
            Some(Verdict::IfTiny)
        } else {
            None
        }
    }
}

/// Whether an element is furniture (and how sure that is), plus the flags the walk uses.
fn element_facts(node: &NodeRef, rules: &Rules) -> Option<ElementFacts> {
    let el = node.element_ref()?;
    let name: &str = &el.name.local;
    let mut facts = ElementFacts {
        verdict: None,
        heading: match name {
            "h1" => 1,
            "h2" | "h3" | "h4" | "h5" | "h6" => 2,
            _ => 0,
        },
        is_header: name == "header",
        is_link: name == "a",
        is_p: name == "p",
        is_quote: name == "blockquote",
        is_structured: matches!(name, "table" | "ul" | "ol" | "dl" | "pre"),
        is_code: matches!(name, "pre" | "code"),
        protected: matches!(name, "article" | "main"),
        skip: matches!(name, "script" | "style" | "noscript" | "template" | "svg"),
    };
    if facts.skip {
        return Some(facts);
    }
    if rules.tags && DROP_TAGS.contains(&name) {
        facts.verdict = Some(Verdict::Always);
        return Some(facts);
    }
    if name == "figure" {
        if rules.figure {
            facts.verdict = Some(Verdict::Media);
        }
    } else if rules.tags && DROP_SMALL_TAGS.contains(&name) {
        facts.verdict = Some(Verdict::IfSmall);
    }
    let mut hits = ClassHits::default();
    for a in &el.attrs {
        let v: &str = &a.value;
        match &*a.name.local {
            "role" if rules.roles && BOILER_ROLES.iter().any(|r| v.eq_ignore_ascii_case(r)) => {
                facts.verdict.get_or_insert(Verdict::IfSmall);
            }
            "itemprop" => {
                if v.eq_ignore_ascii_case("articleBody") {
                    facts.protected = true;
                } else if rules.roles && BOILER_ITEMPROPS.iter().any(|r| v.eq_ignore_ascii_case(r))
                {
                    facts.verdict.get_or_insert(Verdict::IfTiny);
                }
            }
            "class" if rules.class_words && facts.verdict.is_none() => hits.scan(v),
            "id" if rules.class_words && facts.verdict.is_none() && !is_heading_slug(v) => {
                hits.scan(v)
            }
            _ => {}
        }
    }
    // An inline element amid a paragraph's own text is part of a sentence ("… said <a
    // class=tag>Smith</a> …"): class words do not remove it.
    let in_sentence = || {
        INLINE.contains(&name)
            && node.parent().is_some_and(|p| {
                (p.has_name("p") || p.has_name("li") || p.has_name("blockquote"))
                    && p.children_it(false)
                        .any(|c| c.is_text() && c.text().chars().any(char::is_alphanumeric))
            })
    };
    if facts.verdict.is_none()
        && let Some(v) = hits.verdict().filter(|_| !in_sentence())
    {
        facts.verdict = Some(v);
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
        || ["class", "id"].iter().any(|a| {
            node.attr(a)
                .is_some_and(|v| any_attr_word(&v, |w| matches!(w, "byline" | "author")))
        })
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
    /// Elements in the body (before any removal).
    pub elements: usize,
}

pub fn preclean(
    doc: &Document,
    deadline: &Deadline,
    rules: &Rules,
    mut removed: Option<&mut Vec<String>>,
) -> Result<Found, ExtractError> {
    let mut found = Found::default();
    const MAX_SHARE: f64 = 0.35;
    let Some(body) = doc.select_single("body").nodes().first().cloned() else {
        return Ok(found);
    };
    // One iterative post-order walk: text sizes of every subtree, then the decisions.
    struct Frame<'a> {
        node: NodeRef<'a>,
        /// Inside `pre` or `code`: never furniture.
        in_code: bool,
        is_p: bool,
        chars: usize,
        p_chars: usize,
        protected: bool,
        quote: bool,
        structured: bool,
        /// Characters in runs of text long enough to be sentences, outside links.
        prose: usize,
        in_link: bool,
        /// Headings inside: bit 1 = `h1`, bit 2 = `h2`…`h6`.
        headings: u8,
        /// `article` elements in the subtree, itself included: two or more make a list of
        /// posts.
        articles: usize,
        is_header: bool,
        is_link: bool,
        link_chars: usize,
        verdict: Option<Verdict>,
    }
    let mut stack: Vec<(NodeRef, bool)> = vec![(body, true)];
    let mut frames: Vec<Frame> = Vec::new();
    struct Candidate<'a> {
        node: NodeRef<'a>,
        chars: usize,
        p_chars: usize,
        prose: usize,
        verdict: Verdict,
        /// Kept whatever its size (it is or holds the article, or a story's section header).
        keep: bool,
        /// Marked by a comment or copyright word: removable however much prose it holds.
        never_article: bool,
        /// Siblings with the same class (not a comment's or copyright's) share one size: an
        /// article cut into sections that each carry a section word is kept whole.
        sibling_key: Option<(Option<dom_query::NodeId>, String)>,
        /// Its class (not a comment's or copyright's): every element of the page with the same class
        /// shares one prose count for the safety net, wherever it sits (an article cut
        /// into sections at different depths, a slideshow told in captions).
        class_key: Option<String>,
    }
    let mut candidates: Vec<Candidate> = Vec::new();
    // elements with a class readability penalizes, and whether they hold prose
    let mut penalized: Vec<(NodeRef, bool)> = Vec::new();
    let mut steps = 0usize;
    let mut totals = (0usize, 0usize, 0usize);
    while let Some((node, entering)) = stack.pop() {
        steps += 1;
        if steps.is_multiple_of(1024) {
            deadline.check()?;
        }
        if entering {
            if node.is_text() {
                if let Some(top) = frames.last_mut() {
                    let n = node.query_or(0, |t| match &t.data {
                        dom_query::NodeData::Text { contents } => non_space_chars(contents),
                        _ => 0,
                    });
                    top.chars += n;
                    if top.is_p {
                        top.p_chars += n;
                    }
                    if n >= PROSE_RUN && !top.in_link {
                        top.prose += n;
                    }
                }
                continue;
            }
            if !node.is_element() {
                continue;
            }
            let Some(facts) = element_facts(&node, rules) else {
                continue;
            };
            found.elements += 1;
            if facts.skip {
                continue;
            }
            let in_code = facts.is_code || frames.last().is_some_and(|p| p.in_code);
            frames.push(Frame {
                node,
                in_code,
                is_p: facts.is_p,
                chars: 0,
                p_chars: 0,
                protected: facts.protected,
                quote: facts.is_quote,
                structured: facts.is_structured,
                prose: 0,
                in_link: facts.is_link || frames.last().is_some_and(|p| p.in_link),
                headings: facts.heading,
                articles: usize::from(node.has_name("article")),
                is_header: facts.is_header,
                is_link: facts.is_link,
                link_chars: 0,
                verdict: if in_code { None } else { facts.verdict },
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
                parent.structured |= f.structured;
                parent.prose += f.prose;
                parent.headings |= f.headings;
                parent.articles += f.articles;
                parent.link_chars += if f.is_link { f.chars } else { f.link_chars };
            } else {
                totals = (f.chars, f.p_chars, f.prose);
            }
            // (a list of posts with their summaries holds prose too, but is not the article)
            if rules.prose_classes && !f.in_code && f.articles < 2 && has_penalized_token(&f.node) {
                let holds_prose = f.prose >= PROSE_RUN && 2 * f.prose >= f.chars;
                penalized.push((f.node, holds_prose));
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
                // A `header` holding only a plain section heading (h2…h6, not a link) heads
                // a part of the story; one with the h1, links or no heading is furniture.
                let section_header =
                    f.is_header && f.headings == 2 && f.link_chars * 2 < f.chars.max(1);
                let keep = f.protected
                    || section_header
                    || match verdict {
                        Verdict::IfSmallNoQuote => f.quote,
                        Verdict::Media => f.quote || f.structured,
                        _ => false,
                    };
                // Comment threads and legal notices may hold most of a page's prose (a
                // long thread; a footer of trademarks beside an article whose prose is cut
                // up by links), yet are never the article.
                let never_article = ["class", "id"].iter().any(|a| {
                    f.node.attr(a).is_some_and(|v| {
                        // every such word holds one of these: most values are settled
                        // without splitting them into words
                        ["comment", "disqus", "repl", "copyright"]
                            .iter()
                            .any(|stem| contains_ignore_ascii_case(&v, stem))
                            && any_attr_word(&v, |w| COMMENT_WORDS.contains(&w) || w == "copyright")
                    })
                });
                let class_key = f
                    .node
                    .attr("class")
                    .filter(|c| !never_article && !c.trim().is_empty())
                    .map(|c| c.to_string());
                let sibling_key = matches!(verdict, Verdict::IfSmall | Verdict::IfSmallNoQuote)
                    .then(|| class_key.clone())
                    .flatten()
                    .map(|c| (f.node.parent().map(|p| p.id), c));
                candidates.push(Candidate {
                    node: f.node,
                    chars: f.chars,
                    p_chars: f.p_chars,
                    prose: f.prose,
                    verdict,
                    keep,
                    never_article,
                    sibling_key,
                    class_key,
                });
            }
        }
    }
    let (body_chars, body_p, body_prose) = (totals.0.max(1), totals.1.max(1), totals.2);
    let mut sibling_sizes: std::collections::HashMap<
        &(Option<dom_query::NodeId>, String),
        (usize, usize, usize),
    > = std::collections::HashMap::new();
    for c in &candidates {
        if let Some(key) = &c.sibling_key {
            let e = sibling_sizes.entry(key).or_default();
            e.0 += c.chars;
            e.1 += c.p_chars;
            e.2 += c.prose;
        }
    }
    let class_prose = class_group_prose(&candidates, |c| (c.node, c.class_key.as_deref(), c.prose));
    let large = |chars: usize, p_chars: usize| {
        chars as f64 > MAX_SHARE * body_chars as f64 || p_chars as f64 > MAX_SHARE * body_p as f64
    };
    // each candidate's verdict: removed or not
    let goes: Vec<bool> = candidates
        .iter()
        .map(|c| {
            let (chars, p_chars, prose) = c
                .sibling_key
                .as_ref()
                .map_or((c.chars, c.p_chars, c.prose), |k| sibling_sizes[k]);
            let large = large(c.chars, c.p_chars) || large(chars, p_chars);
            // the safety net: no element (nor run of like siblings) but a comment thread or a
            // copyright notice is removed when it holds most of the page's prose
            let group = c.class_key.as_deref().map_or(0, |k| class_prose[k]);
            let prose = prose.max(c.prose).max(group);
            let holds_the_prose = 2 * prose > body_prose && prose >= MIN_PROSE_CHARS;
            match c.verdict {
                Verdict::Always => !holds_the_prose,
                Verdict::IfTiny => !c.keep && !holds_the_prose && c.chars <= SMALL_CHARS,
                Verdict::Media => !c.keep && !holds_the_prose && !large,
                Verdict::IfSmall | Verdict::IfSmallNoQuote => {
                    !c.keep && !large && (c.never_article || !holds_the_prose)
                }
            }
        })
        .collect();
    let removals: Vec<NodeRef> = candidates
        .iter()
        .zip(&goes)
        .filter(|(_, remove)| **remove)
        .map(|(c, _)| c.node)
        .collect();
    // Sections of furniture left in place for their size (a footer full of widgets) keep
    // readability's penalties on what they hold. (The body's classes describe the page's
    // layout, "has-right-sidebar", not what it is.)
    let furniture_kept: std::collections::HashSet<dom_query::NodeId> = candidates
        .iter()
        .zip(&goes)
        .filter(|(c, remove)| {
            !**remove
                && !c.node.has_name("body")
                && matches!(
                    c.verdict,
                    Verdict::Always | Verdict::IfSmall | Verdict::IfSmallNoQuote
                )
        })
        .map(|(c, _)| c.node.id)
        .collect();
    // An element that holds prose loses the penalty, and so does every penalized block
    // inside it (a page builder's short text, heading and image widgets).
    let prose_holders: std::collections::HashSet<dom_query::NodeId> = penalized
        .iter()
        .filter(|(_, holds)| *holds)
        .map(|(n, _)| n.id)
        .collect();
    penalized.retain(|(n, holds)| {
        let (mut inside_prose, mut inside_furniture) = (false, furniture_kept.contains(&n.id));
        for a in n.ancestors_it(None) {
            inside_prose |= prose_holders.contains(&a.id);
            inside_furniture |= furniture_kept.contains(&a.id);
        }
        (*holds || inside_prose) && !inside_furniture
    });
    for node in removals {
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
        if let Some(removed) = removed.as_deref_mut() {
            removed.push(node.text().to_string());
        }
        node.remove_from_parent();
    }
    for (node, _) in penalized {
        take_off_penalized_tokens(&node);
    }
    Ok(found)
}

/// A class or id token readability weighs down for a layout word (see
/// [`READABILITY_LAYOUT_PENALTIES`]).
fn is_penalized(token: &str) -> bool {
    READABILITY_LAYOUT_PENALTIES
        .iter()
        .any(|w| contains_ignore_ascii_case(token, w))
}

/// An element with a penalized class or id token and no comment word.
fn has_penalized_token(node: &NodeRef) -> bool {
    let comment = |v: &str| {
        ["comment", "disqus", "repl"]
            .iter()
            .any(|stem| contains_ignore_ascii_case(v, stem))
    };
    let class = node.attr("class");
    let id = node.attr("id");
    let values = || class.iter().chain(id.iter());
    values().any(|v| v.split_whitespace().any(is_penalized)) && !values().any(|v| comment(v))
}

/// Drop the penalized tokens from the element's class, and its id when that is one.
fn take_off_penalized_tokens(node: &NodeRef) {
    if debug() {
        eprintln!(
            "preclean unpenalize <{} class={:?} id={:?}>",
            node.node_name().unwrap_or_default(),
            node.attr("class"),
            node.attr("id")
        );
    }
    if let Some(class) = node.attr("class") {
        let kept: Vec<&str> = class
            .split_whitespace()
            .filter(|t| !is_penalized(t))
            .collect();
        node.set_attr("class", &kept.join(" "));
    }
    if node.attr("id").is_some_and(|id| is_penalized(&id)) {
        node.remove_attr("id");
    }
}

/// `needle` (lowercase ASCII) occurs in `hay`, ignoring ASCII case.
fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Characters of `text` that are not white space (a byte count for ASCII text).
fn non_space_chars(text: &str) -> usize {
    if text.is_ascii() {
        text.bytes().filter(|b| !b.is_ascii_whitespace()).count()
    } else {
        text.chars().filter(|c| !c.is_whitespace()).count()
    }
}

/// Prose per class over the page's candidates, each element counted once: one inside
/// another element of the same class adds nothing (its prose is in the outer one's).
fn class_group_prose<'a, C>(
    candidates: &'a [C],
    facts: impl Fn(&'a C) -> (NodeRef<'a>, Option<&'a str>, usize),
) -> std::collections::HashMap<&'a str, usize> {
    use std::collections::{HashMap, HashSet};
    let mut members: HashMap<&str, HashSet<dom_query::NodeId>> = HashMap::new();
    for c in candidates {
        if let (node, Some(key), _) = facts(c) {
            members.entry(key).or_default().insert(node.id);
        }
    }
    let mut prose: HashMap<&str, usize> = HashMap::new();
    for c in candidates {
        let (node, Some(key), n) = facts(c) else {
            continue;
        };
        let group = &members[key];
        let nested = group.len() > 1 && node.ancestors_it(None).any(|a| group.contains(&a.id));
        *prose.entry(key).or_default() += if nested { 0 } else { n };
    }
    prose
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
    fn heading_slugs_are_not_class_words() {
        assert!(is_heading_slug(
            "menu-innovation-strategies-building-memorable-dining"
        ));
        assert!(!is_heading_slug("div-gpt-ad-1503420338042-0"));
        assert!(!is_heading_slug("main-menu"));
    }

    #[test]
    fn code_is_never_furniture() {
        let prose =
            "Run these commands one after another to see how the repository changes. ".repeat(6);
        let html = format!(
            r#"<html><body><article><p>{prose}</p><pre><code><span class="hljs-comment"># view the state of the repo</span>
git status</code></pre><p>{prose}</p></article><div class="comments">A comment.</div></body></html>"#
        );
        let doc = Document::from(html.as_str());
        let deadline = Deadline::new(std::time::Duration::from_secs(10));
        preclean(&doc, &deadline, &Rules::default(), None).expect("preclean");
        let text = doc.select("body").text();
        assert!(text.contains("# view the state of the repo"), "{text}");
        assert!(!text.contains("A comment."), "{text}");
    }

    #[test]
    fn layout_state_tokens_are_not_class_words() {
        assert_eq!(
            without_cms_tokens("blog-article__main sidebar-enabled--false content"),
            "blog-article__main content"
        );
        assert_eq!(without_cms_tokens("has-sidebar post"), "post");
        assert_eq!(
            without_cms_tokens("sidebar widget-area"),
            "sidebar widget-area"
        );
    }

    #[test]
    fn post_metadata_goes_and_a_post_class_list_names_no_small_thing() {
        let prose = "The council met on Tuesday to vote on the harbour plan. ".repeat(8);
        let html = format!(
            r#"<html><body><div class="post-7 post hentry category-news tag-harbour tag"><p>{prose}</p>
<p class="postmetadata alt">This entry was posted on Monday and is filed under News.</p></div></body></html>"#
        );
        let doc = Document::from(html.as_str());
        let deadline = Deadline::new(std::time::Duration::from_secs(10));
        preclean(&doc, &deadline, &Rules::default(), None).expect("preclean");
        let text = doc.select("body").text();
        assert!(text.contains("vote on the harbour plan"), "{text}");
        assert!(!text.contains("This entry was posted"), "{text}");
        assert!(is_post_class_list(
            "post hentry category-news tag-harbour tag"
        ));
        assert!(!is_post_class_list("tag-list tags"));
    }
}
