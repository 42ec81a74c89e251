//! What one paragraph of the text readability kept is, by its own words and links:
//! phrases, datelines, captions, teaser links, repeats of the title or byline
//! ([`boiler_para`]). `postclean` runs it over the article with the rules that look at
//! neighbours.
//!
//! Phrases are common ones in English (plus a few in other languages) and are compared
//! at word boundaries in short paragraphs only; none is specific to one site.

use super::dateline::is_dateline;
use super::line_kinds::{
    UI_LABELS, bounded, has_shortcode, is_comment_policy, is_contact_line, is_copyright_line,
    is_follow_line, is_gallery_counter, is_meta_line, is_tag_line, starts_with_phrase, word_count,
};
use super::rules::Rules;
use super::text::Para;

/// Phrases that open short boilerplate paragraphs (compared case-insensitively, at word
/// boundaries). Chosen to be rare as the opening of a sentence of news prose.
#[rustfmt::skip]
const BOILER_STARTS: &[&str] = &[
    "join the conversation", "read next", "more great",
    "recent articles", "popular this", "related news", "read more", "read also", "also read",
    "related:", "related post", "related article", "related stories", "related coverage",
    "see more", "see also", "also:", "more:", "sign up", "subscribe", "follow us",
    "follow him", "follow her", "share this", "like this story", "photo:", "photo by",
    "photograph:", "image:", "image copyright", "image caption", "(image", "credit:", "credit…",
    "credit...", "posted:", "published:", "first published", "updated:", "last updated",
    "tags:", "tags |", "next page", "previous page", "continue to page", "continue on page",
    "tag:", "leia também", "veja também", "leggi anche", "lesen sie auch", "lire aussi",
    "читайте также", "смотрите также", "follow @", "reach the reporter", "contact the reporter",
    "contact the author", "email the reporter", "©", "ⓒ", "you may also like",
    "you might also like", "tell us what", "join our", "continue reading",
    "comments are closed", "post comment", "post a comment", "sharing is caring", "filed under",
    "this post may contain", "your support", "get the latest", "want more", "view author",
    "email the author", "don't miss", "don’t miss", "recommended:", "most read", "more from",
    "more stories", "top stories", "get our", "download the app", "listen:", "watch:", "video:",
    "file photo", "reporting by", "editing by", "additional reporting", "contributed reporting",
    "(reporting by", "all rights reserved", "this article was originally",
    "this story was originally", "this article first appeared", "this story first appeared",
    "this article has been updated", "this story has been updated", "have a tip",
];

/// Phrases that make a short paragraph a plea or a prompt rather than article text,
/// wherever they stand in it. Plain words that news prose uses ("comments",
/// "subscribers", "donation", "copyright") are not here.
#[rustfmt::skip]
const PLEA_WORDS: &[&str] = &[
    "contributed to this report", "contributed reporting", "requires javascript", "your letterbox",
    "enable javascript", "newsletter", "newsletters", "sign up for", "sign up to",
    "subscribe to", "subscribe now", "subscribe today", "in your inbox", "to your inbox",
    "your support", "support us", "donate now", "make a donation", "commenting below", "follow us",
    "getty images", "all rights reserved", "already a subscriber",
    "successfully subscribed", "log in to", "sign in to", "listen live", "listen back",
    "listen now", "listen to the full", "follow him on", "follow her on", "follow them on",
    "follow me on", "find us on", "like us on", "on twitter at", "full coverage of",
    "affiliate commission", "affiliate link", "affiliate links", "earn a commission",
    "min read", "minute read", "minutes read", "reading time", "read time", "tempo de leitura",
    "tiempo de lectura", "temps de lecture", "lesezeit", "tempo di lettura", "время чтения",
    "inscreva-se", "assine a", "assine o", "suscríbete a", "regístrate", "abonnieren sie",
    "jetzt abonnieren", "abonnez-vous", "inscrivez-vous", "iscriviti alla", "подпишитесь на",
    "подписывайтесь на", "©", "if you enjoyed this", "if you liked this", "if you value our",
];

