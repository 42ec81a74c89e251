//! The optional HTTP API (axum): JSON search and listings under `/api/`, topic Atom feeds,
//! `/healthz` and `/metrics`. Off unless `[api]` is configured; `tidings serve` runs it alone.
//! The reading pages of `crate::web` are mounted under `/` on the same router.
//!
//! With a token configured, `/api/` and `/topics/` require `Authorization: Bearer TOKEN`
//! (feeds also accept `?token=TOKEN`, since feed readers rarely send headers); `/healthz` and
//! `/metrics` stay open. Reader feedback is the one write: `POST …/feedback` with a JSON body
//! (a JSON content type, which a cross-site form cannot send without a CORS preflight). Every store call runs on the blocking pool.

mod metrics;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::pipeline::Context;
use crate::query::{SearchError, SearchRequest, hit_json, parse_when, rfc3339};
use crate::store::{FeedbackOrigin, SearchOrder, StoreError, parse_verdict};

/// Items per page unless `limit` says otherwise, and the most a page may hold.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;
/// Entries in a topic's Atom feed.
pub const FEED_ENTRIES: usize = 100;

#[derive(Clone)]
struct AppState {
    ctx: Arc<Context>,
    token: Option<Arc<str>>,
}

/// An error answer: a status and a message, sent as `{"error": "..."}`.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> ApiError {
        match e {
            SearchError::Store(e) => {
                tracing::error!(error = %e, "api: search failed");
                ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
            }
            other => ApiError(StatusCode::BAD_REQUEST, other.to_string()),
        }
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "api: request failed");
    ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

/// Runs `f` on the blocking pool with the context.
async fn blocking<T: Send + 'static>(
    ctx: &Arc<Context>,
    f: impl FnOnce(&Context) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let ctx = ctx.clone();
    tokio::task::spawn_blocking(move || f(&ctx))
        .await
        .map_err(internal)?
}

/// The router, without binding (tests and `serve` use it).
pub fn router(ctx: Arc<Context>, token: Option<String>) -> Router {
    let state = AppState {
        ctx,
        token: token.map(Arc::from),
    };
    let guarded = Router::new()
        .route("/api/items", get(items))
        .route("/api/items/{id}", get(item))
        .route("/api/items/{id}/feedback", post(item_feedback))
        .route("/api/matches/{id}/feedback", post(match_feedback))
        .route("/api/feeds", get(feeds))
        .route("/api/topics", get(topics))
        .route("/api/deliveries", get(deliveries))
        .route("/topics/{file}", get(topic_feed))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .merge(guarded)
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::metrics))
        .with_state(state.clone())
        .merge(crate::web::router(
            state.ctx,
            state.token.as_deref().map(str::to_string),
        ))
}

/// Serves the API on `listen` until `cancel` fires.
pub async fn serve(
    ctx: Arc<Context>,
    listen: SocketAddr,
    token: Option<String>,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("api: cannot listen on {listen}: {e}"))?;
    let bound = listener.local_addr()?;
    tracing::info!(listen = %bound, token = token.is_some(), "api listening");
    axum::serve(listener, router(ctx, token))
        .with_graceful_shutdown(cancel.cancelled_owned())
        .await
        .map_err(|e| anyhow::anyhow!("api on {bound}: {e}"))
}

/// Compares in constant time (for the token).
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(token) = state.token.as_deref() else {
        return next.run(req).await;
    };
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let in_query = req.uri().path().starts_with("/topics/")
        && req.uri().query().is_some_and(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .any(|(k, v)| k == "token" && same(v.as_bytes(), token.as_bytes()))
        });
    if bearer.is_some_and(|b| same(b.as_bytes(), token.as_bytes())) || in_query {
        next.run(req).await
    } else {
        let mut resp = ApiError(
            StatusCode::UNAUTHORIZED,
            "a valid token is required: Authorization: Bearer TOKEN".into(),
        )
        .into_response();
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        resp
    }
}

