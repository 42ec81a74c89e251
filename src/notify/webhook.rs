//! Sending webhook deliveries: one signed POST per story (or per batch), marked sent only
//! after a 2xx; retried on the configured schedule honouring Retry-After; 410 disables the
//! endpoint visibly; 3xx is a failure (never followed).

use std::time::Duration;

use chrono::{TimeZone, Utc};

use super::payload::{OtherSource, WebhookItem, matched_terms, payload};
use super::signature::Signer;
use crate::config::{Config, WebhookConfig, WebhookMode};
use crate::plaintext::{excerpt, html_to_text};
use crate::store::{DeliveryContent, Store};

/// The environment variable naming a test-only failpoint; `after-webhook-accepted` holds the
/// daemon between a receiver's 2xx and the row being marked sent.
pub const FAILPOINT_ENV: &str = "TIDINGS_FAILPOINT";

/// The outcome of one POST.
#[derive(Debug)]
enum Answer {
    Accepted,
    /// Try again later (no sooner than the server asked).
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    /// 410 Gone: the receiver does not want any more.
    Gone,
}

/// Builds the webhook item of one delivery.
pub fn webhook_item(config: &Config, d: &DeliveryContent) -> WebhookItem {
    WebhookItem {
        topic: d.topic.clone(),
        topic_title: config.topics.title_of(&d.topic),
        title: d.title.clone(),
        link: d.link.clone(),
        source_feed: d.feed_title.clone(),
        source_feed_url: d.feed_url.clone(),
        published: Utc
            .timestamp_opt(d.published_at, 0)
            .single()
            .unwrap_or_default(),
        summary: excerpt(&html_to_text(&d.summary), 600),
        excerpt: excerpt(d.article_text.as_deref().unwrap_or(""), 600),
        score: d.score,
        matched_terms: matched_terms(&d.terms),
        story_id: d.story_id,
        other_sources: d
            .other_sources
            .iter()
            .map(|(source, link)| OtherSource {
                source: source.clone(),
                link: link.clone(),
            })
            .collect(),
        backfill: d.backfill,
    }
}

