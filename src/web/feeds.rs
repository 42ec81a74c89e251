//! `/feeds` and `/feed/{id}`: each feed's health (last poll, result, the error in words,
//! learned and pending redirects, gone, silent) and a feed's items, newest first.

use axum::extract::{Path, Query, State};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{self, Frame, Section};
use super::{PageError, WebState, blocking, internal};
use crate::model::{Feed, FeedState, UnixTime};
use crate::store::{FeedProblem, SearchHit, SearchOrder, StoreError};

/// Items per page of one feed.
const ITEMS_PAGE: usize = 50;
/// Polls in a row a permanent redirect must repeat before it is learned (see `pipeline`).
const REDIRECT_POLLS: u32 = 3;

/// A feed's last failure in words a reader understands, from its HTTP status, result and
/// error text; `None` when the last poll went well.
pub fn error_in_words(feed: &Feed) -> Option<String> {
    if feed.state == FeedState::Gone {
        return Some(
            "Gone: the server answered 410, the publisher removed this feed. Polling stopped."
                .into(),
        );
    }
    if feed.last_result.as_deref() == Some("slow-down") {
        return Some(
            "The server asked tidings to slow down (429 or 503); the next poll waits as long as it asked."
                .into(),
        );
    }
    let error = feed.last_error.as_deref()?;
    if feed.consecutive_errors == 0 {
        return None;
    }
    let reason = |s: u16| {
        axum::http::StatusCode::from_u16(s)
            .ok()
            .and_then(|c| c.canonical_reason())
            .unwrap_or("")
    };
    let lower = error.to_ascii_lowercase();
    let words = match feed.last_status {
        Some(404) => "Not found: the server has no feed at this address (HTTP 404). It may have moved without a redirect.".to_string(),
        Some(s @ (401 | 403)) => format!("Refused: the server wants a login or blocks tidings (HTTP {s} {}). A header in the feed's settings may help.", reason(s)),
        Some(s @ 400..=499) => format!("The server rejected the request (HTTP {s} {}).", reason(s)),
        Some(s @ 500..=599) => format!("The server failed (HTTP {s} {}). tidings retries with a growing pause.", reason(s)),
        _ if lower.contains("parse feed") => {
            let detail = error.split_once(": ").map_or(error, |(_, rest)| rest);
            format!(
                "The answer is not a feed tidings can read: {}.",
                detail.trim_end_matches('.')
            )
        }
        _ if lower.contains("timed out") => "The server did not answer in time.".to_string(),
        _ if lower.contains("dns error") || lower.contains("failed to lookup") => {
            "The host name does not resolve (DNS).".to_string()
        }
        _ if lower.contains("connection refused") => {
            "Nothing answers at this address (connection refused).".to_string()
        }
        _ if lower.contains("address policy") => {
            "Not fetched: the address is private or otherwise not allowed by the fetch policy.".to_string()
        }
        _ if lower.contains("larger than") => {
            "The feed is larger than the size cap (fetch.max_body_bytes).".to_string()
        }
        _ if lower.contains("redirects") => "Too many redirects.".to_string(),
        _ if lower.contains("certificate") || lower.contains("tls") => {
            "The secure connection failed (TLS certificate or handshake).".to_string()
        }
        _ => format!("The last poll failed: {}.", error.trim_end_matches('.')),
    };
    let times = match feed.consecutive_errors {
        1 => String::new(),
        n => format!(" Failed {n} polls in a row."),
    };
    Some(format!("{words}{times}"))
}

/// Notes about where a feed lives now: a learned permanent redirect, or one being watched.
fn redirect_notes(feed: &Feed) -> Vec<String> {
    let mut notes = Vec::new();
    if feed.url != feed.origin_url {
        notes.push(format!(
            "Moved: polled at {} (added as {}), a permanent redirect learned after {REDIRECT_POLLS} polls.",
            feed.url, feed.origin_url
        ));
    }
    if let Some(to) = &feed.redirect_url {
        notes.push(format!(
            "Redirects permanently to {to}: seen on {} of the {REDIRECT_POLLS} polls in a row before tidings follows it for good.",
            feed.redirect_seen
        ));
    }
    notes
}

fn state_badge(feed: &Feed) -> Markup {
    let (class, label) = match (feed.state, feed.consecutive_errors) {
        (FeedState::Gone, _) => ("bad", "gone"),
        (FeedState::Disabled, _) => ("muted", "disabled"),
        (FeedState::Active, 0) => ("good", "ok"),
        (FeedState::Active, _) => ("bad", "failing"),
    };
    html! { span class={"badge " (class)} { (label) } }
}

