//! Boilerplate removal in the DOM before readability runs: the walk over the page that
//! weighs each element `element` calls furniture by its size and its share of the page's
//! prose, and removes it or keeps it; readability's layout penalties taken off blocks that
//! hold prose.
//!
//! Every rule is generic: element names, ARIA roles, schema.org `itemprop`s and common
//! words in class/id names (share, related, newsletter, caption …). Nothing keys on one
//! site. The words, and how a class or id value is read, are in `class_words`.

use dom_query::{Document, NodeRef};

use super::ExtractError;
#[cfg(test)]
use super::class_words::{attr_words, is_heading_slug, is_post_class_list, without_cms_tokens};
use super::element::{
    Verdict, byline_text, contains_ignore_ascii_case, element_facts, is_byline_element,
    never_the_article,
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

/// Remove page furniture from the whole document before readability scores it.
/// An element that is not always furniture is kept when it holds more than `MAX_SHARE`
/// of the page's visible text or of the text in its `<p>`s (a "share-enabled" article
/// wrapper must survive), or is or contains an `article`, `main` or `itemprop=articleBody`.
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
    // headings whose id spells their own text: readability reads words in that id too
    // ("…-social-shopping" holds one of its negative words) and drops the heading
    let mut anchor_ids: Vec<NodeRef> = Vec::new();
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
            if facts.own_text_id && rules.prose_classes {
                anchor_ids.push(node);
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
                let never_article = never_the_article(&f.node);
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
    for node in anchor_ids {
        node.remove_attr("id");
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
    use super::super::class_words::is_own_text_slug;
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
    fn an_anchor_id_spelling_the_heading_is_not_a_class_word() {
        assert!(is_own_text_slug(
            "h-why-use-social-shopping",
            "Why Use Social Shopping?"
        ));
        assert!(is_own_text_slug("related-work", "Related work"));
        // one word of the text is not a slug: "comments" still names the section
        assert!(!is_own_text_slug("comments", "3 Comments"));
        assert!(!is_own_text_slug("comments-title", "3 Comments"));
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

    /// An author box of two paragraphs' length (over 400 characters, under
    /// [`SMALL_CHARS`]) beside an article goes: a small-thing word removes that much.
    #[test]
    fn an_author_box_of_two_paragraphs_goes() {
        let prose =
            "The council met on Tuesday to vote on the harbour plan, and it passed. ".repeat(12);
        let bio =
            "Jane Miller has reported on the harbour and the council for twelve years. ".repeat(7);
        assert!((400..SMALL_CHARS).contains(&non_space_chars(&bio)));
        let html = format!(
            r#"<html><body><div class="entry"><p>{prose}</p></div>
<div class="author-box"><h4>About Jane Miller</h4><p>{bio}</p></div></body></html>"#
        );
        let doc = Document::from(html.as_str());
        let deadline = Deadline::new(std::time::Duration::from_secs(10));
        preclean(&doc, &deadline, &Rules::default(), None).expect("preclean");
        let text = doc.select("body").text();
        assert!(text.contains("vote on the harbour plan"), "{text}");
        assert!(!text.contains("Jane Miller has reported"), "{text}");
    }
}