/// Sends every due delivery of one webhook. Returns how many were accepted.
pub async fn dispatch(
    config: &Config,
    store: &Store,
    client: &reqwest::Client,
    hook: &WebhookConfig,
) -> anyhow::Result<usize> {
    let channel = format!("webhook:{}", hook.name);
    let now = Utc::now().timestamp();
    if let Some(reason) = store.endpoint_disabled(&hook.name, hook.url.as_str())? {
        tracing::debug!(webhook = %hook.name, reason, "webhook endpoint disabled");
        return Ok(0);
    }
    let due = store.due_webhook_deliveries(&channel, now, 100)?;
    if due.is_empty() {
        return Ok(0);
    }
    // Read now, where they are used: commands that send nothing never need them.
    let secrets = hook
        .secrets
        .iter()
        .map(|s| s.resolve())
        .collect::<Result<Vec<_>, _>>()?;
    let signer =
        Signer::new(&secrets).map_err(|e| anyhow::anyhow!("webhook `{}`: {e}", hook.name))?;
    // Per match: one POST per delivery. Batch: the due rows travel together under one key,
    // stamped once so a retry sends the same id with the same members.
    let groups: Vec<(String, Vec<&DeliveryContent>)> = match hook.mode {
        WebhookMode::PerMatch => due
            .iter()
            .map(|d| (d.delivery_key.clone(), vec![d]))
            .collect(),
        WebhookMode::Batch => {
            let mut groups: Vec<(String, Vec<&DeliveryContent>)> = Vec::new();
            let fresh: Vec<&DeliveryContent> =
                due.iter().filter(|d| d.batch_key.is_none()).collect();
            if !fresh.is_empty() {
                let ids: Vec<String> = fresh.iter().map(|d| d.delivery_key.clone()).collect();
                let key = format!(
                    "bat_{:016x}",
                    xxhash_rust::xxh3::xxh3_64(ids.join(",").as_bytes())
                );
                store.stamp_batch(&fresh.iter().map(|d| d.id).collect::<Vec<_>>(), &key)?;
                groups.push((key, fresh));
            }
            for d in due.iter().filter(|d| d.batch_key.is_some()) {
                let key = d.batch_key.clone().unwrap_or_default();
                match groups.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, members)) => members.push(d),
                    None => groups.push((key, vec![d])),
                }
            }
            groups
        }
    };
    let mut accepted = 0;
    for (key, members) in groups {
        let items: Vec<WebhookItem> = members.iter().map(|d| webhook_item(config, d)).collect();
        let body = serde_json::to_vec(&payload("match.created", &key, &items, Utc::now()))?;
        let ids: Vec<i64> = members.iter().map(|d| d.id).collect();
        let attempts = members.iter().map(|d| d.attempts).max().unwrap_or(0);
        match post(client, hook, &signer, &key, &body).await {
            Answer::Accepted => {
                if std::env::var(FAILPOINT_ENV).as_deref() == Ok("after-webhook-accepted") {
                    tracing::warn!(webhook = %hook.name, delivery = %key, "failpoint: holding before marking sent");
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                store.mark_sent(&ids, Utc::now().timestamp())?;
                accepted += ids.len();
                tracing::info!(webhook = %hook.name, delivery = %key, stories = ids.len(), "webhook delivered");
            }
            Answer::Gone => {
                let reason = format!(
                    "{} answered 410 Gone; endpoint disabled until its URL changes",
                    hook.url
                );
                tracing::error!(webhook = %hook.name, url = %hook.url, "{reason}");
                store.disable_endpoint(
                    &hook.name,
                    hook.url.as_str(),
                    &reason,
                    Utc::now().timestamp(),
                )?;
                return Ok(accepted);
            }
            Answer::Retry { error, retry_after } => {
                let schedule = &config.delivery.retry_schedule;
                let next = schedule.get(attempts as usize).map(|wait| {
                    let wait = retry_after.map_or(*wait, |asked| asked.max(*wait));
                    // Times are whole seconds: round a server's request up, never down.
                    Utc::now().timestamp()
                        + wait.as_secs() as i64
                        + i64::from(retry_after.is_some())
                });
                match next {
                    Some(_) => {
                        tracing::warn!(webhook = %hook.name, delivery = %key, attempt = attempts + 1, error, "webhook failed; will retry")
                    }
                    None => {
                        tracing::error!(webhook = %hook.name, delivery = %key, error, "webhook failed for the last time; delivery is dead")
                    }
                }
                store.mark_failed(&ids, &error, next)?;
            }
        }
    }
    Ok(accepted)
}

async fn post(
    client: &reqwest::Client,
    hook: &WebhookConfig,
    signer: &Signer,
    id: &str,
    body: &[u8],
) -> Answer {
    let timestamp = Utc::now().timestamp();
    let mut request = client
        .post(hook.url.clone())
        .timeout(hook.timeout)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_vec());
    for (name, value) in signer.headers(id, timestamp, body) {
        request = request.header(name, value);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            if status.is_success() {
                Answer::Accepted
            } else if status == reqwest::StatusCode::GONE {
                Answer::Gone
            } else {
                let retry_after =
                    crate::fetch::hints_from_headers(response.headers(), Utc::now()).retry_after;
                Answer::Retry {
                    error: format!("POST {}: HTTP {}", hook.url, status.as_u16()),
                    retry_after,
                }
            }
        }
        Err(e) if e.is_timeout() => Answer::Retry {
            error: format!("POST {}: timed out after {:?}", hook.url, hook.timeout),
            retry_after: None,
        },
        Err(e) => Answer::Retry {
            error: format!("POST {}: {e}", hook.url),
            retry_after: None,
        },
    }
}

/// The client for webhooks: no redirects (a 3xx is a failure), no proxies from the environment.
pub fn client(config: &Config) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(&config.fetch.user_agent)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.fetch.connect_timeout)
        .no_proxy()
        .build()
}
