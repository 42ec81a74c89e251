//! The topics pages: `/` (every topic with its newest stories) and `/topic/{name}` (one topic's
//! matches of the last days). A story carried by several feeds is one entry, led by its
//! best-scoring copy, with "also in: …" naming the other sources.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use maud::{Markup, html};
use serde::Deserialize;

use super::feedback::Given;
use super::layout::{self, Frame, Section};
use super::{PageError, WebState, blocking, internal};
use crate::model::UnixTime;
use crate::store::{StorySource, TopicMatch, TopicStories};

/// Matches read for one topic on the overview, and the stories shown of each.
const OVERVIEW_MATCHES: usize = 300;
const OVERVIEW_STORIES: usize = 5;
/// Matches read for one topic's page.
pub const TOPIC_PAGE_MATCHES: usize = 2_000;
/// The period shown unless `since` says otherwise.
const DEFAULT_SINCE: &str = "7d";

/// One story of a topic: its best-scoring copy (on a tie, the first stored), the other copies the topic matched, and every
/// other source that carried it.
#[derive(Debug)]
pub struct StoryEntry<'a> {
    pub lead: &'a TopicMatch,
    /// Matches of the same topic on other copies of the story.
    pub other_matches: Vec<&'a TopicMatch>,
    /// The story's other items (other feeds, or the same feed again), oldest first.
    pub also_in: Vec<&'a StorySource>,
}

/// Groups a topic's matches (newest first) by story: one entry per story, in the order its
/// newest copy appears; `sources` are the stories' items (see `Store::topic_stories`).
pub fn group_by_story<'a>(
    matches: &'a [TopicMatch],
    sources: &'a [StorySource],
) -> Vec<StoryEntry<'a>> {
    let mut by_story: HashMap<i64, Vec<&StorySource>> = HashMap::new();
    for s in sources {
        by_story.entry(s.story_id).or_default().push(s);
    }
    let mut order: Vec<Vec<&TopicMatch>> = Vec::new();
    let mut slot: HashMap<i64, usize> = HashMap::new();
    for m in matches {
        match m.story_id {
            Some(story) => match slot.get(&story) {
                Some(&i) => order[i].push(m),
                None => {
                    slot.insert(story, order.len());
                    order.push(vec![m]);
                }
            },
            None => order.push(vec![m]),
        }
    }
    order
        .into_iter()
        .map(|copies| {
            let lead = copies
                .iter()
                .copied()
                .reduce(|best, m| {
                    // On a tie, the copy stored first (usually the original) leads.
                    let better =
                        m.score > best.score || (m.score == best.score && m.item_id < best.item_id);
                    if better { m } else { best }
                })
                .expect("a group holds at least one match");
            let other_matches = copies
                .iter()
                .copied()
                .filter(|m| m.match_id != lead.match_id)
                .collect();
            let also_in = lead
                .story_id
                .and_then(|s| by_story.get(&s))
                .map(|items| {
                    items
                        .iter()
                        .copied()
                        .filter(|s| s.item_id != lead.item_id)
                        .collect()
                })
                .unwrap_or_default();
            StoryEntry {
                lead,
                other_matches,
                also_in,
            }
        })
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct TopicParams {
    since: Option<String>,
}

/// Reads `since` (a duration like `7d`, a date, or `0` for all time).
fn since_param(since: Option<&str>, now: UnixTime) -> Result<(String, UnixTime), PageError> {
    let text = since
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_SINCE);
    let at = crate::query::parse_when(text, now)
        .map_err(|e| PageError::new(StatusCode::BAD_REQUEST, format!("since: {e}")))?;
    Ok((text.to_string(), at))
}

/// What a topic section shows: the topic and its stories' data.
struct TopicData {
    name: String,
    title: String,
    query: String,
    matches: Vec<TopicMatch>,
    sources: Vec<StorySource>,
    given: Given,
}

fn load_topic(
    ctx: &crate::pipeline::Context,
    def: &crate::config::TopicConfig,
    since: UnixTime,
    limit: usize,
) -> Result<TopicData, PageError> {
    let TopicStories { matches, sources } = ctx
        .store
        .topic_stories(&def.name, since, limit)
        .map_err(internal)?;
    let items: Vec<i64> = matches.iter().map(|m| m.item_id).collect();
    let given = Given::load(ctx, &items)?;
    Ok(TopicData {
        name: def.name.clone(),
        title: def.title.clone(),
        query: def.query.clone(),
        matches,
        sources,
        given,
    })
}

