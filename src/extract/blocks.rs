//! The page cut into text blocks, each described by the features the block scorer
//! (`model`) reads: whether readability kept it, what the paragraph rules say about it,
//! the shape of its text, and the elements around it.

use std::collections::{HashMap, HashSet};

use dom_query::{Document, NodeId, NodeRef};

use super::boiler::{self, Boiler, Known};
use super::cleanup;
use super::rules::Rules;
use super::text::{self, Para};

/// Declares the features: their names (in the order of [`Block::features`] and of the
/// model file) and an index for each.
macro_rules! features {
    ($($name:ident),* $(,)?) => {
        /// Names of the features, in the order of [`Block::features`].
        pub const FEATURES: &[&str] = &[$(stringify!($name)),*];

        /// Index of each feature in [`Block::features`].
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy)]
        pub enum F {
            $($name),*
        }
    };
}

features! {
    rdb,
    rules_kept,
    dup_count,
    dup_first,
    rdb_region,
    log_words,
    link_density,
    stops_per_word,
    commas_per_word,
    capitalized_share,
    digit_share,
    ends_sentence,
    tag_p,
    tag_li,
    tag_h1,
    tag_h2_h6,
    tag_cell,
    tag_pre,
    tag_dd_dt,
    tag_caption,
    tag_other,
    quoted,
    hidden,
    near_comment,
    near_related,
    near_share,
    near_nav,
    near_subscribe,
    near_popup,
    near_byline,
    near_date,
    near_tag,
    near_caption,
    near_ad,
    near_meta,
    near_content,
    near_title,
    in_comment,
    in_related,
    in_share,
    in_nav,
    in_subscribe,
    in_popup,
    in_byline,
    in_date,
    in_tag,
    in_caption,
    in_ad,
    in_meta,
    in_content,
    in_title,
    in_article,
    in_furniture_tag,
    in_list,
    in_table,
    in_figure,
    depth,
    rule_title,
    rule_phrase,
    rule_date,
    rule_link,
    end_marker,
    after_end_marker,
    position,
    rdb_distance,
    prev_rdb,
    next_rdb,
    prev_log_words,
    next_log_words,
    sibling_rdb,
    group_prose,
    group_prose_rank,
    group_vs_rdb,
    group_rdb_share,
    page_rdb_share,
    page_log_words,
    page_log_rdb_words,
    ld_present,
    ld_share,
}

fn put(f: &mut [f32; N_FEATURES], k: F, v: f32) {
    f[k as usize] = v;
}

/// Number of features of a block.
pub const N_FEATURES: usize = FEATURES.len();

/// One block of the page's text and its features.
#[derive(Debug, Clone)]
pub struct Block {
    pub para: Para,
    pub features: [f32; N_FEATURES],
}

/// Kinds of class/id words, as bits.
#[allow(dead_code)]
mod kind {
    pub const COMMENT: u32 = 1 << 0;
    pub const RELATED: u32 = 1 << 1;
    pub const SHARE: u32 = 1 << 2;
    pub const NAV: u32 = 1 << 3;
    pub const SUBSCRIBE: u32 = 1 << 4;
    pub const POPUP: u32 = 1 << 5;
    pub const BYLINE: u32 = 1 << 6;
    pub const DATE: u32 = 1 << 7;
    pub const TAG: u32 = 1 << 8;
    pub const CAPTION: u32 = 1 << 9;
    pub const AD: u32 = 1 << 10;
    pub const META: u32 = 1 << 11;
    pub const CONTENT: u32 = 1 << 12;
    pub const TITLE: u32 = 1 << 13;
    pub const COUNT: usize = 14;
}