#[derive(Debug, Deserialize)]
struct ItemsParams {
    q: Option<String>,
    topic: Option<String>,
    feed: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// A cursor is `PUBLISHED_ID` of the last item of the previous page.
pub(crate) fn parse_cursor(text: &str) -> Option<(i64, i64)> {
    let (p, id) = text.split_once('_')?;
    Some((p.parse().ok()?, id.parse().ok()?))
}

async fn items(
    State(state): State<AppState>,
    Query(p): Query<ItemsParams>,
) -> Result<axum::Json<Value>, ApiError> {
    let now = chrono::Utc::now().timestamp();
    let bad = |m: String| ApiError(StatusCode::BAD_REQUEST, m);
    let when = |key: &str, v: &Option<String>| -> Result<Option<i64>, ApiError> {
        v.as_deref()
            .map(|t| parse_when(t, now).map_err(|m| bad(format!("{key}: {m}"))))
            .transpose()
    };
    let before = match p.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(parse_cursor(c).ok_or_else(|| bad(format!("cursor `{c}` is not valid")))?),
    };
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let req = SearchRequest {
        query: p.q.unwrap_or_default(),
        topic: p.topic.filter(|t| !t.is_empty()),
        feed_url: p.feed.filter(|f| !f.is_empty()),
        since: when("since", &p.since)?,
        until: when("until", &p.until)?,
        before,
        order: SearchOrder::Newest,
        limit,
        now,
    };
    let hits = blocking(&state.ctx, move |ctx| {
        let aliases = crate::matcher::Aliases::parse(&ctx.config().topics.aliases)
            .map_err(|e| internal(format!("aliases: {e}")))?;
        Ok(crate::query::search(&ctx.store, &aliases, &req)?)
    })
    .await?;
    let next_cursor = (hits.len() == limit)
        .then(|| hits.last().map(|h| format!("{}_{}", h.published_at, h.id)))
        .flatten();
    Ok(axum::Json(json!({
        "items": hits.iter().map(hit_json).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    })))
}

async fn item(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<axum::Json<Value>, ApiError> {
    let detail = blocking(&state.ctx, move |ctx| {
        ctx.store.item_detail(id).map_err(internal)
    })
    .await?
    .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no item with id {id}")))?;
    let mut v = serde_json::to_value(&detail).map_err(internal)?;
    v["published"] = json!(rfc3339(detail.published_at));
    v["first_seen"] = json!(rfc3339(detail.first_seen_at));
    for (m, src) in v["matches"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .zip(&detail.matches)
    {
        m["matched"] = json!(rfc3339(src.matched_at));
    }
    Ok(axum::Json(v))
}

/// The body of a feedback POST: `{"label": "relevant"}` (or `"irrelevant"`); on an item,
/// also the topic it is labelled for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackBody {
    label: String,
    topic: Option<String>,
}

/// The body, or axum's reason for refusing it (wrong content type, bad JSON) as a JSON error.
fn feedback_body(
    body: Result<axum::Json<FeedbackBody>, JsonRejection>,
) -> Result<FeedbackBody, ApiError> {
    body.map(|axum::Json(b)| b)
        .map_err(|e| ApiError(e.status(), format!("feedback body: {}", e.body_text())))
}

/// Stores a label and answers with what was stored.
async fn store_feedback(
    state: &AppState,
    topic: String,
    item_id: i64,
    label: &str,
) -> Result<axum::Json<Value>, ApiError> {
    let relevant = parse_verdict(label).map_err(|m| ApiError(StatusCode::BAD_REQUEST, m))?;
    let stored_topic = topic.clone();
    blocking(&state.ctx, move |ctx| {
        let now = chrono::Utc::now().timestamp();
        match ctx
            .store
            .record_feedback(&topic, item_id, relevant, FeedbackOrigin::Api, now)
        {
            Err(StoreError::NotFound(m)) => Err(ApiError(StatusCode::NOT_FOUND, m)),
            other => other.map_err(internal),
        }
    })
    .await?;
    Ok(axum::Json(json!({
        "topic": stored_topic,
        "item_id": item_id,
        "relevant": relevant,
    })))
}

/// `POST /api/matches/{id}/feedback`: labels the match's item for the match's topic.
async fn match_feedback(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    body: Result<axum::Json<FeedbackBody>, JsonRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let body = feedback_body(body)?;
    if body.topic.is_some() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "a match's label is for the match's own topic; leave `topic` out".into(),
        ));
    }
    let (topic, item_id) = blocking(&state.ctx, move |ctx| {
        ctx.store.match_target(id).map_err(internal)
    })
    .await?
    .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no match with id {id}")))?;
    store_feedback(&state, topic, item_id, &body.label).await
}

