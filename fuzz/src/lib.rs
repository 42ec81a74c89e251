//! The fuzz harnesses: one function per target, each taking the raw fuzz input. The
//! `fuzz_targets/` binaries call them under libFuzzer; `tests/fuzz_corpus.rs` in the main crate
//! includes this same file and replays every committed corpus file through them on stable.
//!
//! A harness panics only on a real bug: a panic in the code under test, or a broken invariant
//! (the query printer's output must re-parse to the same query).

use std::sync::OnceLock;
use std::time::Duration;

use tidings::extract::{ExtractLimits, extract};
use tidings::matcher::{Aliases, Document, Topic, parse_query, prepare};
use tidings::notify::story::story_key;
use tidings::plaintext::{excerpt, html_to_text};

/// libFuzzer's panic hook aborts on every panic, even one the code under test catches on
/// purpose (tidings turns a panic inside feed-rs or the HTML libraries into an error). The fuzz
/// targets call this first: it puts the default hook back, so only a panic that escapes the
/// harness aborts (libfuzzer-sys aborts on those itself).
pub fn only_uncaught_panics_crash() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = std::panic::take_hook();
        std::panic::set_hook(Box::new(|info| {
            eprintln!("panic (a crash only if it escapes the harness): {info}");
        }));
    });
}

/// Aliases shaped like the example config's (`@dprk`, `@russia`, a nested alias, NEAR inside
/// an alias, a field scope and a weight inside an alias).
fn alias_defs() -> Vec<(String, String)> {
    [
        (
            "dprk",
            r#""north korea*" OR nk OR dprk OR pyongyang OR 북한 OR 北 OR кндр OR "kim jong un""#,
        ),
        (
            "russia",
            r#"russia* OR moscow* OR kreml* OR putin* OR 러시아 OR (러 NOT "중 러") OR росси*"#,
        ),
        ("pair", "NEAR/12(@dprk, @russia)"),
        ("war", "ukrain* OR kursk* OR title:donbas*^2"),
    ]
    .iter()
    .map(|(n, b)| (n.to_string(), b.to_string()))
    .collect()
}

fn aliases() -> &'static Aliases {
    static ALIASES: OnceLock<Aliases> = OnceLock::new();
    ALIASES.get_or_init(|| Aliases::parse(&alias_defs()).expect("the harness aliases parse"))
}

fn topic() -> &'static Topic {
    static TOPIC: OnceLock<Topic> = OnceLock::new();
    TOPIC.get_or_init(|| {
        Topic::new(
            "t",
            "(title:@pair^2 OR @pair OR NEAR/8(@dprk, troops) AND @war) NOT title:(briefing OR \"at a glance\")",
            1.0,
            aliases(),
        )
        .expect("the harness topic parses")
    })
}

/// Feed bytes → items (with the input as URL base), then what the pipeline does with each item:
/// plain text of summary and content, matcher normalisation and the topic, the story key; and
/// the input read as a date string.
pub fn parse_feed(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = tidings::dates::parse_feed_date(s);
    }
    let Ok(feed) = tidings::parse::parse_feed(data, "https://example.org/feed/rss.xml") else {
        return;
    };
    assert!(feed.items.len() <= tidings::parse::MAX_ENTRIES);
    for item in &feed.items {
        let summary = html_to_text(item.summary.as_deref().unwrap_or(""));
        let content = html_to_text(item.content.as_deref().unwrap_or(""));
        let _ = excerpt(&summary, 200);
        let title = item.title.as_deref().unwrap_or("");
        let doc = prepare(&Document {
            title,
            summary: &summary,
            text: &content,
            feed: feed.meta.title.as_deref().unwrap_or(""),
            url: item.url.as_deref().unwrap_or(""),
            author: item.author.as_deref().unwrap_or(""),
        });
        let _ = topic().matches(&doc);
        let _ = story_key(item.url.as_deref(), title, &content);
    }
}

/// A topic query: parse it; if it parses, its canonical print must parse to the same query and
/// print the same. The input is also tried as an alias body.
pub fn query_parser(data: &[u8]) {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(q) = parse_query(src, aliases()) {
        let printed = q.to_string();
        let again = parse_query(&printed, aliases())
            .unwrap_or_else(|e| panic!("{src:?} printed as {printed:?}, which fails: {e}"));
        assert_eq!(
            again, q,
            "{src:?} printed as {printed:?} re-parses differently"
        );
        assert_eq!(
            again.to_string(),
            printed,
            "{src:?}: printing is not stable"
        );
    }
    let mut defs = alias_defs();
    defs.push(("x".to_string(), src.to_string()));
    if let Ok(with_x) = Aliases::parse(&defs) {
        // It may still fail: `^2` can push @x's weights out of range.
        if let Ok(q) = parse_query("title:@x^2 OR NEAR/3(@x, @dprk)", &with_x) {
            let printed = q.to_string();
            assert_eq!(
                parse_query(&printed, &with_x).as_ref(),
                Ok(&q),
                "{printed:?}"
            );
        }
    }
}

/// The article extractor over a page with a short deadline; the first byte picks the
/// content type the server claimed.
pub fn extract_page(data: &[u8]) {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    let content_type = match kind % 4 {
        0 => None,
        1 => Some("text/html"),
        2 => Some("text/html; charset=windows-1251"),
        _ => Some("application/xhtml+xml; charset=utf-8"),
    };
    let limits = ExtractLimits {
        max_bytes: 1024 * 1024,
        timeout: Duration::from_millis(500),
    };
    if let Ok(article) = extract(body, content_type, Some("https://example.org/a/1"), &limits) {
        let _ = html_to_text(&article.text);
    }
    if let Ok(s) = std::str::from_utf8(body) {
        let _ = html_to_text(s);
    }
}

/// An OPML subscription list.
pub fn opml(data: &[u8]) {
    if let Ok(feeds) = tidings::opml::parse_opml(data) {
        let _ = tidings::opml::write_opml("fuzz", &feeds);
    }
}
