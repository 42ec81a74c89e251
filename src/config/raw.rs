//! The TOML shape as read: the serde `Raw*` structs (unknown keys are errors), before validation.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) database: Option<String>,
    pub(super) contact: Option<String>,
    pub(super) shutdown_grace: Option<String>,
    pub(super) claim_lease: Option<String>,
    #[serde(default)]
    pub(super) fetch: RawFetch,
    #[serde(default)]
    pub(super) schedule: RawSchedule,
    #[serde(default)]
    pub(super) feed: Vec<RawFeed>,
    #[serde(default)]
    pub(super) extract: RawExtract,
    #[serde(default)]
    pub(super) aliases: toml::Table,
    #[serde(default)]
    pub(super) topic: Vec<RawTopic>,
    #[serde(default)]
    pub(super) matching: RawMatching,
    #[serde(default)]
    pub(super) delivery: RawDelivery,
    #[serde(default)]
    pub(super) webhook: Vec<RawWebhook>,
    pub(super) smtp: Option<RawSmtp>,
    #[serde(default)]
    pub(super) digest: Vec<RawDigest>,
    #[serde(default)]
    pub(super) retention: RawRetention,
    pub(super) api: Option<RawApi>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetention {
    pub(super) keep_items: Option<String>,
    pub(super) keep_matched: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApi {
    pub(super) listen: String,
    pub(super) token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDelivery {
    pub(super) max_age: Option<String>,
    pub(super) story_window: Option<String>,
    pub(super) retry_schedule: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebhook {
    pub(super) name: String,
    pub(super) url: String,
    pub(super) secret: String,
    pub(super) previous_secret: Option<String>,
    pub(super) topics: Vec<String>,
    pub(super) mode: Option<String>,
    pub(super) timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSmtp {
    pub(super) host: String,
    pub(super) port: Option<u16>,
    pub(super) tls: Option<String>,
    pub(super) user: Option<String>,
    pub(super) password: Option<String>,
    pub(super) from: String,
    pub(super) timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDigest {
    pub(super) name: String,
    pub(super) schedule: String,
    pub(super) timezone: Option<String>,
    pub(super) topics: Vec<String>,
    pub(super) to: Vec<String>,
    pub(super) subject: Option<String>,
    pub(super) max_items: Option<usize>,
    pub(super) skip_empty: Option<bool>,
}
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExtract {
    pub(super) concurrency: Option<usize>,
    pub(super) per_host: Option<usize>,
    pub(super) max_page_bytes: Option<u64>,
    pub(super) time_limit: Option<String>,
    pub(super) max_attempts: Option<u32>,
    pub(super) retry_base: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTopic {
    pub(super) name: String,
    pub(super) title: Option<String>,
    pub(super) query: String,
    pub(super) min_score: Option<f64>,
    /// The learned layer: the recall-oriented query that finds candidates.
    pub(super) candidates: Option<String>,
    /// Labelled examples (JSON lines) to train on, relative to the config file.
    #[serde(default)]
    pub(super) labels: Vec<String>,
    /// A trained model (a file, or `builtin:NAME`) the learned layer starts from.
    pub(super) model: Option<String>,
    /// The model's probability at which a candidate is relevant.
    pub(super) threshold: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMatching {
    pub(super) backfill_window: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFetch {
    pub(super) user_agent: Option<String>,
    pub(super) concurrency: Option<usize>,
    pub(super) per_host: Option<usize>,
    pub(super) connect_timeout: Option<String>,
    pub(super) timeout: Option<String>,
    pub(super) read_timeout: Option<String>,
    pub(super) max_body_bytes: Option<u64>,
    pub(super) max_redirects: Option<usize>,
    #[serde(default)]
    pub(super) allow_hosts: Vec<String>,
    #[serde(default)]
    pub(super) allow_networks: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchedule {
    pub(super) default: Option<String>,
    pub(super) timezone: Option<String>,
    pub(super) max_hint: Option<String>,
    pub(super) error_backoff_base: Option<String>,
    pub(super) error_backoff_max: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFeed {
    pub(super) url: String,
    pub(super) title: Option<String>,
    pub(super) schedule: Option<String>,
    pub(super) extract: Option<bool>,
    #[serde(default)]
    pub(super) tags: Vec<String>,
    #[serde(default)]
    pub(super) headers: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    #[test]
    fn unknown_key_is_named() {
        let err = Config::from_toml("databse = \"x.db\"\n", Some(Path::new("t.toml"))).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("t.toml") && text.contains("databse"),
            "{text}"
        );
    }
}
