//! The config file: TOML → raw structs (unknown keys are errors) → a validated `Config`.
//! Every error names the file, the key and what is wrong.
//!
//! This file owns the public config types, loading (`impl Config`) and the small public
//! helpers; `raw` holds the TOML shape as read and `validate` the `Validator`.

mod raw;
mod secret;
mod validate;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::model::FeedSettings;
use crate::scheduler::Schedule;

use raw::RawConfig;
pub use secret::Secret;
use validate::Validator;

/// The example config, embedded so the binary runs with no config file at all.
pub const EXAMPLE_CONFIG: &str = include_str!("../../config/tidings.example.toml");

/// Trained topic models shipped in the binary, named in a config as `model = "builtin:NAME"`.
/// Each is rebuilt by the command in its file's first lines.
pub const BUILTIN_MODELS: &[(&str, &str)] = &[(
    "nk-russia",
    include_str!("../../config/models/nk-russia.model"),
)];

/// A config that failed to load or validate.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config {path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config {path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("config {path}: key `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
}

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    Sqlite(PathBuf),
    /// A `postgres://` or `postgresql://` URL (libpq form, as tokio-postgres reads it).
    Postgres(String),
}

/// Limits and manners of the HTTP client.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub user_agent: String,
    pub concurrency: usize,
    pub per_host: usize,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub read_timeout: Duration,
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    /// What content-chosen URLs may reach besides the public internet.
    pub policy: crate::fetch::policy::AddressPolicy,
}

/// When feeds are polled.
#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    pub default: Schedule,
    /// The time zone schedules are read in unless they name their own (`TZ=...`).
    pub timezone: String,
    /// Longest a server hint (`<ttl>`, max-age, Expires, Retry-After) may delay a poll.
    pub max_hint: Duration,
    pub error_backoff_base: Duration,
    pub error_backoff_max: Duration,
}

/// One feed listed in the config.
#[derive(Debug, Clone)]
pub struct FeedConfig {
    pub url: url::Url,
    /// Its settings; a header value is kept as written (`env:NAME` and `file:PATH` are read
    /// when the feed is fetched, so the database never holds the secret itself).
    pub settings: FeedSettings,
    /// The header values that are `env:` or `file:` references.
    pub header_secrets: Vec<Secret>,
}

/// A validated config.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from; `None` for the embedded example.
    pub path: Option<PathBuf>,
    pub database: DatabaseLocation,
    pub fetch: FetchConfig,
    pub schedule: ScheduleConfig,
    pub feeds: Vec<FeedConfig>,
    pub shutdown_grace: Duration,
    /// How long a worker's claim on a due feed, a pending page or a due delivery lasts on
    /// PostgreSQL before another worker may take it over (a killed worker's claims return
    /// to the pool after it). Unused on SQLite.
    pub claim_lease: Duration,
    pub extract: ExtractConfig,
    pub topics: TopicsConfig,
    pub delivery: DeliveryConfig,
    pub webhooks: Vec<WebhookConfig>,
    pub smtp: Option<SmtpConfig>,
    pub digests: Vec<DigestConfig>,
    pub retention: RetentionConfig,
    /// The HTTP API; `None` unless `[api]` is configured.
    pub api: Option<ApiConfig>,
}

/// When matches are delivered.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Nothing published longer ago than this is delivered.
    pub max_age: Duration,
    /// How long a webhook delivery waits for copies of the same story from other feeds.
    pub story_window: Duration,
    /// Waits between attempts; after the last one a delivery is dead.
    pub retry_schedule: Vec<Duration>,
}

/// How a webhook sends matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookMode {
    /// One POST per story.
    PerMatch,
    /// One POST with every story due at once.
    Batch,
}

/// One `[[webhook]]`.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub name: String,
    pub url: url::Url,
    /// Signing secrets, primary first (a second one while rotating); read when signing.
    pub secrets: Vec<Secret>,
    pub topics: Vec<String>,
    pub mode: WebhookMode,
    pub timeout: Duration,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// TLS from the first byte (port 465).
    Implicit,
    /// Plain, then STARTTLS (port 587).
    StartTls,
    /// No TLS: only for a relay on this machine.
    None,
}

/// `[smtp]`.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub user: Option<String>,
    /// Read when a digest is sent.
    pub password: Option<Secret>,
    pub from: String,
    pub timeout: Duration,
}

/// One `[[digest]]`.
#[derive(Debug, Clone)]
pub struct DigestConfig {
    pub name: String,
    pub schedule: Schedule,
    pub topics: Vec<String>,
    pub to: Vec<String>,
    pub subject: String,
    pub max_items: usize,
    pub skip_empty: bool,
    pub timezone: chrono_tz::Tz,
}

