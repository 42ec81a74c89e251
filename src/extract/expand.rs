//! Recall after readability: paragraphs it passed over between those it kept, and blocks
//! beside its chosen content that hold prose of their own (an article cut into sections
//! readability scored apart), are added back.
//!
//! Readability (dom_smoothie) moves its top candidate and the siblings it accepts into a
//! new `#readability-page-1` element that it appends to the candidate's parent; the
//! siblings it passed over stay where they were. Those are looked at here. Node ids grow
//! in the order the parser met the elements, so the lowest id among the moved elements
//! tells which siblings stood before the content and which after.

use dom_query::NodeRef;

use super::cleanup::debug;
use super::text::{self, Para};

/// Shortest paragraph counted as prose, in words.
const PROSE_WORDS: usize = 12;

/// Highest link density of a prose paragraph.
const PROSE_LINK_DENSITY: f64 = 0.3;

/// Prose characters a passed-over sibling needs to be added back.
const MIN_SIBLING_PROSE: usize = 200;

/// Share of a sibling's characters that must be prose.
const MIN_PROSE_SHARE: f64 = 0.3;

/// Most text (bytes) beside the content in its parent for the parent to count as the
/// content's own section (a heading, a call-to-action box beside it).
const MAX_BESIDE_TO_CLIMB: usize = 400;

/// How many such sections up the tree are climbed: page builders wrap each module in
/// five or six single-child layout elements.
const MAX_CLIMBS: usize = 8;

/// A sentence-like paragraph: enough words, few of them linked, ending a sentence somewhere.
fn is_prose(p: &Para) -> bool {
    p.text.split_whitespace().count() >= PROSE_WORDS
        && p.link_density() < PROSE_LINK_DENSITY
        && p.text.contains(['.', '!', '?', '。'])
}

fn chars(p: &Para) -> usize {
    p.text.chars().filter(|c| !c.is_whitespace()).count()
}

/// Paragraphs of the siblings readability passed over, split into those before and those
/// after its content `root` (whose paragraphs are `kept`).
///
/// A sibling is a prose block when it holds [`MIN_SIBLING_PROSE`] characters of prose
/// paragraphs, at least [`MIN_PROSE_SHARE`] of its text. The prose blocks are added only
/// when together they hold at least as much prose as readability kept: readability then
/// took one section of an article cut into many (page builders' rows, `sect1` sections),
/// whereas a lone prose box beside a whole article (an author bio, a "More in …" list with
/// summaries) is left out. A short heading block right before an added block comes along.
///
/// When the content stands nearly alone in its parent (beside a heading: one `sect1` of
/// an Asciidoctor page, its `sectionbody` taken; one module of a page builder's row), that
/// parent's siblings are looked at instead, up to [`MAX_CLIMBS`] levels; there only blocks
/// of the same element and class as the content's own section count (the article's other
/// sections, not a teaser rail).
pub fn passed_over(root: &NodeRef, kept: &[Para]) -> (Vec<Para>, Vec<Para>) {
    let (mut before, mut after) = (Vec::new(), Vec::new());
    struct Sib {
        paras: Vec<Para>,
        prose: bool,
        heading: bool,
        after_root: bool,
    }
    // where the content stood: the first of the elements readability moved into `root`
    let Some(mut anchor) = root.element_children().iter().map(|c| c.id).min() else {
        return (before, after);
    };
    let kept_prose: usize = kept.iter().filter(|p| is_prose(p)).map(chars).sum();
    // most pages: readability took the article and what stands beside it is smaller than
    // that, so nothing needs rendering
    let need = kept_prose.max(MIN_SIBLING_PROSE);
    // The content's block, and the parent whose other children are looked at: when the
    // content stands nearly alone in its parent (a section holding a heading and the
    // section's body), the section's own siblings are.
    let mut block = *root;
    let mut climbs = 0;
    let parent = loop {
        let Some(parent) = block.parent() else {
            return (before, after);
        };
        if parent
            .node_name()
            .is_some_and(|n| &*n == "body" || &*n == "html")
        {
            return (before, after);
        }
        let mut beside = 0;
        for sib in parent.element_children() {
            if beside >= need {
                break;
            }
            if sib.id != block.id {
                beside += text_bytes(&sib, need - beside);
            }
        }
        if beside >= need {
            break parent;
        }
        if beside > MAX_BESIDE_TO_CLIMB || climbs == MAX_CLIMBS {
            return (before, after);
        }
        // (the section is an element of the parsed page: what follows it has higher ids)
        block = parent;
        anchor = parent.id;
        climbs += 1;
    };
    let mut sibs = Vec::new();
    let mut passed_prose = 0usize;
    for sib in parent.element_children() {
        if sib.id == block.id {
            continue;
        }
        let paras = text::paragraphs(&sib);
        let total: usize = paras.iter().map(chars).sum();
        let prose: usize = paras.iter().filter(|p| is_prose(p)).map(chars).sum();
        // (two or more `<article>`s in it: a list of posts with their excerpts)
        let is_prose_block = prose >= MIN_SIBLING_PROSE
            && (climbs == 0 || same_kind(&sib, &block))
            && prose as f64 >= MIN_PROSE_SHARE * total as f64
            && !holds_articles(&sib);
        if is_prose_block {
            passed_prose += prose;
        }
        let heading = !is_prose_block
            && total > 0
            && total <= 150
            && paras
                .iter()
                .all(|p| p.text.split_whitespace().count() <= 15 && p.link_density() < 0.5);
        sibs.push(Sib {
            paras,
            prose: is_prose_block,
            heading,
            after_root: sib.id > anchor,
        });
    }
    let take_any = passed_prose >= kept_prose;
    if debug() {
        eprintln!(
            "expand: kept prose {kept_prose}, passed-over prose {passed_prose}, take {take_any}"
        );
    }
    if !take_any {
        return (before, after);
    }
    for k in 0..sibs.len() {
        let next_is_prose = sibs
            .get(k + 1)
            .is_some_and(|n| n.prose && n.after_root == sibs[k].after_root);
        if sibs[k].prose || (sibs[k].heading && next_is_prose) {
            let paras = std::mem::take(&mut sibs[k].paras);
            if sibs[k].after_root {
                after.extend(paras)
            } else {
                before.extend(paras)
            }
        }
    }
    (before, after)
}

