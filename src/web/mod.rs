//! The reading pages: server-rendered HTML (maud) that works without JavaScript, mounted under
//! `/` by `api::router` on the API's listener.
//!
//! - `/` and `/topic/{name}`: each topic's matches of the last days, one entry per story
//!   ([`topics`]); `/item/{id}`: one story with its sources, text, matches and deliveries
//!   ([`item`]); `/search` ([`search`]); `/feeds` and `/feed/{id}`: feed health ([`feeds`]);
//!   `/deliveries`: the outbox with a retry button ([`deliveries`]); the reader's feedback
//!   forms ([`feedback`]); `/login` ([`auth`]).
//! - Safety: maud escapes every string; feed HTML is only ever reduced to text; links out are
//!   http(s) only with `rel="noopener noreferrer"`; the Content-Security-Policy allows this
//!   server's stylesheet and forms and nothing else (no scripts at all, no remote images).
//! - Every store call runs on the blocking pool. Each answer carries `Server-Timing` with the
//!   time the server spent on it.

mod auth;
mod deliveries;
mod feedback;
mod feeds;
mod item;
mod layout;
mod search;
mod topics;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;

use crate::pipeline::Context;
use auth::Auth;
use layout::{Frame, Section};

/// The Content-Security-Policy of every page: this server's stylesheet and forms, nothing
/// else. No script runs, no image or font loads, no page frames these.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

#[derive(Clone)]
pub(crate) struct WebState {
    ctx: Arc<Context>,
    auth: Arc<Auth>,
}

impl WebState {
    /// What every page of this request needs (CSRF token, sign-out button, "now").
    fn frame(&self) -> Frame {
        Frame {
            csrf: self.auth.csrf().to_string(),
            signed_in_by_token: self.auth.has_token(),
            now: chrono::Utc::now().timestamp(),
        }
    }
}

/// A failed page: a status and a message, shown as a small page.
#[derive(Debug)]
pub(crate) struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    pub fn new(status: StatusCode, message: String) -> PageError {
        PageError { status, message }
    }

    fn not_found(what: String) -> PageError {
        PageError::new(StatusCode::NOT_FOUND, what)
    }
}

fn internal(e: impl std::fmt::Display) -> PageError {
    tracing::error!(error = %e, "web: page failed");
    PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let frame = Frame {
            csrf: String::new(),
            signed_in_by_token: false,
            now: chrono::Utc::now().timestamp(),
        };
        let title = self
            .status
            .canonical_reason()
            .unwrap_or("Error")
            .to_string();
        let body = html! {
            h1 { (title) }
            pre.error { (self.message) }
            p { a href="/" { "Back to the topics" } }
        };
        (
            self.status,
            layout::page(&frame, &title, Section::None, body),
        )
            .into_response()
    }
}

/// Runs `f` on the blocking pool with the context.
async fn blocking<T: Send + 'static>(
    ctx: &Arc<Context>,
    f: impl FnOnce(&Context) -> Result<T, PageError> + Send + 'static,
) -> Result<T, PageError> {
    let ctx = ctx.clone();
    tokio::task::spawn_blocking(move || f(&ctx))
        .await
        .map_err(internal)?
}

/// The pages, without binding (merged into the API's router).
pub fn router(ctx: Arc<Context>, token: Option<String>) -> Router {
    let state = WebState {
        ctx,
        auth: Arc::new(Auth::new(token.as_deref())),
    };
    let pages = Router::new()
        .route("/", get(topics::overview))
        .route("/topic/{name}", get(topics::topic))
        .route("/item/{id}", get(item::item))
        .route("/search", get(search::search))
        .route("/feeds", get(feeds::feeds))
        .route("/feed/{id}", get(feeds::feed))
        .route("/deliveries", get(deliveries::deliveries))
        .route("/deliveries/{id}/retry", post(deliveries::retry))
        .route("/deliveries/retry-dead", post(deliveries::retry_dead))
        .route("/matches/{id}/feedback", post(feedback::on_match))
        .route("/items/{id}/feedback", post(feedback::on_item))
        .route("/logout", post(logout))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_login,
        ));
    Router::new()
        .merge(pages)
        .route("/login", get(login_form).post(login))
        .route(layout::css_path(), get(stylesheet))
        .layer(middleware::from_fn(page_headers))
        .with_state(state)
}

/// Security headers on every page, and the server's time in `Server-Timing`.
async fn page_headers(req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        // The pages show a private archive.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={ms:.2}")) {
        h.insert("server-timing", v);
    }
    resp
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        layout::CSS,
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct LoginParams {
    next: Option<String>,
}

fn login_page(frame: &Frame, next: &str, failed: bool) -> Markup {
    let body = html! {
        section.login {
            h1 { "Sign in" }
            p { "This tidings server needs its API token (" code { "api.token" } " in the config)." }
            @if failed { (layout::notice("error", "That token is not the right one.")) }
            form method="post" action="/login" {
                input type="hidden" name="next" value=(next);
                label for="token" { "Token" }
                input #token type="password" name="token" autocomplete="current-password" required autofocus;
                button type="submit" { "Sign in" }
            }
        }
    };
    layout::page(
        &Frame {
            csrf: String::new(),
            signed_in_by_token: false,
            now: frame.now,
        },
        "Sign in",
        Section::None,
        body,
    )
}

async fn login_form(State(state): State<WebState>, Query(p): Query<LoginParams>) -> Response {
    let next = auth::local_path(p.next.as_deref());
    if !state.auth.has_token() {
        return Redirect::to(&next).into_response();
    }
    login_page(&state.frame(), &next, false).into_response()
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    token: String,
    next: Option<String>,
}

async fn login(
    State(state): State<WebState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Result<Response, PageError> {
    auth::check_origin(&headers)?;
    let next = auth::local_path(form.next.as_deref());
    let Some(cookie) = state.auth.login_cookie() else {
        return Ok(Redirect::to(&next).into_response());
    };
    if !state.auth.token_matches(&form.token) {
        tracing::warn!("web: sign-in with a wrong token");
        // A pause makes guessing slow.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let page = login_page(&state.frame(), &next, true);
        return Ok((StatusCode::UNAUTHORIZED, page).into_response());
    }
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response())
}

#[derive(Debug, Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<WebState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LogoutForm>,
) -> Result<Response, PageError> {
    state.auth.check_form(&headers, &form.csrf)?;
    Ok((
        [(header::SET_COOKIE, Auth::logout_cookie())],
        Redirect::to("/login"),
    )
        .into_response())
}

/// A form that carries only its CSRF token and the way back (a path on this server).
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
    back: Option<String>,
}
