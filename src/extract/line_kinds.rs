//! Recognizers of one-line page furniture in the article text: meta and tag lines, comment
//! policies, copyright lines, gallery counters, contact and follow lines, CMS shortcodes.
//! `boiler` asks them about each short paragraph.

/// An unrendered CMS shortcode such as `[button link="…"]Send[/button]`.
pub(super) fn has_shortcode(text: &str) -> bool {
    text.match_indices("[/").any(|(i, _)| {
        let rest = &text[i + 2..];
        let name_len = rest
            .chars()
            .take_while(|c| c.is_ascii_alphabetic() || *c == '_')
            .count();
        name_len > 0 && rest[name_len..].starts_with(']')
    })
}

/// Labels of a post's metadata line ("Posted by X in Y | Tags: …").
#[rustfmt::skip]
const META_LABELS: &[&str] = &[
    "posted by", "posted in", "published by", "written by", "filed under", "category:",
    "categories:", "tags:", "tagged", "author:", "comments", "views", "publicado por",
    "publicado em", "categoria:", "autor:", "comentários", "comentarios", "veröffentlicht",
    "kategorie:", "publié par", "catégorie:", "pubblicato da", "categoria",
];

/// A short line of post metadata: two or more labels of [`META_LABELS`], laid out as a
/// list ("label: value" or items split by `|`, `•`, `·`, ` - `), unlike a sentence.
pub(super) fn is_meta_line(lower: &str, words: usize) -> bool {
    const SEPARATORS: &[&str] = &[" | ", " • ", " · ", " - ", " – "];
    // a label ending in ':' needs a ':' in the line: without one or a separator, no list
    if words > 30 || !lower.contains(':') && !SEPARATORS.iter().any(|s| lower.contains(s)) {
        return false;
    }
    static AC: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    let ac =
        AC.get_or_init(|| aho_corasick::AhoCorasick::new(META_LABELS).expect("static patterns"));
    const { assert!(META_LABELS.len() <= 32) };
    let mut labels = 0u32; // bit i = META_LABELS[i]
    for m in ac.find_overlapping_iter(lower) {
        let i = m.pattern().as_usize();
        if bounded(lower, m.start(), META_LABELS[i]) {
            labels |= 1 << i;
        }
    }
    let listed = (0..META_LABELS.len())
        .any(|i| labels & (1 << i) != 0 && META_LABELS[i].ends_with(':'))
        || SEPARATORS.iter().any(|s| lower.contains(s));
    labels.count_ones() >= 2 && listed
}

/// "Tags: a, b, c", "Tags | a, b", "Tags\na, b": a list of topic tags.
pub(super) fn is_tag_line(lower: &str) -> bool {
    [
        "tags",
        "tag",
        "topics",
        "keywords",
        "etiquetas",
        "schlagworte",
        "temas",
    ]
    .iter()
    .filter_map(|label| lower.strip_prefix(label))
    .any(|rest| {
        rest.trim_start_matches([' ', '\t'])
            .starts_with([':', '|', '\n'])
    })
}

/// A comment-policy notice: a word for comments next to a word of moderation.
pub(super) fn is_comment_policy(lower: &str, words: usize) -> bool {
    const COMMENT: &[&str] = &[
        "comment",
        "comments",
        "comentários",
        "comentarios",
        "kommentare",
        "commentaires",
        "commenti",
        "комментарии",
    ];
    const POLICY: &[&str] = &[
        "moderated",
        "moderating",
        "moderator",
        "moderation",
        "moderador",
        "moderatore",
        "modérateur",
        "moderiert",
        "aprovados",
        "aprobados",
        "respectful",
    ];
    words <= 40
        && ["comment", "coment", "komment", "коммент"]
            .iter()
            .any(|stem| lower.contains(stem))
        && COMMENT.iter().any(|w| contains_word(lower, w))
        && POLICY.iter().any(|w| contains_word(lower, w))
}

/// "Copyright © 2019 …", "Copyright 2019 …": the word followed by a symbol or a year.
pub(super) fn is_copyright_line(lower: &str) -> bool {
    lower
        .strip_prefix("copyright")
        .map(str::trim_start)
        .is_some_and(|rest| rest.starts_with(|c: char| !c.is_ascii_alphabetic()))
}

