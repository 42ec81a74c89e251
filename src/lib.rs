//! tidings: a feed aggregator daemon for people who watch a subject.
//!
//! Map of the modules, in pipeline order (see `DESIGN.md` in the shared folder):
//! - `cli` — clap commands and their table/JSON output; `main.rs` stays thin.
//! - `config` — TOML → validated `Config`; every error names file and key.
//! - `daemon` — wiring, the polling loop within global and per-host limits, signals, reload.
//! - `service` — systemd notifications and a watchdog that pings only while work progresses.
//! - `pipeline` — the one orchestrator: fetch → parse → schedule → store for one feed; its
//!   `articles` and `matching` stages extract pages and match topics (the database is the queue).
//! - `scheduler` — cron schedules, stable offsets, server hints, error backoff (pure).
//! - `fetch` — the HTTP client: conditional GET, caps, timeouts, redirects; `fetch::policy`
//!   keeps content-chosen URLs off private addresses.
//! - `parse` — feed bytes (any charset) → items with our own dedup key, an unreadable entry
//!   skipped rather than the feed (pure); `dates` reads feed dates.
//! - `discover` — finds a feed from a web page; `opml` — OPML import/export (pure).
//! - `extract` — article HTML → the story's text (pure, bounded in time and size).
//! - `matcher` — the topic query language, normalization, scoring, explanations (pure).
//! - `notify` — the outbox dispatcher: signed webhooks, email digests; stories (SimHash).
//! - `plaintext` — HTML fragments → plain text for the index, matching and excerpts.
//! - `store` — the only module that writes SQL: one interface over SQLite (`store::sqlite`, the
//!   default; one file per aggregate) and PostgreSQL (`store::postgres`, mirroring it, for many
//!   workers that claim work).
//! - `model` — plain domain types; no I/O.
//! - `query` — the read side: search compiled to FTS5 and to tsquery, time arguments, topic
//!   Atom feeds.
//! - `api` — the optional HTTP API (axum): JSON, Atom, `/healthz`, `/metrics`; it also serves
//!   `web` — the reading pages (server-rendered HTML): topics, stories, search, feed health,
//!   deliveries and the reader's feedback.

pub mod api;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod dates;
pub mod discover;
pub mod extract;
pub mod fetch;
pub mod matcher;
pub mod model;
pub mod notify;
pub mod opml;
pub mod parse;
pub mod pipeline;
pub mod plaintext;
pub mod query;
pub mod scheduler;
pub mod service;
pub mod store;
pub mod web;

/// A file of the shared data folder beside the checkout (`../shared`), for unit tests that
/// read the corpora; a missing file fails the test, naming it.
#[cfg(test)]
pub(crate) fn shared_file(relative: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(relative);
    assert!(
        path.exists(),
        "shared data file missing: {}",
        path.display()
    );
    path
}
