//! A topic learns from its reader, end to end through the binary: a real feed on 127.0.0.1;
//! `tidings poll` matches with the query alone; the reader marks matches (`matches mark`) and
//! misses found by search (`items mark`); the next start trains the topic's learned layer on
//! those labels and the next poll decides with it (the model's verdict is stored with each
//! match and shown by `topics test --explain`); `topics labels` exports the labels and
//! `topics eval` scores the topic on them, held out. A topic with no labels and no learned
//! layer decides by its query alone, as before.

mod common;

use common::{FeedServer, Route, Workspace};

fn rss(items: &[(String, String, String)]) -> Vec<u8> {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>World desk</title><link>https://example.org/</link>",
    );
    for (guid, title, summary) in items {
        s.push_str(&format!(
            "<item><guid>{guid}</guid><title>{title}</title><link>https://example.org/{guid}</link><description>{summary}</description></item>"
        ));
    }
    s.push_str("</channel></rss>");
    s.into_bytes()
}

/// Generation `g` of the feed: deals (relevant), quizzes (not: the query takes them), and
/// delegation visits whose headline names Moscow only (relevant: the query misses them).
fn generation(g: usize, per_kind: usize) -> Vec<(String, String, String)> {
    let places = [
        "Rason",
        "Wonsan",
        "Khasan",
        "Tumen",
        "Vladivostok",
        "Nakhodka",
        "Chongjin",
        "Hamhung",
        "Sinuiju",
        "Kaesong",
        "Haeju",
        "Nampo",
    ];
    let mut items = Vec::new();
    for i in 0..per_kind {
        let place = places[(g * per_kind + i) % places.len()];
        items.push((
            format!("deal-{g}-{i}"),
            format!("North Korea and Russia sign {place} port deal"),
            format!("Officials in {place} signed the agreement on shipping."),
        ));
        items.push((
            format!("quiz-{g}-{i}"),
            format!("Quiz of the week: North Korea, Russia, {place} and pop music"),
            "Test your knowledge of the week's news.".to_string(),
        ));
        items.push((
            format!("visit-{g}-{i}"),
            format!("Delegation from {place} arrives in Moscow"),
            "The North Korea delegation will discuss railway links.".to_string(),
        ));
    }
    items
}

const TOPIC: &str = r#"
[aliases]
nk = '''"north korea" OR pyongyang'''
ru = '''russia OR moscow'''

[[topic]]
name = "nkru"
title = "North Korea–Russia"
query = '''title:(@nk @ru)'''
min_score = 1.0
candidates = '''@nk @ru'''

[[topic]]
name = "plain"
query = '''title:pyongyang OR title:quiz'''
"#;

fn matches(ws: &Workspace, topic: &str) -> Vec<serde_json::Value> {
    let out = ws.run_ok(&[
        "matches", "list", "--topic", topic, "--json", "--limit", "1000",
    ]);
    serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).unwrap()
}

