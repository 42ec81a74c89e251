//! Integration tests: one small page (our own, in `tests/fixtures/extract/kinds/`) for each
//! kind of article text the rules used to remove, checked for what must stay and what
//! must go. Each of these pages lost the text checked here before issue 15's fixes.

use std::path::Path;

use tidings::extract::{ExtractLimits, extract};

/// The extracted text of the fixture page `name`.
fn text_of(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/extract/kinds")
        .join(name);
    let html = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let url = format!("https://example.com/{name}");
    extract(
        &html,
        Some("text/html"),
        Some(&url),
        &ExtractLimits::default(),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
    .text
}

/// The text of `name`, after checking that it holds each of `order`, in that order.
fn text_in_order(name: &str, order: &[&str]) -> String {
    let text = text_of(name);
    let at: Vec<usize> = order
        .iter()
        .map(|k| {
            text.find(k)
                .unwrap_or_else(|| panic!("{name}: lost {k:?}; text:\n{text}"))
        })
        .collect();
    assert!(
        at.is_sorted(),
        "{name}: out of page order: {at:?}; text:\n{text}"
    );
    text
}

fn check(name: &str, keep: &[&str], drop: &[&str]) {
    let text = text_of(name);
    for k in keep {
        assert!(text.contains(k), "{name}: lost {k:?}; text:\n{text}");
    }
    for d in drop {
        assert!(!text.contains(d), "{name}: kept {d:?}; text:\n{text}");
    }
}

/// CMS themes put `author-<name>`, `tag-<slug>`, `status-publish` on the post's own
/// wrapper (a `div` here); with a long comment thread beside it, the wrapper once went as
/// a byline.
#[test]
fn cms_class_tokens_on_the_article_wrapper_keep_it() {
    check(
        "cms-wrapper.html",
        &[
            "The city council voted on Tuesday",
            "The mayor said the project was the most important investment",
        ],
        &["This is comment number", "Harbour festival returns"],
    );
}

/// A `<figure>` holding a table is content; one holding a photo and its credit is not.
#[test]
fn a_figure_with_a_table_is_content() {
    check(
        "figure-table.html",
        &[
            "Harbour Rovers",
            "Riverside Athletic",
            "The final vote was nine to four",
        ],
        &["Getty Images"],
    );
}

/// Plea words that are the article's subject (in its title, recurring through its text)
/// mark no plea.
#[test]
fn plea_words_that_are_the_subject_stay() {
    check(
        "newsletter-subject.html",
        &[
            "Newsletters have become the main way",
            "ask readers to sign up for a newsletter",
            "Sign up for a newsletter, the thinking goes",
            "Critics say the flood of newsletters",
        ],
        &[],
    );
}

/// A list item that starts with a model year is a product, not a dateline; a real
/// dateline still goes.
#[test]
fn list_items_starting_with_a_year_are_not_datelines() {
    check(
        "model-years.html",
        &[
            "2019 Honda Civic",
            "2017 Subaru Outback",
            "Prices have fallen",
        ],
        &["Updated March 5, 2024"],
    );
}

/// A list of links in the middle of the prose (a table of contents) is the article's.
#[test]
fn a_link_list_inside_the_prose_stays() {
    check(
        "link-list.html",
        &[
            "Making a starter",
            "Shaping the loaf",
            "Baking in a home oven",
        ],
        &[],
    );
}

/// An article cut into sections that carry a navigation word in their class
/// (`content-nav-section`), at different depths of the page: together they hold most of
/// the page's prose, so none of them is navigation.
#[test]
fn nav_word_sections_holding_the_prose_stay() {
    check(
        "nav-word-sections.html",
        &[
            "Putting money aside is hard",
            "Start by writing down what comes in",
            "Move a fixed amount into a separate account",
            "Set up standing orders for longer term goals",
        ],
        &["Open an account today", "How to build a budget"],
    );
}

/// A slideshow page whose whole text is one photo's caption: the caption is the article
/// (its photo credit still goes).
#[test]
fn a_caption_that_is_the_only_prose_is_the_article() {
    check(
        "caption-slideshow.html",
        &[
            "Thousands of paper lanterns were released over the old harbour",
            "more than forty thousand people came to watch",
        ],
        &["Example Agency", "Winter swimmers"],
    );
}

/// A page builder's rows: readability takes the row with the longest paragraphs and
/// passes over the rows whose paragraphs sit deeper; together they hold more prose than
/// the row it took, so they are the rest of the article (in page order, with the heading
/// row before them). The footer stays out.
#[test]
fn article_rows_readability_passed_over_are_added_back() {
    let text = text_in_order(
        "builder-rows.html",
        &[
            "The harbour board met on Monday",
            "Fishermen, for their part",
            "What the residents want",
            "A developer offered to build flats",
            "The board will publish the costs",
        ],
    );
    assert!(!text.contains("Contact the newsroom"), "{text}");
}

/// A photo gallery told in captions: five captions with credits under a one-paragraph
/// introduction are the article, not credits to drop.
#[test]
fn a_gallery_told_in_captions_keeps_them() {
    check(
        "caption-gallery.html",
        &[
            "thousands came down to the harbour",
            "A fisherman dressed as a pirate waves",
            "Families gather to watch the lantern boats",
        ],
        &["Home", "Harbour Gazette"],
    );
}

/// A server-rendered React page streams its article into hidden `S:n` blocks at the end
/// of the body, for a script to move into `B:n` / `P:n` placeholders; without the script
/// readability found nothing visible.
#[test]
fn a_streamed_react_article_is_found() {
    let text = text_of("react-streamed.html");
    let first = text.find("The harbour board met on Monday");
    let last = text.find("The chair said a public meeting");
    assert!(
        first.is_some() && last.is_some() && first < last,
        "text:\n{text}"
    );
    assert!(text.contains("Fishermen asked for berths"), "{text}");
    assert!(!text.contains("Harbour Gazette"), "{text}");
}

/// A page builder puts "widget" on every block of the article; readability weighs such
/// blocks down and its cleaning then removed all but the lead paragraphs. A posts widget
/// beside it (summaries of other stories) stays weighed down and out.
#[test]
fn page_builder_widget_blocks_that_hold_the_article_stay() {
    check(
        "page-builder-widgets.html",
        &[
            "Six gates, forty million pounds",
            "The river authority opened the new flood barrier",
            "Engineers said the barrier was designed",
            "The gates will be tested every month",
            "Critics had argued that the money",
        ],
        &[
            "Bridge repairs finish early",
            "Copyright 2024 Town Gazette",
            "Contractors began work on the eastern harbour wall",
        ],
    );
}

/// A list of links under a sentence of the article that ends in a colon ("Earlier
/// conversations in the series:") is the list that sentence announces, even at the end of
/// the article; a page's legal notice in an element named `copyright` is not the article.
#[test]
fn a_list_the_article_announces_stays() {
    check(
        "announced-list.html",
        &[
            "Earlier conversations in the series:",
            "Tomas Brandt on writing letters by hand",
            "Joel Ambrose on learning a language at sixty",
        ],
        &["Visit the shop", "registered trademark"],
    );
}

/// List items set in headings (`<li><h2><a>…</a></h2></li>`, a guide's product picks) stay
/// when a line ending in a colon announces them; the same markup unannounced amid the text
/// is a set of related headlines and goes.
#[test]
fn heading_items_a_line_announces_stay() {
    check(
        "heading-items.html",
        &[
            "Our picks:",
            "Voltmaster 117",
            "Kleinwerk MM4",
            "Gripwell VG strippers",
            "Keep the meter in its case",
        ],
        &["How to rack a van", "Pricing a rewire"],
    );
}

/// A short article beside a column of post teasers (several `<article>`s with excerpts):
/// the column is a list of posts, not a section of the article readability passed over.
#[test]
fn a_column_of_post_teasers_is_not_added_to_a_short_article() {
    check(
        "post-list-beside.html",
        &[
            "a landlord may keep part of a security deposit",
            "Faded paint, small nail holes",
        ],
        &[
            "Latest posts",
            "How much notice must a landlord give",
            "Heating is an essential service",
        ],
    );
}

/// A long copyright notice beside an article whose prose is cut up by links holds most of
/// the page's prose; the safety net that keeps such an element kept it, and readability
/// appended it to the article. A copyright notice is never the article.
#[test]
fn a_copyright_notice_holding_most_prose_goes() {
    check(
        "copyright-footer.html",
        &[
            "made 36 saves to lead the",
            "held Riverside to 0-for-6 on the power play",
        ],
        &[
            "official site of the Example Hockey League",
            "All rights reserved",
        ],
    );
}

/// A theme's generated post class list ("post-2127 post hentry category-… tag-… tag")
/// ends in a bare "tag" when the post has tags: a small-thing word that comes from the
/// post's metadata. The short post once went as a tag list, leaving no article.
#[test]
fn a_bare_tag_in_a_post_class_list_keeps_the_post() {
    check(
        "post-class-tag.html",
        &[
            "Every year my class weighs, measures and counts the seeds",
            "print the recording sheet on card",
        ],
        &[
            "Jane Miller has taught primary school",
            "Cutting paper pizzas",
        ],
    );
}

/// An article cut into sections of one kind (`<div class="sect1">` with a heading and a
/// body, as Asciidoctor writes them): readability took the one section with the most
/// plain paragraphs (the thanks) and passed over the others, which stood beside that
/// section's parent, not beside the content itself.
#[test]
fn sibling_sections_of_one_kind_come_back() {
    check(
        "article-sections.html",
        &[
            "is an ahead-of-time code generator for the compiler",
            "There has been good progress on the other compiler",
            "A big thank you to the reviewers",
        ],
        &["Written by a compiler hacker"],
    );
}

/// A page builder's rows (HubSpot's `row-fluid-wrapper row-number-N`), each wrapping one
/// module six elements deep: readability took the module with the most commas, and a
/// call-to-action box beside it hid the other rows from the passed-over search.
#[test]
fn page_builder_rows_of_one_article_come_back() {
    check(
        "builder-sections.html",
        &[
            "Your money moves need to be linked to your goals",
            "Nothing gives a more solid footing than knowing",
            "Three to six months of expenses",
            "Interest earns interest",
        ],
        &["book a free thirty-minute call", "Member FDIC"],
    );
}

/// A slideshow embedded after the story (sixty captions of thirty words, and a "Loading"
/// placeholder with a spinner image): readability once took the captions and left the
/// story. "slideshow", "gallery" and "carousel" name a section beside the story; a gallery
/// that is the page's prose stays (`caption-slideshow.html`, above). With the slideshow
/// gone readability keeps the story's paragraphs as siblings, and its sibling rule passed
/// over the four whose links make up a quarter of their text: they come back in place.
#[test]
fn a_slideshow_beside_the_story_does_not_replace_it() {
    let text = text_in_order(
        "slideshow-beside-story.html",
        &[
            "The champion did not let anyone spoil his party",
            "Running the 200 metres in a blistering 19.32 seconds",
            "He is also the first man to win two Olympic titles in the 200",
            "In the semifinal heats, the training partner finished",
            "and then turned to the crowd with his arms spread wide",
        ],
    );
    assert!(
        !text.contains("during the athletics in the Olympic Stadium"),
        "kept a caption; text:\n{text}"
    );
}
