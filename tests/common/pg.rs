//! A fresh PostgreSQL database per test, on the server `.ci/postgres.sh` starts (its URL in
//! `TIDINGS_TEST_POSTGRES`, which `.ci/test.sh` exports). Without that variable the tests
//! that need PostgreSQL fail, naming the script; they never skip.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The admin URL of the test server.
pub fn server_url() -> String {
    match std::env::var("TIDINGS_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "TIDINGS_TEST_POSTGRES is not set: these tests need PostgreSQL. Run `bash .ci/test.sh`, \
             or start one with `export TIDINGS_TEST_POSTGRES=$(bash .ci/postgres.sh)`"
        ),
    }
}

/// A new empty database, dropped (with its connections) when this is dropped.
pub struct TestDatabase {
    pub url: String,
    name: String,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TestDatabase {
    pub fn create() -> TestDatabase {
        let name = format!(
            "tidings_test_{}_{}_{:06x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            fastrand::u32(..0x100_0000)
        );
        admin(&format!("CREATE DATABASE {name}"));
        let mut url = url::Url::parse(&server_url()).expect("TIDINGS_TEST_POSTGRES is a URL");
        url.set_path(&format!("/{name}"));
        TestDatabase {
            url: url.to_string(),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        admin(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

/// Runs one statement on the server's admin database (on a thread of its own, so it works
/// from async tests too).
pub fn admin(sql: &str) {
    query(&server_url(), sql);
}

/// Rows of one query (or several statements) on database `url`, each column as the server's
/// text form, on a thread of its own so it works from async tests too.
pub fn query(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    let url = url.to_string();
    let sql = sql.to_string();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("connect to {url}: {}", server_message(&e)));
            let task = tokio::spawn(conn);
            let messages = client
                .simple_query(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            let rows = messages
                .iter()
                .filter_map(|message| match message {
                    tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                        (0..row.len())
                            .map(|i| row.get(i).map(str::to_string))
                            .collect(),
                    ),
                    _ => None,
                })
                .collect();
            drop(client);
            let _ = task.await;
            rows
        })
    })
    .join()
    .unwrap()
}

/// The server's own message when there is one ("FATAL: the database system is not yet
/// accepting connections"), rather than tokio-postgres's bare "db error".
fn server_message(e: &tokio_postgres::Error) -> String {
    e.as_db_error().map_or_else(
        || e.to_string(),
        |db| format!("{}: {}", db.severity(), db.message()),
    )
}
