//! `GET /events`: the event bus as newline-delimited JSON, replaying the kept past for
//! `since`/`until`, then following live until `until` passes, the client hangs up or the
//! daemon stops. Filters as Docker's `events/filter.go`: keys are ANDed, the values of one key
//! ORed, `label` values all required.

use std::sync::Arc;

use bytes::Bytes;
use hyper::Response;
use tokio::sync::broadcast::error::RecvError;

use super::body::{self, Body, Chunk};
use super::errors::ApiError;
use super::query::{Filters, Query};
use crate::api::types::EventMessage;
use crate::daemon::state::Daemon;

const FILTER_KEYS: &[&str] = &[
    "config",
    "container",
    "daemon",
    "event",
    "image",
    "label",
    "network",
    "node",
    "plugin",
    "scope",
    "secret",
    "service",
    "type",
    "volume",
];

/// Starts the stream; the answer's headers go out at once.
pub fn stream(daemon: &Arc<Daemon>, query: &Query) -> Result<Response<Body>, ApiError> {
    let filters = query.filters(FILTER_KEYS)?;
    let since = query.non_empty("since").map(parse_time).transpose()?;
    let until = query.non_empty("until").map(parse_time).transpose()?;
    let replay_from = match (since, until) {
        (None, None) => None,
        (since, _) => Some(since.unwrap_or(0)),
    };
    let (past, mut live) = daemon.events.subscribe(replay_from);
    let (tx, rx) = body::channel();
    let daemon = daemon.clone();
    tokio::spawn(async move {
        for event in past
            .iter()
            .filter(|e| until.is_none_or(|u| e.time_nano <= u))
        {
            if !send_if_matching(&tx, &filters, event).await {
                return;
            }
        }
        let deadline = until.map(deadline_of);
        loop {
            let next = tokio::select! {
                next = live.recv() => next,
                _ = daemon.stopping() => return,
                _ = sleep_until(deadline) => return,
                _ = tx.closed() => return,
            };
            match next {
                Ok(event) => {
                    if !send_if_matching(&tx, &filters, &event).await {
                        return;
                    }
                }
                // Too slow a reader: it misses some, as with Docker's dropped events.
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "an events subscriber fell behind");
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
    Ok(body::stream("application/json", rx))
}

/// Sends `event` when it passes the filters; false when the client is gone.
async fn send_if_matching(
    tx: &tokio::sync::mpsc::Sender<Chunk>,
    filters: &Filters,
    event: &EventMessage,
) -> bool {
    if !matches(filters, event) {
        return true;
    }
    let mut line = serde_json::to_vec(event).unwrap_or_default();
    line.push(b'\n');
    tx.send(Ok(Bytes::from(line))).await.is_ok()
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// The runtime instant at which wall-clock time `nanos` is reached.
fn deadline_of(nanos: i64) -> tokio::time::Instant {
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
    let wait = u64::try_from(nanos.saturating_sub(now)).unwrap_or(0);
    tokio::time::Instant::now() + std::time::Duration::from_nanos(wait)
}

/// Docker's timestamps: `seconds[.nanoseconds]` (what the CLI sends) or RFC 3339.
pub fn parse_time(value: &str) -> Result<i64, ApiError> {
    let bad = || ApiError::bad_request(format!("invalid timestamp {value:?}"));
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        return t.timestamp_nanos_opt().ok_or_else(bad);
    }
    let (secs, frac) = value.split_once('.').unwrap_or((value, ""));
    let secs: i64 = secs.parse().map_err(|_| bad())?;
    let nanos: i64 = if frac.is_empty() {
        0
    } else {
        if frac.len() > 9 || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        format!("{frac:0<9}").parse().map_err(|_| bad())?
    };
    secs.checked_mul(1_000_000_000)
        .and_then(|s| s.checked_add(nanos))
        .ok_or_else(bad)
}

/// Whether `event` passes every filter key.
pub fn matches(f: &Filters, e: &EventMessage) -> bool {
    let name = e
        .actor
        .attributes
        .get("name")
        .map(String::as_str)
        .unwrap_or("");
    let of_type = |kind: &str| {
        let key_present = f.contains(kind);
        !key_present || (e.kind == kind && (fuzzy(f, kind, &e.actor.id) || fuzzy(f, kind, name)))
    };
    f.any("event", |v| v == action_of(&e.action))
        && f.any("type", |v| v == e.kind)
        && f.any("scope", |v| v == e.scope)
        && [
            "container",
            "daemon",
            "network",
            "volume",
            "plugin",
            "node",
            "service",
            "secret",
            "config",
        ]
        .into_iter()
        .all(of_type)
        && matches_image(f, e)
        && matches_labels(f, e)
}

/// Docker matches exec and health actions by their first word (`exec_start: sh` -> `exec_start`).
fn action_of(action: &str) -> &str {
    action.split_once(':').map_or(action, |(a, _)| a)
}

fn fuzzy(f: &Filters, key: &str, source: &str) -> bool {
    !source.is_empty() && f.values(key).iter().any(|v| source.starts_with(v.as_str()))
}

fn matches_image(f: &Filters, e: &EventMessage) -> bool {
    let name_attr = if e.kind == "image" { "name" } else { "image" };
    let name = e
        .actor
        .attributes
        .get(name_attr)
        .map(String::as_str)
        .unwrap_or("");
    let candidates = [
        e.actor.id.as_str(),
        name,
        strip_tag(&e.actor.id),
        strip_tag(name),
    ];
    f.any("image", |v| {
        candidates.iter().any(|c| !c.is_empty() && *c == v)
    })
}

/// `busybox:latest` -> `busybox`; a registry port is not a tag.
fn strip_tag(name: &str) -> &str {
    match name.rfind(':') {
        Some(i) if !name[i..].contains('/') && !name.starts_with("sha256:") => &name[..i],
        _ => name,
    }
}

fn matches_labels(f: &Filters, e: &EventMessage) -> bool {
    f.values("label")
        .iter()
        .all(|want| match want.split_once('=') {
            Some((k, v)) => e.actor.attributes.get(k).is_some_and(|have| have == v),
            None => e.actor.attributes.contains_key(want.as_str()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::types::EventActor;
    use std::collections::BTreeMap;

    fn image_event(action: &str, id: &str, name: &str) -> EventMessage {
        EventMessage {
            kind: "image".into(),
            action: action.into(),
            actor: EventActor {
                id: id.into(),
                attributes: BTreeMap::from([
                    ("name".to_owned(), name.to_owned()),
                    ("maintainer".to_owned(), "me".to_owned()),
                ]),
            },
            scope: "local".into(),
            ..Default::default()
        }
    }

    fn filters(json: &str) -> Filters {
        Filters::parse(json).expect("filters parse")
    }

    #[test]
    fn type_and_event_filters() {
        let e = image_event("tag", "sha256:1", "busybox:latest");
        assert!(matches(
            &filters(r#"{"type":["image"],"event":["tag","untag"]}"#),
            &e
        ));
        assert!(!matches(&filters(r#"{"event":["delete"]}"#), &e));
        assert!(!matches(&filters(r#"{"type":["container"]}"#), &e));
    }

    #[test]
    fn image_filter_matches_name_with_or_without_tag() {
        let e = image_event("tag", "sha256:1", "busybox:latest");
        assert!(matches(&filters(r#"{"image":["busybox"]}"#), &e));
        assert!(matches(&filters(r#"{"image":["busybox:latest"]}"#), &e));
        assert!(matches(&filters(r#"{"image":["sha256:1"]}"#), &e));
        assert!(!matches(&filters(r#"{"image":["alpine"]}"#), &e));
    }

    #[test]
    fn container_filter_excludes_image_events() {
        let e = image_event("tag", "sha256:1", "busybox:latest");
        assert!(!matches(&filters(r#"{"container":["sha256"]}"#), &e));
    }

    #[test]
    fn every_label_must_match() {
        let e = image_event("pull", "busybox:latest", "busybox");
        assert!(matches(&filters(r#"{"label":["maintainer=me"]}"#), &e));
        assert!(!matches(
            &filters(r#"{"label":["maintainer=me","other"]}"#),
            &e
        ));
    }

    #[test]
    fn timestamps_as_the_cli_sends_them() {
        assert_eq!(parse_time("12").expect("secs"), 12_000_000_000);
        assert_eq!(parse_time("12.5").expect("frac"), 12_500_000_000);
        assert_eq!(
            parse_time("1970-01-01T00:00:01Z").expect("rfc3339"),
            1_000_000_000
        );
        assert!(parse_time("soon").is_err());
    }

    #[test]
    fn strip_tag_keeps_registry_ports() {
        assert_eq!(strip_tag("localhost:5000/app"), "localhost:5000/app");
        assert_eq!(strip_tag("localhost:5000/app:v1"), "localhost:5000/app");
    }
}