/// Same element name and class, digits aside ("row-number-3", "row-number-4"): another
/// section of the article when the content was one section of it.
fn same_kind(a: &NodeRef, b: &NodeRef) -> bool {
    let kind = |n: &NodeRef| {
        n.attr("class").map(|c| {
            c.chars()
                .filter(|c| !c.is_ascii_digit())
                .collect::<String>()
        })
    };
    a.node_name() == b.node_name() && kind(a) == kind(b)
}

/// Whether `node` holds two or more `<article>` elements: a list of posts.
fn holds_articles(node: &NodeRef) -> bool {
    let mut found = 0;
    let mut stack = vec![*node];
    while let Some(n) = stack.pop() {
        if n.node_name().is_some_and(|name| &*name == "article") {
            found += 1;
            if found == 2 {
                return true;
            }
            continue;
        }
        let mut child = n.first_child();
        while let Some(c) = child {
            child = c.next_sibling();
            if c.is_element() {
                stack.push(c);
            }
        }
    }
    false
}

/// Bytes of text under `node` outside scripts and styles, counted up to `enough`: an
/// upper bound of its prose characters, without rendering paragraphs.
fn text_bytes(node: &NodeRef, enough: usize) -> usize {
    let mut total = 0;
    let mut stack = vec![*node];
    while let Some(n) = stack.pop() {
        if total >= enough {
            break;
        }
        if n.is_text() {
            total += n.text().len();
            continue;
        }
        if n.node_name()
            .is_some_and(|name| matches!(&*name, "script" | "style" | "template"))
        {
            continue;
        }
        let mut child = n.first_child();
        while let Some(c) = child {
            child = c.next_sibling();
            stack.push(c);
        }
    }
    total
}

/// Highest link density of a paragraph put back between readability's kept siblings.
const GAP_LINK_DENSITY: f64 = 0.5;

/// Readability's sibling rule judges a paragraph of this many characters or fewer by its
/// full stop, not by its links (Readability.js `_grabArticle`).
const READABILITY_SHORT_PARAGRAPH: usize = 80;

/// Paragraphs readability passed over *between* siblings it kept (its sibling rule wants a
/// link density under 0.25 of a paragraph over 80 characters, so a sentence with two or
/// three links in it falls out of the middle of an article) are moved back into `root`,
/// in page order. Only `<p>` elements over 80 characters with fewer than half their
/// characters in links come back; `postclean` judges them as it judges every paragraph.
pub fn fill_gaps(root: &NodeRef) {
    let moved: Vec<NodeRef> = root.element_children();
    let (Some(first), Some(last)) = (
        moved.iter().map(|c| c.id).min(),
        moved.iter().map(|c| c.id).max(),
    ) else {
        return;
    };
    let Some(parent) = root.parent() else {
        return;
    };
    for sib in parent.element_children() {
        if sib.id <= first || sib.id >= last || sib.id == root.id || !sib.has_name("p") {
            continue;
        }
        // (a short paragraph readability passes over for another reason: no full stop)
        if sib.text().trim().chars().count() <= READABILITY_SHORT_PARAGRAPH {
            continue;
        }
        let paras = text::paragraphs(&sib);
        let text_chars: usize = paras.iter().map(chars).sum();
        let link_chars: usize = paras.iter().map(|p| p.link_chars).sum();
        if link_chars as f64 >= GAP_LINK_DENSITY * text_chars as f64 {
            continue;
        }
        if let Some(next) = moved.iter().filter(|m| m.id > sib.id).min_by_key(|m| m.id) {
            if debug() {
                eprintln!("expand: gap paragraph back: {}", sib.text());
            }
            next.insert_before(&sib);
        }
    }
}
