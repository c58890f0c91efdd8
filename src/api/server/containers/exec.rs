//! Exec endpoints: `POST /containers/{id}/exec` (201 `{Id}`), `POST /exec/{id}/start`
//! (hijacked like attach, or detached), `POST /exec/{id}/resize`, `GET /exec/{id}/json`.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde::{Deserialize, Serialize};

use super::super::body::{self, Body};
use super::super::errors::ApiError;
use super::super::hijack;
use super::super::query::Query;
use super::super::router::ExecOp;
use super::{dimension, read_json};
use crate::api::container_types::ExecCreateRequest;
use crate::daemon::state::Daemon;

/// `POST /exec/{id}/start`'s body (`ExecStartCheck`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecStartCheck {
    pub detach: bool,
    pub tty: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct IdResponse {
    id: String,
}

/// Runs the `/exec/{id}/...` endpoint `op`.
pub async fn dispatch(
    daemon: Arc<Daemon>,
    req: Request<Incoming>,
    query: Query,
    multiplexed_media: bool,
    id: String,
    op: ExecOp,
) -> Result<Response<Body>, ApiError> {
    match op {
        ExecOp::Start => start(&daemon, &id, req, multiplexed_media).await,
        ExecOp::Resize => resize(&daemon, &id, &query).await,
        ExecOp::Inspect => inspect(&daemon, &id).await,
    }
}

/// `POST /containers/{id}/exec`.
pub async fn create(
    daemon: &Daemon,
    id: &str,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let request: ExecCreateRequest = read_json(req)
        .await?
        .ok_or_else(|| ApiError::bad_request("invalid JSON: got EOF while reading request body"))?;
    let exec_id = daemon.containers.exec_create(id, request).await?;
    Ok(body::json(StatusCode::CREATED, &IdResponse { id: exec_id }))
}

/// `POST /exec/{id}/start`. Detached: `200` with no body once started. Attached: the
/// session over a hijacked connection; its media type follows the exec's tty.
pub async fn start(
    daemon: &Daemon,
    id: &str,
    mut req: Request<Incoming>,
    multiplexed_media: bool,
) -> Result<Response<Body>, ApiError> {
    // The upgrade handle is taken first: reading the body consumes the request.
    let upgrade = hijack::take_upgrade(&mut req);
    let check: ExecStartCheck = read_json(req).await?.unwrap_or_default();
    let session = daemon.containers.exec_start(id, check.detach).await?;
    if check.detach {
        return Ok(body::no_content(StatusCode::OK));
    }
    Ok(hijack::respond(upgrade, session, multiplexed_media))
}

/// `POST /exec/{id}/resize?h&w`.
pub async fn resize(daemon: &Daemon, id: &str, query: &Query) -> Result<Response<Body>, ApiError> {
    let height = dimension(query, "h")?;
    let width = dimension(query, "w")?;
    daemon.containers.exec_resize(id, height, width).await?;
    Ok(body::no_content(StatusCode::OK))
}

/// `GET /exec/{id}/json`.
pub async fn inspect(daemon: &Daemon, id: &str) -> Result<Response<Body>, ApiError> {
    let inspected = daemon.containers.exec_inspect(id).await?;
    Ok(body::json(StatusCode::OK, &inspected))
}

#[cfg(test)]
mod tests {
    use super::super::parse_json;
    use super::*;

    #[test]
    fn start_check_defaults_and_names() {
        let check: ExecStartCheck = parse_json(br#"{"Detach":false,"Tty":true}"#)
            .expect("ok")
            .expect("some");
        assert!(check.tty && !check.detach);
        let check: ExecStartCheck = parse_json(b"{}").expect("ok").expect("some");
        assert_eq!(check, ExecStartCheck::default());
        let id = serde_json::to_string(&IdResponse { id: "abc".into() }).expect("json");
        assert_eq!(id, r#"{"Id":"abc"}"#);
    }
}
