//! `HEAD|GET|PUT /containers/{id}/archive?path=` (`docker cp`): the stat travels in the
//! `X-Docker-Container-Path-Stat` header (base64 of the `PathStat` JSON), the content as a
//! tar stream each way.

use base64::Engine;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Request, Response, StatusCode};
use tokio::sync::mpsc;

use super::super::body::{self, Body};
use super::super::errors::ApiError;
use super::super::query::Query;
use crate::api::container_types::PathStat;
use crate::daemon::state::Daemon;

pub const PATH_STAT_HEADER: &str = "X-Docker-Container-Path-Stat";

/// Request chunks buffered towards the extractor.
const PUT_DEPTH: usize = 16;

/// The `path` parameter, refused with Docker's words (sic) when missing.
pub fn path_param(query: &Query) -> Result<&str, ApiError> {
    query
        .non_empty("path")
        .ok_or_else(|| ApiError::bad_request("bad parameter: pathcannot be empty"))
}

/// The header value: standard base64 of the stat's JSON.
pub fn encode_stat(stat: &PathStat) -> HeaderValue {
    let json = serde_json::to_vec(stat).unwrap_or_default();
    let text = base64::engine::general_purpose::STANDARD.encode(json);
    // Base64 is always a valid header value.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `HEAD /containers/{id}/archive`.
pub async fn stat(daemon: &Daemon, id: &str, query: &Query) -> Result<Response<Body>, ApiError> {
    let path = path_param(query)?;
    let stat = daemon.containers.archive_stat(id, path).await?;
    let mut resp = body::no_content(StatusCode::OK);
    resp.headers_mut()
        .insert(PATH_STAT_HEADER, encode_stat(&stat));
    Ok(resp)
}

/// `GET /containers/{id}/archive`.
pub async fn get(daemon: &Daemon, id: &str, query: &Query) -> Result<Response<Body>, ApiError> {
    let path = path_param(query)?;
    let (stat, mut tar) = daemon.containers.archive_get(id, path).await?;
    let (tx, rx) = body::channel();
    tokio::spawn(async move {
        while let Some(chunk) = tar.recv().await {
            let failed = chunk.is_err();
            if tx.send(chunk).await.is_err() || failed {
                break;
            }
        }
    });
    let mut resp = body::stream("application/x-tar", rx);
    resp.headers_mut()
        .insert(PATH_STAT_HEADER, encode_stat(&stat));
    Ok(resp)
}

/// `PUT /containers/{id}/archive?path&noOverwriteDirNonDir&copyUIDGID`: the body is a tar
/// extracted into directory `path`.
pub async fn put(
    daemon: &Daemon,
    id: &str,
    query: &Query,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let path = path_param(query)?;
    let (tx, rx) = mpsc::channel(PUT_DEPTH);
    let forward = tokio::spawn(forward_body(req.into_body(), tx));
    let result = daemon
        .containers
        .archive_put(
            id,
            path,
            query.bool("noOverwriteDirNonDir"),
            query.bool("copyUIDGID"),
            rx,
        )
        .await;
    let body_ok = forward.await.unwrap_or(false);
    result?;
    if !body_ok {
        return Err(ApiError::bad_request(
            "reading the request body: the upload was cut off",
        ));
    }
    Ok(body::no_content(StatusCode::OK))
}

/// Request body chunks into `tx`; false when the body failed midway (a short tar must not
/// pass for a whole one). A receiver that stops early is not a body failure.
async fn forward_body(mut body: Incoming, tx: mpsc::Sender<Bytes>) -> bool {
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return false;
        };
        if let Ok(data) = frame.into_data() {
            if tx.send(data).await.is_err() {
                return true;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_path_uses_dockers_text() {
        let e = path_param(&Query::parse(Some("path="))).expect_err("empty");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.message, "bad parameter: pathcannot be empty");
        assert_eq!(
            path_param(&Query::parse(Some("path=%2Fetc"))).expect("ok"),
            "/etc"
        );
    }

    #[test]
    fn stat_header_is_base64_json() {
        let stat: PathStat = serde_json::from_value(serde_json::json!({
            "name": "hosts", "size": 12, "mode": 420,
            "mtime": "2024-01-01T00:00:00Z", "linkTarget": "",
        }))
        .expect("Docker's PathStat shape");
        let value = encode_stat(&stat);
        let json = base64::engine::general_purpose::STANDARD
            .decode(value.as_bytes())
            .expect("base64");
        let back: PathStat = serde_json::from_slice(&json).expect("json");
        assert_eq!(back, stat);
        let text = String::from_utf8(json).expect("utf8");
        assert!(text.contains("\"linkTarget\""), "{text}");
    }
}
