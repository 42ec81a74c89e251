//! `/deliveries`: the notification outbox by status (held, pending, sent, dead, backfill,
//! expired), with a retry button on each dead delivery and one for every dead delivery.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Redirect;
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{self, Frame, Section};
use super::{CsrfOnly, PageError, WebState, auth, blocking, internal};
use crate::store::DeliveryRow;

/// Deliveries shown on one page.
const PAGE_SIZE: usize = 200;
/// The statuses, in the order of a delivery's life.
const STATUSES: [&str; 6] = ["held", "pending", "sent", "dead", "backfill", "expired"];

pub fn status_badge(status: &str) -> Markup {
    let class = match status {
        "sent" => "good",
        "dead" => "bad",
        "pending" | "held" => "warn",
        _ => "muted",
    };
    html! { span class={"badge " (class)} { (status) } }
}

/// A retry button for a dead delivery (nothing for the others).
pub fn retry_button(frame: &Frame, d: &DeliveryRow, back: &str) -> Markup {
    html! {
        @if d.status == "dead" {
            form.inline method="post" action={"/deliveries/" (d.id) "/retry"} {
                (layout::csrf_field(frame))
                input type="hidden" name="back" value=(back);
                button type="submit" { "Retry" }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct DeliveriesParams {
    status: Option<String>,
}

pub async fn deliveries(
    State(state): State<WebState>,
    Query(p): Query<DeliveriesParams>,
) -> Result<Markup, PageError> {
    let frame = state.frame();
    let status = p.status.filter(|s| !s.is_empty());
    let wanted = status.clone();
    let (rows, counts) = blocking(&state.ctx, move |ctx| {
        Ok((
            ctx.store
                .list_deliveries(wanted.as_deref(), PAGE_SIZE)
                .map_err(internal)?,
            ctx.store.delivery_counts().map_err(internal)?,
        ))
    })
    .await?;
    let count = |s: &str| {
        counts
            .iter()
            .find(|(k, _)| k == s)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    let back = match &status {
        Some(s) => format!("/deliveries?status={s}"),
        None => "/deliveries".to_string(),
    };
    let body = html! {
        h1 { "Deliveries" }
        nav.periods aria-label="Status" {
            @if status.is_none() {
                a href="/deliveries" aria-current="page" { "all " (total) }
            } @else {
                a href="/deliveries" { "all " (total) }
            }
            @for s in STATUSES {
                @let href = format!("/deliveries?status={s}");
                @if status.as_deref() == Some(s) {
                    a href=(href) aria-current="page" { (s) " " (count(s)) }
                } @else {
                    a href=(href) { (s) " " (count(s)) }
                }
            }
        }
        @if count("dead") > 0 {
            form.inline method="post" action="/deliveries/retry-dead" {
                (layout::csrf_field(&frame))
                input type="hidden" name="back" value=(back);
                button type="submit" { "Retry every dead delivery (" (count("dead")) ")" }
            }
        }
        @if rows.is_empty() {
            p.empty { "No deliveries." }
        } @else {
            div.scroll {
                table.deliveries {
                    thead { tr { th.num { "#" } th { "Story" } th { "Channel" } th { "Topic" } th { "Status" } th.num { "Tries" } th { "When" } th { "Last error" } th {} } }
                    tbody {
                        @for d in &rows {
                            tr id={"d" (d.id)} {
                                td.num { (d.id) }
                                td { (layout::title_text(d.title.as_deref())) }
                                td { (d.channel) }
                                td { (d.topic) }
                                td { (status_badge(&d.status)) }
                                td.num { (d.attempts) }
                                td {
                                    @match d.sent_at {
                                        Some(t) => { "sent " (layout::time(t, frame.now)) }
                                        None => { "due " (layout::time(d.due_at, frame.now)) }
                                    }
                                }
                                td.error { (d.last_error.as_deref().unwrap_or("")) }
                                td { (retry_button(&frame, d, &format!("{back}#d{}", d.id))) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        &frame,
        "Deliveries",
        Section::Deliveries,
        body,
    ))
}

/// `POST /deliveries/{id}/retry`: makes one delivery due again.
pub async fn retry(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CsrfOnly>,
) -> Result<Redirect, PageError> {
    state.auth.check_form(&headers, &form.csrf)?;
    let now = chrono::Utc::now().timestamp();
    let n = blocking(&state.ctx, move |ctx| {
        ctx.store.retry_deliveries(Some(id), now).map_err(internal)
    })
    .await?;
    tracing::info!(delivery = id, retried = n, "web: delivery retried");
    Ok(Redirect::to(&auth::local_path(form.back.as_deref())))
}

/// `POST /deliveries/retry-dead`: makes every dead delivery due again.
pub async fn retry_dead(
    State(state): State<WebState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CsrfOnly>,
) -> Result<Redirect, PageError> {
    state.auth.check_form(&headers, &form.csrf)?;
    let now = chrono::Utc::now().timestamp();
    let n = blocking(&state.ctx, move |ctx| {
        ctx.store.retry_deliveries(None, now).map_err(internal)
    })
    .await?;
    tracing::info!(retried = n, "web: dead deliveries retried");
    Ok(Redirect::to(&auth::local_path(form.back.as_deref())))
}