/// How long the archive keeps items (`[retention]`).
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionConfig {
    /// Items published longer ago than this are pruned; `None` keeps them forever.
    pub keep_items: Option<Duration>,
    /// Items matched by a topic are kept regardless of age.
    pub keep_matched: bool,
}

/// The optional HTTP API (`[api]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiConfig {
    pub listen: std::net::SocketAddr,
    /// Bearer token required on `/api/`; read from `env:NAME` or `file:PATH` when the API
    /// starts, never inline.
    pub token: Option<Secret>,
}

impl ApiConfig {
    /// The bearer token, read now (surrounding whitespace removed); `None` when none is set.
    pub fn resolve_token(&self) -> Result<Option<String>, ConfigError> {
        self.token
            .as_ref()
            .map(|t| t.resolve().map(|v| v.trim().to_string()))
            .transpose()
    }
}

/// Article extraction: how pages are fetched and bounded.
#[derive(Debug, Clone)]
pub struct ExtractConfig {
    /// Pages fetched at once, across all hosts.
    pub concurrency: usize,
    /// Pages fetched at once from one host.
    pub per_host: usize,
    /// Cap on a page body, in bytes (after decompression).
    pub max_page_bytes: u64,
    /// Time bound for extracting one page (CPU), separate from the fetch timeout.
    pub time_limit: Duration,
    /// Attempts for transient failures (timeouts, 5xx, network) before giving up.
    pub max_attempts: u32,
    pub retry_base: Duration,
}

/// The topics and the alias sets they share, parsed and validated.
#[derive(Debug, Clone)]
pub struct TopicsConfig {
    pub defs: Vec<TopicConfig>,
    pub aliases: Vec<(String, String)>,
    pub parsed_aliases: crate::matcher::Aliases,
    /// The topics as they decide now (with their learned layers once trained); change them
    /// with [`TopicsConfig::set_compiled`], which keeps the prefilter in step.
    pub compiled: Vec<crate::matcher::Topic>,
    /// Which of `compiled` can match an item (one automaton over all their terms).
    pub prefilter: std::sync::Arc<crate::matcher::Prefilter>,
    /// How far back a changed topic re-evaluates stored items.
    pub backfill_window: Duration,
}

/// One `[[topic]]`.
#[derive(Debug, Clone)]
pub struct TopicConfig {
    pub name: String,
    pub title: String,
    pub query: String,
    pub min_score: f64,
    /// The learned layer the config asks for (`candidates`, `labels`, `model`, `threshold`).
    pub learned: Option<LearnedSpec>,
}

/// A topic's learned layer as configured: untrained (its model is its prior), and the
/// labelled examples of its label files.
#[derive(Debug, Clone)]
pub struct LearnedSpec {
    pub layer: crate::matcher::LearnedLayer,
    pub label_files: Vec<PathBuf>,
    pub examples: std::sync::Arc<Vec<crate::matcher::LabelledExample>>,
    /// The `model` key as written.
    pub model: Option<String>,
}

impl TopicsConfig {
    /// Puts `compiled` in force and rebuilds the prefilter for them.
    pub fn set_compiled(&mut self, compiled: Vec<crate::matcher::Topic>) {
        let refs: Vec<&crate::matcher::Topic> = compiled.iter().collect();
        self.prefilter = std::sync::Arc::new(crate::matcher::Prefilter::new(&refs));
        self.compiled = compiled;
    }

    /// Every topic trained on its label files and on `feedback(topic)` (the reader's labels),
    /// then put in force. A topic gets a learned layer when its config asks for one or when
    /// it has feedback; a topic with neither decides by its query alone, as before.
    /// Returns, per topic with a learned layer, its name and the labels it learned from.
    pub fn train(
        &mut self,
        mut feedback: impl FnMut(&str) -> Vec<crate::matcher::LabelledExample>,
    ) -> Vec<(String, usize)> {
        let mut trained = Vec::new();
        let mut compiled = Vec::with_capacity(self.defs.len());
        for (def, topic) in self.defs.iter().zip(&self.compiled) {
            let reader = feedback(&def.name);
            let layer = match &def.learned {
                Some(spec) => spec.layer.clone(),
                None if !reader.is_empty() => crate::matcher::LearnedLayer::new(
                    &topic.query,
                    topic.min_score,
                    crate::matcher::learned::default_candidates(&topic.query),
                    &self.parsed_aliases,
                    None,
                    None,
                ),
                None => {
                    compiled.push(topic.query_alone());
                    continue;
                }
            };
            let files = def
                .learned
                .as_ref()
                .map(|s| s.examples.as_slice())
                .unwrap_or(&[]);
            // The reader's word wins over a label file's for the same item.
            let overridden: std::collections::HashSet<u64> =
                reader.iter().map(|e| e.fingerprint()).collect();
            let examples: Vec<&crate::matcher::LabelledExample> = files
                .iter()
                .filter(|e| !overridden.contains(&e.fingerprint()))
                .chain(&reader)
                .collect();
            let layer = layer.trained(&examples);
            trained.push((def.name.clone(), examples.len()));
            compiled.push(topic.query_alone().with_learned(layer));
        }
        self.set_compiled(compiled);
        trained
    }