/// Class/id words of each kind (a word may have one kind only).
#[rustfmt::skip]
const KIND_WORDS: &[(u32, &[&str])] = &[
    (kind::COMMENT, &["comment", "comments", "disqus", "reply", "replies", "respond", "discussion"]),
    (kind::RELATED, &[
        "related", "recommended", "recommendation", "recommendations", "popular", "trending",
        "mostread", "readmore", "morestories", "seealso", "alsoread", "more", "next", "prev",
        "teaser", "teasers", "promo", "promos", "widget", "widgets", "outbrain", "taboola",
    ]),
    (kind::SHARE, &["share", "shares", "sharing", "sharebar", "social", "socials", "follow"]),
    (kind::NAV, &[
        "nav", "navigation", "menu", "breadcrumb", "breadcrumbs", "footer", "header", "sidebar",
        "toolbar", "masthead", "topbar", "skip",
    ]),
    (kind::SUBSCRIBE, &[
        "newsletter", "newsletters", "subscribe", "subscription", "signup", "donate", "donation",
        "donations", "paywall", "supportus", "cta", "optin",
    ]),
    (kind::POPUP, &["cookie", "cookies", "consent", "modal", "popup", "gdpr", "banner", "overlay"]),
    (kind::BYLINE, &["author", "authors", "byline", "bylines", "bio", "avatar", "profile"]),
    (kind::DATE, &["date", "time", "timestamp", "dateline", "published", "pubdate", "updated"]),
    (kind::TAG, &["tag", "tags", "category", "categories", "topics", "keywords"]),
    (kind::CAPTION, &[
        "caption", "captions", "credit", "credits", "figcaption", "photo", "image", "media",
        "gallery",
    ]),
    (kind::AD, &["ad", "ads", "advert", "advertisement", "advertising", "sponsored", "sponsor"]),
    (kind::META, &["meta", "info", "details", "dek", "standfirst", "kicker", "eyebrow", "subtitle"]),
    (kind::CONTENT, &[
        "article", "body", "content", "entry", "hentry", "main", "post", "text", "blog", "story",
        "prose",
    ]),
    (kind::TITLE, &["title", "headline", "heading", "hed"]),
];

fn kind_of_word(word: &str) -> u32 {
    static MAP: std::sync::OnceLock<HashMap<&'static str, u32>> = std::sync::OnceLock::new();
    let map = MAP.get_or_init(|| {
        KIND_WORDS
            .iter()
            .flat_map(|(k, words)| words.iter().map(move |w| (*w, *k)))
            .collect()
    });
    map.get(word).copied().unwrap_or(0)
}

/// Element kinds beyond class words, as bits above the word kinds.
const ARTICLE: u32 = 1 << 20;
const FURNITURE_TAG: u32 = 1 << 21;
const LIST: u32 = 1 << 22;
const TABLE: u32 = 1 << 23;
const FIGURE: u32 = 1 << 24;

/// What an element says about the text inside it: word kinds of its class and id, and
/// its own kind of element.
fn own_bits(node: &NodeRef) -> u32 {
    let mut bits = match node.node_name().as_deref() {
        Some("article" | "main") => ARTICLE,
        Some("aside" | "footer" | "header" | "nav" | "form") => FURNITURE_TAG,
        Some("ul" | "ol" | "dl") => LIST,
        Some("table") => TABLE,
        Some("figure") => FIGURE,
        _ => 0,
    };
    if node
        .attr("itemprop")
        .is_some_and(|v| v.eq_ignore_ascii_case("articleBody"))
    {
        bits |= ARTICLE;
    }
    for attr in ["class", "id"] {
        if let Some(v) = node.attr(attr) {
            cleanup::for_each_class_word(&v, |w| bits |= kind_of_word(w));
        }
    }
    bits
}

/// What the elements above a block (itself included) say, gathered before readability
/// rearranges the tree.
#[derive(Debug, Clone, Copy, Default)]
struct Ancestry {
    /// Bits of the block element, its parent and grandparent.
    near: u32,
    /// Bits of every element above the block.
    any: u32,
    depth: u16,
}

/// The blocks of a page before readability runs: text and ancestry.
pub struct PageBlocks {
    paras: Vec<Para>,
    ancestry: Vec<Ancestry>,
}

