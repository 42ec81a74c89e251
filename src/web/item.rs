//! `/item/{id}`: one story as one item carries it: title, sources, the link out, its matches
//! with the matcher's full explanation, the delivery status per channel, and the article text
//! (plain text; the feed's summary reduced to text when no article was extracted).

use axum::extract::{Path, State};
use maud::{Markup, html};

use super::deliveries::status_badge;
use super::feedback::Given;
use super::layout::{self, Frame, Section};
use super::{PageError, WebState, blocking, internal};
use crate::store::{DeliveryRow, ItemDetail, ItemMatch, StorySource};

struct ItemPage {
    detail: ItemDetail,
    sources: Vec<StorySource>,
    deliveries: Vec<DeliveryRow>,
    /// The matcher's account of each match, as the topic reads now (`None`: it no longer
    /// matches, or the topic is gone).
    explanations: Vec<Option<String>>,
    given: Given,
}

fn load(ctx: &crate::pipeline::Context, id: i64) -> Result<Option<ItemPage>, PageError> {
    let Some(detail) = ctx.store.item_detail(id).map_err(internal)? else {
        return Ok(None);
    };
    let story = ctx.store.item_story(id).map_err(internal)?;
    let (sources, deliveries) = match story {
        Some(s) => (
            ctx.store.story_sources(&[s]).map_err(internal)?,
            ctx.store.story_deliveries(s).map_err(internal)?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let config = ctx.config();
    let input = ctx.store.match_input(id).map_err(internal)?;
    let doc = input.as_ref().map(crate::pipeline::matching::prepare_input);
    let explanations = detail
        .matches
        .iter()
        .map(|m| {
            let topic = config.topics.compiled.iter().find(|t| t.name == m.topic)?;
            let doc = doc.as_ref()?;
            let result = topic.matches(doc)?;
            Some(crate::matcher::explain(&topic.query, doc, &result))
        })
        .collect();
    let given = Given::load(ctx, &[id])?;
    Ok(Some(ItemPage {
        detail,
        sources,
        deliveries,
        explanations,
        given,
    }))
}

pub async fn item(State(state): State<WebState>, Path(id): Path<i64>) -> Result<Markup, PageError> {
    let frame = state.frame();
    let page = blocking(&state.ctx, move |ctx| load(ctx, id))
        .await?
        .ok_or_else(|| PageError::not_found(format!("no item with id {id}")))?;
    Ok(render(&frame, &page))
}

fn match_section(
    frame: &Frame,
    m: &ItemMatch,
    explanation: Option<&str>,
    given: &Given,
    item_id: i64,
) -> Markup {
    let anchor = format!("m{}", m.id);
    let mut stored = String::new();
    layout::write_terms(&mut stored, &m.terms.to_string(), "");
    html! {
        article.match id=(anchor) {
            h3 { a href={"/topic/" (m.topic)} { (m.topic) } }
            p.meta {
                "score " (format!("{:.2}", m.score)) (layout::dot()) "matched " (layout::time(m.matched_at, frame.now))
            }
            details.why open {
                summary { "Why it matched" }
                @match explanation {
                    Some(text) => pre { (text) },
                    None => {
                        p.small { "The topic as configured now does not match this item; the terms stored when it matched:" }
                        pre { (stored) }
                    }
                }
            }
            (layout::feedback_buttons(frame, m.id, given.of(&m.topic, item_id), &format!("/item/{item_id}#{anchor}")))
        }
    }
}

fn render(frame: &Frame, page: &ItemPage) -> Markup {
    let d = &page.detail;
    let title = layout::title_text(d.title.as_deref());
    let others: Vec<&StorySource> = page.sources.iter().filter(|s| s.item_id != d.id).collect();
    let summary_text = d
        .summary
        .as_deref()
        .map(crate::plaintext::html_to_text)
        .unwrap_or_default();
    let back = format!("/item/{}", d.id);
    let body = html! {
        article.item {
            h1 { (title) }
            p.meta {
                a href={"/feed/" (d.feed_id)} { (d.feed_title) }
                @if let Some(author) = d.author.as_deref().filter(|a| !a.trim().is_empty()) {
                    (layout::dot()) span.author { (author) }
                }
                (layout::dot()) "published " (layout::time(d.published_at, frame.now))
                (layout::dot()) "seen " (layout::time(d.first_seen_at, frame.now))
            }
            @if let Some(url) = d.url.as_deref().and_then(layout::safe_href) {
                p.linkout {
                    (layout::link_out(Some(url), &format!("Read it at {} ↗", layout::host_of(url).unwrap_or_default())))
                }
            }
            section.sources {
                h2 { "Sources" }
                @if others.is_empty() {
                    p.small { "Only " (d.feed_title) " carried this story." }
                } @else {
                    ul {
                        li { strong { (d.feed_title) } " (this copy)" }
                        @for s in &others {
                            li {
                                a href={"/item/" (s.item_id)} { (s.feed_title) }
                                ": " (layout::title_text(s.title.as_deref()))
                                (layout::dot()) (layout::time(s.published_at, frame.now))
                                @if let Some(url) = s.url.as_deref().and_then(layout::safe_href) {
                                    (layout::dot()) (layout::link_out(Some(url), "↗"))
                                }
                            }
                        }
                    }
                }
            }
            section.matches {
                h2 { "Topics" }
                @if d.matches.is_empty() {
                    p.small { "No topic matched this item." }
                }
                @for (m, explanation) in d.matches.iter().zip(&page.explanations) {
                    (match_section(frame, m, explanation.as_deref(), &page.given, d.id))
                }
            }
            section.text {
                @match (d.article_text.as_deref().filter(|t| !t.trim().is_empty()), d.article_status.as_deref()) {
                    (Some(text), _) => {
                        h2 { "Article text" }
                        div.prose { (layout::paragraphs(text)) }
                    }
                    (None, status) => {
                        h2 { "Summary" }
                        p.small {
                            @match status {
                                Some(s) => { "No article text (extraction: " (s) "); the feed's summary as text:" }
                                None => { "No article text (extraction is off for this feed, or has not run yet); the feed's summary as text:" }
                            }
                        }
                        div.prose { (layout::paragraphs(&summary_text)) }
                    }
                }
            }
            section.deliveries {
                h2 { "Deliveries" }
                @if page.deliveries.is_empty() {
                    p.small { "Nothing of this story is routed to a webhook or a digest." }
                } @else {
                    div.scroll {
                        table {
                            thead { tr { th { "Channel" } th { "Topic" } th { "Status" } th.num { "Attempts" } th { "Last error" } th {} } }
                            tbody {
                                @for dl in &page.deliveries {
                                    tr {
                                        td { (dl.channel) }
                                        td { (dl.topic) }
                                        td { (status_badge(&dl.status)) }
                                        td.num { (dl.attempts) }
                                        td.error { (dl.last_error.as_deref().unwrap_or("")) }
                                        td { (super::deliveries::retry_button(frame, dl, &back)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    layout::page(frame, title, Section::None, body)
}
