//! Lifecycle endpoints: create, start, stop, restart, kill, pause, unpause, wait, remove,
//! rename and prune. Answers are Docker's: `201` with `{Id, Warnings}` for create, `204`
//! for the state changes (`304` when already in that state), a streamed `200` for wait.

use std::collections::BTreeMap;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use hyper::{Request, Response, StatusCode};
use serde::Serialize;

use super::super::body::{self, Body};
use super::super::errors::ApiError;
use super::super::query::Query;
use super::{optional_int, read_json};
use crate::daemon::containers::{WaitCondition, WaitResult};
use crate::daemon::state::Daemon;
use crate::engine::spec::CreateRequest;

const PRUNE_FILTERS: &[&str] = &["label", "label!", "until"];

/// `POST /containers/create?name=&platform=`. `platform` is accepted and not checked: berth
/// runs linux images of the host's architecture only.
pub async fn create(
    daemon: &Daemon,
    req: Request<Incoming>,
    query: Query,
) -> Result<Response<Body>, ApiError> {
    let name = query.non_empty("name").map(str::to_owned);
    let request: CreateRequest = read_json(req)
        .await?
        .ok_or_else(|| ApiError::bad_request("invalid JSON: got EOF while reading request body"))?;
    let created = daemon.containers.create(name.as_deref(), request).await?;
    Ok(body::json(StatusCode::CREATED, &created))
}

