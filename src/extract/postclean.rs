//! The pass over the extracted text's paragraphs: each one's boilerplate verdict
//! ([`boiler_para`]), then the rules that look at its neighbours — link lists and linked
//! titles amid prose stay, author bios at the end and the list under a dropped heading go,
//! a photo gallery keeps its captions, and an end-of-article marker ends the text.

use super::boiler::{Boiler, Known, boiler_para, is_heading, is_link_heading};
use super::cleanup::debug;
use super::line_kinds::{starts_with_phrase, word_count};
use super::rules::Rules;
use super::text::Para;

/// "Jane Doe is a reporter for …", "Jane Doe covers the courts …": a line about the
/// author (the whole byline name, then a verb) among the last paragraphs.
fn is_author_bio(p: &Para, author: &str) -> bool {
    const VERBS: &[&str] = &["is", "was", "has", "covers", "writes", "joined", "lives"];
    let Some(rest) = p.text.strip_prefix(author) else {
        return false;
    };
    word_count(&p.text) <= 60
        && rest.starts_with(' ')
        && rest
            .split_whitespace()
            .next()
            .is_some_and(|w| VERBS.contains(&w))
}

/// Headings that end an article's text: what follows is teasers, promos or comments.
#[rustfmt::skip]
const END_MARKERS: &[&str] = &[
    "want more stories", "more stories", "more news from", "more from", "you may also like",
    "you might also like", "recommended for you", "related stories", "related articles",
    "related posts", "read next", "most popular", "most read", "trending now",
    "join the conversation", "leave a comment", "leave a reply", "post a comment", "comments",
    // the same in a few other languages
    "самые популярные", "похожие статьи", "notícias relacionadas", "articoli correlati",
    "mehr zum thema", "weitere artikel", "articles similaires", "artículos relacionados",
    "관련기사", "関連記事", "相关文章", "相关阅读", "você pode gostar", "você também pode gostar",
    "te puede gustar", "también te puede interesar", "ti potrebbe interessare",
    "potrebbe interessarti", "das könnte sie auch interessieren", "vous aimerez aussi",
    "vous aimerez peut-être", "вам может понравиться", "вам также может быть интересно",
];

fn is_end_marker(p: &Para) -> bool {
    let lower = p.text.trim().to_lowercase();
    word_count(&lower) <= 8
        && !lower.ends_with('.')
        && p.link_density() < 0.5
        && END_MARKERS.iter().any(|m| starts_with_phrase(&lower, m))
}

/// A paragraph of prose: at least 20 words, mostly not links.
fn is_prose(p: &Para) -> bool {
    word_count(&p.text) >= 20 && p.link_density() < 0.3
}

/// A list whose items are links, with prose before and after it (a table of contents, an
/// FAQ, a product list in the middle of the article) or announced by a kept sentence
/// ending in a colon, is part of the article: its items lose a [`Boiler::Link`] verdict.
/// An item is an `li` or a block inside one (`<li><p>…</p></li>`). Items set in headings
/// (`<li><h2><a>…</a></h2></li>`) count only when a line ending in a colon announces them,
/// a heading included ("Top picks:"): amid a news story such lists are mostly related
/// headlines. (Runs of linked `p`s outside a list are not lists: in news pages they are
/// mostly related headlines set inside the story too.)
fn keep_link_lists_in_prose(paras: &[Para], why: &mut [Option<Boiler>]) {
    let is_item = |p: &Para| p.tag == "li" || p.in_list_item;
    let mut k = 0;
    while k < paras.len() {
        if !is_item(&paras[k]) {
            k += 1;
            continue;
        }
        let start = k;
        while k < paras.len() && is_item(&paras[k]) {
            k += 1;
        }
        let intro = start
            .checked_sub(1)
            .filter(|i| why[*i].is_none())
            .map(|i| &paras[i]);
        let heading_items = paras[start..k].iter().any(is_heading);
        let sandwiched = paras[..start].iter().any(is_prose) && paras[k..].iter().any(is_prose);
        let keep = if heading_items {
            intro.is_some_and(announces_list)
        } else {
            intro.is_some_and(introduces_list) || sandwiched
        };
        if keep {
            for w in &mut why[start..k] {
                if *w == Some(Boiler::Link) {
                    *w = None;
                }
            }
        }
    }
}

