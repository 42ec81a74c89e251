//! The `Validator`: turns the raw TOML shape into a validated `Config`, naming the key in every error.

use std::path::PathBuf;
use std::time::Duration;

use super::raw::{RawApi, RawConfig, RawDigest, RawMatching, RawSmtp, RawTopic, RawWebhook};
use super::{
    ApiConfig, Config, ConfigError, DatabaseLocation, DeliveryConfig, DigestConfig, ExtractConfig,
    FeedConfig, FetchConfig, LearnedSpec, RetentionConfig, ScheduleConfig, Secret, SmtpConfig,
    SmtpTls, TopicConfig, TopicsConfig, WebhookConfig, WebhookMode, default_database_path,
    parse_feed_url,
};
use crate::model::FeedSettings;
use crate::scheduler::Schedule;

pub(super) struct Validator {
    pub(super) path: PathBuf,
}

impl Validator {
    fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.clone(),
            key: key.to_string(),
            message: message.into(),
        }
    }

    fn duration(
        &self,
        key: &str,
        value: Option<&str>,
        default: &str,
    ) -> Result<Duration, ConfigError> {
        let text = value.unwrap_or(default);
        humantime::parse_duration(text).map_err(|e| {
            self.invalid(
                key,
                format!("`{text}` is not a duration like \"30s\" or \"15m\": {e}"),
            )
        })
    }

    pub(super) fn validate(
        &self,
        raw: RawConfig,
        path: Option<PathBuf>,
    ) -> Result<Config, ConfigError> {
        let database = self.database(raw.database.as_deref())?;
        let contact = raw
            .contact
            .unwrap_or_else(|| "https://github.com/tidings-rs/tidings".into());
        let user_agent = raw
            .fetch
            .user_agent
            .clone()
            .unwrap_or_else(|| format!("tidings/{} (+{contact})", env!("CARGO_PKG_VERSION")));
        let positive =
            |key: &str, v: Option<usize>, default: usize| -> Result<usize, ConfigError> {
                match v.unwrap_or(default) {
                    0 => Err(self.invalid(key, "must be at least 1")),
                    n => Ok(n),
                }
            };
        let fetch = FetchConfig {
            user_agent,
            concurrency: positive("fetch.concurrency", raw.fetch.concurrency, 32)?,
            per_host: positive("fetch.per_host", raw.fetch.per_host, 2)?,
            connect_timeout: self.duration(
                "fetch.connect_timeout",
                raw.fetch.connect_timeout.as_deref(),
                "10s",
            )?,
            timeout: self.duration("fetch.timeout", raw.fetch.timeout.as_deref(), "60s")?,
            read_timeout: self.duration(
                "fetch.read_timeout",
                raw.fetch.read_timeout.as_deref(),
                "20s",
            )?,
            max_body_bytes: match raw.fetch.max_body_bytes.unwrap_or(15 * 1024 * 1024) {
                0 => return Err(self.invalid("fetch.max_body_bytes", "must be at least 1")),
                n => n,
            },
            max_redirects: raw.fetch.max_redirects.unwrap_or(5),
            policy: crate::fetch::policy::AddressPolicy {
                allow_hosts: raw
                    .fetch
                    .allow_hosts
                    .iter()
                    .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
                    .collect(),
                allow_cidrs: raw
                    .fetch
                    .allow_networks
                    .iter()
                    .enumerate()
                    .map(|(i, n)| {
                        crate::fetch::policy::AddressPolicy::parse_cidr(n)
                            .map_err(|m| self.invalid(&format!("fetch.allow_networks[{i}]"), m))
                    })
                    .collect::<Result<_, _>>()?,
            },
        };

        let timezone = raw.schedule.timezone.as_deref().unwrap_or("UTC");
        let default_expr = raw.schedule.default.as_deref().unwrap_or("*/30 * * * *");
        let default = Schedule::parse(default_expr, timezone)
            .map_err(|e| self.invalid("schedule.default", e.to_string()))?;
        let schedule = ScheduleConfig {
            default,
            timezone: timezone.to_string(),
            max_hint: self.duration(
                "schedule.max_hint",
                raw.schedule.max_hint.as_deref(),
                "24h",
            )?,
            error_backoff_base: self.duration(
                "schedule.error_backoff_base",
                raw.schedule.error_backoff_base.as_deref(),
                "5m",
            )?,
            error_backoff_max: self.duration(
                "schedule.error_backoff_max",
                raw.schedule.error_backoff_max.as_deref(),
                "12h",
            )?,
        };

        let mut feeds: Vec<FeedConfig> = Vec::with_capacity(raw.feed.len());
        for (i, feed) in raw.feed.into_iter().enumerate() {
            let key = |field: &str| format!("feed[{i}].{field}");
            let url = parse_feed_url(&feed.url).map_err(|m| self.invalid(&key("url"), m))?;
            if feeds.iter().any(|f| f.url == url) {
                return Err(self.invalid(&key("url"), format!("{url} is listed twice")));
            }
            if let Some(expr) = &feed.schedule {
                Schedule::parse(expr, timezone)
                    .map_err(|e| self.invalid(&key("schedule"), e.to_string()))?;
            }
            let mut headers = Vec::with_capacity(feed.headers.len());
            let mut header_secrets = Vec::new();
            for (name, value) in feed.headers {
                if value.starts_with("env:") || value.starts_with("file:") {
                    header_secrets.push(Secret::new(
                        self.path.clone(),
                        &key(&format!("headers.{name}")),
                        &value,
                    )?);
                }
                if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                    return Err(self.invalid(
                        &key("headers"),
                        format!("`{name}` is not a valid header name"),
                    ));
                }
                headers.push((name, value));
            }
            feeds.push(FeedConfig {
                url,
                settings: FeedSettings {
                    title: feed.title,
                    schedule: feed.schedule,
                    extract: feed.extract.unwrap_or(true),
                    headers,
                    tags: feed.tags,
                },
                header_secrets,
            });
        }

        let extract = ExtractConfig {
            concurrency: positive("extract.concurrency", raw.extract.concurrency, 8)?,
            per_host: positive("extract.per_host", raw.extract.per_host, 1)?,
            max_page_bytes: raw
                .extract
                .max_page_bytes
                .unwrap_or(15 * 1024 * 1024)
                .max(1),
            time_limit: self.duration(
                "extract.time_limit",
                raw.extract.time_limit.as_deref(),
                "10s",
            )?,
            max_attempts: raw.extract.max_attempts.unwrap_or(4).max(1),
            retry_base: self.duration(
                "extract.retry_base",
                raw.extract.retry_base.as_deref(),
                "10m",
            )?,
        };
        let topics = self.topics(
            raw.aliases,
            raw.topic,
            raw.matching,
            path.as_deref().and_then(std::path::Path::parent),
        )?;
        let delivery = DeliveryConfig {
            max_age: self.duration("delivery.max_age", raw.delivery.max_age.as_deref(), "2d")?,
            story_window: self.duration(
                "delivery.story_window",
                raw.delivery.story_window.as_deref(),
                "5m",
            )?,
            retry_schedule: match raw.delivery.retry_schedule {
                None => ["5s", "5m", "30m", "2h", "5h", "10h", "24h"]
                    .iter()
                    .map(|d| humantime::parse_duration(d).unwrap_or_default())
                    .collect(),
                Some(list) if list.is_empty() => {
                    return Err(self.invalid("delivery.retry_schedule", "needs at least one wait"));
                }
                Some(list) => list
                    .iter()
                    .enumerate()
                    .map(|(i, d)| {
                        self.duration(&format!("delivery.retry_schedule[{i}]"), Some(d), "")
                    })
                    .collect::<Result<_, _>>()?,
            },
        };
        let topic_names: Vec<String> = topics.defs.iter().map(|d| d.name.clone()).collect();
        let webhooks = self.webhooks(raw.webhook, &topic_names)?;
        let smtp = raw.smtp.map(|s| self.smtp(s)).transpose()?;
        let digests = self.digests(raw.digest, &topic_names, timezone)?;
        if !digests.is_empty() && smtp.is_none() {
            return Err(self.invalid("smtp", "digests are configured but [smtp] is missing"));
        }
        let retention = RetentionConfig {
            keep_items: match raw.retention.keep_items.as_deref() {
                None | Some("forever") => None,
                Some(text) => Some(self.duration("retention.keep_items", Some(text), "")?),
            },
            keep_matched: raw.retention.keep_matched.unwrap_or(true),
        };
        let api = raw.api.map(|a| self.api(a)).transpose()?;
        Ok(Config {
            delivery,
            webhooks,
            smtp,
            digests,
            retention,
            api,
            path,
            database,
            fetch,
            schedule,
            feeds,
            shutdown_grace: self.duration(
                "shutdown_grace",
                raw.shutdown_grace.as_deref(),
                "20s",
            )?,
            claim_lease: self.duration("claim_lease", raw.claim_lease.as_deref(), "2m")?,
            extract,
            topics,
        })
    }

    fn check_topics(
        &self,
        key: &str,
        topics: &[String],
        known: &[String],
    ) -> Result<(), ConfigError> {
        if topics.is_empty() {
            return Err(self.invalid(key, "names no topic"));
        }
        for topic in topics {
            if !known.contains(topic) {
                return Err(self.invalid(
                    key,
                    format!("no topic named `{topic}` (topics: {})", known.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// A secret must come from the environment or a file, never inline. It is read where it
    /// is used (`Secret::resolve`), not here.
    fn secret(&self, key: &str, value: &str) -> Result<Secret, ConfigError> {
        Secret::new(self.path.clone(), key, value)
    }

    fn webhooks(
        &self,
        raw: Vec<RawWebhook>,
        topics: &[String],
    ) -> Result<Vec<WebhookConfig>, ConfigError> {
        let mut out: Vec<WebhookConfig> = Vec::new();
        for (i, hook) in raw.into_iter().enumerate() {
            let key = |field: &str| format!("webhook[{i}].{field}");
            if hook.name.is_empty() || out.iter().any(|w| w.name == hook.name) {
                return Err(self.invalid(
                    &key("name"),
                    format!("`{}` is empty or used twice", hook.name),
                ));
            }
            let url = parse_feed_url(&hook.url).map_err(|m| self.invalid(&key("url"), m))?;
            let mut secrets = vec![self.secret(&key("secret"), &hook.secret)?];
            if let Some(previous) = &hook.previous_secret {
                secrets.push(self.secret(&key("previous_secret"), previous)?);
            }
            self.check_topics(&key("topics"), &hook.topics, topics)?;
            let mode = match hook.mode.as_deref().unwrap_or("match") {
                "match" => WebhookMode::PerMatch,
                "batch" => WebhookMode::Batch,
                other => {
                    return Err(self.invalid(
                        &key("mode"),
                        format!("`{other}` is not \"match\" or \"batch\""),
                    ));
                }
            };
            out.push(WebhookConfig {
                name: hook.name,
                url,
                secrets,
                topics: hook.topics,
                mode,
                timeout: self.duration(&key("timeout"), hook.timeout.as_deref(), "15s")?,
            });
        }
        Ok(out)
    }

    fn smtp(&self, raw: RawSmtp) -> Result<SmtpConfig, ConfigError> {
        let tls = match raw.tls.as_deref().unwrap_or("starttls") {
            "tls" | "implicit" => SmtpTls::Implicit,
            "starttls" => SmtpTls::StartTls,
            "none" => SmtpTls::None,
            other => {
                return Err(self.invalid(
                    "smtp.tls",
                    format!("`{other}` is not \"tls\", \"starttls\" or \"none\""),
                ));
            }
        };
        let port = raw.port.unwrap_or(match tls {
            SmtpTls::Implicit => 465,
            SmtpTls::StartTls => 587,
            SmtpTls::None => 25,
        });
        if raw.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(self.invalid("smtp.from", format!("`{}` is not a mail address", raw.from)));
        }
        let password = raw
            .password
            .as_deref()
            .map(|p| self.secret("smtp.password", p))
            .transpose()?;
        Ok(SmtpConfig {
            host: raw.host,
            port,
            tls,
            user: raw.user,
            password,
            from: raw.from,
            timeout: self.duration("smtp.timeout", raw.timeout.as_deref(), "30s")?,
        })
    }

    fn digests(
        &self,
        raw: Vec<RawDigest>,
        topics: &[String],
        default_tz: &str,
    ) -> Result<Vec<DigestConfig>, ConfigError> {
        let mut out: Vec<DigestConfig> = Vec::new();
        for (i, digest) in raw.into_iter().enumerate() {
            let key = |field: &str| format!("digest[{i}].{field}");
            if digest.name.is_empty() || out.iter().any(|d| d.name == digest.name) {
                return Err(self.invalid(
                    &key("name"),
                    format!("`{}` is empty or used twice", digest.name),
                ));
            }
            let tz_name = digest.timezone.as_deref().unwrap_or(default_tz);
            let timezone: chrono_tz::Tz = tz_name.parse().map_err(|_| {
                self.invalid(
                    &key("timezone"),
                    format!("`{tz_name}` is not an IANA time zone"),
                )
            })?;
            let schedule = Schedule::parse(&digest.schedule, tz_name)
                .map_err(|e| self.invalid(&key("schedule"), e.to_string()))?;
            self.check_topics(&key("topics"), &digest.topics, topics)?;
            if digest.to.is_empty() {
                return Err(self.invalid(&key("to"), "names no recipient"));
            }
            for to in &digest.to {
                if to.parse::<lettre::message::Mailbox>().is_err() {
                    return Err(self.invalid(&key("to"), format!("`{to}` is not a mail address")));
                }
            }
            out.push(DigestConfig {
                name: digest.name,
                schedule,
                topics: digest.topics,
                to: digest.to,
                subject: digest
                    .subject
                    .unwrap_or_else(|| "tidings {name}: {count} stories on {topics}".into()),
                max_items: digest.max_items.unwrap_or(50).max(1),
                skip_empty: digest.skip_empty.unwrap_or(true),
                timezone,
            });
        }
        Ok(out)
    }

    fn topics(
        &self,
        raw_aliases: toml::Table,
        raw: Vec<RawTopic>,
        matching: RawMatching,
        config_dir: Option<&std::path::Path>,
    ) -> Result<TopicsConfig, ConfigError> {
        let mut aliases = Vec::with_capacity(raw_aliases.len());
        for (name, value) in raw_aliases {
            match value {
                toml::Value::String(expr) => aliases.push((name, expr)),
                other => {
                    return Err(self.invalid(
                        &format!("aliases.{name}"),
                        format!("must be a query string, not {}", other.type_str()),
                    ));
                }
            }
        }
        let parsed_aliases = crate::matcher::Aliases::parse(&aliases)
            .map_err(|e| self.invalid("aliases", e.to_string()))?;
        let mut defs: Vec<TopicConfig> = Vec::with_capacity(raw.len());
        let mut compiled = Vec::with_capacity(raw.len());
        for (i, topic) in raw.into_iter().enumerate() {
            let key = |field: &str| format!("topic[{i}].{field}");
            if topic.name.trim().is_empty() || topic.name.contains(char::is_whitespace) {
                return Err(self.invalid(&key("name"), "must be a non-empty name without spaces"));
            }
            if defs.iter().any(|d| d.name == topic.name) {
                return Err(self.invalid(
                    &key("name"),
                    format!("topic `{}` is defined twice", topic.name),
                ));
            }
            let min_score = topic.min_score.unwrap_or(1.0);
            let query = crate::matcher::Topic::new(
                &topic.name,
                &topic.query,
                min_score,
                &parsed_aliases,
            )
            .map_err(|e| self.invalid(&key("query"), format!("topic `{}`: {e}", topic.name)))?;
            let learned = self.learned_spec(&topic, &query, &parsed_aliases, config_dir, &key)?;
            compiled.push(match &learned {
                Some(spec) => query.clone().with_learned(spec.layer.clone()),
                None => query,
            });
            defs.push(TopicConfig {
                title: topic.title.unwrap_or_else(|| topic.name.clone()),
                name: topic.name,
                query: topic.query,
                min_score,
                learned,
            });
        }
        let mut topics = TopicsConfig {
            defs,
            aliases,
            parsed_aliases,
            compiled: Vec::new(),
            prefilter: std::sync::Arc::new(crate::matcher::Prefilter::new(&[])),
            backfill_window: self.duration(
                "matching.backfill_window",
                matching.backfill_window.as_deref(),
                "7d",
            )?,
        };
        topics.set_compiled(compiled);
        Ok(topics)
    }

    /// The learned layer a topic's config asks for (`candidates`, `labels`, `model`,
    /// `threshold`), untrained, with its labelled examples read; `None` if it names none.
    fn learned_spec(
        &self,
        topic: &RawTopic,
        compiled: &crate::matcher::Topic,
        aliases: &crate::matcher::Aliases,
        config_dir: Option<&std::path::Path>,
        key: &dyn Fn(&str) -> String,
    ) -> Result<Option<LearnedSpec>, ConfigError> {
        if topic.candidates.is_none()
            && topic.labels.is_empty()
            && topic.model.is_none()
            && topic.threshold.is_none()
        {
            return Ok(None);
        }
        let candidates = match &topic.candidates {
            Some(text) => crate::matcher::parse_query(text, aliases).map_err(|e| {
                self.invalid(&key("candidates"), format!("topic `{}`: {e}", topic.name))
            })?,
            None => crate::matcher::learned::default_candidates(&compiled.query),
        };
        let threshold = topic
            .threshold
            .unwrap_or(crate::matcher::learned::DEFAULT_THRESHOLD);
        if !(threshold > 0.0 && threshold < 1.0) {
            return Err(self.invalid(
                &key("threshold"),
                format!("must be a probability between 0 and 1 (exclusive), not {threshold}"),
            ));
        }
        let resolve = |file: &str| match config_dir {
            Some(dir) => dir.join(file),
            None => PathBuf::from(file),
        };
        let prior = match topic.model.as_deref() {
            None => None,
            Some(name) => Some({
                let (text, shown) = match name.strip_prefix("builtin:") {
                    Some(builtin) => {
                        match super::BUILTIN_MODELS.iter().find(|(n, _)| *n == builtin) {
                            Some((_, text)) => (text.to_string(), name.to_string()),
                            None => {
                                let known: Vec<String> = super::BUILTIN_MODELS
                                    .iter()
                                    .map(|(n, _)| format!("builtin:{n}"))
                                    .collect();
                                return Err(self.invalid(
                                    &key("model"),
                                    format!(
                                        "no built-in model `{name}` (there are: {})",
                                        known.join(", ")
                                    ),
                                ));
                            }
                        }
                    }
                    None => {
                        let path = resolve(name);
                        let text = std::fs::read_to_string(&path).map_err(|e| {
                            self.invalid(
                                &key("model"),
                                format!("cannot read {}: {e}", path.display()),
                            )
                        })?;
                        (text, path.display().to_string())
                    }
                };
                crate::matcher::Model::from_text(&text)
                    .map_err(|e| self.invalid(&key("model"), format!("{shown}: {e}")))?
            }),
        };
        let mut examples = Vec::new();
        let mut label_files = Vec::new();
        for (j, file) in topic.labels.iter().enumerate() {
            let path = resolve(file);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                self.invalid(
                    &key(&format!("labels[{j}]")),
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            let read = crate::matcher::read_labelled(&text).map_err(|e| {
                self.invalid(
                    &key(&format!("labels[{j}]")),
                    format!("{}: {e}", path.display()),
                )
            })?;
            examples.extend(read);
            label_files.push(path);
        }
        let layer = crate::matcher::LearnedLayer::new(
            &compiled.query,
            compiled.min_score,
            candidates,
            aliases,
            topic.threshold,
            prior,
        );
        Ok(Some(LearnedSpec {
            layer,
            label_files,
            examples: std::sync::Arc::new(examples),
            model: topic.model.clone(),
        }))
    }

    fn api(&self, raw: RawApi) -> Result<ApiConfig, ConfigError> {
        let listen: std::net::SocketAddr = raw.listen.parse().map_err(|e| {
            self.invalid(
                "api.listen",
                format!(
                    "`{}` is not an address like 127.0.0.1:8080: {e}",
                    raw.listen
                ),
            )
        })?;
        let token = raw
            .token
            .as_deref()
            .map(|value| self.secret("api.token", value))
            .transpose()?;
        if token.is_none() && !listen.ip().is_loopback() {
            return Err(self.invalid(
                "api.listen",
                format!(
                    "{listen} is not a loopback address; set `api.token` to serve beyond this machine"
                ),
            ));
        }
        Ok(ApiConfig { listen, token })
    }

    fn database(&self, value: Option<&str>) -> Result<DatabaseLocation, ConfigError> {
        let Some(value) = value else {
            return Ok(DatabaseLocation::Sqlite(default_database_path()));
        };
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            if let Err(e) = value.parse::<tokio_postgres::Config>() {
                return Err(self.invalid("database", format!("not a PostgreSQL URL: {e}")));
            }
            return Ok(DatabaseLocation::Postgres(value.to_string()));
        }
        let path = value
            .strip_prefix("sqlite://")
            .or_else(|| value.strip_prefix("sqlite:"))
            .unwrap_or(value);
        if path.is_empty() {
            return Err(self.invalid("database", "the path is empty"));
        }
        Ok(DatabaseLocation::Sqlite(PathBuf::from(path)))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn bad_schedule_names_the_feed_key() {
        let toml = "[[feed]]\nurl = \"https://example.org/feed\"\nschedule = \"61 * * * *\"\n";
        let text = Config::from_toml(toml, Some(Path::new("t.toml")))
            .unwrap_err()
            .to_string();
        assert!(text.contains("feed[0].schedule"), "{text}");
    }

    #[test]
    fn bad_duration_and_url_are_named() {
        let text = Config::from_toml("[fetch]\ntimeout = \"soon\"\n", None)
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("fetch.timeout") && text.contains("soon"),
            "{text}"
        );
        let text = Config::from_toml("[[feed]]\nurl = \"ftp://x/y\"\n", None)
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("feed[0].url") && text.contains("ftp"),
            "{text}"
        );
    }

    #[test]
    fn retention_and_api() {
        let c = Config::from_toml("", None).unwrap();
        assert_eq!(c.retention.keep_items, None);
        assert!(c.retention.keep_matched);
        assert!(c.api.is_none());
        let c = Config::from_toml(
            "[retention]\nkeep_items = \"30d\"\nkeep_matched = false\n[api]\nlisten = \"127.0.0.1:9\"\n",
            None,
        )
        .unwrap();
        assert_eq!(
            c.retention.keep_items,
            Some(Duration::from_secs(30 * 86_400))
        );
        assert!(!c.retention.keep_matched);
        assert_eq!(c.api.unwrap().listen.port(), 9);
        let text = Config::from_toml("[api]\nlisten = \"0.0.0.0:8080\"\n", None)
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("api.listen") && text.contains("api.token"),
            "{text}"
        );
        let text = Config::from_toml(
            "[api]\nlisten = \"0.0.0.0:8080\"\ntoken = \"hunter2\"\n",
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            text.contains("api.token") && !text.contains("hunter2"),
            "{text}"
        );
        let text = Config::from_toml("[retention]\nkeep_items = \"a year\"\n", None)
            .unwrap_err()
            .to_string();
        assert!(text.contains("retention.keep_items"), "{text}");
    }

    #[test]
    fn database_forms() {
        let c = Config::from_toml("database = \"sqlite:/tmp/a.db\"\n", None).unwrap();
        assert_eq!(c.database, DatabaseLocation::Sqlite("/tmp/a.db".into()));
        let c = Config::from_toml("database = \"b.db\"\n", None).unwrap();
        assert_eq!(c.database, DatabaseLocation::Sqlite("b.db".into()));
        assert_eq!(c.claim_lease, Duration::from_secs(120));
        let url = "postgres://tidings:pw@db.example:5432/tidings";
        let c = Config::from_toml(
            &format!("database = \"{url}\"\nclaim_lease = \"30s\"\n"),
            None,
        )
        .unwrap();
        assert_eq!(c.database, DatabaseLocation::Postgres(url.into()));
        assert_eq!(c.claim_lease, Duration::from_secs(30));
        let err = Config::from_toml("database = \"postgres://h:notaport/db\"\n", None).unwrap_err();
        assert!(err.to_string().contains("not a PostgreSQL URL"), "{err}");
    }
}