/// `POST /api/items/{id}/feedback`: labels any item for a configured topic (a miss, when the
/// topic did not match it).
async fn item_feedback(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    body: Result<axum::Json<FeedbackBody>, JsonRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let body = feedback_body(body)?;
    let topic = body.topic.clone().unwrap_or_default();
    let known = state
        .ctx
        .config()
        .topics
        .defs
        .iter()
        .any(|d| d.name == topic);
    if !known {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("`topic` must name a configured topic; `{topic}` is not one"),
        ));
    }
    store_feedback(&state, topic, id, &body.label).await
}

async fn feeds(State(state): State<AppState>) -> Result<axum::Json<Value>, ApiError> {
    let feeds = blocking(&state.ctx, |ctx| ctx.store.list_feeds().map_err(internal)).await?;
    // Request headers may hold secrets: never listed.
    let list: Vec<Value> = feeds
        .iter()
        .map(|f| {
            json!({
                "id": f.id,
                "url": f.url,
                "origin_url": f.origin_url,
                "title": f.display_title(),
                "site_url": f.site_url,
                "state": f.state.as_str(),
                "source": f.source.as_str(),
                "tags": f.settings.tags,
                "items": f.item_count,
                "last_polled_at": f.last_polled_at.map(rfc3339),
                "last_success_at": f.last_success_at.map(rfc3339),
                "last_result": f.last_result,
                "last_status": f.last_status,
                "consecutive_errors": f.consecutive_errors,
                "last_error": f.last_error,
            })
        })
        .collect();
    Ok(axum::Json(json!({ "feeds": list })))
}

async fn topics(State(state): State<AppState>) -> Result<axum::Json<Value>, ApiError> {
    let counts = blocking(&state.ctx, |ctx| {
        ctx.store.topic_match_counts().map_err(internal)
    })
    .await?;
    let list: Vec<Value> = state
        .ctx
        .config()
        .topics
        .defs
        .iter()
        .map(|d| {
            let matches = counts
                .iter()
                .find(|(t, _)| *t == d.name)
                .map(|(_, n)| *n)
                .unwrap_or(0);
            json!({
                "name": d.name,
                "title": d.title,
                "query": d.query,
                "min_score": d.min_score,
                "matches": matches,
                "feed": format!("/topics/{}.atom", d.name),
            })
        })
        .collect();
    Ok(axum::Json(json!({ "topics": list })))
}

#[derive(Debug, Deserialize)]
struct DeliveriesParams {
    status: Option<String>,
    limit: Option<usize>,
}

/// Deliveries from the outbox; an empty list while the database has no deliveries table.
async fn deliveries(
    State(state): State<AppState>,
    Query(p): Query<DeliveriesParams>,
) -> Result<axum::Json<Value>, ApiError> {
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let rows = blocking(&state.ctx, move |ctx| {
        ctx.store
            .list_deliveries(p.status.as_deref().filter(|s| !s.is_empty()), limit)
            .map_err(internal)
    })
    .await?;
    Ok(axum::Json(json!({ "deliveries": rows })))
}

async fn topic_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let not_found = || ApiError(StatusCode::NOT_FOUND, format!("no topic feed {file}"));
    let Some(name) = file.strip_suffix(".atom") else {
        return Err(not_found());
    };
    let Some(def) = state
        .ctx
        .config()
        .topics
        .defs
        .iter()
        .find(|d| d.name == name)
        .cloned()
    else {
        return Err(not_found());
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let self_url = format!("http://{host}/topics/{}.atom", def.name);
    let name = def.name.clone();
    let entries = blocking(&state.ctx, move |ctx| {
        ctx.store
            .topic_entries(&name, FEED_ENTRIES)
            .map_err(internal)
    })
    .await?;
    let body = crate::query::atom::topic_feed(
        &def.name,
        &def.title,
        &self_url,
        &entries,
        chrono::Utc::now().timestamp(),
    );
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        body,
    )
        .into_response())
}

async fn healthz(State(state): State<AppState>) -> Response {
    let result = blocking(&state.ctx, |ctx| ctx.store.ping().map_err(internal)).await;
    match result {
        Ok(()) => axum::Json(json!({ "status": "ok", "database": "ok" })).into_response(),
        Err(ApiError(_, message)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "status": "error", "database": message })),
        )
            .into_response(),
    }
}
