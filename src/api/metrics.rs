//! `/metrics`: the archive's gauges in the Prometheus text exposition format (0.0.4), all
//! read from the database, so they are right after a restart and for any process.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{AppState, blocking, internal};
use crate::store::ArchiveCounts;

/// Escapes a label value (`\`, `"`, newline).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn gauge(out: &mut String, name: &str, help: &str, value: i64) {
    out.push_str(&format!(
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
    ));
}

fn labelled(out: &mut String, name: &str, help: &str, key: &str, rows: &[(String, i64)]) {
    out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
    for (value, n) in rows {
        out.push_str(&format!("{name}{{{key}=\"{}\"}} {n}\n", label(value)));
    }
}

/// Renders the gauges.
pub fn render(c: &ArchiveCounts) -> String {
    let mut out = String::new();
    gauge(&mut out, "tidings_up", "The database answered.", 1);
    gauge(&mut out, "tidings_items", "Items in the archive.", c.items);
    labelled(
        &mut out,
        "tidings_feeds",
        "Feeds by state.",
        "state",
        &c.feeds_by_state,
    );
    gauge(
        &mut out,
        "tidings_feeds_failing",
        "Feeds whose last poll failed (consecutive_errors > 0).",
        c.feeds_with_errors,
    );
    labelled(
        &mut out,
        "tidings_matches",
        "Topic matches by topic.",
        "topic",
        &c.matches_by_topic,
    );
    labelled(
        &mut out,
        "tidings_articles",
        "Article extractions by status.",
        "status",
        &c.articles_by_status,
    );
    gauge(
        &mut out,
        "tidings_pending_extractions",
        "Items waiting for their article page.",
        c.pending_extractions,
    );
    gauge(
        &mut out,
        "tidings_pending_matches",
        "Items waiting to be matched against the topics.",
        c.pending_matches,
    );
    gauge(
        &mut out,
        "tidings_tombstones",
        "Keys of pruned items that will not be stored again.",
        c.tombstones,
    );
    labelled(
        &mut out,
        "tidings_deliveries",
        "Deliveries by status.",
        "status",
        &c.deliveries_by_status,
    );
    if let Some(t) = c.last_poll_at {
        gauge(
            &mut out,
            "tidings_last_poll_timestamp_seconds",
            "When a feed was last polled (unix seconds).",
            t,
        );
    }
    out
}

pub(super) async fn metrics(State(state): State<AppState>) -> Response {
    match blocking(&state.ctx, |ctx| ctx.store.counts().map_err(internal)).await {
        Ok(counts) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            render(&counts),
        )
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "# the database did not answer\ntidings_up 0\n",
        )
            .into_response(),
    }
}
