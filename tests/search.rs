//! `tidings search` against a fixture archive: finds words in title, summary and article
//! text; folds diacritics and hyphens; ranks a title match above a passing mention; applies
//! filters; every output format parses; a bad query is a clear, positioned error.

mod common;

use common::Workspace;
use common::archive::{DAY, Ids, KOREA_FEED, MOSCOW_FEED, TOPICS_TOML, build};

fn setup() -> (Workspace, Ids) {
    let ws = Workspace::new();
    ws.write_config(TOPICS_TOML, &[]);
    let ids = build(&ws, chrono::Utc::now().timestamp());
    (ws, ids)
}

/// The ids `tidings search ARGS --format ndjson` returns, in order.
fn ids(ws: &Workspace, args: &[&str]) -> Vec<i64> {
    let mut all = vec!["search"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "ndjson", "--limit", "100"]);
    let out = ws.run_ok(&all);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect()
}

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort();
    v
}

#[test]
fn finds_words_in_title_summary_and_article_text() {
    let (ws, ids) = setup();
    assert_eq!(super_ids(&ws, "Vladivostok"), vec![ids.summit]);
    assert_eq!(super_ids(&ws, "armoured"), vec![ids.summit]);
    // "Pyongyang" is in one title and in one article's text (not in its title or summary).
    assert_eq!(
        sorted(super_ids(&ws, "pyongyang")),
        sorted(vec![ids.harvest, ids.lavrov])
    );
    assert_eq!(super_ids(&ws, "ministry"), vec![ids.harvest]);
    assert_eq!(super_ids(&ws, "nothingmatchesthis"), Vec::<i64>::new());
    // Prefix and phrase.
    assert_eq!(super_ids(&ws, "vladivo*"), vec![ids.summit]);
    assert_eq!(super_ids(&ws, "\"foreign minister\""), vec![ids.lavrov]);
    assert_eq!(super_ids(&ws, "\"minister foreign\""), Vec::<i64>::new());
}

fn super_ids(ws: &Workspace, query: &str) -> Vec<i64> {
    ids(ws, &[query])
}

#[test]
fn diacritics_and_hyphens_fold() {
    let (ws, ids) = setup();
    let kim = sorted(vec![ids.summit, ids.roundup]);
    for q in [
        "Kim Jong-un",
        "Kim Jong Un",
        "kim jong un",
        "\"Kim Jong-un\"",
        "\"kim jong un\"",
    ] {
        assert_eq!(sorted(super_ids(&ws, q)), kim, "{q}");
    }
    for q in ["Północna", "Polnocna", "POLNOCNA", "północnej"] {
        let want = vec![ids.polish];
        assert_eq!(super_ids(&ws, q), want, "{q}");
    }
    assert_eq!(super_ids(&ws, "zurich"), vec![ids.cafe]);
    assert_eq!(super_ids(&ws, "Zürich café"), vec![ids.cafe]);
    assert_eq!(super_ids(&ws, "\"trieu tien\""), vec![ids.harvest]);
    assert_eq!(super_ids(&ws, "\"Triều Tiên\""), vec![ids.harvest]);
}

#[test]
fn a_title_match_ranks_above_a_passing_mention() {
    let (ws, ids) = setup();
    // The roundup is newer and mentions Kim Jong Un once in a long summary; the summit has
    // him in the title.
    let found = super_ids(&ws, "Kim Jong Un");
    assert_eq!(found, vec![ids.summit, ids.roundup]);
    let json = ws.run_ok(&["search", "Kim Jong Un", "--format", "json"]);
    let hits: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let first = &hits[0];
    assert!(first["score"].as_f64().unwrap() > hits[1]["score"].as_f64().unwrap());
    assert!(
        first["bm25"].as_f64().unwrap() < 0.0,
        "bm25 is negative-better"
    );
    assert!(
        first["snippet"].as_str().unwrap().contains("«Kim»"),
        "{first}"
    );
}

#[test]
fn filters() {
    let (ws, ids) = setup();
    // --topic: only items matched to it.
    assert_eq!(
        sorted(ids_of(
            &ws,
            &["pyongyang OR vladivostok", "--topic", "nk-russia"]
        )),
        sorted(vec![ids.summit, ids.lavrov])
    );
    assert_eq!(
        ids_of(&ws, &["pyongyang", "--topic", "nk-russia"]),
        vec![ids.lavrov]
    );
    // --feed by URL.
    assert_eq!(
        ids_of(&ws, &["pyongyang", "--feed", MOSCOW_FEED]),
        vec![ids.lavrov]
    );
    assert_eq!(
        ids_of(&ws, &["pyongyang", "--feed", KOREA_FEED]),
        vec![ids.harvest]
    );
    // --since / --until.
    assert_eq!(
        ids_of(&ws, &["pyongyang", "--since", "7d"]),
        vec![ids.lavrov]
    );
    assert_eq!(
        ids_of(&ws, &["pyongyang", "--until", "7d"]),
        vec![ids.harvest]
    );
    assert_eq!(
        ids_of(&ws, &["moscow", "--since", "30d"]),
        Vec::<i64>::new()
    );
    assert_eq!(ids_of(&ws, &["moscow"]), vec![ids.old]);
    let date = chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp() - 20 * DAY, 0)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        ids_of(&ws, &["pyongyang", "--until", &date]),
        vec![ids.harvest]
    );
    // Field scopes inside the index.
    assert_eq!(ids_of(&ws, &["title:pyongyang"]), vec![ids.lavrov]);
    assert_eq!(ids_of(&ws, &["text:pyongyang"]), vec![ids.harvest]);
    assert_eq!(ids_of(&ws, &["summary:lavrov"]), vec![ids.lavrov]);
    // Filters outside the index: feed:, url:, author:.
    assert_eq!(ids_of(&ws, &["pyongyang feed:moscow"]), vec![ids.lavrov]);
    assert_eq!(ids_of(&ws, &["author:petrov"]), vec![ids.lavrov]);
    assert_eq!(ids_of(&ws, &["url:cafe"]), vec![ids.cafe]);
    // NOT, OR, groups, aliases from the config.
    assert_eq!(ids_of(&ws, &["pyongyang NOT lavrov"]), vec![ids.harvest]);
    assert_eq!(
        sorted(ids_of(&ws, &["@dprk"])),
        sorted(vec![ids.harvest, ids.lavrov])
    );
    assert_eq!(ids_of(&ws, &["NEAR/3(lavrov, minister)"]), vec![ids.lavrov]);
    // --limit.
    assert_eq!(
        ws.run_ok(&["search", "@dprk", "--limit", "1", "--format", "ndjson"])
            .stdout
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
        1
    );
}

