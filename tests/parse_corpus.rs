//! Issue 19: no whole-feed failure on any file of `feeds-corpus/` that feedparser reads without
//! `bozo`, and no entry skipped there either. Parses every file (pure, no server) and prints
//! what had to be repaired or skipped on the way, so a new feed-rs failure kind shows up here.

mod common;

use common::shared_dir;

/// MANIFEST.tsv rows: (path, entries, bozo).
fn manifest() -> Vec<(String, usize, bool)> {
    let text = std::fs::read_to_string(shared_dir().join("feeds-corpus/MANIFEST.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let path = cols[0];
            (!path.ends_with(".opml")).then(|| {
                (
                    path.to_string(),
                    cols[3].parse().unwrap_or(0),
                    cols[5] == "1",
                )
            })
        })
        .collect()
}

fn read_body(path: &str) -> Vec<u8> {
    let bytes = std::fs::read(shared_dir().join("feeds-corpus").join(path)).unwrap();
    if path.ends_with(".gz") {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        bytes
    }
}

#[test]
fn no_feed_feedparser_reads_cleanly_fails_whole_or_loses_an_entry() {
    let rows = manifest();
    assert!(rows.len() >= 290, "{} manifest rows", rows.len());
    let (mut clean, mut failures, mut notes) = (0, Vec::new(), Vec::new());
    for (path, entries, bozo) in &rows {
        let url = format!("http://127.0.0.1/{path}");
        let result = tidings::parse::parse_feed(&read_body(path), &url);
        if let Ok(parsed) = &result {
            for repair in &parsed.repairs {
                notes.push(format!("{path}: repaired: {repair}"));
            }
            for skipped in &parsed.skipped {
                notes.push(format!(
                    "{path}: skipped entry {} ({}): {}",
                    skipped.index, skipped.label, skipped.reason
                ));
            }
        }
        if *bozo {
            if let Err(e) = &result {
                notes.push(format!("{path} (bozo): {e}"));
            }
            continue;
        }
        clean += 1;
        match result {
            Err(e) => failures.push(format!("{path}: whole feed failed: {e}")),
            Ok(parsed) if !parsed.skipped.is_empty() => failures.push(format!(
                "{path}: {} of {entries} entries skipped",
                parsed.skipped.len()
            )),
            Ok(_) => {}
        }
    }
    eprintln!(
        "{clean} files feedparser reads without bozo; {} failed\n{}",
        failures.len(),
        notes.join("\n")
    );
    assert!(clean >= 260, "only {clean} clean files in the manifest");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
