//! Article-text extraction for fetched web pages: charset decoding, safety bounds,
//! readability (dom_smoothie) plus boilerplate cleanup and ld+json evidence.
//!
//! Pipeline of [`extract`]:
//! 1. refuse non-HTML content types and bodies over `max_bytes`;
//! 2. decode the bytes ([`charset`]: BOM, HTTP header, `<meta>`, sniffing);
//! 3. refuse pathological pages by a byte scan before any tree exists (`guard::prescan`:
//!    nesting deeper than 512, more than 250,000 start tags, a tag with 10,000 attributes);
//! 4. parse with html5ever in chunks, checking the deadline between chunks, and show the
//!    blocks a server-rendered React page streams in hidden (`streamed`);
//! 5. remove page furniture from the tree (`cleanup::preclean`: share bars, related
//!    lists, newsletter/donation boxes, captions, bylines, comments …, by element names,
//!    ARIA roles, schema.org properties and common class/id words, never by site);
//! 6. run readability (dom_smoothie) on what is left;
//! 7. render its result as paragraphs (`text`), with the paragraphs it passed over between
//!    those it kept and the prose blocks beside it that it passed over when they hold as
//!    much prose as it kept (`expand`), and drop boilerplate
//!    paragraphs (`postclean::postclean`: phrases, datelines, captions, teaser links, plea
//!    boxes, everything after an end-of-article marker such as "More stories");
//! 8. weigh the page's schema.org `articleBody` (`jsonld`) against that text.

mod boiler;
pub mod charset;
mod class_words;
mod cleanup;
mod dateline;
mod element;
mod expand;
mod guard;
mod jsonld;
mod line_kinds;
pub mod metric;
mod postclean;
mod rules;
mod streamed;
mod text;

use std::time::Duration;

use dom_query::Document;

pub use charset::decode_html;
pub use rules::Rules;

/// Bounds on one extraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractLimits {
    /// Largest body accepted, in bytes.
    pub max_bytes: usize,
    /// Wall-clock budget for the whole extraction.
    pub timeout: Duration,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        Self {
            max_bytes: 15 * 1024 * 1024,
            timeout: Duration::from_secs(10),
        }
    }
}

/// The article found on a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub title: Option<String>,
    pub byline: Option<String>,
    /// Publication date as found (ISO 8601 when the page gives it so).
    pub published: Option<String>,
    pub language: Option<String>,
    pub lead_image_url: Option<String>,
    /// The article's text, paragraphs separated by "\n\n".
    pub text: String,
    /// Which path produced `text`: "readability", "readability+ld+json" (readability
    /// paragraphs confirmed by the page's schema.org `articleBody`) or "ld+json".
    pub method: &'static str,
}

/// Why no article was extracted.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("not an HTML page (content type {content_type:?})")]
    NotHtml { content_type: String },
    #[error("page too large: {bytes} bytes, limit {limit}")]
    TooLarge { bytes: usize, limit: usize },
    #[error("extraction timed out (limit {limit:?})")]
    TimedOut { limit: Duration },
    #[error("no article text found")]
    NoArticle,
    #[error("cannot parse page: {0}")]
    Parse(String),
}

/// Most elements a page may have; readability refuses larger trees (a 12 MB page of plain
/// paragraphs has about 190,000 and takes about 1.3 s in a release build).
const MAX_ELEMENTS: usize = 250_000;

/// Readability time as a multiple of parse time: about 0.5-1 on the benchmark pages,
/// taken generously so the deadline is not overrun.
const READABILITY_COST_VS_PARSE: f64 = 1.5;

/// Decode `body` (see [`decode_html`]) and extract its article.
pub fn extract(
    body: &[u8],
    content_type: Option<&str>,
    url: Option<&str>,
    limits: &ExtractLimits,
) -> Result<Article, ExtractError> {
    extract_with(body, content_type, url, limits, &Rules::default(), None)
}