pub(super) fn word_count(s: &str) -> usize {
    s.split_whitespace().count()
}

/// Whole-paragraph interface labels: buttons, gallery and ad markers (a few languages).
#[rustfmt::skip]
pub(super) const UI_LABELS: &[&str] = &[
    "caption", "close", "advertisement", "advert", "ad", "ads", "sponsored", "highlights",
    "comments", "share", "print", "email", "tweet", "anzeige", "werbung", "publicidade",
    "publicidad", "pubblicità", "publicité", "реклама", "iklan", "광고", "广告", "広告", "loading",
    "more", "menu", "skip", "next", "previous", "prev", "expand", "collapse", "text size",
    "font size",
    // comments / share / subscribe in a few other languages
    "comentários", "comentarios", "kommentare", "commentaires", "commenti", "комментарии",
    "compartilhe", "compartilhar", "compartir", "teilen", "partager", "condividi", "поделиться",
    "assine", "suscríbete", "abonnieren", "abonnez-vous", "iscriviti", "подписаться",
];

/// "Image 1 of 5", "1 of 6", "3/12": a gallery position.
pub(super) fn is_gallery_counter(lower: &str) -> bool {
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
                        | "page"
                        | "part"
                )
        })
}

/// A word that is an e-mail address or a URL.
pub(super) fn is_address(w: &str) -> bool {
    let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '@');
    (w.contains('@') && w.contains('.'))
        || w.starts_with("http")
        || w.starts_with("www.")
        || w.contains(".com/")
}

/// A short line that is mostly addresses: contact details ("jane@example.com",
/// "Website: www.example.com", "twitter.com/someone") or a list of links written out
/// ("More: https://… and https://…"). A web address alone on its line ("https://…",
/// "www.…") is not one: that is a reference or a source the article cites.
pub(super) fn is_contact_line(t: &str) -> bool {
    let words: Vec<&str> = t.split_whitespace().collect();
    let addresses = words.iter().filter(|w| is_address(w)).count();
    if addresses == 0 {
        return false;
    }
    let write_to = words.len() <= 10
        && ["write to", "contact", "email", "e-mail", "reach"]
            .iter()
            .any(|v| starts_with_phrase(&t.to_lowercase(), v));
    let lone_url = words.len() == 1
        && ["http://", "https://", "www."]
            .iter()
            .any(|p| words[0].to_ascii_lowercase().starts_with(p));
    words.len() <= 2 && !lone_url
        || write_to
        || (addresses >= 2 && words.len() <= 15 && 3 * addresses >= words.len())
}

/// Networks named in "follow us" lines.
const NETWORKS: &[&str] = &[
    "twitter",
    "facebook",
    "instagram",
    "youtube",
    "linkedin",
    "tiktok",
];

/// "Follow X on Instagram, Facebook and Twitter."
pub(super) fn is_follow_line(lower: &str, words: usize) -> bool {
    words <= 25
        && starts_with_phrase(lower, "follow")
        && NETWORKS.iter().any(|n| contains_word(lower, n))
}

/// `word` occurs in `text` at word boundaries (a phrase edge that is punctuation needs no
/// boundary: "photo:" matches "photo: x").
pub(super) fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word)
        .any(|(i, _)| bounded(text, i, word))
}

/// `text` opens with `phrase` at a word boundary.
pub(super) fn starts_with_phrase(text: &str, phrase: &str) -> bool {
    text.starts_with(phrase) && bounded(text, 0, phrase)
}

/// Whether `phrase` found at byte `at` of `text` stands at word boundaries on its
/// word-character edges.
pub(super) fn bounded(text: &str, at: usize, phrase: &str) -> bool {
    let word = |c: char| c.is_alphanumeric();
    let before_ok = !phrase.starts_with(word) || !text[..at].ends_with(word);
    let after_ok = !phrase.ends_with(word) || !text[at + phrase.len()..].starts_with(word);
    before_ok && after_ok
}
