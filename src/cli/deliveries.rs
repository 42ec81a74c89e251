//! `tidings deliveries …` and `tidings digest …`: the outbox as people see it.

use std::io::Write;

use anyhow::bail;

use super::{iso, write_table};
use crate::config::Config;
use crate::notify::digest::{render_html, render_text};
use crate::notify::email;
use crate::pipeline::Context;

pub fn list(ctx: &Context, status: Option<&str>, limit: usize, json: bool) -> anyhow::Result<()> {
    let rows = ctx.store.list_deliveries(status, limit)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|d| {
            vec![
                d.id.to_string(),
                d.delivery_key.clone(),
                d.channel.clone(),
                d.topic.clone(),
                d.status.clone(),
                d.attempts.to_string(),
                iso(d.sent_at.or(Some(d.due_at))).unwrap_or_default(),
                d.title
                    .clone()
                    .unwrap_or_default()
                    .chars()
                    .take(60)
                    .collect(),
                d.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    write_table(
        &mut std::io::stdout().lock(),
        &[
            "ID",
            "KEY",
            "CHANNEL",
            "TOPIC",
            "STATUS",
            "TRIES",
            "SENT/DUE",
            "TITLE",
            "LAST ERROR",
        ],
        &table,
    )?;
    let counts = ctx.store.delivery_counts()?;
    let summary: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    println!("{}", summary.join(", "));
    Ok(())
}

pub fn retry(ctx: &Context, id: Option<i64>, dead: bool) -> anyhow::Result<()> {
    if id.is_none() && !dead {
        bail!("deliveries retry: give a delivery ID or --dead");
    }
    let n = ctx
        .store
        .retry_deliveries(id, chrono::Utc::now().timestamp())?;
    if n == 0 {
        bail!("deliveries retry: nothing to retry (a sent delivery is not sent again)");
    }
    println!("{n} deliveries queued again; the daemon sends them on its next pass");
    Ok(())
}

pub fn backfill(ctx: &Context, topic: Option<&str>, channel: Option<&str>) -> anyhow::Result<()> {
    let n = ctx
        .store
        .release_backfill(topic, channel, chrono::Utc::now().timestamp())?;
    println!(
        "{n} old-news deliveries (first polls, backfills, older than delivery.max_age) released for sending"
    );
    Ok(())
}

fn digest_config<'a>(
    config: &'a Config,
    name: &str,
) -> anyhow::Result<&'a crate::config::DigestConfig> {
    match config.digests.iter().find(|d| d.name == name) {
        Some(d) => Ok(d),
        None => bail!("no digest named `{name}` in the config"),
    }
}

/// Prints what the next digest would contain; claims and sends nothing.
pub fn preview(ctx: &Context, name: &str, html: Option<&std::path::Path>) -> anyhow::Result<()> {
    let config = ctx.config();
    let digest = digest_config(&config, name)?;
    let (rendered, _) =
        email::render_pending(&config, &ctx.store, digest, chrono::Utc::now().timestamp())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "Subject: {}\n", rendered.subject)?;
    write!(out, "{}", render_text(&rendered))?;
    if let Some(path) = html {
        std::fs::write(path, render_html(&rendered))
            .map_err(|e| anyhow::anyhow!("digest preview: cannot write {}: {e}", path.display()))?;
        writeln!(out, "\nHTML written to {}", path.display())?;
    }
    Ok(())
}

/// Builds the digest now and sends it (and any earlier digest still waiting for a retry).
pub async fn send(ctx: &Context, name: &str) -> anyhow::Result<()> {
    let config = ctx.config();
    let digest = digest_config(&config, name)?;
    // Sending needs the SMTP password: a missing one stops here, before a run is built.
    if let Some(password) = config.smtp.as_ref().and_then(|s| s.password.as_ref()) {
        password.resolve()?;
    }
    let now = chrono::Utc::now().timestamp();
    match email::build_run(&config, &ctx.store, digest, now, now)? {
        Some(run) => println!("digest {name}: built run {run}"),
        None => println!("digest {name}: a digest for this second exists already"),
    }
    let sent = email::send_due(&config, &ctx.store).await?;
    println!("{sent} digest emails sent");
    Ok(())
}