    /// A fingerprint of a topic's definition (query, threshold, every alias, and the learned
    /// layer's candidates, threshold, band and trained weights), so a change is noticed at start or
    /// reload.
    pub fn fingerprint(&self, name: &str) -> Option<String> {
        let def = self.defs.iter().find(|d| d.name == name)?;
        let mut text = format!("{}\u{0}{}\u{0}", def.query, def.min_score);
        for (alias, expr) in &self.aliases {
            text.push_str(&format!("{alias}={expr}\u{0}"));
        }
        let topic = self.compiled.iter().find(|t| t.name == name)?;
        if let Some(layer) = &topic.learned {
            text.push_str(&format!(
                "learned\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{:016x}",
                layer.candidates,
                layer
                    .fixed_threshold
                    .unwrap_or(crate::matcher::learned::DEFAULT_THRESHOLD),
                layer.band.keep,
                layer.band.add,
                layer.model.fingerprint()
            ));
        }
        Some(format!(
            "{:016x}",
            xxhash_rust::xxh3::xxh3_64(text.as_bytes())
        ))
    }

    pub fn title_of(&self, name: &str) -> String {
        self.defs
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.title.clone())
            .unwrap_or_else(|| name.to_string())
    }
}

impl Config {
    /// Every secret the config names (webhook signing secrets, the SMTP password, the API
    /// token), in config order.
    pub fn secrets(&self) -> Vec<&Secret> {
        let webhooks = self.webhooks.iter().flat_map(|w| &w.secrets);
        let smtp = self.smtp.iter().filter_map(|s| s.password.as_ref());
        let api = self.api.iter().filter_map(|a| a.token.as_ref());
        let headers = self.feeds.iter().flat_map(|f| &f.header_secrets);
        webhooks.chain(smtp).chain(api).chain(headers).collect()
    }

    /// Reads every secret once: what `check-config`, `run` and a reload do, so a missing one
    /// stops them at start with an error naming its key. Other commands read a secret only
    /// where they use it.
    pub fn check_secrets(&self) -> Result<(), ConfigError> {
        for secret in self.secrets() {
            secret.resolve()?;
        }
        Ok(())
    }

    /// Loads the file at `path`, or the embedded example when `path` is `None`.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                Config::from_toml(&text, Some(path))
            }
            None => Config::from_toml(EXAMPLE_CONFIG, None),
        }
    }

    /// Parses and validates config text; `path` only names the source in errors.
    pub fn from_toml(text: &str, path: Option<&Path>) -> Result<Config, ConfigError> {
        let shown = path
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("<embedded example config>"));
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: shown.clone(),
            message: e.to_string().trim_end().to_string(),
        })?;
        Validator { path: shown }.validate(raw, path.map(Path::to_path_buf))
    }
}

/// The database file used when the config names none: `$STATE_DIRECTORY` under systemd, else
/// the working directory.
pub fn default_database_path() -> PathBuf {
    match std::env::var_os("STATE_DIRECTORY") {
        // systemd may pass several colon-separated directories; the first is ours.
        Some(dirs) => {
            let first = dirs
                .to_string_lossy()
                .split(':')
                .next()
                .unwrap_or("")
                .to_string();
            PathBuf::from(first).join("tidings.db")
        }
        None => PathBuf::from("tidings.db"),
    }
}

/// Checks that a feed URL is absolute http(s).
pub fn parse_feed_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| format!("`{text}` is not a URL: {e}"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!("`{text}`: scheme `{other}` is not http or https")),
    }
}

/// A secret in the config is never written inline: `env:NAME` reads an environment variable,
/// `file:PATH` a file; anything else is taken literally (fine for non-secret header values).
pub fn resolve_secret(value: &str) -> Result<String, String> {
    if let Some(name) = value.strip_prefix("env:") {
        std::env::var(name).map_err(|_| format!("environment variable {name} is not set"))
    } else if let Some(path) = value.strip_prefix("file:") {
        std::fs::read_to_string(path)
            .map(|s| s.trim_end().to_string())
            .map_err(|e| format!("cannot read {path}: {e}"))
    } else {
        Ok(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_example_is_valid() {
        let config = Config::load(None).unwrap();
        assert!(!config.feeds.is_empty());
        assert_eq!(config.fetch.per_host, 2);
    }
}