/// Cut the body of `doc` into blocks (call after `preclean`, before readability).
pub fn page_blocks(doc: &Document) -> PageBlocks {
    let Some(body) = doc.select("body").nodes().first().cloned() else {
        return PageBlocks {
            paras: Vec::new(),
            ancestry: Vec::new(),
        };
    };
    let paras = text::lines(&body);
    let mut memo: HashMap<NodeId, (u32, u32, u16)> = HashMap::new();
    let ancestry = paras
        .iter()
        .map(|p| {
            p.node
                .and_then(|id| doc.tree.get(&id))
                .map(|n| ancestry_of(&n, &mut memo))
                .unwrap_or_default()
        })
        .collect();
    PageBlocks { paras, ancestry }
}

/// Ancestry of `node`; `memo` keeps (own bits, bits of all above, depth) per element.
fn ancestry_of(node: &NodeRef, memo: &mut HashMap<NodeId, (u32, u32, u16)>) -> Ancestry {
    let mut chain = Vec::new();
    let mut cur = Some(*node);
    let mut base = (0u32, 0u32, 0u16);
    while let Some(n) = cur {
        if let Some(m) = memo.get(&n.id) {
            base = *m;
            break;
        }
        if !n.is_element() {
            break;
        }
        chain.push(n);
        cur = n.parent();
    }
    for n in chain.into_iter().rev() {
        let own = own_bits(&n);
        base = (own, own | base.1, base.2 + 1);
        memo.insert(n.id, base);
    }
    let mut near = 0;
    let mut cur = Some(*node);
    for _ in 0..3 {
        let Some(n) = cur else { break };
        near |= memo.get(&n.id).map_or(0, |m| m.0);
        cur = n.parent();
    }
    Ancestry {
        near,
        any: base.1,
        depth: base.2,
    }
}

/// Which blocks readability kept: the block element is still under its result root
/// `root` in the tree readability returned, or the block's text is one of the lines of
/// the result (readability rebuilds some elements, such as text split by `<br>`).
pub fn kept_by_readability(
    page: &PageBlocks,
    rdb_doc: &Document,
    root: Option<&NodeRef>,
) -> Vec<bool> {
    let Some(root) = root else {
        return vec![false; page.paras.len()];
    };
    let texts = line_set(&text::paragraphs(root));
    page.paras
        .iter()
        .map(|p| {
            let under_root = p
                .node
                .and_then(|id| rdb_doc.tree.get(&id))
                .is_some_and(|n| n.ancestors_it(None).any(|a| a.id == root.id));
            under_root || texts.contains(&norm(&p.text))
        })
        .collect()
}

/// The normalized lines of `paras`.
pub fn line_set(paras: &[Para]) -> HashSet<String> {
    paras
        .iter()
        .flat_map(|p| p.text.lines())
        .map(norm)
        .filter(|l| !l.is_empty())
        .collect()
}

pub fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn word_count(s: &str) -> usize {
    s.split_whitespace().count()
}