/// A short line ending in a colon, a heading included ("Top expert recommendations:").
fn announces_list(p: &Para) -> bool {
    word_count(&p.text) >= 2 && p.link_density() < 0.5 && p.text.trim_end().ends_with(':')
}

/// A kept sentence of the article that ends in a colon ("Previous interviews in the
/// series:", "The books she mentions:") announces the list under it.
fn introduces_list(p: &Para) -> bool {
    !is_heading(p) && word_count(&p.text) >= 4 && announces_list(p)
}

/// A sentence ending in a colon that announces list items with text of their own beside
/// their links ("More from the lab on climate and gardening:" then a reading list with a
/// line on each) is part of the article, whatever phrase it opens with, and so is its list;
/// "More from the Gazette:" over linked headlines is not.
fn announces_own_items(paras: &[Para], k: usize) -> bool {
    introduces_list(&paras[k])
        && paras
            .get(k + 1)
            .is_some_and(|n| n.tag == "li" && n.link_density() < 0.5)
}

/// Share of a linked line's words (of three letters or more) that the prose paragraph
/// after it must repeat for the line to be that paragraph's title.
const TITLE_WORD_SHARE: f64 = 0.3;

/// A short all-link line followed by a prose paragraph that repeats its words ("Acme
/// acquires Widgets" then "Acme is acquiring Widgets for …"; a product's name then its
/// review) is the title of that paragraph, not a teaser for another page: it loses its
/// [`Boiler::Link`] verdict. A teaser set amid a story is about something else than the
/// paragraph under it.
fn keep_link_titles_of_prose(paras: &[Para], why: &mut [Option<Boiler>]) {
    fn words(text: &str) -> impl Iterator<Item = String> + '_ {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 3)
            .map(str::to_lowercase)
    }
    for k in 0..paras.len().saturating_sub(1) {
        let next = &paras[k + 1];
        if why[k] != Some(Boiler::Link) || is_heading(next) || !is_prose(next) {
            continue;
        }
        let title: Vec<String> = words(&paras[k].text).collect();
        let body: std::collections::HashSet<String> = words(&next.text).collect();
        let shared = title.iter().filter(|w| body.contains(*w)).count();
        if !title.is_empty() && shared as f64 >= TITLE_WORD_SHARE * title.len() as f64 {
            why[k] = None;
        }
    }
}

/// Captions that make a page a photo gallery told in them: this many at least …
const GALLERY_CAPTIONS: usize = 3;
/// … holding at least this share of the text's words.
const GALLERY_CAPTION_SHARE: f64 = 0.3;

