//! Email digests: building one digest per schedule slot (rendered once and stored, so a retry
//! sends the same content under the same Message-ID) and sending it over SMTP with lettre.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::digest::{Digest, DigestEntry, FeedHealthNote, render_html, render_text, subject};
use crate::config::{Config, DigestConfig, SmtpConfig, SmtpTls};
use crate::model::UnixTime;
use crate::plaintext::html_to_text;
use crate::store::{DeliveryContent, DigestRun, Store};

/// The digest `digest` would send now, from the deliveries waiting for it (nothing claimed).
pub fn render_pending(
    config: &Config,
    store: &Store,
    digest: &DigestConfig,
    now: UnixTime,
) -> anyhow::Result<(Digest, Vec<i64>)> {
    let entries =
        store.pending_digest_entries(&format!("digest:{}", digest.name), digest.max_items)?;
    let ids = entries.iter().map(|e| e.id).collect();
    let health = store
        .feed_problems(now)?
        .into_iter()
        .map(|p| FeedHealthNote {
            feed: p.title,
            url: p.url,
            problem: p.problem,
        })
        .collect();
    let mut rendered = Digest {
        name: digest.name.clone(),
        subject: String::new(),
        generated_at: Utc.timestamp_opt(now, 0).single().unwrap_or_default(),
        timezone: Some(digest.timezone),
        entries: entries.iter().map(|e| entry(config, e)).collect(),
        health,
    };
    rendered.subject = subject(&digest.subject, &rendered);
    Ok((rendered, ids))
}

fn entry(config: &Config, d: &DeliveryContent) -> DigestEntry {
    let text = d
        .article_text
        .clone()
        .unwrap_or_else(|| html_to_text(&d.summary));
    DigestEntry {
        topic: d.topic.clone(),
        topic_title: config.topics.title_of(&d.topic),
        story_id: d.story_id,
        title: d.title.clone(),
        link: d.link.clone(),
        source: d.feed_title.clone(),
        published: Utc
            .timestamp_opt(d.published_at, 0)
            .single()
            .unwrap_or_default(),
        excerpt: text,
        also_in: d.other_sources.clone(),
        score: d.score,
    }
}

/// Builds and stores the digest of one slot, claiming its deliveries. An empty digest with
/// `skip_empty` is recorded as `empty` (the slot is done) and nothing is sent.
pub fn build_run(
    config: &Config,
    store: &Store,
    digest: &DigestConfig,
    slot: UnixTime,
    now: UnixTime,
) -> anyhow::Result<Option<i64>> {
    let (rendered, ids) = render_pending(config, store, digest, now)?;
    let empty = ids.is_empty();
    let run = DigestRun {
        id: 0,
        digest: digest.name.clone(),
        scheduled_for: slot,
        message_id: format!(
            "<tidings.{}.{}.{:08x}@{}>",
            digest.name,
            slot,
            fastrand::u32(..),
            message_id_domain(config.smtp.as_ref())
        ),
        status: if empty && digest.skip_empty {
            "empty".into()
        } else {
            "pending".into()
        },
        attempts: 0,
        subject: rendered.subject.clone(),
        body_text: render_text(&rendered),
        body_html: render_html(&rendered),
    };
    let id = store.create_digest_run(&run, &ids, now)?;
    if let Some(id) = id {
        tracing::info!(digest = %digest.name, run = id, stories = ids.len(), slot, "digest built");
    }
    Ok(id)
}

