//! The extraction stage: fetches the page of each new item (feeds with extraction on), extracts
//! the article off the async runtime within a time bound, and records the outcome. Transient
//! failures are retried with backoff; when the page gives less than the feed, the feed's own
//! content is kept and the record says so.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Context;
use crate::extract::{ExtractError, ExtractLimits, extract};
use crate::fetch::{FetchError, FetchOutcome, FetchRequest};
use crate::model::ItemId;
use crate::plaintext::html_to_text;
use crate::scheduler::host_queue::{HostId, HostQueues, host_of};
use crate::store::{ArticleRecord, PendingPage, StoreError};

/// Pages queued in memory at most, as a multiple of the extraction concurrency: the pages of
/// a busy host wait here while other hosts' pages are read past them.
const QUEUED_PER_SLOT: usize = 16;

/// Extracts every pending page once (retries that are not yet due wait); returns how many
/// pages were processed. Stops early when `cancel` fires. Pages wait in a queue per host and
/// hosts take turns within `[extract] per_host` and `concurrency` (each decision O(1)); the
/// store is read again only when no waiting page can start.
pub async fn extract_pending(
    ctx: &Arc<Context>,
    cancel: &CancellationToken,
) -> Result<usize, StoreError> {
    let config = ctx.config();
    let limits = &config.extract;
    let mut queue: HostQueues<PendingPage> = HostQueues::new(limits.per_host);
    // Pages queued or running: a read of the store skips them.
    let mut known: HashSet<ItemId> = HashSet::new();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(ItemId, HostId)>();
    let mut processed = 0;
    let mut exhausted = false;
    loop {
        let room = queue.running() < limits.concurrency && !cancel.is_cancelled();
        if room
            && !exhausted
            && !queue.has_ready()
            && queue.waiting() < limits.concurrency * QUEUED_PER_SLOT
        {
            let store = ctx.store.clone();
            let exclude: Vec<ItemId> = known.iter().copied().collect();
            let want = limits.concurrency * 4;
            let now = Utc::now().timestamp();
            let pages =
                tokio::task::spawn_blocking(move || store.pending_pages(now, want, &exclude))
                    .await
                    .map_err(|e| StoreError::NotFound(format!("extraction task failed: {e}")))??;
            exhausted = true;
            for page in pages {
                if known.insert(page.item_id) {
                    exhausted = false;
                    let host = host_of(&page.url);
                    queue.push(&host, page);
                }
            }
        }
        while queue.running() < limits.concurrency && !cancel.is_cancelled() {
            let Some((host, page)) = queue.start_next() else {
                break;
            };
            let last_for_host = queue.waiting_on(host) == 0;
            let ctx = ctx.clone();
            let done = done_tx.clone();
            tokio::spawn(async move {
                let id = page.item_id;
                if let Err(e) = extract_one(&ctx, page, last_for_host).await {
                    tracing::error!(item_id = id, error = %e, "could not record extraction");
                }
                let _ = done.send((id, host));
            });
        }
        // Nothing running means no host is busy: whatever waits could have started.
        if queue.running() == 0 && (exhausted || cancel.is_cancelled()) {
            return Ok(processed);
        }
        let Some((id, host)) = done_rx.recv().await else {
            return Ok(processed);
        };
        known.remove(&id);
        queue.finish(host);
        processed += 1;
        // The page may have been the last of its batch: new ones may be due.
        exhausted = false;
    }
}