/// Why a paragraph of the extracted text is boilerplate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boiler {
    /// It repeats the page title or the byline, or is about the author.
    Title,
    /// A plea or prompt: newsletter, donation, "read more", credits …
    Phrase,
    /// A photo caption or credit ("(AP Photo/…)", "Getty Images").
    Caption,
    /// A date/time stamp.
    Date,
    /// A short paragraph that is all link: a teaser for another page.
    Link,
}

pub(super) fn is_heading(p: &Para) -> bool {
    matches!(p.tag.as_str(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// A heading that is all link: a section title in a listicle, or a teaser headline.
pub(super) fn is_link_heading(p: &Para) -> bool {
    is_heading(p) && word_count(&p.text) <= 25 && p.link_density() > 0.8
}

/// What the page's metadata says, to recognise repeated title and byline lines.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Title and byline, lowercased, letters and digits only.
    norms: Vec<String>,
    /// A single author's name, for author-bio lines.
    author: Option<String>,
    /// Plea phrases that are the article's subject (bit i = `PLEA_WORDS[i]`): those of
    /// the title, and those recurring through the text ([`Known::with_subjects_of`]). A paragraph
    /// that names its article's subject is no plea.
    subjects: u128,
}

impl Known {
    pub fn new(title: Option<&str>, byline: Option<&str>) -> Self {
        let norms = [title, byline]
            .into_iter()
            .flatten()
            .map(norm)
            .filter(|n| !n.is_empty())
            .collect();
        // one author only: with several names a bio line cannot be told from a sentence
        let author = byline
            .map(|b| b.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|b| !b.contains(',') && !b.contains(" and ") && !b.contains('&'))
            .filter(|b| b.chars().count() >= 3 && b.split(' ').count() <= 4);
        Self {
            norms,
            author,
            subjects: title.map_or(0, |t| phrase_hits(&t.to_lowercase()).1),
        }
    }

    /// The same, with the plea phrases that recur through `paras` as subjects too.
    pub(super) fn with_subjects_of(&self, paras: &[Para]) -> Known {
        Known {
            subjects: self.subjects | subject_phrases(paras),
            ..self.clone()
        }
    }

    /// The byline's one author, if it names one.
    pub(super) fn author(&self) -> Option<&str> {
        self.author.as_deref()
    }
}

/// Paragraphs of more words than this are prose, where no plea phrase applies.
const PLEA_MAX_WORDS: usize = 30;

/// Plea phrases that recur through the article, in at least three paragraphs of more
/// than 15 words: a piece *about* newsletters or donations, not a plea for them. Bit i
/// stands for `PLEA_WORDS[i]`.
fn subject_phrases(paras: &[Para]) -> u128 {
    let (mut once, mut twice, mut thrice) = (0u128, 0u128, 0u128);
    for p in paras {
        if word_count(&p.text) <= 15 {
            continue;
        }
        let (_, pleas) = phrase_hits(&p.text.to_lowercase());
        thrice |= twice & pleas;
        twice |= once & pleas;
        once |= pleas;
    }
    thrice
}

/// Phrases of photo captions and credits, anywhere in a paragraph of up to 70 words.
#[rustfmt::skip]
const CAPTION_MARKS: &[&str] = &[
    "file photo", "(ap photo", "ap photo/", "(photo:", "(photo by", "photo credit", "(image:",
    "(image credit", "image credit:", "getty images", "via getty", "shutterstock",
    "photo illustration", "(pictured)", "photograph:", "(credit:", "(credit",
];

/// Classify a paragraph of the extracted text by its words alone (`None` = keep).
pub fn boiler_para(p: &Para, known: &Known, rules: &Rules) -> Option<Boiler> {
    let t = p.text.trim();
    let words = word_count(t);
    if words > 100 || p.tag == "pre" {
        return None; // every rule below is for short paragraphs of prose, not code
    }
    let lower = t.to_lowercase();
    if rules.title && words <= 40 && !known.norms.is_empty() {
        let n = norm(t);
        if known
            .norms
            .iter()
            .any(|k| n == *k || n.strip_prefix("by") == Some(k.as_str()))
        {
            return Some(Boiler::Title);
        }
    }
    let (caption, pleas) = if rules.phrases {
        phrase_hits(&lower)
    } else {
        (false, 0)
    };
    // a paragraph that names the article's subject is neither a plea nor a prompt
    let names_subject = pleas & known.subjects != 0;
    let plea = pleas != 0 && !names_subject;
    if words <= 70 && caption {
        return Some(Boiler::Caption);
    }
    if rules.phrases && words <= 100 && is_tag_line(&lower) {
        return Some(Boiler::Phrase);
    }
    // "[Related: …]", "» Read more", "► Watch:": bullets and brackets before the phrase
    let lead = lower.trim_start_matches(|c: char| !c.is_alphanumeric() && c != '©' && c != 'ⓒ');
    let lead = if lead.len() == lower.len() { "" } else { lead };
    if rules.phrases
        && words <= 40
        && !names_subject
        && (BOILER_STARTS
            .iter()
            .any(|s| starts_with_phrase(&lower, s) || starts_with_phrase(lead, s))
            || is_copyright_line(&lower))
    {
        return Some(Boiler::Phrase);
    }
    if words <= PLEA_MAX_WORDS && plea || rules.phrases && words <= 40 && has_shortcode(t) {
        return Some(Boiler::Phrase);
    }
    let cell = matches!(p.tag.as_str(), "td" | "th");
    if rules.datelines && words <= 16 && !p.quoted && !cell && is_dateline(t) {
        // (an embedded post's attribution line carries a date and stays, and so does a
        // table cell: a date there is data)
        return Some(Boiler::Date);
    }
    let bare = lower.trim_matches(|c: char| !c.is_alphanumeric());
    if rules.phrases
        && (words <= 3 && UI_LABELS.contains(&bare)
            || words <= 5 && !cell && is_gallery_counter(&lower)
            || words <= 15 && is_contact_line(t)
            || is_follow_line(&lower, words)
            || is_meta_line(&lower, words)
            || is_comment_policy(&lower, words))
    {
        return Some(Boiler::Phrase);
    }
    // (a linked table cell is data: a name in a list of companies, a product in a chart)
    if rules.link_density && words <= 25 && p.link_density() > 0.8 && !is_heading(p) && !cell {
        return Some(Boiler::Link);
    }
    None
}

/// Whether lowercase `text` holds a caption mark, and which plea phrases it holds (bit i =
/// `PLEA_WORDS[i]`), at word boundaries, in one pass of an Aho-Corasick automaton over
/// both lists.
fn phrase_hits(text: &str) -> (bool, u128) {
    const { assert!(PLEA_WORDS.len() <= 128) };
    static AC: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    let ac = AC.get_or_init(|| {
        aho_corasick::AhoCorasick::new(CAPTION_MARKS.iter().chain(PLEA_WORDS))
            .expect("static patterns")
    });
    let (mut caption, mut pleas) = (false, 0u128);
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
                pleas |= 1 << (i - CAPTION_MARKS.len());
            }
        }
    }
    (caption, pleas)
}

