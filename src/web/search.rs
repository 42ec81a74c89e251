//! `/search`: the archive's full-text search in the topic query language, with the CLI's
//! filters (`topic`, `feed`, `since`, `until`), newest first with keyset paging (the API's
//! cursor), snippets with the matched words marked, and an "on topic" button on every hit:
//! that is how a reader labels an item a topic missed.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::feedback::Given;
use super::layout::{self, Frame, Section};
use super::{PageError, WebState, blocking, internal};
use crate::query::{SearchError, SearchRequest, parse_when};
use crate::store::{SearchHit, SearchOrder};

/// Hits per page.
pub const PAGE_SIZE: usize = 30;
/// Feeds offered in a list; with more, the feed filter is a URL field.
const FEED_CHOICES: usize = 300;

#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    feed: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    cursor: String,
}

impl SearchParams {
    /// The query string of this search, without the cursor (for links to the next page).
    fn link(&self, cursor: Option<&str>) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q),
            ("topic", &self.topic),
            ("feed", &self.feed),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        if let Some(c) = cursor {
            q.append_pair("cursor", c);
        }
        format!("/search?{}", q.finish())
    }
}

/// What a search found, or why it could not run (shown above the form).
enum Outcome {
    Hits {
        hits: Vec<SearchHit>,
        next: Option<String>,
        given: Given,
    },
    Refused(String),
}

fn request(p: &SearchParams, now: i64) -> Result<SearchRequest, String> {
    let when = |key: &str, v: &str| -> Result<Option<i64>, String> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        parse_when(v, now)
            .map(Some)
            .map_err(|e| format!("{key}: {e}"))
    };
    let before = match p.cursor.trim() {
        "" => None,
        c => Some(
            crate::api::parse_cursor(c)
                .ok_or_else(|| format!("cursor `{c}` is not a valid page cursor"))?,
        ),
    };
    let nonempty = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(SearchRequest {
        query: p.q.clone(),
        topic: nonempty(&p.topic),
        feed_url: nonempty(&p.feed),
        since: when("since", &p.since)?,
        until: when("until", &p.until)?,
        before,
        order: SearchOrder::Newest,
        limit: PAGE_SIZE,
        now,
    })
}

pub async fn search(
    State(state): State<WebState>,
    Query(p): Query<SearchParams>,
) -> Result<Response, PageError> {
    let frame = state.frame();
    let config = state.ctx.config();
    let topics: Vec<(String, String)> = config
        .topics
        .defs
        .iter()
        .map(|d| (d.name.clone(), d.title.clone()))
        .collect();
    let outcome = match request(&p, frame.now) {
        Err(message) => Outcome::Refused(message),
        Ok(req) => {
            blocking(&state.ctx, move |ctx| {
                let aliases = crate::matcher::Aliases::parse(&ctx.config().topics.aliases)
                    .map_err(|e| internal(format!("aliases: {e}")))?;
                match crate::query::search(&ctx.store, &aliases, &req) {
                    Ok(hits) => {
                        let next = (hits.len() == req.limit)
                            .then(|| hits.last().map(|h| format!("{}_{}", h.published_at, h.id)))
                            .flatten();
                        let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
                        let given = Given::load(ctx, &ids)?;
                        Ok(Outcome::Hits { hits, next, given })
                    }
                    Err(SearchError::Store(e)) => Err(internal(e)),
                    Err(other) => Ok(Outcome::Refused(other.to_string())),
                }
            })
            .await?
        }
    };
    let feeds = blocking(&state.ctx, |ctx| ctx.store.list_feeds().map_err(internal)).await?;
    let feed_choices: Vec<(String, String)> = feeds
        .iter()
        .map(|f| (f.url.clone(), f.display_title().to_string()))
        .collect();
    let status = match outcome {
        Outcome::Refused(_) => StatusCode::BAD_REQUEST,
        Outcome::Hits { .. } => StatusCode::OK,
    };
    let body = render(&frame, &p, &topics, &feed_choices, &outcome);
    Ok((
        status,
        layout::page(&frame, "Search", Section::Search, body),
    )
        .into_response())
}

