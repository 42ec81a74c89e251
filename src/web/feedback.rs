//! The reader's feedback: "relevant" / "not relevant" on a match, "on topic" on any item (how
//! a miss is labelled), written to the per-topic feedback store with origin `web` (the same
//! labels as `tidings matches mark` and `POST /api/…/feedback`); and the labels given so far,
//! to show beside the buttons.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Redirect;
use serde::Deserialize;

use super::layout::Verdict;
use super::{PageError, WebState, auth, blocking, internal};
use crate::store::{FeedbackOrigin, StoreError, parse_verdict};

/// The labels given so far, by (topic, item).
#[derive(Debug, Default)]
pub struct Given(HashMap<(String, i64), bool>);

impl Given {
    /// The labels given for these items, on every topic.
    pub fn load(ctx: &crate::pipeline::Context, items: &[i64]) -> Result<Given, PageError> {
        let labels = ctx.store.feedback_for_items(items).map_err(internal)?;
        Ok(Given(
            labels
                .into_iter()
                .map(|f| ((f.topic, f.item_id), f.relevant))
                .collect(),
        ))
    }

    /// The reader's word on `item` for `topic`, if any.
    pub fn of(&self, topic: &str, item: i64) -> Option<Verdict> {
        self.0.get(&(topic.to_string(), item)).map(|&relevant| {
            if relevant {
                Verdict::Relevant
            } else {
                Verdict::NotRelevant
            }
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct FeedbackForm {
    #[serde(default)]
    csrf: String,
    /// `yes` or `no` (any verdict `tidings matches mark` reads).
    #[serde(default)]
    relevant: String,
    /// The topic, on an item (a match names its own).
    topic: Option<String>,
    back: Option<String>,
}

/// Stores the label and sends the browser back where it was.
async fn store(
    state: &WebState,
    topic: String,
    item_id: i64,
    form: &FeedbackForm,
) -> Result<Redirect, PageError> {
    let relevant = parse_verdict(&form.relevant)
        .map_err(|e| PageError::new(StatusCode::BAD_REQUEST, format!("relevant: {e}")))?;
    let now = chrono::Utc::now().timestamp();
    let label_topic = topic.clone();
    blocking(&state.ctx, move |ctx| {
        match ctx
            .store
            .record_feedback(&label_topic, item_id, relevant, FeedbackOrigin::Web, now)
        {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound(m)) => Err(PageError::not_found(m)),
            Err(e) => Err(internal(e)),
        }
    })
    .await?;
    tracing::info!(topic, item_id, relevant, "web: reader feedback stored");
    Ok(Redirect::to(&auth::local_path(form.back.as_deref())))
}

/// `POST /matches/{id}/feedback`: labels the match's item for the match's topic.
pub async fn on_match(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<FeedbackForm>,
) -> Result<Redirect, PageError> {
    state.auth.check_form(&headers, &form.csrf)?;
    let (topic, item_id) = blocking(&state.ctx, move |ctx| {
        ctx.store.match_target(id).map_err(internal)
    })
    .await?
    .ok_or_else(|| PageError::not_found(format!("no match with id {id}")))?;
    store(&state, topic, item_id, &form).await
}

/// `POST /items/{id}/feedback`: labels any item for a configured topic (a miss, when the
/// topic did not match it).
pub async fn on_item(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<FeedbackForm>,
) -> Result<Redirect, PageError> {
    state.auth.check_form(&headers, &form.csrf)?;
    let topic = form.topic.clone().unwrap_or_default();
    if !state
        .ctx
        .config()
        .topics
        .defs
        .iter()
        .any(|d| d.name == topic)
    {
        return Err(PageError::new(
            StatusCode::BAD_REQUEST,
            format!("topic: `{topic}` is not a configured topic"),
        ));
    }
    store(&state, topic, id, &form).await
}