/// `phrase` occurs in `text` at word boundaries (a phrase edge that is punctuation needs
/// no boundary: "photo:" matches "photo: x").
#[cfg(test)]
fn contains_phrase(text: &str, phrase: &str) -> bool {
    super::line_kinds::contains_word(text, phrase)
}

fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    #[test]
    fn source_lines_code_and_linked_cells_stay() {
        let k = Known::default();
        let r = Rules::default();
        for p in [
            para("Source: 2023 NAIC Health Insurance Report", "p", false),
            para("1 2 3 4 5", "pre", false),
            para("Quanta Services Inc.", "td", true),
        ] {
            assert_eq!(boiler_para(&p, &k, &r), None, "{p:?}");
        }
        assert_eq!(
            boiler_para(&para("Other story about the river", "p", true), &k, &r),
            Some(Boiler::Link)
        );
    }

    pub(in crate::extract) fn para(text: &str, tag: &str, linked: bool) -> Para {
        let link_chars = if linked {
            text.chars().filter(|c| !c.is_whitespace()).count()
        } else {
            0
        };
        Para {
            text: text.into(),
            tag: tag.into(),
            link_chars,
            ..Default::default()
        }
    }

    /// "Click here" lines are kept by the dev sets' gold two times in three (a tutorial's
    /// link, a download); a print subscription offer is a plea by its "letterbox".
    #[test]
    fn click_here_is_no_plea_a_letterbox_offer_is() {
        let k = Known::default();
        let r = Rules::default();
        for t in [
            "You can click here for the full tutorial.",
            "Click here to download the free spreadsheet, then make a copy of it.",
        ] {
            assert_eq!(boiler_para(&para(t, "p", false), &k, &r), None, "{t}");
        }
        let offer = "Get Riders Monthly delivered through your letterbox every month. \
                     Click here for more information.";
        assert_eq!(
            boiler_para(&para(offer, "p", false), &k, &r),
            Some(Boiler::Phrase)
        );
    }

    #[test]
    fn phrases_behind_brackets_and_bullets() {
        let k = Known::default();
        for t in [
            "[Related: The bridge that nobody wanted]",
            "» Read more: Ferry fares rise",
            "► Watch: the storm",
        ] {
            assert_eq!(
                boiler_para(&para(t, "p", false), &k, &Rules::default()),
                Some(Boiler::Phrase),
                "{t}"
            );
        }
        let prose = para(
            "Related research by the university found the pillars were sound.",
            "p",
            false,
        );
        assert_eq!(boiler_para(&prose, &k, &Rules::default()), None);
    }

    #[test]
    fn comment_policies() {
        assert!(is_comment_policy(
            "comments are moderated and may take a while to appear.",
            9
        ));
        assert!(!is_comment_policy(
            "the minister's comments drew criticism from the opposition.",
            8
        ));
    }

    #[test]
    fn write_to_lines() {
        assert!(is_contact_line("Write to Jane Roe at jane.roe@example.com"));
        assert!(!is_contact_line(
            "Write to your local council about the bridge."
        ));
    }

    #[test]
    fn tag_lines() {
        assert!(is_tag_line("tags: bridge, river"));
        assert!(is_tag_line("tags\nbridge, river"));
        assert!(is_tag_line("topics | bridge"));
        assert!(!is_tag_line("tagged cattle were counted"));
        assert!(!is_tag_line("tags were found on the birds"));
    }

    #[test]
    fn meta_lines() {
        assert!(is_meta_line(
            "05/10/2018 - publicado por: ana - categoria: saúde - tags: x",
            12
        ));
        assert!(is_meta_line("posted by admin in news | 3 comments", 8));
        assert!(!is_meta_line(
            "the comments were posted by the minister on friday.",
            9
        ));
    }

    #[test]
    fn shortcodes() {
        assert!(has_shortcode(
            r#"[button link="x" type="big"] Send us yours[/button]"#
        ));
        assert!(!has_shortcode("a [1] footnote and [/] nothing"));
    }

    #[test]
    fn a_prompt_to_comment_is_a_plea_news_of_someone_commenting_is_not() {
        let kind =
            |t: &str| boiler_para(&para(t, "p", false), &Known::default(), &Rules::default());
        assert_eq!(
            kind("Tell us what you think by commenting below."),
            Some(Boiler::Phrase)
        );
        assert_eq!(
            kind("The actor is commenting online about his arrest for the first time."),
            None
        );
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
        assert!(!is_gallery_counter("4321"));
        assert!(!is_gallery_counter("17"));
        assert!(!is_gallery_counter("1 of the 6 suspects"));
        assert!(is_gallery_counter("page 2 of 3"));
        assert!(is_contact_line("someone@example.com"));
        assert!(is_contact_line("twitter.com/someone"));
        assert!(is_contact_line("Website: www.example.com"));
        // a cited source on its own line
        assert!(!is_contact_line(
            "https://example.org/reports/2024/annual.pdf"
        ));
        assert!(!is_contact_line(
            "She wrote to desk@example.com with tips about it."
        ));
    }

    #[test]
    fn table_cells_with_numbers_survive() {
        let cell = |t: &str| Para {
            text: t.into(),
            tag: "td".into(),
            ..Default::default()
        };
        for t in ["1", "4321", "-5.44%", "Jane Roe", "1/1/2013", "37% / 40%"] {
            assert_eq!(
                boiler_para(&cell(t), &Known::default(), &Rules::default()),
                None,
                "{t}"
            );
        }
    }
}