/// The period links shown above the stories.
fn period_links(base: &str, current: &str) -> Markup {
    let periods = [
        ("1d", "Day"),
        ("7d", "Week"),
        ("30d", "Month"),
        ("365d", "Year"),
        ("0", "All"),
    ];
    html! {
        nav.periods aria-label="Period" {
            @for (value, label) in periods {
                @let href = format!("{base}?since={value}");
                @if value == current {
                    a href=(href) aria-current="page" { (label) }
                } @else {
                    a href=(href) { (label) }
                }
            }
        }
    }
}

/// One story entry: title, sources, score, why it matched, the feedback buttons.
fn story(frame: &Frame, topic: &str, entry: &StoryEntry, given: &Given, back: &str) -> Markup {
    let m = entry.lead;
    let title = layout::title_text(m.title.as_deref());
    let anchor = format!("m{}", m.match_id);
    html! {
        article.story id=(anchor) {
            h3 { a href={"/item/" (m.item_id)} { (title) } }
            p.meta {
                span.feed { (m.feed_title) }
                (layout::dot()) (layout::time(m.published_at, frame.now))
                (layout::dot()) span.score title="match score" { "score " (format!("{:.2}", m.score)) }
                @if let Some(host) = m.url.as_deref().and_then(layout::host_of) {
                    (layout::dot()) (layout::link_out(m.url.as_deref(), &format!("{host} ↗")))
                }
            }
            @if !entry.also_in.is_empty() {
                p.also {
                    "Also in: "
                    @for (i, s) in entry.also_in.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href={"/item/" (s.item_id)} title=(layout::title_text(s.title.as_deref())) { (s.feed_title) }
                    }
                }
            }
            details.why {
                summary { "Why it matched" }
                pre { (explanation(m)) }
                @for other in &entry.other_matches {
                    p.small { "Also matched in " (other.feed_title) ", score " (format!("{:.2}", other.score)) "." }
                }
            }
            (layout::feedback_buttons(frame, m.match_id, given.of(topic, m.item_id), &format!("{back}#{anchor}")))
        }
    }
}

/// The stored explanation of a match, as `tidings matches list` and `topics test` print it.
pub fn explanation(m: &TopicMatch) -> String {
    let stage = if m.stage == "article" {
        "the article text"
    } else {
        "the title and summary"
    };
    let mut out = format!("score {:.2}, matched on {stage}\n", m.score);
    layout::write_terms(&mut out, &m.terms, "  ");
    out
}

/// The stories of one topic, `limit` of them at most.
fn topic_section(
    frame: &Frame,
    data: &TopicData,
    limit: Option<usize>,
    back: &str,
    heading: bool,
) -> Markup {
    let entries = group_by_story(&data.matches, &data.sources);
    let shown = limit.unwrap_or(entries.len()).min(entries.len());
    let title = if data.title.is_empty() {
        &data.name
    } else {
        &data.title
    };
    html! {
        section.topic {
            @if heading {
                h2 { a href={"/topic/" (data.name)} { (title) } }
            }
            p.counts {
                (entries.len()) " stories from " (data.matches.len()) " matches"
                @if limit.is_some() && shown < entries.len() {
                    (layout::dot()) a href={"/topic/" (data.name)} { "all " (entries.len()) " stories →" }
                }
            }
            @if entries.is_empty() {
                p.empty { "Nothing matched in this period." }
            }
            @for entry in entries.iter().take(shown) {
                (story(frame, &data.name, entry, &data.given, back))
            }
        }
    }
}