fn ids_of(ws: &Workspace, args: &[&str]) -> Vec<i64> {
    ids(ws, args)
}

/// Splits CSV text (RFC 4180) into records.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else {
            match c {
                '"' => {
                    assert!(field.is_empty(), "quote inside an unquoted field");
                    quoted = true;
                }
                ',' => record.push(std::mem::take(&mut field)),
                '\n' => {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                c => field.push(c),
            }
        }
    }
    assert!(!quoted, "unterminated quoted field");
    assert!(
        field.is_empty() && record.is_empty(),
        "missing final newline"
    );
    records
}

#[test]
fn every_output_format_parses() {
    let (ws, ids) = setup();
    let q = "zurich OR pyongyang";
    let json: serde_json::Value =
        serde_json::from_slice(&ws.run_ok(&["search", q, "--format", "json"]).stdout).unwrap();
    let list = json.as_array().unwrap();
    assert_eq!(list.len(), 3);
    for hit in list {
        for key in [
            "id",
            "score",
            "published",
            "feed_title",
            "title",
            "url",
            "snippet",
        ] {
            assert!(hit.get(key).is_some(), "{key} in {hit}");
        }
        chrono::DateTime::parse_from_rfc3339(hit["published"].as_str().unwrap()).unwrap();
    }
    let ndjson = String::from_utf8(ws.run_ok(&["search", q, "--format", "ndjson"]).stdout).unwrap();
    let lines: Vec<serde_json::Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let without_score = |v: &serde_json::Value| {
        let mut v = v.clone();
        v.as_object_mut().unwrap().remove("score");
        v
    };
    // Scores move with the clock between the two runs; everything else is the same.
    assert_eq!(
        lines.iter().map(without_score).collect::<Vec<_>>(),
        list.iter().map(without_score).collect::<Vec<_>>()
    );

    let csv = String::from_utf8(ws.run_ok(&["search", q, "--format", "csv"]).stdout).unwrap();
    let records = parse_csv(&csv);
    assert_eq!(
        records[0],
        [
            "id",
            "score",
            "published",
            "feed",
            "title",
            "url",
            "snippet"
        ]
    );
    assert_eq!(records.len(), 4);
    assert!(records[1..].iter().all(|r| r.len() == 7), "{records:?}");
    let cafe = records[1..]
        .iter()
        .find(|r| r[0] == ids.cafe.to_string())
        .expect("cafe row");
    assert_eq!(cafe[4], "Café culture in Zürich, \"slow\" coffee");

    let table = String::from_utf8(ws.run_ok(&["search", q]).stdout).unwrap();
    assert!(table.contains("Lavrov visits Pyongyang"), "{table}");
    assert!(table.trim_end().ends_with("3 results"), "{table}");
}

#[test]
fn a_bad_query_is_a_clear_error_with_its_position() {
    let (ws, _) = setup();
    let fail = |q: &str| {
        let out = ws.command(&["search", q]).output().unwrap();
        assert!(!out.status.success(), "{q} should fail");
        String::from_utf8(out.stderr).unwrap()
    };
    let err = fail("korea AND (russia");
    assert!(
        err.contains("at 17: expected ')', found end of query"),
        "{err}"
    );
    assert!(err.contains("korea AND (russia\n"), "{err}");
    assert!(!err.to_lowercase().contains("fts5"), "{err}");
    let err = fail("\"north korea");
    assert!(err.contains("closing '\"'"), "{err}");
    let err = fail("NOT korea");
    assert!(err.contains("NOT needs a positive term"), "{err}");
    let err = fail("a OR author:x");
    assert!(
        err.contains("author: is not in the full-text index"),
        "{err}"
    );
    let err = fail("@nope");
    assert!(err.contains("a defined alias"), "{err}");
    let out = ws
        .command(&["search", "x", "--topic", "nope"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no topic named `nope`"));
    // FTS5 syntax in the input is just words, never passed through.
    for q in [
        "title : x",
        "x\" OR \"y",
        "{title}",
        "NEAR(a b)",
        "a + b",
        "^x",
    ] {
        let out = ws.command(&["search", q]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("fts5") && !stderr.contains("malformed MATCH"),
            "{q}: {stderr}"
        );
    }
}
