//! `GET /containers/{id}/stats?stream&one-shot`: samples from the manager, with
//! `precpu_stats`/`preread` taken from the previous sample as Docker's CPU percentage needs.
//!
//! Streaming: one JSON document per second until the client leaves or sampling fails
//! (container removed). `stream=false`: two samples a second apart, the second answered
//! (so its precpu is real), or with `one-shot` the first at once with precpu empty.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::{Response, StatusCode};
use serde_json::Value;

use super::super::body::{self, Body};
use super::super::errors::ApiError;
use super::super::query::Query;
use super::bool_or;
use crate::api::container_types::StatsSample;
use crate::daemon::state::Daemon;

const INTERVAL: Duration = Duration::from_secs(1);

/// `sample` as JSON with the previous sample's CPU figures and read time.
pub fn with_previous(sample: &StatsSample, previous: Option<&Value>) -> Value {
    let mut value = serde_json::to_value(sample).unwrap_or(Value::Null);
    if let (Value::Object(map), Some(Value::Object(prev))) = (&mut value, previous) {
        if let Some(cpu) = prev.get("cpu_stats") {
            map.insert("precpu_stats".to_owned(), cpu.clone());
        }
        if let Some(read) = prev.get("read") {
            map.insert("preread".to_owned(), read.clone());
        }
    }
    value
}

/// One streamed document, newline-terminated as Go's encoder writes it.
fn line(value: &Value) -> Bytes {
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// `GET /containers/{id}/stats`.
pub async fn stats(
    daemon: Arc<Daemon>,
    id: String,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let stream = bool_or(query, "stream", true);
    let one_shot = bool_or(query, "one-shot", false);
    // The first sample answers "no such container" before any response goes out.
    let first = daemon.containers.stats(&id).await?;
    if !stream {
        let value = if one_shot {
            with_previous(&first, None)
        } else {
            tokio::time::sleep(INTERVAL).await;
            let second = daemon.containers.stats(&id).await?;
            let previous = serde_json::to_value(&first).ok();
            with_previous(&second, previous.as_ref())
        };
        return Ok(body::json(StatusCode::OK, &value));
    }
    let (tx, rx) = body::channel();
    tokio::spawn(async move {
        let mut sample = first;
        let mut previous: Option<Value> = None;
        loop {
            let value = with_previous(&sample, previous.as_ref());
            if tx.send(Ok(line(&value))).await.is_err() {
                return;
            }
            previous = Some(value);
            tokio::time::sleep(INTERVAL).await;
            sample = match daemon.containers.stats(&id).await {
                Ok(next) => next,
                Err(e) => {
                    tracing::debug!(container = %id, error = %e, "stats stream ended");
                    return;
                }
            };
        }
    });
    Ok(body::stream("application/json", rx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_cpu_and_read_are_carried_over() {
        let prev = serde_json::json!({
            "read": "2024-01-01T00:00:00Z",
            "cpu_stats": {"cpu_usage": {"total_usage": 42}},
        });
        let value = with_previous(&StatsSample::default(), Some(&prev));
        let map = value.as_object().expect("object");
        assert_eq!(map["precpu_stats"]["cpu_usage"]["total_usage"], 42);
        assert_eq!(map["preread"], "2024-01-01T00:00:00Z");
        let first = with_previous(&StatsSample::default(), None);
        // Without a previous sample the manager's own (empty) figures stay.
        assert_eq!(
            first,
            serde_json::to_value(StatsSample::default()).expect("json")
        );
        assert!(line(&first).ends_with(b"\n"));
    }
}