/// `POST /containers/{id}/start`. A body was the pre-1.24 host config; Docker refuses one.
pub async fn start(
    daemon: &Daemon,
    id: &str,
    req: &Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let length = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    // A non-empty JSON object is at least 7 bytes (Docker's own threshold).
    if length > 7 || req.headers().contains_key(TRANSFER_ENCODING) {
        return Err(ApiError::bad_request(
            "starting container with non-empty request body was deprecated since API v1.22 \
             and removed in v1.24",
        ));
    }
    daemon.containers.start(id).await?;
    Ok(body::no_content(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/stop?signal=&t=`.
pub async fn stop(daemon: &Daemon, id: &str, query: &Query) -> Result<Response<Body>, ApiError> {
    let timeout = optional_int(query, "t")?;
    daemon
        .containers
        .stop(id, query.non_empty("signal"), timeout)
        .await?;
    Ok(body::no_content(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/restart?signal=&t=`.
pub async fn restart(daemon: &Daemon, id: &str, query: &Query) -> Result<Response<Body>, ApiError> {
    let timeout = optional_int(query, "t")?;
    daemon
        .containers
        .restart(id, query.non_empty("signal"), timeout)
        .await?;
    Ok(body::no_content(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/kill?signal=`. Docker prefixes the reason with the container.
pub async fn kill(daemon: &Daemon, id: &str, query: &Query) -> Result<Response<Body>, ApiError> {
    if let Err(e) = daemon.containers.kill(id, query.non_empty("signal")).await {
        let e = ApiError::from(e);
        return Err(ApiError::new(
            e.status,
            format!("cannot kill container: {id}: {}", e.message),
        ));
    }
    Ok(body::no_content(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/pause`.
pub async fn pause(daemon: &Daemon, id: &str) -> Result<Response<Body>, ApiError> {
    daemon.containers.pause(id).await?;
    Ok(body::no_content(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/unpause`.
pub async fn unpause(daemon: &Daemon, id: &str) -> Result<Response<Body>, ApiError> {
    daemon.containers.unpause(id).await?;
    Ok(body::no_content(StatusCode::NO_CONTENT))
}

/// Docker's `WaitResponse`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WaitResponse {
    status_code: i64,
    error: Option<WaitError>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WaitError {
    message: String,
}

/// `condition` as Docker spells it.
pub fn parse_condition(value: Option<&str>) -> Result<WaitCondition, ApiError> {
    match value.unwrap_or("") {
        "" | "not-running" => Ok(WaitCondition::NotRunning),
        "next-exit" => Ok(WaitCondition::NextExit),
        "removed" => Ok(WaitCondition::Removed),
        other => Err(ApiError::bad_request(format!(
            "invalid condition: {other:?}"
        ))),
    }
}

/// The wait answer's body, one JSON line as Go's encoder writes it.
pub fn wait_body(result: Option<WaitResult>) -> Bytes {
    let response = match result {
        Some(r) => WaitResponse {
            status_code: r.status_code,
            error: r.error.map(|message| WaitError { message }),
        },
        // The manager dropped the waiter (daemon shutting down).
        None => WaitResponse {
            status_code: -1,
            error: Some(WaitError {
                message: "the daemon stopped waiting for the container".to_owned(),
            }),
        },
    };
    let mut bytes = serde_json::to_vec(&response).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// `POST /containers/{id}/wait?condition=`: the `200` head goes out at once (the CLI's `run`
/// attaches and starts only after it), the body when the condition holds.
pub async fn wait(daemon: &Daemon, id: &str, query: &Query) -> Result<Response<Body>, ApiError> {
    let condition = parse_condition(query.get("condition"))?;
    let waiter = daemon.containers.wait(id, condition).await?;
    let (tx, rx) = body::channel();
    tokio::spawn(async move {
        let result = waiter.await.ok();
        let _ = tx.send(Ok(wait_body(result))).await;
    });
    Ok(body::stream("application/json", rx))
}

/// `DELETE /containers/{id}?force=&v=&link=`. Legacy links do not exist in berth, so `link`
/// has nothing to remove.
pub async fn remove(daemon: &Daemon, id: &str, query: &Query) -> Result<Response<Body>, ApiError> {
    daemon
        .containers
        .remove(id, query.bool("force"), query.bool("v"))
        .await?;
    Ok(body::no_content(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/rename?name=`.
pub async fn rename(daemon: &Daemon, id: &str, query: &Query) -> Result<Response<Body>, ApiError> {
    let new_name = query.get("name").unwrap_or("");
    if new_name.is_empty() {
        return Err(ApiError::bad_request(
            "Neither old nor new names may be empty",
        ));
    }
    daemon.containers.rename(id, new_name).await?;
    Ok(body::no_content(StatusCode::NO_CONTENT))
}

/// `POST /containers/prune?filters=`.
pub async fn prune(daemon: &Daemon, query: &Query) -> Result<Response<Body>, ApiError> {
    let filters = query.filters(PRUNE_FILTERS)?;
    let map: BTreeMap<String, Vec<String>> = PRUNE_FILTERS
        .iter()
        .filter(|k| filters.contains(k))
        .map(|k| ((*k).to_owned(), filters.values(k).to_vec()))
        .collect();
    let report = daemon.containers.prune(&map).await?;
    Ok(body::json(StatusCode::OK, &report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_as_docker_spells_them() {
        assert_eq!(
            parse_condition(None).expect("ok"),
            WaitCondition::NotRunning
        );
        assert_eq!(
            parse_condition(Some("next-exit")).expect("ok"),
            WaitCondition::NextExit
        );
        assert_eq!(
            parse_condition(Some("removed")).expect("ok"),
            WaitCondition::Removed
        );
        let e = parse_condition(Some("later")).expect_err("unknown");
        assert_eq!(e.message, "invalid condition: \"later\"");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn wait_body_is_dockers_json() {
        let ok = wait_body(Some(WaitResult {
            status_code: 3,
            error: None,
        }));
        assert_eq!(&ok[..], b"{\"StatusCode\":3,\"Error\":null}\n");
        let failed = wait_body(Some(WaitResult {
            status_code: 0,
            error: Some("boom".into()),
        }));
        assert_eq!(
            &failed[..],
            b"{\"StatusCode\":0,\"Error\":{\"Message\":\"boom\"}}\n"
        );
    }
}
