//! Replays every committed fuzz corpus file (`fuzz/corpus/TARGET/*`) through the same harness
//! functions the fuzz targets call (`fuzz/src/lib.rs`, included here), on stable and without
//! libFuzzer, so CI catches a regression on any input the fuzzers ever kept.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod harness;

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}: empty corpus", dir.display());
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{target}: {} panicked", path.display());
    }
    eprintln!("{target}: {} inputs replayed", files.len());
}

#[test]
fn parse_feed_corpus() {
    replay("parse_feed", harness::parse_feed);
}

#[test]
fn query_parser_corpus() {
    replay("query_parser", harness::query_parser);
}

#[test]
fn extract_corpus() {
    replay("extract", harness::extract_page);
}

#[test]
fn opml_corpus() {
    replay("opml", harness::opml);
}

/// Found by the parse_feed fuzz target on its first seed (feedparser's UCS-2 encoding test):
/// feed-rs 3.0 panics inside quick-xml ("set_encoding() called after prefix buffer was
/// drained"). `parse_feed` decodes UTF-16 itself before feed-rs (issue 19), so it is read.
#[test]
fn ucs2_feed_that_panics_inside_feed_rs_is_read() {
    let body = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/fuzz/feed-rs-ucs2-set-encoding-panic.xml"),
    )
    .unwrap();
    let parsed = tidings::parse::parse_feed(&body, "https://example.org/ucs2.xml").unwrap();
    assert!(parsed.skipped.is_empty());
}