/// The problem `feed_problems` reports for this feed (failing for days, silent far longer
/// than usual), unless the page says it already: a gone or moved feed is explained above.
fn problem_of<'a>(problems: &'a [FeedProblem], feed: &Feed) -> Option<&'a str> {
    if feed.state == FeedState::Gone || feed.url != feed.origin_url {
        return None;
    }
    problems
        .iter()
        .find(|p| p.url == feed.url)
        .map(|p| p.problem.as_str())
}

fn result_text(feed: &Feed) -> String {
    let result = feed
        .last_result
        .as_deref()
        .unwrap_or("not polled yet")
        .replace('-', " ");
    match feed.last_status {
        Some(s) if result == "error" => format!("error (HTTP {s})"),
        _ => result,
    }
}

pub async fn feeds(State(state): State<WebState>) -> Result<Markup, PageError> {
    let frame = state.frame();
    let now = frame.now;
    let (feeds, problems) = blocking(&state.ctx, move |ctx| {
        Ok((
            ctx.store.list_feeds().map_err(internal)?,
            ctx.store.feed_problems(now).map_err(internal)?,
        ))
    })
    .await?;
    let failing = feeds
        .iter()
        .filter(|f| f.state == FeedState::Active && f.consecutive_errors > 0)
        .count();
    let gone = feeds.iter().filter(|f| f.state == FeedState::Gone).count();
    let body = html! {
        h1 { "Feeds" }
        p.counts {
            (feeds.len()) " feeds" (layout::dot()) (failing) " failing" (layout::dot()) (gone) " gone"
        }
        div.scroll {
            table.feeds {
                thead { tr { th { "Feed" } th { "State" } th { "Last poll" } th { "Result" } th.num { "Items" } th { "Health" } } }
                tbody {
                    @for f in &feeds {
                        tr {
                            td {
                                a href={"/feed/" (f.id)} { (f.display_title()) }
                                @if f.display_title() != f.url { br; span.url { (f.url) } }
                            }
                            td { (state_badge(f)) }
                            td { @match f.last_polled_at { Some(t) => (layout::time(t, now)), None => "never" } }
                            td { (result_text(f)) }
                            td.num { (f.item_count) }
                            td.health {
                                @if let Some(words) = error_in_words(f) { p.error { (words) } }
                                @for note in redirect_notes(f) { p { (note) } }
                                @if let Some(problem) = problem_of(&problems, f) { p.warn { (problem) } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&frame, "Feeds", Section::Feeds, body))
}

#[derive(Debug, Deserialize)]
pub struct FeedParams {
    cursor: Option<String>,
}

struct FeedPage {
    feed: Feed,
    problem: Option<String>,
    items: Vec<SearchHit>,
}

pub async fn feed(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    Query(p): Query<FeedParams>,
) -> Result<Markup, PageError> {
    let frame = state.frame();
    let now = frame.now;
    let before = match p.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(crate::api::parse_cursor(c).ok_or_else(|| {
            PageError::new(
                axum::http::StatusCode::BAD_REQUEST,
                format!("cursor `{c}` is not a valid page cursor"),
            )
        })?),
    };
    let page = blocking(&state.ctx, move |ctx| {
        let feed = match ctx.store.feed(id) {
            Ok(f) => f,
            Err(StoreError::NotFound(m)) => return Err(PageError::not_found(m)),
            Err(e) => return Err(internal(e)),
        };
        let problems = ctx.store.feed_problems(now).map_err(internal)?;
        let problem = problem_of(&problems, &feed).map(str::to_string);
        let items = crate::query::search(
            &ctx.store,
            &crate::matcher::Aliases::default(),
            &crate::query::SearchRequest {
                query: String::new(),
                topic: None,
                feed_url: Some(feed.url.clone()),
                since: None,
                until: None,
                before,
                order: SearchOrder::Newest,
                limit: ITEMS_PAGE,
                now,
            },
        )
        .map_err(internal)?;
        Ok(FeedPage {
            feed,
            problem,
            items,
        })
    })
    .await?;
    Ok(render_feed(&frame, &page))
}

fn fact(label: &str, value: Markup) -> Markup {
    html! { dt { (label) } dd { (value) } }
}

fn optional_time(t: Option<UnixTime>, now: UnixTime) -> Markup {
    match t {
        Some(t) => layout::time(t, now),
        None => html! { "never" },
    }
}

fn render_feed(frame: &Frame, page: &FeedPage) -> Markup {
    let f = &page.feed;
    let now = frame.now;
    let next = (page.items.len() == ITEMS_PAGE)
        .then(|| page.items.last())
        .flatten()
        .map(|h| format!("/feed/{}?cursor={}_{}", f.id, h.published_at, h.id));
    let body = html! {
        h1 { (f.display_title()) " " (state_badge(f)) }
        @if let Some(words) = error_in_words(f) {
            (layout::notice("error", &words))
        }
        @if let Some(problem) = &page.problem {
            (layout::notice("warn", problem))
        }
        @for note in redirect_notes(f) {
            (layout::notice("info", &note))
        }
        dl.facts {
            (fact("Address", html! { (layout::link_out(Some(&f.url), &f.url)) }))
            @if f.origin_url != f.url { (fact("Added as", html! { (f.origin_url) })) }
            @if let Some(prev) = &f.previous_url { (fact("Moved from", html! { (prev) })) }
            @if let Some(site) = &f.site_url { (fact("Site", html! { (layout::link_out(Some(site), site)) })) }
            (fact("State", html! { (f.state.as_str()) " (" (f.source.as_str()) ")" }))
            (fact("Last poll", optional_time(f.last_polled_at, now)))
            (fact("Result", html! { (result_text(f)) }))
            (fact("Last success", optional_time(f.last_success_at, now)))
            @if f.state == FeedState::Active { (fact("Next poll", layout::time(f.next_poll_at, now))) }
            (fact("Errors in a row", html! { (f.consecutive_errors) }))
            @if let Some(e) = &f.last_error { (fact("Last error", html! { code { (e) } })) }
            (fact("Items", html! { (f.item_count) }))
        }
        h2 { "Items" }
        @if page.items.is_empty() { p.empty { "No items." } }
        ol.hits {
            @for hit in &page.items {
                li.hit {
                    h3 { a href={"/item/" (hit.id)} { (layout::title_text(hit.title.as_deref())) } }
                    p.meta {
                        (layout::time(hit.published_at, now))
                        @if let Some(host) = hit.url.as_deref().and_then(layout::host_of) {
                            (layout::dot()) (layout::link_out(hit.url.as_deref(), &format!("{host} ↗")))
                        }
                    }
                    @if !hit.snippet.is_empty() { p.snippet { (hit.snippet) } }
                }
            }
        }
        @if let Some(href) = next {
            nav.paging { a rel="next" href=(href) { "Older →" } }
        }
    };
    layout::page(frame, f.display_title(), Section::Feeds, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed() -> Feed {
        Feed {
            id: 1,
            origin_url: "https://a.example/feed".into(),
            url: "https://a.example/feed".into(),
            previous_url: None,
            source: crate::model::FeedSource::Config,
            state: FeedState::Active,
            settings: Default::default(),
            feed_title: None,
            site_url: None,
            etag: None,
            last_modified: None,
            next_poll_at: 0,
            last_polled_at: Some(0),
            last_success_at: None,
            last_status: None,
            last_result: Some("error".into()),
            consecutive_errors: 1,
            last_error: None,
            redirect_url: None,
            redirect_seen: 0,
            entries_skipped: 0,
            item_count: 0,
        }
    }

    #[test]
    fn errors_in_words() {
        let mut f = feed();
        f.last_status = Some(404);
        f.last_error = Some("fetch https://a.example/feed: HTTP 404".into());
        assert!(error_in_words(&f).unwrap().starts_with("Not found"));
        f.last_status = Some(503);
        f.consecutive_errors = 4;
        let w = error_in_words(&f).unwrap();
        assert!(
            w.contains("HTTP 503 Service Unavailable") && w.contains("4 polls in a row"),
            "{w}"
        );
        f.last_status = None;
        f.last_error = Some("parse feed https://a.example/feed: no root element".into());
        assert_eq!(
            error_in_words(&f).unwrap(),
            "The answer is not a feed tidings can read: no root element. Failed 4 polls in a row."
        );
        f.last_error = Some("fetch https://a.example/feed: timed out after 5s".into());
        assert!(
            error_in_words(&f)
                .unwrap()
                .starts_with("The server did not answer in time")
        );
        f.consecutive_errors = 0;
        f.last_result = Some("ok".into());
        assert_eq!(error_in_words(&f), None);
        f.state = FeedState::Gone;
        assert!(error_in_words(&f).unwrap().starts_with("Gone"));
    }

    #[test]
    fn redirects_in_words() {
        let mut f = feed();
        assert!(redirect_notes(&f).is_empty());
        f.redirect_url = Some("https://b.example/feed".into());
        f.redirect_seen = 2;
        assert!(redirect_notes(&f)[0].contains("seen on 2 of the 3 polls"));
        f.url = "https://b.example/feed".into();
        f.redirect_url = None;
        assert!(redirect_notes(&f)[0].starts_with("Moved: polled at https://b.example/feed"));
    }
}
