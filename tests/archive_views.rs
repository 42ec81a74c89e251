//! The README's "Query the archive with sqlite3" section is true: its five ```sql queries,
//! read from the README itself, run on a fixture archive and return the rows expected here;
//! with Debian's sqlite3 (3.40) installed, they give the same rows through it too.

mod common;

use common::Workspace;
use common::archive::{TOPICS_TOML, build};

/// 2026-11-20 12:00:00 UTC: the fixture's "now", so the README's dates are fixed.
const BASE: i64 = 1_795_176_000;

/// The ```sql blocks of the README section `heading`, in order.
fn readme_queries(heading: &str) -> Vec<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("README has no section `{heading}`"));
    let rest = &readme[start + 4..];
    let section = match rest.find("\n## ") {
        Some(end) => &rest[..end],
        None => rest,
    };
    let mut queries = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "```sql" {
            let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            queries.push(body.join("\n"));
        }
    }
    queries
}

fn text(v: rusqlite::types::ValueRef) -> String {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Blob(b) => format!("<{} bytes>", b.len()),
    }
}

fn run(conn: &rusqlite::Connection, sql: &str) -> Vec<Vec<String>> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        Ok((0..n).map(|i| text(r.get_ref(i).unwrap())).collect())
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// The same query through the system sqlite3 CLI (list mode with unit/record separators);
/// numbers are shown as `text` shows them (sqlite3 prints a real 6 as `6.0`).
fn run_cli(db: &std::path::Path, sql: &str) -> Option<Vec<Vec<String>>> {
    let out = std::process::Command::new("sqlite3")
        .args(["-readonly", "-batch", "-noheader", "-nullvalue", "NULL"])
        .args(["-separator", "\u{1f}", "-newline", "\u{1e}"])
        .arg(db)
        .arg(sql)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "sqlite3 CLI failed on {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    Some(
        stdout
            .split('\u{1e}')
            .filter(|r| !r.is_empty())
            .map(|r| {
                r.split('\u{1f}')
                    .map(|v| match v.parse::<f64>() {
                        Ok(f) => f.to_string(),
                        Err(_) => v.to_string(),
                    })
                    .collect()
            })
            .collect(),
    )
}

fn rows(list: &[&[&str]]) -> Vec<Vec<String>> {
    list.iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect()
}

#[test]
fn readme_sql_examples_return_the_documented_rows() {
    let queries = readme_queries("Query the archive with sqlite3");
    assert_eq!(queries.len(), 5, "the README section has five queries");
    let ws = Workspace::new();
    ws.write_config(TOPICS_TOML, &[]);
    build(&ws, BASE);
    let conn = ws.sql();

    let expected = [
        rows(&[&["Korea Wire", "5"], &["Moscow Daily", "2"]]),
        rows(&[
            &[
                "2026-11-20 11:50:00",
                "6",
                "Lavrov visits Pyongyang",
                "https://news.example/lavrov",
            ],
            &[
                "2026-11-20 11:50:00",
                "4",
                "Kim Jong-un meets Putin in Vladivostok",
                "https://news.example/summit",
            ],
        ]),
        rows(&[
            &[
                "2026-11-18 12:00:00",
                "Lavrov visits Pyongyang",
                "Moscow Daily",
            ],
            &["2026-10-11 12:00:00", "Grain harvest report", "Korea Wire"],
        ]),
        rows(&[&[
            "Moscow Daily",
            "active",
            "error",
            "3",
            "HTTP 500 Internal Server Error",
        ]]),
        rows(&[
            &["2026-11-15", "1", "0"],
            &["2026-11-18", "1", "0"],
            &["2026-11-19", "1", "0"],
            &["2026-11-20", "1", "0"],
        ]),
    ];
    for (sql, want) in queries.iter().zip(&expected) {
        assert_eq!(&run(&conn, sql), want, "{sql}");
    }
    drop(conn);

    // Debian's sqlite3 (3.40) reads the same file and views.
    let have_cli = std::process::Command::new("sqlite3")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if have_cli {
        for (sql, want) in queries.iter().zip(&expected) {
            let got = run_cli(&ws.db(), sql).expect("sqlite3 runs");
            assert_eq!(&got, want, "sqlite3 CLI: {sql}");
        }
    } else {
        eprintln!("sqlite3 CLI not installed; checked with the bundled SQLite only");
    }
}

#[test]
fn views_have_the_documented_columns() {
    let ws = Workspace::new();
    ws.write_config(TOPICS_TOML, &[]);
    build(&ws, BASE);
    let conn = ws.sql();
    let columns = |view: &str| -> Vec<String> {
        let stmt = conn.prepare(&format!("SELECT * FROM {view}")).unwrap();
        stmt.column_names().iter().map(|s| s.to_string()).collect()
    };
    assert_eq!(
        columns("v_items"),
        [
            "id",
            "feed_id",
            "feed_title",
            "feed_url",
            "title",
            "url",
            "author",
            "published",
            "first_seen",
            "summary",
            "article_text",
            "article_status"
        ]
    );
    assert_eq!(
        columns("v_matches"),
        [
            "match_id",
            "topic",
            "score",
            "terms",
            "matched_at",
            "item_id",
            "feed_title",
            "feed_url",
            "title",
            "url",
            "author",
            "published"
        ]
    );
    assert_eq!(
        columns("v_feed_health"),
        [
            "feed_id",
            "feed",
            "url",
            "state",
            "last_poll",
            "last_result",
            "last_status",
            "consecutive_errors",
            "last_error",
            "items",
            "last_item_at"
        ]
    );
    let health = run(
        &conn,
        "SELECT feed, items, last_item_at, last_poll FROM v_feed_health ORDER BY feed_id",
    );
    assert_eq!(
        health,
        rows(&[
            &[
                "Korea Wire",
                "5",
                "2026-11-20 11:00:00",
                "2026-11-20 11:00:00"
            ],
            &[
                "Moscow Daily",
                "2",
                "2026-11-18 12:00:00",
                "2026-11-20 11:50:00"
            ],
        ])
    );
    let article = run(
        &conn,
        "SELECT article_status, substr(article_text, 1, 12) FROM v_items WHERE title = 'Grain harvest report'",
    );
    assert_eq!(article, rows(&[&["ok", "The ministry"]]));
}