/// The features of every block. `rdb` says which blocks readability kept, `rdb_lines`
/// holds readability's (normalized) lines and `rules_kept` the lines the paragraph rules
/// keep of them; `ld`
/// is the page's schema.org `articleBody`, if any.
pub fn featurize(
    page: PageBlocks,
    rdb: &[bool],
    rdb_lines: &HashSet<String>,
    rules_kept: &HashSet<String>,
    known: &Known,
    rules: &Rules,
    ld: Option<&[String]>,
) -> Vec<Block> {
    let n = page.paras.len();
    let words: Vec<usize> = page.paras.iter().map(|p| word_count(&p.text)).collect();
    let page_words: usize = words.iter().sum();
    let rdb_words: usize = words.iter().zip(rdb).filter(|(_, r)| **r).map(|(w, _)| w).sum();
    let first_rdb = rdb.iter().position(|r| *r);
    let last_rdb = rdb.iter().rposition(|r| *r);
    // distance (in blocks) to the nearest block readability kept
    let mut dist = vec![usize::MAX; n];
    let mut last = None;
    for i in 0..n {
        if rdb[i] {
            last = Some(i);
        }
        if let Some(l) = last {
            dist[i] = i - l;
        }
    }
    last = None;
    for i in (0..n).rev() {
        if rdb[i] {
            last = Some(i);
        }
        if let Some(l) = last {
            dist[i] = dist[i].min(l - i);
        }
    }
    let rdb_groups: HashSet<NodeId> = page
        .paras
        .iter()
        .zip(rdb)
        .filter(|(_, r)| **r)
        .filter_map(|(p, _)| p.group)
        .collect();
    // paragraphs of prose (a `p` of eight words or more) per container, and how much of
    // each container readability kept
    let prose = |i: usize| page.paras[i].tag == "p" && words[i] >= 8;
    let mut group_sizes: HashMap<Option<NodeId>, (usize, usize, usize)> = HashMap::new();
    for i in 0..n {
        let e = group_sizes.entry(page.paras[i].group).or_default();
        if prose(i) {
            e.0 += words[i];
        }
        e.1 += words[i];
        if rdb[i] {
            e.2 += words[i];
        }
    }
    let top_prose = group_sizes.values().map(|g| g.0).max().unwrap_or(0).max(1);
    // an end-of-article heading past the middle of readability's text ends the article
    let mut end_at = n;
    let mut seen = 0usize;
    for i in 0..n {
        if rdb[i] {
            if 2 * seen >= rdb_words && words[i] <= 8 && boiler::is_end_marker(&page.paras[i]) {
                end_at = i;
                break;
            }
            seen += words[i];
        }
    }
    let ld_shingles = ld.map(|l| shingles(&l.join("\n\n")));
    let mut dups: HashMap<String, usize> = HashMap::new();
    for p in &page.paras {
        *dups.entry(norm(&p.text)).or_default() += 1;
    }
    let mut seen_lines: HashSet<String> = HashSet::new();
    let lw = |w: usize| (1.0 + w as f32).ln();
    let mut out = Vec::with_capacity(n);
    for (i, p) in page.paras.into_iter().enumerate() {
        let a = page.ancestry[i];
        let mut f = [0f32; N_FEATURES];
        let t = p.text.as_str();
        let w = words[i].max(1) as f32;
        let chars = t.chars().filter(|c| !c.is_whitespace()).count().max(1) as f32;
        put(&mut f, F::rdb, rdb[i] as u8 as f32);
        // 1 when the paragraph rules kept the line, 0 when they dropped it, ½ when it is not
        // found among readability's lines (readability changed it)
        let line = norm(t);
        put(
            &mut f,
            F::rules_kept,
            if !rdb[i] {
                0.0
            } else if rules_kept.contains(&line) {
                1.0
            } else if rdb_lines.contains(&line) {
                0.0
            } else {
                0.5
            },
        );
        put(&mut f, F::rdb_region,
            (first_rdb.is_some_and(|s| s <= i) && last_rdb.is_some_and(|e| i <= e)) as u8 as f32,
        );
        put(&mut f, F::log_words, lw(words[i]));
        put(&mut f, F::link_density, p.link_density() as f32);
        put(&mut f, F::stops_per_word,
            t.chars().filter(|c| matches!(c, '.' | '!' | '?' | '。')).count() as f32 / w,
        );
        put(&mut f, F::commas_per_word, t.chars().filter(|c| *c == ',').count() as f32 / w);
        put(&mut f, F::capitalized_share,
            t.split_whitespace()
                .filter(|x| x.starts_with(char::is_uppercase))
                .count() as f32
                / w,
        );
        put(&mut f, F::digit_share,
            t.chars().filter(char::is_ascii_digit).count() as f32 / chars,
        );
        put(&mut f, F::ends_sentence,
            t.trim_end()
                .ends_with(['.', '!', '?', '"', '”', '。', ':', ')'])
                as u8 as f32,
        );
        let tag = match p.tag.as_str() {
            "p" => F::tag_p,
            "li" => F::tag_li,
            "h1" => F::tag_h1,
            "h2" | "h3" | "h4" | "h5" | "h6" => F::tag_h2_h6,
            "td" | "th" => F::tag_cell,
            "pre" => F::tag_pre,
            "dd" | "dt" => F::tag_dd_dt,
            "figcaption" | "caption" => F::tag_caption,
            _ => F::tag_other,
        };
        put(&mut f, tag, 1.0);
        put(&mut f, F::quoted, p.quoted as u8 as f32);
        put(&mut f, F::hidden, p.hidden as u8 as f32);
        let near = F::near_comment as usize;
        let any = F::in_comment as usize;
        for k in 0..kind::COUNT {
            f[near + k] = (a.near >> k & 1) as f32;
            f[any + k] = (a.any >> k & 1) as f32;
        }
        put(&mut f, F::in_article, (a.any & ARTICLE != 0) as u8 as f32);
        put(&mut f, F::in_furniture_tag, (a.any & FURNITURE_TAG != 0) as u8 as f32);
        put(&mut f, F::in_list, (a.any & LIST != 0) as u8 as f32);
        put(&mut f, F::in_table, (a.any & TABLE != 0) as u8 as f32);
        put(&mut f, F::in_figure, (a.any & FIGURE != 0) as u8 as f32);
        put(&mut f, F::depth, f32::from(a.depth));
        let copies = dups.get(&line).copied().unwrap_or(1);
        put(&mut f, F::dup_count, (copies as f32).ln());
        put(&mut f, F::dup_first, (!seen_lines.contains(&line)) as u8 as f32);
        seen_lines.insert(line.clone());
        match boiler::boiler_para(&p, known, rules) {
            Some(Boiler::Title) => put(&mut f, F::rule_title, 1.0),
            Some(Boiler::Phrase) => put(&mut f, F::rule_phrase, 1.0),
            Some(Boiler::Date) => put(&mut f, F::rule_date, 1.0),
            Some(Boiler::Link) => put(&mut f, F::rule_link, 1.0),
            None => {}
        }
        put(&mut f, F::end_marker,
            (words[i] <= 8 && boiler::is_end_marker(&p)) as u8 as f32,
        );
        put(&mut f, F::after_end_marker, (i > end_at) as u8 as f32);
        put(&mut f, F::position, i as f32 / n.max(1) as f32);
        put(&mut f, F::rdb_distance,
            if dist[i] == usize::MAX {
                10.0
            } else {
                lw(dist[i]).min(10.0)
            },
        );
        put(&mut f, F::prev_rdb, (i > 0 && rdb[i - 1]) as u8 as f32);
        put(&mut f, F::next_rdb, (i + 1 < n && rdb[i + 1]) as u8 as f32);
        put(&mut f, F::prev_log_words, if i > 0 { lw(words[i - 1]) } else { 0.0 });
        put(&mut f, F::next_log_words, if i + 1 < n { lw(words[i + 1]) } else { 0.0 });
        put(&mut f, F::sibling_rdb,
            p.group.is_some_and(|g| rdb_groups.contains(&g)) as u8 as f32,
        );
        let (gp, gw, gr) = group_sizes[&p.group];
        put(&mut f, F::group_prose, lw(gp));
        put(&mut f, F::group_prose_rank, gp as f32 / top_prose as f32);
        put(&mut f, F::group_vs_rdb, (gp as f32 / (rdb_words as f32 + 1.0)).min(5.0));
        put(&mut f, F::group_rdb_share, gr as f32 / gw.max(1) as f32);
        put(&mut f, F::page_rdb_share, rdb_words as f32 / page_words.max(1) as f32);
        put(&mut f, F::page_log_words, lw(page_words));
        put(&mut f, F::page_log_rdb_words, lw(rdb_words));
        if let Some(ld) = &ld_shingles {
            put(&mut f, F::ld_present, 1.0);
            let own = shingles(t);
            let hit = own.iter().filter(|s| ld.contains(*s)).count();
            put(&mut f, F::ld_share, hit as f32 / own.len().max(1) as f32);
        }
        out.push(Block { para: p, features: f });
    }
    out
}

