//! Shared test helpers: a real HTTP/1.1 feed server on 127.0.0.1, temp configs, and running
//! the `tidings` binary.

#![allow(dead_code, unused_imports)]

pub mod archive;
pub mod chromium;
pub mod pg;
pub mod receiver;
pub mod server;
pub mod smtp;
pub mod text;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use server::{Behaviour, FeedServer, Route};

/// The shared data folder (`../shared` beside the checkout).
pub fn shared_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    assert!(
        dir.is_dir(),
        "the shared data folder is missing at {}",
        dir.display()
    );
    dir
}

/// A temporary directory holding a config and a database.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("tidings.db")
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("tidings.toml")
    }

    /// Writes a config with `extra` appended after the database and fetch settings, and the
    /// given feed URLs.
    pub fn write_config(&self, extra: &str, feeds: &[String]) {
        let mut text = format!(
            "database = \"{}\"\nshutdown_grace = \"5s\"\n[fetch]\nconcurrency = 16\nper_host = 4\ntimeout = \"5s\"\nread_timeout = \"3s\"\nconnect_timeout = \"2s\"\n{extra}\n",
            self.db().display()
        );
        for url in feeds {
            text.push_str(&format!("[[feed]]\nurl = \"{url}\"\nextract = false\n"));
        }
        std::fs::write(self.config_path(), text).unwrap();
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tidings"));
        cmd.arg("--config").arg(self.config_path()).args(args);
        cmd.env("RUST_LOG", "warn");
        cmd
    }

    /// Runs `tidings ARGS` to completion; panics with its output if it failed.
    pub fn run_ok(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().unwrap();
        assert!(
            out.status.success(),
            "tidings {args:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// `tidings status --json`, parsed.
    pub fn status(&self) -> serde_json::Value {
        let out = self.run_ok(&["status", "--json"]);
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// A read-only connection to the database.
    pub fn sql(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(self.db(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap()
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.sql().query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

/// The feed in a `status --json` document whose URL or origin URL is `url`.
pub fn feed_status<'a>(status: &'a serde_json::Value, url: &str) -> &'a serde_json::Value {
    status["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["url"] == url || f["origin_url"] == url)
        .unwrap_or_else(|| panic!("no feed {url} in status"))
}