/// Fetches, extracts and records one page; `last_for_host`: no other page of its host waits.
async fn extract_one(
    ctx: &Context,
    page: PendingPage,
    last_for_host: bool,
) -> Result<(), StoreError> {
    let now = Utc::now().timestamp();
    let settings = ctx.config();
    let config = &settings.extract;
    let request = FetchRequest {
        last_for_host,
        ..FetchRequest::default()
    };
    let fetched = ctx.page_fetcher.fetch(&page.url, &request).await;
    let feed_text = page
        .feed_html
        .as_deref()
        .map(html_to_text)
        .filter(|t| !t.is_empty());
    let record = match fetched {
        Ok(FetchOutcome::Fetched(body)) => {
            let limits = ExtractLimits {
                max_bytes: config.max_page_bytes as usize,
                timeout: config.time_limit,
            };
            let url = body.meta.final_url.clone();
            let status = body.meta.status;
            let content_type = body.content_type.clone();
            let result = tokio::task::spawn_blocking(move || {
                extract(&body.body, content_type.as_deref(), Some(&url), &limits)
            })
            .await
            .unwrap_or_else(|e| Err(ExtractError::Parse(format!("extraction panicked: {e}"))));
            let mut record = outcome_record(result, feed_text);
            record.http_status = Some(status);
            record
        }
        Ok(FetchOutcome::SlowDown { status, meta }) => {
            let wait = meta.hints.retry_after.map(|d| d.as_secs() as i64);
            retry_or_fail(
                ctx,
                &page,
                format!("{}: HTTP {status}", page.url),
                Some(status),
                feed_text,
                wait,
            )
        }
        Ok(FetchOutcome::NotModified { meta }) | Ok(FetchOutcome::Gone { meta }) => fallback(
            feed_text,
            "failed",
            format!("{}: HTTP {}", page.url, meta.status),
            Some(meta.status),
        ),
        Err(FetchError::Status { status, url }) if status >= 500 => retry_or_fail(
            ctx,
            &page,
            format!("{url}: HTTP {status}"),
            Some(status),
            feed_text,
            None,
        ),
        Err(e @ (FetchError::Timeout { .. } | FetchError::Network { .. })) => {
            retry_or_fail(ctx, &page, e.to_string(), None, feed_text, None)
        }
        Err(e) => {
            let status = match &e {
                FetchError::Status { status, .. } => Some(*status),
                _ => None,
            };
            fallback(feed_text, "failed", e.to_string(), status)
        }
    };
    match record.status.as_str() {
        "ok" => tracing::debug!(item_id = page.item_id, url = %page.url, "article extracted"),
        status => {
            tracing::info!(item_id = page.item_id, url = %page.url, status, error = ?record.error, "article not extracted")
        }
    }
    let store = ctx.store.clone();
    let item_id = page.item_id;
    tokio::task::spawn_blocking(move || store.record_article(item_id, &record, now))
        .await
        .map_err(|e| StoreError::NotFound(format!("store task failed: {e}")))?
}

/// Turns an extraction result into a record, preferring the feed's own text when the page
/// gave less.
pub fn outcome_record(
    result: Result<crate::extract::Article, ExtractError>,
    feed_text: Option<String>,
) -> ArticleRecord {
    match result {
        Ok(article) => {
            let page_words = article.text.split_whitespace().count();
            let feed_words = feed_text
                .as_deref()
                .map(|t| t.split_whitespace().count())
                .unwrap_or(0);
            let mut record = ArticleRecord {
                status: "ok".into(),
                method: Some(article.method.to_string()),
                text: Some(article.text),
                title: article.title,
                byline: article.byline,
                published: article.published,
                language: article.language,
                lead_image_url: article.lead_image_url,
                ..ArticleRecord::default()
            };
            if feed_words > page_words {
                record.status = "feed-content".into();
                record.method = Some("feed".into());
                record.error = Some(format!(
                    "the page gave {page_words} words, the feed {feed_words}; kept the feed's text"
                ));
                record.text = feed_text;
            }
            record
        }
        Err(ExtractError::NotHtml { content_type }) => fallback(
            feed_text,
            "not-html",
            format!("not an HTML page ({content_type})"),
            None,
        ),
        Err(e) => fallback(feed_text, "failed", e.to_string(), None),
    }
}

/// A failed page: keep the feed's text if it has some (status feed-content), else `status`.
fn fallback(
    feed_text: Option<String>,
    status: &str,
    error: String,
    http_status: Option<u16>,
) -> ArticleRecord {
    let has_feed_text = feed_text.is_some();
    ArticleRecord {
        status: if has_feed_text && status != "not-html" {
            "feed-content".into()
        } else {
            status.into()
        },
        method: has_feed_text.then(|| "feed".to_string()),
        text: feed_text,
        error: Some(error),
        http_status,
        ..ArticleRecord::default()
    }
}

/// A transient failure: retried with backoff until the attempts run out.
fn retry_or_fail(
    ctx: &Context,
    page: &PendingPage,
    error: String,
    http_status: Option<u16>,
    feed_text: Option<String>,
    wait_secs: Option<i64>,
) -> ArticleRecord {
    let settings = ctx.config();
    let config = &settings.extract;
    if page.attempts + 1 >= config.max_attempts {
        return fallback(
            feed_text,
            "failed",
            format!("{error} (gave up after {} attempts)", page.attempts + 1),
            http_status,
        );
    }
    let backoff = crate::scheduler::error_backoff(
        page.attempts + 1,
        config.retry_base,
        config.retry_base * 64,
    );
    let wait = wait_secs.unwrap_or(0).max(backoff.as_secs() as i64);
    ArticleRecord {
        status: "retry".into(),
        error: Some(error),
        http_status,
        next_attempt_at: Some(Utc::now().timestamp() + wait),
        ..ArticleRecord::default()
    }
}