fn shingles(text: &str) -> HashSet<u64> {
    use std::hash::{Hash, Hasher};
    let toks = super::metric::tokens(text);
    let hash = |w: &[&str]| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        w.hash(&mut h);
        h.finish()
    };
    if toks.len() < super::metric::SHINGLE {
        return std::iter::once(hash(&toks)).collect();
    }
    toks.windows(super::metric::SHINGLE).map(hash).collect()
}

/// Names of the context features: what the first scores of a block's neighbours say.
pub const CONTEXT: &[&str] = &[
    "score",
    "prev_score",
    "next_score",
    "prev2_score",
    "next2_score",
    "window_score",
    "group_score",
    "page_kept_share",
    "kept_distance",
];

/// Number of context features.
pub const N_CONTEXT: usize = CONTEXT.len();

/// Blocks on each side whose scores make up `window_score`.
const WINDOW: usize = 3;

/// The context features of each block of a page, from the first scores `first` of all of
/// them (-1 where a neighbour is missing).
pub fn context(page: &[Block], first: &[f32]) -> Vec<[f32; N_CONTEXT]> {
    let n = page.len();
    let words: Vec<f32> = page
        .iter()
        .map(|b| word_count(&b.para.text).max(1) as f32)
        .collect();
    let total: f32 = words.iter().sum();
    let kept: f32 = words
        .iter()
        .zip(first)
        .filter(|(_, s)| **s >= 0.5)
        .map(|(w, _)| w)
        .sum();
    // word-weighted score sums per group
    let mut groups: HashMap<Option<NodeId>, (f32, f32)> = HashMap::new();
    for (b, (s, w)) in page.iter().zip(first.iter().zip(&words)) {
        let e = groups.entry(b.para.group).or_default();
        e.0 += s * w;
        e.1 += w;
    }
    // distance to the nearest kept block
    let mut dist = vec![f32::MAX; n];
    let mut last: Option<usize> = None;
    for i in 0..n {
        if first[i] >= 0.5 {
            last = Some(i);
        }
        if let Some(l) = last {
            dist[i] = (i - l) as f32;
        }
    }
    last = None;
    for i in (0..n).rev() {
        if first[i] >= 0.5 {
            last = Some(i);
        }
        if let Some(l) = last {
            dist[i] = dist[i].min((l - i) as f32);
        }
    }
    let at = |i: isize| {
        if i >= 0 && (i as usize) < n {
            first[i as usize]
        } else {
            -1.0
        }
    };
    (0..n)
        .map(|i| {
            let (mut sw, mut ww) = (0f32, 0f32);
            for j in i.saturating_sub(WINDOW)..(i + WINDOW + 1).min(n) {
                if j != i {
                    sw += first[j] * words[j];
                    ww += words[j];
                }
            }
            let (gs, gw) = groups[&page[i].para.group];
            let (gs, gw) = (gs - first[i] * words[i], gw - words[i]);
            let ii = i as isize;
            [
                first[i],
                at(ii - 1),
                at(ii + 1),
                at(ii - 2),
                at(ii + 2),
                if ww > 0.0 { sw / ww } else { -1.0 },
                if gw > 0.0 { gs / gw } else { -1.0 },
                kept / total.max(1.0),
                if dist[i] == f32::MAX {
                    10.0
                } else {
                    (1.0 + dist[i]).ln()
                },
            ]
        })
        .collect()
}