fn item_id(ws: &Workspace, guid: &str) -> i64 {
    ws.sql()
        .query_row("SELECT id FROM items WHERE guid = ?1", [guid], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{guid}: {e}"))
}

fn kind(m: &serde_json::Value) -> String {
    let title = m["title"].as_str().unwrap_or_default();
    if title.starts_with("Quiz") {
        "quiz".into()
    } else if title.starts_with("Delegation") {
        "visit".into()
    } else {
        "deal".into()
    }
}

#[test]
fn the_reader_teaches_a_topic_what_its_query_gets_wrong() {
    let server = FeedServer::start();
    let feed = "/world.xml";
    server.set(feed, Route::feed(rss(&generation(0, 12))));
    let ws = Workspace::new();
    ws.write_config(TOPIC, &[server.url(feed)]);

    // First poll: no labels yet, the query decides (deals and quizzes; no visits).
    ws.run_ok(&["poll"]);
    let first = matches(&ws, "nkru");
    let kinds: Vec<String> = first.iter().map(kind).collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "deal").count(),
        12,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "quiz").count(),
        12,
        "{kinds:?}"
    );
    assert!(!kinds.contains(&"visit".to_string()), "{kinds:?}");

    // The reader marks every match, and finds the visits by search.
    for m in &first {
        let id = m["id"].as_i64().unwrap().to_string();
        let verdict = if kind(m) == "quiz" {
            "irrelevant"
        } else {
            "relevant"
        };
        ws.run_ok(&["matches", "mark", &id, verdict]);
    }
    for i in 0..12 {
        let id = item_id(&ws, &format!("visit-0-{i}")).to_string();
        ws.run_ok(&["items", "mark", &id, "--topic", "nkru", "relevant"]);
    }

    // New items arrive; the next start trains on the 36 labels and decides with the model:
    // the new quizzes are left out, the new visits found. The topic changed (its model), so
    // the recent items are matched again too: the earlier visits are found as backfill.
    server.set(feed, Route::feed(rss(&generation(1, 3))));
    ws.run_ok(&["poll", "--all"]);
    let second: Vec<serde_json::Value> = matches(&ws, "nkru")
        .into_iter()
        .filter(|m| !first.iter().any(|f| f["id"] == m["id"]))
        .collect();
    let count = |k: &str| second.iter().filter(|m| kind(m) == k).count();
    assert_eq!(
        (count("deal"), count("quiz"), count("visit")),
        (3, 0, 15),
        "after the labels: no quizzes, the visits found"
    );
    // Each match carries the model's verdict.
    let terms = second[0]["terms"].as_array().unwrap();
    let model = terms
        .iter()
        .find(|t| t["term"] == "model")
        .expect("a model entry");
    assert!(model["probability"].as_f64().unwrap() >= 0.5, "{model}");
    assert!(!model["features"].as_array().unwrap().is_empty(), "{model}");

    // A topic without labels or a learned layer still decides by its query: quizzes too.
    let plain = matches(&ws, "plain");
    assert!(plain.iter().any(|m| kind(m) == "quiz"), "{plain:?}");

    // The explanation shows the model's probability and the features that weighed most.
    let out = ws.run_ok(&["topics", "test", "nkru", "--since", "3650d", "--explain"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("model: probability"), "{text}");
    assert!(text.contains("features that weighed most"), "{text}");

    // The labels, exported in the dev-set shape, score the topic held out.
    let out = ws.run_ok(&["topics", "labels", "nkru", "--format", "jsonl"]);
    let labels = ws.dir.path().join("labels.jsonl");
    std::fs::write(&labels, &out.stdout).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 36);
    let out = ws.run_ok(&[
        "topics",
        "eval",
        "nkru",
        labels.to_str().unwrap(),
        "--folds",
        "3",
        "--by",
        "date",
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let held = &report["held_out"][0];
    let f1 = |c: &serde_json::Value| {
        let n = |k: &str| c[k].as_f64().unwrap();
        let (tp, fp, fne) = (
            n("true_positives"),
            n("false_positives"),
            n("false_negatives"),
        );
        2.0 * tp / (2.0 * tp + fp + fne)
    };
    let (query, learned) = (f1(&held["query"]["all"]), f1(&held["learned"]["all"]));
    assert!(
        learned > query,
        "held out: model {learned} vs query {query}"
    );
}

#[test]
fn a_bad_label_file_is_named_with_its_line() {
    let ws = Workspace::new();
    let labels = ws.dir.path().join("mine.jsonl");
    std::fs::write(
        &labels,
        "{\"id\":\"a\",\"title\":\"x\",\"label\":1}\n{\"id\":\"b\",\"label\":7}\n",
    )
    .unwrap();
    ws.write_config(
        &format!(
            "[[topic]]\nname = \"t\"\nquery = \"x\"\nlabels = [\"{}\"]\n",
            labels.display()
        ),
        &[],
    );
    let out = ws.command(&["check-config"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("topic[0].labels[0]") && err.contains("line 2"),
        "{err}"
    );
    // A model that is not there is named too.
    ws.write_config(
        "[[topic]]\nname = \"t\"\nquery = \"x\"\nmodel = \"missing.model\"\n",
        &[],
    );
    let out = ws.command(&["check-config"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("topic[0].model") && err.contains("missing.model"),
        "{err}"
    );
    ws.write_config(
        "[[topic]]\nname = \"t\"\nquery = \"x\"\nthreshold = 1.5\n",
        &[],
    );
    let out = ws.command(&["check-config"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("topic[0].threshold"), "{err}");
}