fn form(p: &SearchParams, topics: &[(String, String)], feeds: &[(String, String)]) -> Markup {
    html! {
        form.search method="get" action="/search" role="search" {
            div.q {
                label for="q" class="visually-hidden" { "Query" }
                input #q type="search" name="q" value=(p.q) placeholder="\"north korea\" AND (russia OR moscow)" autofocus;
                button type="submit" { "Search" }
            }
            div.filters {
                label { "Topic "
                    select name="topic" {
                        option value="" { "any" }
                        @for (name, title) in topics {
                            option value=(name) selected[*name == p.topic] { (if title.is_empty() { name } else { title }) }
                        }
                    }
                }
                label { "Feed "
                    @if feeds.len() <= FEED_CHOICES {
                        select name="feed" {
                            option value="" { "any" }
                            @for (url, title) in feeds {
                                option value=(url) selected[*url == p.feed] { (title) }
                            }
                        }
                    } @else {
                        input type="url" name="feed" value=(p.feed) placeholder="feed URL" size="24";
                    }
                }
                label { "Since " input type="text" name="since" value=(p.since) placeholder="7d or 2026-01-31" size="12"; }
                label { "Until " input type="text" name="until" value=(p.until) placeholder="date" size="12"; }
            }
            details.help {
                summary { "Query language" }
                p.small {
                    "Words, " code { "\"phrases\"" } ", " code { "AND" } " (or a space), " code { "OR" } ", "
                    code { "NOT" } ", " code { "(groups)" } ", " code { "prefix*" } ", "
                    code { "title:" } " / " code { "summary:" } " / " code { "text:" } ", "
                    code { "NEAR/5(a, b)" } ", " code { "@aliases" } " from the config; "
                    code { "feed:" } ", " code { "url:" } ", " code { "author:" } " filter. Case, accents and hyphens fold."
                }
            }
        }
    }
}

fn on_topic_form(
    frame: &Frame,
    hit: &SearchHit,
    topics: &[(String, String)],
    given: &Given,
    back: &str,
) -> Markup {
    let labelled: Vec<&str> = topics
        .iter()
        .filter(|(name, _)| given.of(name, hit.id) == Some(layout::Verdict::Relevant))
        .map(|(name, _)| name.as_str())
        .collect();
    html! {
        @if !topics.is_empty() {
            form.ontopic method="post" action={"/items/" (hit.id) "/feedback"} {
                (layout::csrf_field(frame))
                input type="hidden" name="relevant" value="yes";
                input type="hidden" name="back" value=(back);
                @if topics.len() == 1 {
                    input type="hidden" name="topic" value=(topics[0].0);
                } @else {
                    label class="visually-hidden" for={"t" (hit.id)} { "Topic" }
                    select id={"t" (hit.id)} name="topic" {
                        @for (name, title) in topics {
                            option value=(name) { (if title.is_empty() { name } else { title }) }
                        }
                    }
                }
                button type="submit" { "On topic" }
                @if !labelled.is_empty() {
                    span.small.chosen { " ✓ on topic: " (labelled.join(", ")) }
                }
            }
        }
    }
}

fn render(
    frame: &Frame,
    p: &SearchParams,
    topics: &[(String, String)],
    feeds: &[(String, String)],
    outcome: &Outcome,
) -> Markup {
    let back = p.link((!p.cursor.is_empty()).then_some(p.cursor.as_str()));
    html! {
        h1 { "Search" }
        (form(p, topics, feeds))
        @match outcome {
            Outcome::Refused(message) => {
                pre.error role="alert" { (message) }
            }
            Outcome::Hits { hits, next, given } => {
                @if hits.is_empty() {
                    p.empty { "Nothing found." }
                }
                ol.hits {
                    @for hit in hits {
                        li.hit id={"i" (hit.id)} {
                            h3 { a href={"/item/" (hit.id)} { (layout::title_text(hit.title.as_deref())) } }
                            p.meta {
                                span.feed { (hit.feed_title) }
                                (layout::dot()) (layout::time(hit.published_at, frame.now))
                                @if let Some(host) = hit.url.as_deref().and_then(layout::host_of) {
                                    (layout::dot()) (layout::link_out(hit.url.as_deref(), &format!("{host} ↗")))
                                }
                            }
                            p.snippet { (layout::marked(&hit.snippet)) }
                            (on_topic_form(frame, hit, topics, given, &format!("{back}#i{}", hit.id)))
                        }
                    }
                }
                @if let Some(cursor) = next {
                    nav.paging { a rel="next" href=(p.link(Some(cursor))) { "Older →" } }
                }
            }
        }
    }
}