/// Drop boilerplate paragraphs from the extracted text. When a small container of
/// sibling paragraphs (a plea box, a promo) opens with a boilerplate paragraph and holds
/// at least two plea paragraphs, the whole container goes.
pub fn postclean(paras: Vec<Para>, known: &Known, rules: &Rules) -> Vec<Para> {
    const SMALL_GROUP_WORDS: usize = 250;
    let known = &known.with_subjects_of(&paras);
    let mut why: Vec<Option<Boiler>> = paras.iter().map(|p| boiler_para(p, known, rules)).collect();
    if let Some(author) = known.author().filter(|_| rules.title) {
        for k in paras.len().saturating_sub(3)..paras.len() {
            if why[k].is_none() && is_author_bio(&paras[k], author) {
                why[k] = Some(Boiler::Title);
            }
        }
    }
    // A linked heading stays only when it introduces text of its own: not when it stands
    // next to another linked heading (a teaser grid) or is followed by links or nothing.
    for k in 0..paras.len() {
        if !rules.link_density || !is_link_heading(&paras[k]) {
            continue;
        }
        let prev_teaser = k > 0 && is_link_heading(&paras[k - 1]);
        let introduces = paras
            .get(k + 1)
            .is_some_and(|n| !is_heading(n) && n.link_density() < 0.5);
        if prev_teaser || !introduces {
            why[k] = Some(Boiler::Link);
        }
    }
    // what announces items with text of their own is article text, whatever its phrase
    let announcer: Vec<bool> = (0..paras.len())
        .map(|k| announces_own_items(&paras, k))
        .collect();
    for k in 0..paras.len() {
        if announcer[k] {
            why[k] = None;
        }
    }
    if rules.link_density {
        keep_link_lists_in_prose(&paras, &mut why);
        keep_link_titles_of_prose(&paras, &mut why);
    }
    let wc: Vec<usize> = paras.iter().map(|p| word_count(&p.text)).collect();
    let total_words: usize = wc.iter().sum();
    // A page told in captions (a photo gallery: at least three, holding a good share of
    // the words) keeps them.
    let captions: Vec<usize> = (0..paras.len())
        .filter(|k| why[*k] == Some(Boiler::Caption))
        .collect();
    let caption_words: usize = captions.iter().map(|k| wc[*k]).sum();
    if captions.len() >= GALLERY_CAPTIONS
        && caption_words as f64 >= GALLERY_CAPTION_SHARE * total_words as f64
    {
        for w in why.iter_mut().filter(|w| **w == Some(Boiler::Caption)) {
            *w = None;
        }
    }
    let drop: Vec<bool> = why.iter().map(Option::is_some).collect();
    let mut group_drop = vec![false; paras.len()];
    if rules.end_markers {
        // Tail cut: an end-of-article marker ("More stories", "Comments" …) past the middle
        // of the text ends the article; what follows is teasers and comments.
        let mut seen = 0usize;
        for (k, p) in paras.iter().enumerate() {
            if 2 * seen >= total_words && wc[k] <= 8 && is_end_marker(p) && !announcer[k] {
                group_drop[k..].iter_mut().for_each(|d| *d = true);
                break;
            }
            seen += wc[k];
        }
        // A dropped short heading ("More great stories", "Related") takes the list of
        // linked items under it along.
        for k in 0..paras.len() {
            if wc[k] <= 8
                && (matches!(why[k], Some(Boiler::Phrase | Boiler::Caption))
                    || is_end_marker(&paras[k]) && !announcer[k])
            {
                let mut j = k + 1;
                while j < paras.len() && paras[j].tag == "li" && paras[j].link_chars > 0 {
                    group_drop[j] = true;
                    j += 1;
                }
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
            .filter(|w| matches!(w, Some(Boiler::Phrase | Boiler::Caption)))
            .count();
        let small = words <= SMALL_GROUP_WORDS && (words as f64) < 0.3 * total_words as f64;
        if rules.groups && j - i >= 2 && small && is_heading(&paras[i]) && drop[i] && pleas >= 2 {
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
    use super::super::boiler::tests::para;
    use super::*;

    /// The texts of the paragraphs `postclean` keeps, with nothing known of the page.
    fn kept_texts(paras: Vec<Para>) -> Vec<String> {
        postclean(paras, &Known::default(), &Rules::default())
            .into_iter()
            .map(|p| p.text)
            .collect()
    }

    #[test]
    fn linked_headings_stay_only_when_they_introduce_text() {
        let body = "This charger is small, light and fast enough for a laptop, and it costs less than the one in the box.";
        let paras = vec![
            para(body, "p", false),
            para("A travel charger", "h3", true),
            para(body, "p", false),
            para("Other story one", "h3", true),
            para("Other story two", "h3", true),
            para(body, "p", false),
            para("Last teaser", "h3", true),
        ];
        let kept = kept_texts(paras);
        assert!(kept.contains(&"A travel charger".to_string()), "{kept:?}");
        assert!(
            !kept
                .iter()
                .any(|t| t.contains("Other story") || t == "Last teaser"),
            "{kept:?}"
        );
        assert_eq!(kept.len(), 4);
    }

    #[test]
    fn author_bio_lines_at_the_end() {
        let body = "The council met on Tuesday evening to discuss the new budget for the bridge.";
        let paras = vec![
            para(body, "p", false),
            para("Jane Doe said the vote was close.", "p", false),
            para(body, "p", false),
            para(
                "Jane Doe is a reporter who covers the city council.",
                "p",
                false,
            ),
        ];
        let kept = postclean(
            paras,
            &Known::new(Some("Bridge"), Some("Jane Doe")),
            &Rules::default(),
        );
        assert_eq!(kept.len(), 3);
        assert!(kept.iter().any(|p| p.text.starts_with("Jane Doe said")));
    }

    #[test]
    fn plea_words_in_the_title_or_recurring_are_the_subject() {
        let p = |t: &str| para(t, "p", false);
        let long = "and this sentence runs on for a good many words about the same thing";
        // (more than 30 words: prose, where no plea phrase counts)
        let text = |k: usize| format!("Paragraph {k} about the newsletter business {long} {long}.");
        // three prose paragraphs name "newsletter": a short one naming it stays
        let paras = vec![
            p(&text(1)),
            p(&text(2)),
            p(&text(3)),
            p("Our newsletter lost readers."),
        ];
        assert_eq!(
            postclean(paras, &Known::default(), &Rules::default()).len(),
            4
        );
        // once only: the short one is a plea
        let paras = vec![p(&text(1)), p("Sign up for our newsletter.")];
        assert_eq!(
            postclean(paras, &Known::default(), &Rules::default()).len(),
            1
        );
        // the title names it
        let known = Known::new(Some("Why newsletters win"), None);
        let paras = vec![p(&text(1)), p("Newsletters keep readers close.")];
        assert_eq!(postclean(paras, &known, &Rules::default()).len(), 2);
    }

    #[test]
    fn a_sentence_announcing_items_with_their_own_text_stays_with_them() {
        let prose = "This paragraph is prose with a good twenty words or more in it, so it counts as the article's own text.";
        let mut item = para(
            "Gardening in a Warming World is a course for community groups, with a notebook for its facilitators.",
            "li",
            false,
        );
        item.link_chars = 24;
        let paras = vec![
            para(prose, "p", false),
            para("More from the lab on climate and gardening:", "p", false),
            item,
            para(prose, "p", false),
            para("More from the Gazette:", "p", false),
            para("Council votes on the harbour plan", "li", true),
        ];
        let kept = kept_texts(paras);
        assert!(
            kept.iter().any(|t| t.starts_with("More from the lab")),
            "{kept:?}"
        );
        assert!(
            kept.iter().any(|t| t.starts_with("Gardening in a Warming")),
            "{kept:?}"
        );
        assert!(
            !kept.iter().any(|t| t.starts_with("More from the Gazette")),
            "{kept:?}"
        );
        assert!(
            !kept.iter().any(|t| t.starts_with("Council votes")),
            "{kept:?}"
        );
    }

    #[test]
    fn a_link_list_between_prose_paragraphs_stays() {
        let prose = "This paragraph is prose with a good twenty words or more in it, so it counts as the article's own text.";
        let paras = vec![
            para(prose, "p", false),
            para("First section", "li", true),
            para("Second section", "li", true),
            para(prose, "p", false),
            para("Teaser at the end", "li", true),
        ];
        let kept = kept_texts(paras);
        assert!(kept.iter().any(|t| t == "First section"), "{kept:?}");
        assert!(!kept.iter().any(|t| t == "Teaser at the end"), "{kept:?}");
    }

    #[test]
    fn a_linked_title_of_the_paragraph_under_it_stays() {
        let paras = vec![
            para("Northwind buys Contoso", "p", true),
            para(
                "Logistics firm Northwind has agreed to buy the software maker Contoso for an undisclosed sum, the two companies said on Monday.",
                "p",
                false,
            ),
            para("Ten gardening tips for spring", "p", true),
            para(
                "The council will vote next week on the new budget, which raises spending on roads and schools by a tenth.",
                "p",
                false,
            ),
        ];
        let kept = kept_texts(paras);
        assert!(
            kept.iter().any(|t| t == "Northwind buys Contoso"),
            "{kept:?}"
        );
        assert!(
            !kept.iter().any(|t| t == "Ten gardening tips for spring"),
            "{kept:?}"
        );
    }
}