/// [`extract`] with some rule families switched off, recording the text of every element
/// `preclean` removes into `removed` when given. For the benchmark, which measures what
/// each family is worth and which removals cost gold text.
#[doc(hidden)]
pub fn extract_with(
    body: &[u8],
    content_type: Option<&str>,
    url: Option<&str>,
    limits: &ExtractLimits,
    rules: &Rules,
    removed: Option<&mut Vec<String>>,
) -> Result<Article, ExtractError> {
    let deadline = guard::Deadline::new(limits.timeout);
    guard::check_content_type(content_type, body)?;
    if body.len() > limits.max_bytes {
        return Err(ExtractError::TooLarge {
            bytes: body.len(),
            limit: limits.max_bytes,
        });
    }
    deadline.check()?;
    let html = decode_html(body, content_type);
    deadline.check()?;
    // A panic inside the HTML libraries on some odd page must not take the caller down.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        extract_decoded(&html, url, &deadline, rules, removed)
    }))
    .unwrap_or_else(|panic| {
        let msg = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(ExtractError::Parse(format!("extractor panicked: {msg}")))
    })
}

fn extract_decoded(
    html: &str,
    url: Option<&str>,
    deadline: &guard::Deadline,
    rules: &Rules,
    removed: Option<&mut Vec<String>>,
) -> Result<Article, ExtractError> {
    guard::prescan(html.as_bytes(), MAX_ELEMENTS)?;
    let parse_start = std::time::Instant::now();
    let doc = parse(html, deadline)?;
    let parse_time = parse_start.elapsed();
    if streamed::may_stream(html) {
        streamed::reveal(&doc);
    }
    let ld_body = if rules.ld_json {
        jsonld::article_body(&doc, html)
    } else {
        None
    };
    let found = cleanup::preclean(&doc, deadline, rules, removed)?;
    if found.elements > MAX_ELEMENTS {
        return Err(ExtractError::Parse(format!(
            "{} elements in the page body, more than the {MAX_ELEMENTS} accepted",
            found.elements
        )));
    }
    // The readability pass cannot be interrupted. It costs about as much as parsing did
    // (measured on this very page and machine), so refuse now if that cannot fit.
    deadline.require(parse_time.mul_f64(READABILITY_COST_VS_PARSE))?;
    // (no `max_elements_to_parse`: the element count is checked above, without a
    // second walk over the tree)
    let cfg = dom_smoothie::Config::default();
    // The URL only resolves relative links; one readability rejects is dropped.
    let url = url.filter(|u| url_is_absolute(u));
    let mut r = dom_smoothie::Readability::with_document(doc, url, Some(cfg))
        .map_err(|e| ExtractError::Parse(e.to_string()))?;
    let art = match r.parse() {
        Ok(art) => art,
        Err(dom_smoothie::ReadabilityError::GrabFailed) => {
            let page_text = r.doc.select("body").text();
            return ld_only(ld_body, &page_text).ok_or(ExtractError::NoArticle);
        }
        Err(e) => return Err(ExtractError::Parse(e.to_string())),
    };
    deadline.check()?;
    let root = r.doc.select_single("#readability-page-1");
    let paras = match root.nodes().first() {
        Some(node) if rules.expand => {
            expand::fill_gaps(node);
            let kept = text::paragraphs(node);
            let (mut paras, after) = expand::passed_over(node, &kept);
            paras.extend(kept);
            paras.extend(after);
            paras
        }
        Some(node) => text::paragraphs(node),
        None => Vec::new(),
    };
    let byline = art.byline.clone().or(found.byline);
    let known = boiler::Known::new(Some(art.title.as_str()), byline.as_deref());
    let mut paras = postclean::postclean(paras, &known, rules);
    let mut method = "readability";
    if let Some(ld) = &ld_body {
        match jsonld::decide(ld, &paras) {
            jsonld::Decision::Filter => {
                paras = jsonld::filter(ld, paras);
                method = "readability+ld+json";
            }
            jsonld::Decision::Replace => {
                paras = ld
                    .iter()
                    .map(|t| text::Para {
                        text: t.clone(),
                        ..Default::default()
                    })
                    .collect();
                method = "ld+json";
            }
            jsonld::Decision::Ignore => {}
        }
    }
    let text = text::join(&paras);
    if text.trim().is_empty() {
        return Err(ExtractError::NoArticle);
    }
    let nonempty = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(Article {
        title: nonempty(Some(art.title)),
        byline: nonempty(byline),
        published: nonempty(art.published_time.or(found.published)),
        language: nonempty(art.lang),
        lead_image_url: nonempty(art.image),
        text,
        method,
    })
}