/// The right-hand side of a digest's Message-ID: the domain of the sender (`smtp.from`), as
/// RFC 5322 advises, never the SMTP server's host, which is often an address or a relay's name
/// (issue 17). `localhost` without `[smtp]`.
fn message_id_domain(smtp: Option<&SmtpConfig>) -> String {
    smtp.and_then(|s| s.from.parse::<Mailbox>().ok())
        .map(|mailbox| mailbox.email.domain().to_string())
        .filter(|domain| !domain.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The latest slot of the digest's schedule at or before `now` that is after `last` (the last
/// slot built), if any. Without a last slot, only slots after `started` count, so a new digest
/// does not fire for the past.
pub fn due_slot(
    digest: &DigestConfig,
    last: Option<UnixTime>,
    started: UnixTime,
    now: UnixTime,
) -> Option<UnixTime> {
    let from = last.unwrap_or(started);
    let mut t = Utc.timestamp_opt(from, 0).single()?;
    let mut due = None;
    for _ in 0..100_000 {
        match digest.schedule.next_after(t) {
            Some(next) if next.timestamp() <= now => {
                due = Some(next.timestamp());
                t = next;
            }
            _ => break,
        }
    }
    due
}

/// Sends stored digest runs that are due; failures are retried on the delivery schedule with
/// the same content and Message-ID.
pub async fn send_due(config: &Config, store: &Store) -> anyhow::Result<usize> {
    let Some(smtp) = &config.smtp else {
        return Ok(0);
    };
    let runs = store.due_digest_runs(Utc::now().timestamp())?;
    if runs.is_empty() {
        return Ok(0);
    }
    // Read where it is used, once, before any attempt: a missing password is the config's
    // fault, not the server's, and counts no attempt against a run.
    let password = smtp.password.as_ref().map(|p| p.resolve()).transpose()?;
    let mut sent = 0;
    for run in runs {
        let Some(digest) = config.digests.iter().find(|d| d.name == run.digest) else {
            continue;
        };
        match send(smtp, password.as_deref(), &digest.to, &run).await {
            Ok(()) => {
                store.mark_digest_sent(run.id, Utc::now().timestamp())?;
                tracing::info!(digest = %run.digest, run = run.id, to = ?digest.to, "digest sent");
                sent += 1;
            }
            Err(error) => {
                let next = config
                    .delivery
                    .retry_schedule
                    .get(run.attempts as usize)
                    .map(|wait| Utc::now().timestamp() + wait.as_secs() as i64);
                tracing::warn!(digest = %run.digest, run = run.id, attempt = run.attempts + 1, error = %error, retry = next.is_some(), "digest not sent");
                store.mark_digest_failed(run.id, &error, next)?;
            }
        }
    }
    Ok(sent)
}

/// One SMTP transaction (`password`: `smtp.password` as read); the error names the server.
pub async fn send(
    smtp: &SmtpConfig,
    password: Option<&str>,
    to: &[String],
    run: &DigestRun,
) -> Result<(), String> {
    let server = format!("smtp {}:{}", smtp.host, smtp.port);
    let mut builder = Message::builder()
        .from(
            smtp.from
                .parse::<Mailbox>()
                .map_err(|e| format!("{server}: from: {e}"))?,
        )
        .subject(run.subject.clone())
        .message_id(Some(run.message_id.clone()))
        .date_now();
    for address in to {
        builder = builder.to(address
            .parse::<Mailbox>()
            .map_err(|e| format!("{server}: to {address}: {e}"))?);
    }
    let message = builder
        .multipart(MultiPart::alternative_plain_html(
            run.body_text.clone(),
            run.body_html.clone(),
        ))
        .map_err(|e| format!("{server}: building the message: {e}"))?;
    let transport = transport(smtp, password).map_err(|e| format!("{server}: {e}"))?;
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("{server}: {e}"))
}

fn transport(
    smtp: &SmtpConfig,
    password: Option<&str>,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, lettre::transport::smtp::Error> {
    let tls = || TlsParameters::new(smtp.host.clone());
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
        .port(smtp.port)
        .timeout(Some(smtp.timeout.max(Duration::from_secs(1))));
    builder = match smtp.tls {
        SmtpTls::Implicit => builder.tls(Tls::Wrapper(tls()?)),
        SmtpTls::StartTls => builder.tls(Tls::Required(tls()?)),
        SmtpTls::None => builder.tls(Tls::None),
    };
    if let (Some(user), Some(password)) = (&smtp.user, password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.to_string()));
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(host: &str, from: &str) -> SmtpConfig {
        SmtpConfig {
            host: host.into(),
            port: 25,
            tls: SmtpTls::None,
            user: None,
            password: None,
            from: from.into(),
            timeout: Duration::from_secs(5),
        }
    }

    /// Issue 17: the Message-ID's domain is the sender's, not the SMTP host (`@127.0.0.1`).
    #[test]
    fn issue_17_message_id_takes_the_sender_domain() {
        let relay = smtp("127.0.0.1", "tidings <digest@news.example.org>");
        assert_eq!(message_id_domain(Some(&relay)), "news.example.org");
        let bare = smtp("smtp.provider.example", "alerts@example.com");
        assert_eq!(message_id_domain(Some(&bare)), "example.com");
        assert_eq!(message_id_domain(None), "localhost");
    }
}
