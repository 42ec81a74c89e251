//! `tidings db migrate-to postgres://…` copies an SQLite archive into PostgreSQL, and the CLI
//! then answers the same on both: searches (the query language compiled to FTS5 on one and
//! to tsquery on the other), `status`, matches. Needs PostgreSQL (`TIDINGS_TEST_POSTGRES`).

mod common;

use common::Workspace;
use common::archive::{DAY, Ids, KOREA_FEED, TOPICS_TOML, build};
use common::pg::TestDatabase;

/// The ids `tidings search ARGS` returns, in order.
fn found(ws: &Workspace, args: &[&str]) -> Vec<i64> {
    let mut all = vec!["search"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "ndjson", "--limit", "100"]);
    String::from_utf8(ws.run_ok(&all).stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect()
}

/// The same archive on SQLite and, copied by `db migrate-to`, on PostgreSQL.
fn setup() -> (Workspace, Workspace, TestDatabase, Ids) {
    let sqlite = Workspace::new();
    sqlite.write_config(TOPICS_TOML, &[]);
    let ids = build(&sqlite, chrono::Utc::now().timestamp());
    let harvest = ids.harvest.to_string();
    sqlite.run_ok(&[
        "items",
        "mark",
        &harvest,
        "--topic",
        "nk-russia",
        "relevant",
    ]);
    let db = TestDatabase::create();
    let out = sqlite.run_ok(&["db", "migrate-to", &db.url]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("items: 7 rows"), "{text}");
    assert!(text.contains("matches: 2 rows"), "{text}");
    assert!(text.contains("topic_feedback: 1 rows"), "{text}");
    let postgres = Workspace::new();
    std::fs::write(
        postgres.config_path(),
        format!("database = \"{}\"\n{TOPICS_TOML}", db.url),
    )
    .unwrap();
    (sqlite, postgres, db, ids)
}

#[test]
fn the_cli_answers_alike_on_the_copy() {
    let (sqlite, postgres, _db, item) = setup();
    let labels = |ws: &Workspace| ws.run_ok(&["topics", "labels", "nk-russia"]).stdout;
    let copied = String::from_utf8(labels(&postgres)).unwrap();
    assert!(
        copied.contains(&format!("tidings-{}", item.harvest)),
        "{copied}"
    );
    assert_eq!(labels(&sqlite), copied.into_bytes());
    let queries: &[&[&str]] = &[
        &["Vladivostok"],
        &["pyongyang"],
        &["ministry"],
        &["vladivo*"],
        &["\"foreign minister\""],
        &["\"minister foreign\""],
        &["Kim Jong-un"],
        &["\"kim jong un\""],
        &["Północna"],
        &["północnej"],
        &["Zürich café"],
        &["\"Triều Tiên\""],
        &["@dprk"],
        &["@dprk NOT lavrov"],
        &["title:pyongyang"],
        &["NEAR/3(foreign, arrived)"],
        &["korea author:petrov"],
        &["feed:moscow"],
        &["", "--since", "7d"],
        &["", "--topic", "nk-russia"],
        &["korea", "--feed", KOREA_FEED],
        &["nothingmatchesthis"],
    ];
    for query in queries {
        let mut on_sqlite = found(&sqlite, query);
        let mut on_postgres = found(&postgres, query);
        // Ranking differs in its numbers (bm25 against ts_rank), not in what is found.
        on_sqlite.sort();
        on_postgres.sort();
        assert_eq!(on_sqlite, on_postgres, "search {query:?}");
    }
    assert_eq!(found(&postgres, &["Vladivostok"]), vec![item.summit]);
    // A title match ranks above a passing mention on both.
    assert_eq!(
        found(&postgres, &["Kim Jong Un"]),
        vec![item.summit, item.roundup]
    );
    assert_eq!(
        found(&sqlite, &["Kim Jong Un"]),
        vec![item.summit, item.roundup]
    );

    let status = |ws: &Workspace| {
        let mut status = ws.status();
        for feed in status["feeds"].as_array_mut().unwrap() {
            feed.as_object_mut().unwrap().remove("next_poll_at");
        }
        status
    };
    assert_eq!(status(&sqlite), status(&postgres));
    let old = found(
        &postgres,
        &[
            "",
            "--until",
            &format!("{}", chrono::Utc::now().timestamp() - 300 * DAY),
        ],
    );
    assert_eq!(old, vec![item.old]);
}

#[test]
fn the_copy_takes_new_rows_after_the_copied_ids_and_refuses_a_second_copy() {
    let (sqlite, postgres, db, _ids) = setup();
    // A feed from the config: synced in by any command.
    std::fs::write(
        postgres.config_path(),
        format!(
            "database = \"{}\"\n{TOPICS_TOML}\n[[feed]]\nurl = \"http://127.0.0.1:9/third.xml\"\n",
            db.url
        ),
    )
    .unwrap();
    postgres.run_ok(&["status"]);
    let rows = common::pg::query(&db.url, "SELECT id::text FROM feeds ORDER BY id");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2][0].as_deref(), Some("3"), "{rows:?}");
    let again = sqlite
        .command(&["db", "migrate-to", &db.url])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("empty database only"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

/// An item whose article text arrived after it was matched (SQLite's match state 3) still
/// waits to be matched on that text after the copy (PostgreSQL's state 1 with article text).
#[test]
fn an_item_waiting_for_its_article_match_still_waits_after_the_copy() {
    let sqlite = Workspace::new();
    sqlite.write_config(TOPICS_TOML, &[]);
    let ids = build(&sqlite, chrono::Utc::now().timestamp());
    let db = TestDatabase::create();
    {
        let store = tidings::store::Store::open(&sqlite.db()).unwrap();
        store
            .record_article(
                ids.summit,
                &tidings::store::ArticleRecord {
                    status: "ok".into(),
                    text: Some("The summit's article text.".into()),
                    ..Default::default()
                },
                chrono::Utc::now().timestamp(),
            )
            .unwrap();
        let waiting: Vec<i64> = store
            .pending_matches(10)
            .unwrap()
            .iter()
            .map(|m| m.item_id)
            .collect();
        assert_eq!(waiting, vec![ids.summit]);
        // Copied through the store: the CLI command would run the matching stage first.
        store.migrate_to_postgres(&db.url).unwrap();
    }
    let copy = tidings::store::Store::open_location(
        &tidings::config::DatabaseLocation::Postgres(db.url.clone()),
        Default::default(),
    )
    .unwrap();
    let waiting: Vec<(i64, i64)> = copy
        .pending_matches(10)
        .unwrap()
        .iter()
        .map(|m| (m.item_id, m.target_state))
        .collect();
    assert_eq!(waiting, vec![(ids.summit, 2)]);
}