/// An `http(s)://host…` URL, the kind readability accepts as the document URL.
fn url_is_absolute(u: &str) -> bool {
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .unwrap_or("");
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty() && !host.contains(char::is_whitespace)
}

/// The article from ld+json alone, when readability found nothing: accepted when the
/// page shows that text too, or shows next to no text at all (a script-rendered page).
fn ld_only(ld: Option<Vec<String>>, page_text: &str) -> Option<Article> {
    let ld = ld?;
    let text = ld.join("\n\n");
    let page_words = metric::tokens(page_text).len();
    let consistent = page_words < 50 || jsonld::containment(&text, page_text) >= 0.5;
    (consistent && metric::tokens(&text).len() >= 60).then_some(Article {
        title: None,
        byline: None,
        published: None,
        language: None,
        lead_image_url: None,
        text,
        method: "ld+json",
    })
}

/// Parse with html5ever into a dom_query tree, feeding the parser in chunks so the
/// deadline is checked while parsing (the same options as `Document::from`).
fn parse(html: &str, deadline: &guard::Deadline) -> Result<Document, ExtractError> {
    use html5ever::tendril::{StrTendril, TendrilSink};
    const CHUNK: usize = 256 * 1024;
    let opts = html5ever::ParseOpts {
        tree_builder: html5ever::tree_builder::TreeBuilderOpts {
            scripting_enabled: false,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut parser = html5ever::parse_document(Document::default(), opts);
    let mut rest = html;
    while !rest.is_empty() {
        let mut cut = rest.len().min(CHUNK);
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (chunk, tail) = rest.split_at(cut);
        parser.process(StrTendril::from_slice(chunk));
        rest = tail;
        deadline.check()?;
    }
    Ok(parser.finish())
}

/// Base URL given to the baseline when the page has none that readability accepts
/// (dom_smoothie returns nothing for an empty or relative document URL).
const PLACEHOLDER_URL: &str = "https://example.invalid/";

/// Plain dom_smoothie with default settings: the baseline the benchmark compares against.
/// (For `benches/extraction.rs`; not part of the extractor.)
#[doc(hidden)]
pub fn baseline_text(html: &str, url: Option<&str>) -> String {
    let cfg = dom_smoothie::Config {
        text_mode: dom_smoothie::TextMode::Formatted,
        ..Default::default()
    };
    let url = url
        .filter(|u| url_is_absolute(u))
        .unwrap_or(PLACEHOLDER_URL);
    dom_smoothie::Readability::new(html, Some(url), Some(cfg))
        .and_then(|mut r| r.parse())
        .map(|a| a.text_content.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    const SEED_HTML: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/extract/seed/independent-kim-putin.html"
    ));
    const SEED_TRUTH: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/extract/seed/ground-truth.json"
    ));

    fn article_page(paragraphs: usize) -> String {
        let p = "<p>The council met on Tuesday evening to discuss the new budget, and members argued \
                 for several hours about the cost of repairing the old bridge near the river.</p>";
        format!(
            "<!doctype html><html><head><title>Budget</title></head><body><nav><a href=/>Home</a></nav>\
             <article><h1>Budget</h1>{}</article><footer>Contact us</footer></body></html>",
            p.repeat(paragraphs)
        )
    }

    #[test]
    fn extracts_a_plain_article() {
        let html = article_page(8);
        let art = extract(
            html.as_bytes(),
            Some("text/html; charset=utf-8"),
            None,
            &ExtractLimits::default(),
        )
        .expect("article");
        assert_eq!(art.text.matches("The council met").count(), 8);
        assert_eq!(art.text.split("\n\n").count(), 8, "{}", art.text);
        assert!(!art.text.contains("Contact us"));
        assert_eq!(art.method, "readability");
    }

    #[test]
    fn refuses_non_html() {
        let limits = ExtractLimits::default();
        for ct in ["application/pdf", "image/png", "application/json"] {
            match extract(b"%PDF-1.4 binary", Some(ct), None, &limits) {
                Err(ExtractError::NotHtml { content_type }) => assert_eq!(content_type, ct),
                other => panic!("{ct}: {other:?}"),
            }
        }
        assert!(matches!(
            extract(b"\x89PNG\r\n\x1a\n....", None, None, &limits),
            Err(ExtractError::NotHtml { .. })
        ));
    }

    #[test]
    fn refuses_too_large() {
        let html = article_page(50);
        let limits = ExtractLimits {
            max_bytes: 1000,
            ..Default::default()
        };
        match extract(html.as_bytes(), Some("text/html"), None, &limits) {
            Err(ExtractError::TooLarge { bytes, limit }) => {
                assert_eq!((bytes, limit), (html.len(), 1000))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn nested_div_bomb_is_refused_quickly_on_a_small_stack() {
        // 12 MB: 500,000 nested divs, under the 15 MiB size limit.
        let open = "<div class=\"wrapper-x\">";
        let mut html = String::from("<!doctype html><html><body>");
        html.push_str(&open.repeat(500_000));
        html.push_str(&"<p>deep text</p>".repeat(10));
        html.push_str(&"</div>".repeat(500_000));
        assert!(
            html.len() > 12_000_000 && html.len() < 15 * 1024 * 1024,
            "{}",
            html.len()
        );
        let t0 = Instant::now();
        let res = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                extract(
                    html.as_bytes(),
                    Some("text/html"),
                    None,
                    &ExtractLimits::default(),
                )
            })
            .expect("spawn")
            .join()
            .expect("no stack overflow");
        match res {
            Err(ExtractError::Parse(msg)) => assert!(msg.contains("nesting"), "{msg}"),
            other => panic!("{other:?}"),
        }
        assert!(
            t0.elapsed() < ExtractLimits::default().timeout,
            "{:?}",
            t0.elapsed()
        );
    }

    #[test]
    fn moderately_deep_pages_still_extract_on_a_small_stack() {
        let html = format!(
            "{}{}{}",
            "<div>".repeat(400),
            article_page(6),
            "</div>".repeat(400)
        );
        let art = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || extract(html.as_bytes(), None, None, &ExtractLimits::default()))
            .expect("spawn")
            .join()
            .expect("no stack overflow")
            .expect("article");
        assert!(art.text.contains("The council met"));
    }

    #[test]
    fn tiny_timeout_times_out() {
        let html = article_page(20);
        let limits = ExtractLimits {
            timeout: Duration::from_nanos(1),
            ..Default::default()
        };
        match extract(html.as_bytes(), Some("text/html"), None, &limits) {
            Err(ExtractError::TimedOut { limit }) => assert_eq!(limit, Duration::from_nanos(1)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn short_timeout_on_a_big_page_is_honoured_while_parsing() {
        let html = article_page(40_000); // ~9 MB
        let limits = ExtractLimits {
            timeout: Duration::from_millis(20),
            ..Default::default()
        };
        let t0 = Instant::now();
        let res = extract(html.as_bytes(), Some("text/html"), None, &limits);
        assert!(
            matches!(res, Err(ExtractError::TimedOut { .. })),
            "{:?}",
            res.map(|a| a.text.len())
        );
        // checked after every 256 KiB parsed: stops long before a full parse
        assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    }

    #[test]
    fn seed_page_keeps_none_of_its_boilerplate() {
        let art = extract(
            SEED_HTML,
            Some("text/html; charset=utf-8"),
            Some("https://www.example.com/news/kim"),
            &ExtractLimits::default(),
        )
        .expect("article");
        for junk in [
            "Your support helps us to tell the story",
            "donation",
            "Support Now",
            "Join our commenting forum",
            "commenting",
            "newsletter",
            "Share on",
            "Most popular",
            "(Getty)",
            "More about",
            "Cookie policy",
        ] {
            assert!(!art.text.contains(junk), "kept {junk:?}:\n{}", art.text);
        }
        let truth: serde_json::Value = serde_json::from_str(SEED_TRUTH).expect("truth json");
        let truth = truth["independent-kim-putin"]["articleBody"]
            .as_str()
            .expect("body");
        let s = metric::score(&art.text, truth);
        assert!(s.f1 >= 0.98, "{s:?}\n{}", art.text);
        assert!(art.title.as_deref().unwrap_or("").contains("Kim Jong-un"));
        assert!(art.published.is_some());
    }

    /// A story split into sibling blocks between ad slots, inside an article container
    /// that also holds a byline, a newsletter box and a related list.
    fn split_story() -> String {
        let sentences = [
            "The council said on Tuesday that repairs to the old bridge would cost more than expected.",
            "Residents who rely on the crossing were told to use the ferry while engineers inspect the pillars.",
            "Shops near the bridge said trade had halved since the closure began in the spring.",
            "The mayor promised an answer within a week and said the budget could be revised in March.",
        ];
        let mut blocks = String::new();
        for b in 0..6 {
            blocks.push_str("<div class=\"story-text-block\">");
            for k in 0..2 {
                blocks.push_str(&format!("<p>Part {b}.{k}. {}</p>", sentences.join(" ")));
            }
            blocks.push_str("</div><div class=\"ad-slot\"><span>Advertisement</span></div>");
        }
        format!(
            "<!doctype html><html><head><title>Bridge repairs cost more</title></head><body>\
             <header class=\"site-header\"><nav><a href=/>Home</a> <a href=/news>News</a></nav></header>\
             <main><article><h1>Bridge repairs cost more</h1><div class=\"byline\">By A. Writer</div>\
             <time datetime=\"2024-01-02\">2 January 2024</time>{blocks}\
             <aside class=\"newsletter-box\"><h3>Get our newsletter</h3><p>Sign up for the morning briefing in your inbox.</p></aside>\
             <div class=\"related-links\"><h3>Related</h3><ul><li><a href=/a>Other story one about the river</a></li>\
             <li><a href=/b>Other story two about the ferry</a></li></ul></div></article></main>\
             <footer>Contact the newsroom</footer></body></html>"
        )
    }

    #[test]
    fn story_split_into_sibling_blocks_is_kept_whole_and_clean() {
        let art = extract(
            split_story().as_bytes(),
            Some("text/html"),
            None,
            &ExtractLimits::default(),
        )
        .expect("article");
        for b in 0..6 {
            for k in 0..2 {
                assert!(
                    art.text.contains(&format!("Part {b}.{k}.")),
                    "lost block {b}.{k}:\n{}",
                    art.text
                );
            }
        }
        assert_eq!(art.text.split("\n\n").count(), 12, "{}", art.text);
        for junk in [
            "Advertisement",
            "newsletter",
            "Other story",
            "Home",
            "A. Writer",
            "Contact",
            "January",
        ] {
            assert!(!art.text.contains(junk), "kept {junk:?}:\n{}", art.text);
        }
        assert_eq!(art.byline.as_deref(), Some("A. Writer"));
        assert_eq!(art.published.as_deref(), Some("2024-01-02"));
    }

    #[test]
    fn prose_with_boilerplate_looking_words_is_kept() {
        let paras = [
            "Netflix added five million subscribers in the quarter.",
            "The minister declined to make further comments on Tuesday.",
            "Copyright law protects the authors, the judge said.",
            "Advertisers pulled out after the scandal broke.",
            "She made a donation to the hospital in her home town.",
            "The meeting starts at <time>5 pm</time> in the town hall, officials said.",
        ];
        let filler = "<p>The council met on Tuesday evening to discuss the new budget, and members argued \
                      for several hours about the cost of repairing the old bridge near the river.</p>";
        let body: String = paras
            .iter()
            .map(|p| format!("<p>{p}</p>{filler}"))
            .collect();
        let html = format!(
            "<html><head><title>T</title></head><body><article>{body}</article></body></html>"
        );
        let art = extract(html.as_bytes(), None, None, &ExtractLimits::default()).expect("article");
        for p in paras {
            let plain = p.replace("<time>", "").replace("</time>", "");
            assert!(art.text.contains(&plain), "lost {plain:?}:\n{}", art.text);
        }
    }

    #[test]
    fn embedded_post_stays_and_captions_go() {
        let p = "<p>The council met on Tuesday evening to discuss the new budget, and members argued \
                 for several hours about the cost of repairing the old bridge near the river.</p>";
        let html = format!(
            "<html><head><title>T</title></head><body><article>{p}{p}{p}<figure><blockquote>\
             <p>The bridge is closed again and nobody told the ferry company this morning</p>\
             \u{2014} A Resident (@resident) November 18, 2019</blockquote></figure>{p}{p}\
             <figure><img src=x.jpg><figcaption>The old bridge at dusk (Photo: Someone)</figcaption></figure>{p}</article></body></html>"
        );
        let art = extract(html.as_bytes(), None, None, &ExtractLimits::default()).expect("article");
        assert!(
            art.text.contains("nobody told the ferry company"),
            "{}",
            art.text
        );
        assert!(
            art.text
                .contains("A Resident (@resident) November 18, 2019"),
            "{}",
            art.text
        );
        assert!(!art.text.contains("old bridge at dusk"), "{}", art.text);
    }

    #[test]
    fn odd_urls_and_empty_pages() {
        let html = article_page(5);
        for url in [
            "http://",
            "https://a b/c",
            "http:///x",
            "/relative/path",
            "https://example.com/a",
        ] {
            let art = extract(
                html.as_bytes(),
                Some("text/html"),
                Some(url),
                &ExtractLimits::default(),
            );
            assert!(
                art.is_ok_and(|a| a.text.contains("The council met")),
                "{url}"
            );
        }
        assert!(matches!(
            extract(b"", Some("text/html"), None, &ExtractLimits::default()),
            Err(ExtractError::NoArticle)
        ));
        assert!(matches!(
            extract(
                b"<html><body></body></html>",
                None,
                None,
                &ExtractLimits::default()
            ),
            Err(ExtractError::NoArticle)
        ));
    }

    #[test]
    fn a_long_comment_section_does_not_win_over_a_short_story() {
        let p = "<p>The council met on Tuesday evening to discuss the new budget, and members argued \
                 for several hours about the cost of repairing the old bridge near the river.</p>";
        let c = "<li><div class=\"c-body\"><div class=\"comment-meta\">Jo said:</div><div class=\"c-text\">\
                 <p>I think they are wasting money on this bridge, they should have fixed it ten years \
                 ago when it was cheap and everyone told them so at the time.</p></div></div></li>";
        let html = format!(
            "<html><head><title>T</title></head><body><div id=page><div class=\"entry-content\">{}</div>\
             <section id=comments class=\"comments-area\"><h2>40 thoughts</h2><ol>{}</ol></section></div></body></html>",
            p.repeat(4),
            c.repeat(40)
        );
        let art = extract(html.as_bytes(), None, None, &ExtractLimits::default()).expect("article");
        assert_eq!(
            art.text.matches("The council met").count(),
            4,
            "{}",
            art.text
        );
        assert!(!art.text.contains("wasting money"), "{}", art.text);
    }

    fn ld_page(body_html: &str, article_body: &str) -> String {
        let ld = serde_json::json!({"@context": "https://schema.org", "@type": "NewsArticle",
            "headline": "Bridge", "articleBody": article_body});
        format!(
            "<html><head><title>Bridge</title><script type=\"application/ld+json\">{ld}</script></head>\
             <body>{body_html}</body></html>"
        )
    }

    #[test]
    fn ld_json_body_rescues_a_script_rendered_page() {
        let body: String = (0..12)
            .map(|i| format!("Paragraph {i} says the council met on Tuesday to discuss the bridge repairs and the budget.\n"))
            .collect();
        let html = ld_page("<div id=app><nav><a href=/>Home</a></nav></div>", &body);
        let art = extract(html.as_bytes(), None, None, &ExtractLimits::default()).expect("article");
        assert_eq!(art.method, "ld+json");
        assert_eq!(art.text.split("\n\n").count(), 12, "{}", art.text);
        assert!(art.text.starts_with("Paragraph 0 says"));
    }

    #[test]
    fn section_headers_keep_their_headings() {
        let p = "<p>The council met on Tuesday evening to discuss the new budget, and members argued \
                 for several hours about the cost of repairing the old bridge near the river.</p>";
        let html = format!(
            "<html><head><title>T</title></head><body><article><header><h1>T</h1>\
             <div class=byline>By Someone</div></header>\
             <section><header><h2>What the engineers found</h2></header>{p}{p}</section>\
             <section><header><h2>What happens next</h2></header>{p}{p}</section></article></body></html>"
        );
        let art = extract(html.as_bytes(), None, None, &ExtractLimits::default()).expect("article");
        assert!(
            art.text.contains("What the engineers found"),
            "{}",
            art.text
        );
        assert!(art.text.contains("What happens next"), "{}", art.text);
        assert!(!art.text.contains("By Someone"), "{}", art.text);
    }

    #[test]
    fn inline_elements_amid_a_sentence_stay() {
        let p = "<p>The council met on Tuesday evening to discuss the new budget, and members argued \
                 for several hours about the cost of repairing the old bridge near the river.</p>";
        let html = format!(
            "<html><head><title>T</title></head><body><article>{p}{p}\
             <p>The mayor, <a class=\"tag\" href=/t>Jane Roe</a>, said the <span class=\"date\">Friday</span> \
             vote would settle it.</p>{p}</article></body></html>"
        );
        let art = extract(html.as_bytes(), None, None, &ExtractLimits::default()).expect("article");
        assert!(
            art.text
                .contains("The mayor, Jane Roe, said the Friday vote would settle it."),
            "{}",
            art.text
        );
    }

    #[test]
    fn headings_whose_id_spells_their_text_stay() {
        let p = "<p>Shops inside social apps let people buy what they see without leaving the \
                 app, and brands that set them up early report more sales from their posts.</p>";
        // "social" is a section word of ours, "shopping" a negative word of readability's:
        // in an anchor id made from the heading's words they name nothing
        let html = format!(
            "<html><head><title>T</title></head><body><article>{p}\
             <h2 id=\"h-why-use-social-shopping\">Why Use Social Shopping?</h2>{p}{p}\
             <h2 class=\"wp-block-heading\" id=\"h-how-to-use-social-shopping-for-your-brand\">\
             <strong>How to Use Social Shopping for Your Brand</strong></h2>{p}{p}\
             <div class=\"social-share\">Share on Facebook</div></article></body></html>"
        );
        let art = extract(html.as_bytes(), None, None, &ExtractLimits::default()).expect("article");
        assert!(
            art.text.contains("Why Use Social Shopping?"),
            "{}",
            art.text
        );
        assert!(
            art.text
                .contains("How to Use Social Shopping for Your Brand"),
            "{}",
            art.text
        );
        assert!(!art.text.contains("Share on Facebook"), "{}", art.text);
    }
}
