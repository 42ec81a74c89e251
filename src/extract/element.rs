//! What one element of the page is, by its own name, ARIA role, schema.org property and
//! class/id words: a [`Verdict`] of furniture (and how sure), the facts the `preclean`
//! walk needs about it, whether it names the byline, and whether it can never be the
//! article. `cleanup::preclean` asks about every element, then weighs them by size.

use dom_query::NodeRef;

use super::class_words::{
    COMMENT_WORDS, ClassSignal, any_attr_word, class_signal, is_heading_slug, is_own_text_slug,
    is_post_class_list, section_word_set, small_word_set, without_cms_tokens,
};
use super::rules::Rules;

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
pub(super) enum Verdict {
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
pub(super) struct ElementFacts {
    pub(super) verdict: Option<Verdict>,
    /// 1 for `h1`, 2 for `h2`…`h6`, 0 otherwise.
    pub(super) heading: u8,
    pub(super) is_header: bool,
    pub(super) is_link: bool,
    pub(super) is_p: bool,
    pub(super) is_quote: bool,
    /// A table, list or `pre`: structured content.
    pub(super) is_structured: bool,
    /// `pre` or `code`: what is inside is code, whatever its classes say (a syntax
    /// highlighter marks code comments `hljs-comment`).
    pub(super) is_code: bool,
    pub(super) protected: bool,
    pub(super) skip: bool,
    /// A heading whose id spells out its own text (an anchor: see `is_own_text_slug`).
    pub(super) own_text_id: bool,
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
pub(super) fn element_facts(node: &NodeRef, rules: &Rules) -> Option<ElementFacts> {
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
        own_text_id: false,
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
            "id" if facts.heading > 0 && is_own_text_slug(v, &node.text()) => {
                facts.own_text_id = true;
            }
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
pub(super) fn is_byline_element(node: &NodeRef) -> bool {
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
pub(super) fn byline_text(node: &NodeRef) -> Option<String> {
    let t = node.text();
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    let t = t
        .strip_prefix("By ")
        .or_else(|| t.strip_prefix("by "))
        .unwrap_or(&t)
        .trim();
    (!t.is_empty() && t.split_whitespace().count() <= 8).then(|| t.to_string())
}

/// Marked by a comment or copyright word. Comment threads and legal notices may hold most
/// of a page's prose (a long thread; a footer of trademarks beside an article whose prose
/// links cut up), yet are never the article.
pub(super) fn never_the_article(node: &NodeRef) -> bool {
    ["class", "id"].iter().any(|a| {
        node.attr(a).is_some_and(|v| {
            // every such word holds one of these: most values are settled without
            // splitting them into words
            ["comment", "disqus", "repl", "copyright"]
                .iter()
                .any(|stem| contains_ignore_ascii_case(&v, stem))
                && any_attr_word(&v, |w| COMMENT_WORDS.contains(&w) || w == "copyright")
        })
    })
}

/// Whether `hay` holds `needle`, ASCII letters compared without case.
pub(super) fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}