/// `/`: every configured topic with its newest stories.
pub async fn overview(
    State(state): State<WebState>,
    Query(p): Query<TopicParams>,
) -> Result<Markup, PageError> {
    let frame = state.frame();
    let (since_text, since) = since_param(p.since.as_deref(), frame.now)?;
    let defs = state.ctx.config().topics.defs.clone();
    let data = blocking(&state.ctx, move |ctx| {
        defs.iter()
            .map(|d| load_topic(ctx, d, since, OVERVIEW_MATCHES))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    let back = format!("/?since={since_text}");
    let body = html! {
        h1 { "Topics" }
        (period_links("/", &since_text))
        @if data.is_empty() {
            p.empty { "No topics are configured. Add a " code { "[[topic]]" } " to the config." }
        }
        @for topic in &data {
            (topic_section(&frame, topic, Some(OVERVIEW_STORIES), &back, true))
        }
    };
    Ok(layout::page(&frame, "Topics", Section::Topics, body))
}

/// `/topic/{name}`: one topic's stories of the period.
pub async fn topic(
    State(state): State<WebState>,
    Path(name): Path<String>,
    Query(p): Query<TopicParams>,
) -> Result<Markup, PageError> {
    let frame = state.frame();
    let (since_text, since) = since_param(p.since.as_deref(), frame.now)?;
    let def = state
        .ctx
        .config()
        .topics
        .defs
        .iter()
        .find(|d| d.name == name)
        .cloned()
        .ok_or_else(|| PageError::not_found(format!("no topic named `{name}` in the config")))?;
    let data = blocking(&state.ctx, move |ctx| {
        load_topic(ctx, &def, since, TOPIC_PAGE_MATCHES)
    })
    .await?;
    Ok(render_topic(&frame, &data, &since_text))
}

fn render_topic(frame: &Frame, data: &TopicData, since_text: &str) -> Markup {
    let base = format!("/topic/{}", data.name);
    let back = format!("{base}?since={since_text}");
    let title = if data.title.is_empty() {
        data.name.clone()
    } else {
        data.title.clone()
    };
    let body = html! {
        h1 { (title) }
        p.query { "Query: " code { (data.query) } }
        p.feedlink { a href={"/topics/" (data.name) ".atom"} { "Atom feed of this topic" } }
        (period_links(&base, since_text))
        @if data.matches.len() >= TOPIC_PAGE_MATCHES {
            (layout::notice("info", &format!("Showing the newest {TOPIC_PAGE_MATCHES} matches; choose a shorter period for the rest.")))
        }
        (topic_section(frame, data, None, &back, false))
    };
    layout::page(frame, &title, Section::Topics, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(match_id: i64, item_id: i64, story: Option<i64>, score: f64, feed: &str) -> TopicMatch {
        TopicMatch {
            match_id,
            item_id,
            score,
            terms: r#"[{"term": "lavrov", "field": "title", "count": 1, "context": "[Lavrov] visits"}]"#.into(),
            stage: "feed".into(),
            matched_at: 0,
            title: Some(format!("title {item_id}")),
            url: None,
            feed_id: 1,
            feed_title: feed.into(),
            published_at: 100 - item_id,
            story_id: story,
        }
    }

    fn src(story_id: i64, item_id: i64, feed: &str) -> StorySource {
        StorySource {
            story_id,
            item_id,
            feed_id: item_id,
            feed_title: feed.into(),
            title: None,
            url: None,
            published_at: 0,
        }
    }

    #[test]
    fn one_entry_per_story_led_by_its_best_copy() {
        let matches = vec![
            m(1, 10, Some(7), 2.0, "A"),
            m(2, 11, None, 1.0, "B"),
            m(3, 12, Some(7), 5.0, "C"),
            m(4, 13, Some(8), 1.0, "D"),
        ];
        let sources = vec![
            src(7, 10, "A"),
            src(7, 12, "C"),
            src(7, 14, "E (not matched)"),
            src(8, 13, "D"),
        ];
        let entries = group_by_story(&matches, &sources);
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].lead.match_id, 3);
        assert_eq!(
            entries[0]
                .other_matches
                .iter()
                .map(|m| m.match_id)
                .collect::<Vec<_>>(),
            vec![1]
        );
        let also: Vec<&str> = entries[0]
            .also_in
            .iter()
            .map(|s| s.feed_title.as_str())
            .collect();
        assert_eq!(also, vec!["A", "E (not matched)"]);
        assert_eq!(entries[1].lead.match_id, 2);
        assert!(entries[1].also_in.is_empty());
        assert_eq!(entries[2].lead.match_id, 4);
        assert!(entries[2].also_in.is_empty());
    }

    #[test]
    fn explanation_lists_the_terms() {
        let text = explanation(&m(1, 1, None, 3.5, "A"));
        assert_eq!(
            text,
            "score 3.50, matched on the title and summary\n  lavrov in title ×1: [Lavrov] visits\n"
        );
    }
}
