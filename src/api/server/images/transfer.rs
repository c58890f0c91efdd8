//! Registry traffic through the API: pull (`POST /images/create?fromImage=`), push, and
//! `GET /distribution/{name}/json`.
//!
//! Pull and push run in their own task and stream Docker's progress lines. An operation that
//! fails before its first line gets a proper HTTP error status; once streaming has begun the
//! failure is the stream's last line, as Docker does.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

use super::super::auth::registry_auth;
use super::super::body::{self, json_line, Body};
use super::super::errors::ApiError;
use super::super::query::Query;
use super::{publish_image_event, view_of, with_store};
use crate::api::types::{DistributionInspect, OciDescriptor, OciPlatform};
use crate::daemon::state::Daemon;
use crate::image::digest::Digest;
use crate::image::platform::Platform;
use crate::image::progress::{ProgressMessage, ProgressSink};
use crate::image::reference::Reference;
use crate::image::registry::manifest::{classify, Document};
use crate::image::registry::{Access, RegistryError};

/// Lines sent after a successful operation, built from its result.
type Finish<T> = Box<dyn FnOnce(&T, bool) -> Vec<ProgressMessage> + Send>;

/// Streams the progress of `task` as Docker does (see the module comment). `finish` gets the
/// result and whether the operation already sent its own `Status:` line.
pub async fn stream_progress<T: Send + 'static>(
    mut rx: UnboundedReceiver<ProgressMessage>,
    mut task: JoinHandle<Result<T, ApiError>>,
    finish: Finish<T>,
) -> Result<Response<Body>, ApiError> {
    let first = tokio::select! {
        msg = rx.recv() => msg,
        result = &mut task => {
            let mut lines = drain(&mut rx);
            match result? {
                // Failed before saying anything: a plain HTTP error.
                Err(e) if lines.is_empty() => return Err(e),
                Err(e) => lines.push(ProgressMessage::error(e.message)),
                Ok(value) => {
                    let said_status = has_status_line(&lines);
                    lines.extend(finish(&value, said_status));
                }
            }
            let bytes: Vec<u8> = lines.iter().flat_map(|l| json_line(l).to_vec()).collect();
            return Ok(json_stream_response(body::full(bytes)));
        }
    };
    let (tx, body_rx) = body::channel();
    tokio::spawn(async move {
        let mut said_status = false;
        let mut next = first;
        while let Some(msg) = next {
            said_status |= msg.status.starts_with("Status:");
            // A client that hung up stops the stream, not the operation.
            let _ = tx.send(Ok(json_line(&msg))).await;
            next = rx.recv().await;
        }
        let lines = match task.await {
            Ok(Ok(value)) => finish(&value, said_status),
            Ok(Err(e)) => vec![ProgressMessage::error(e.message)],
            Err(e) => vec![ProgressMessage::error(format!("internal error: {e}"))],
        };
        for line in lines {
            let _ = tx.send(Ok(json_line(&line))).await;
        }
    });
    Ok(body::stream("application/json", body_rx))
}

fn drain(rx: &mut UnboundedReceiver<ProgressMessage>) -> Vec<ProgressMessage> {
    let mut lines = Vec::new();
    while let Ok(msg) = rx.try_recv() {
        lines.push(msg);
    }
    lines
}

fn has_status_line(lines: &[ProgressMessage]) -> bool {
    lines.iter().any(|l| l.status.starts_with("Status:"))
}

fn json_stream_response(body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

/// `fromImage` and `tag` as Docker combines them: a tag that parses as a digest is one.
fn pull_reference(from_image: &str, tag: &str) -> Result<Reference, ApiError> {
    let named = Reference::parse_normalized(from_image)?;
    if tag.is_empty() {
        return Ok(named.with_default_tag());
    }
    match Digest::parse(tag) {
        Ok(digest) => Ok(named.with_digest(digest)),
        Err(_) => Ok(named.with_tag(tag)?),
    }
}

/// `POST /images/create?fromImage=&tag=&platform=`.
pub async fn pull(
    daemon: Arc<Daemon>,
    req: Request<Incoming>,
    query: Query,
) -> Result<Response<Body>, ApiError> {
    let auth = registry_auth(req.headers())?;
    let reference = pull_reference(
        query.get("fromImage").unwrap_or(""),
        query.get("tag").unwrap_or(""),
    )?;
    let platform = query
        .non_empty("platform")
        .map(Platform::parse)
        .transpose()
        .map_err(ApiError::bad_request)?;
    let (sink, rx) = ProgressSink::channel();
    let pulled = reference.clone();
    let task_daemon = daemon.clone();
    let task = tokio::spawn(async move {
        let d = &task_daemon;
        let record = crate::image::pull::pull(
            &d.images,
            &d.registry,
            &pulled,
            platform.as_ref(),
            auth.as_ref(),
            &sink,
        )
        .await
        .map_err(|e| ApiError::with_status(e.http_status(), e.to_string()))?;
        let labels = with_store(d, move |store| Ok(view_of(store, record)?.config.labels()))
            .await
            .unwrap_or_default();
        publish_image_event(
            d,
            "pull",
            &pulled.familiar(),
            &pulled.familiar_name(),
            labels,
        );
        Ok(())
    });
    let shown = reference.familiar();
    let finish: Finish<()> = Box::new(move |_, said_status| {
        if said_status {
            return Vec::new();
        }
        vec![ProgressMessage::status(
            "",
            format!("Status: Downloaded newer image for {shown}"),
        )]
    });
    stream_progress(rx, task, finish).await
}

/// `POST /images/{name}/push?tag=`.
pub async fn push(
    daemon: Arc<Daemon>,
    req: Request<Incoming>,
    name: String,
    query: Query,
) -> Result<Response<Body>, ApiError> {
    // Docker also takes credentials from a JSON body when the header is missing; berth's and
    // recent docker clients always send the header, and no header means anonymous.
    let auth = registry_auth(req.headers())?;
    let named = Reference::parse_normalized(&name)?;
    let reference = match query.non_empty("tag") {
        Some(tag) => named.with_tag(tag)?,
        None => named.with_default_tag(),
    };
    // A missing local image is a 404 before any streaming.
    let local = reference.to_string();
    with_store(&daemon, move |store| {
        Ok(store.resolve(&local).map(|_| ())?)
    })
    .await?;
    let (sink, rx) = ProgressSink::channel();
    let pushed = reference.clone();
    let task_daemon = daemon.clone();
    let task = tokio::spawn(async move {
        let d = &task_daemon;
        let digest =
            crate::image::push::push(&d.images, &d.registry, &pushed, auth.as_ref(), &sink)
                .await
                .map_err(|e| ApiError::with_status(e.http_status(), e.to_string()))?;
        let size = with_store(d, {
            let digest = digest.clone();
            move |store| Ok(store.blob_size(&digest).unwrap_or(0))
        })
        .await
        .unwrap_or(0);
        publish_image_event(
            d,
            "push",
            &pushed.familiar(),
            &pushed.familiar_name(),
            Default::default(),
        );
        Ok((digest, size))
    });
    let tag = reference.tag.clone().unwrap_or_default();
    let finish: Finish<(Digest, u64)> =
        Box::new(move |(digest, size), _| push_summary(&tag, digest, *size));
    stream_progress(rx, task, finish).await
}

/// Docker's last lines of a push: the digest line and its `aux` twin.
fn push_summary(tag: &str, digest: &Digest, size: u64) -> Vec<ProgressMessage> {
    vec![
        ProgressMessage::status("", format!("{tag}: digest: {digest} size: {size}")),
        ProgressMessage {
            aux: Some(serde_json::json!({"Tag": tag, "Digest": digest.to_string(), "Size": size})),
            ..Default::default()
        },
    ]
}

/// `GET /distribution/{name}/json`: the manifest's descriptor and the platforms it serves.
pub async fn distribution(
    daemon: &Daemon,
    req: Request<Incoming>,
    name: String,
) -> Result<Response<Body>, ApiError> {
    let auth = registry_auth(req.headers())?;
    let reference = Reference::parse_normalized(&name)?.with_default_tag();
    let session = daemon
        .registry
        .session(&reference, auth.as_ref(), Access::Pull);
    let target = match (&reference.digest, &reference.tag) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => "latest".to_owned(),
    };
    let raw = session
        .fetch_manifest(&target, reference.digest.as_ref())
        .await
        .map_err(registry_error)?;
    let platforms = match classify(&raw).map_err(registry_error)? {
        Document::Index(index) => index
            .manifests
            .iter()
            .filter_map(|d| d.platform.as_ref())
            .map(|p| OciPlatform {
                architecture: p.architecture.clone(),
                os: p.os.clone(),
                variant: p.variant.clone().unwrap_or_default(),
                ..Default::default()
            })
            .collect(),
        Document::Manifest(manifest) => {
            let config = session
                .fetch_small_blob(&manifest.config.digest)
                .await
                .map_err(registry_error)?;
            vec![platform_of_config(&config)]
        }
        Document::Schema1 => {
            return Err(ApiError::bad_request(format!(
                "{}: schema 1 manifests are not supported",
                reference.familiar()
            )))
        }
    };
    let answer = DistributionInspect {
        descriptor: OciDescriptor {
            media_type: raw.media_type.clone(),
            digest: raw.digest.to_string(),
            size: raw.bytes.len() as i64,
        },
        platforms,
    };
    Ok(body::json(StatusCode::OK, &answer))
}

fn platform_of_config(config: &[u8]) -> OciPlatform {
    let blob = super::view::ConfigBlob::parse(config);
    OciPlatform {
        architecture: blob.architecture,
        os: blob.os,
        os_version: blob.os_version,
        variant: blob.variant,
        ..Default::default()
    }
}

/// A registry failure with the status Docker gives it: the registry's 401/403/404 pass
/// through, anything else is a server-side failure.
fn registry_error(e: RegistryError) -> ApiError {
    let status = e
        .status()
        .filter(|s| matches!(s, 401 | 403 | 404))
        .unwrap_or(500);
    ApiError::with_status(status, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_parameter_may_be_a_digest() {
        let d = format!("sha256:{}", "b".repeat(64));
        let r = pull_reference("busybox", &d).expect("digest");
        assert_eq!(r.digest.as_ref().map(Digest::to_string), Some(d));
        assert_eq!(r.tag, None);
        let r = pull_reference("busybox", "1.36").expect("tag");
        assert_eq!(r.familiar(), "busybox:1.36");
        let r = pull_reference("127.0.0.1:5000/app", "").expect("default");
        assert_eq!(r.familiar(), "127.0.0.1:5000/app:latest");
        assert!(pull_reference("Busybox", "").is_err());
    }

    #[test]
    fn push_summary_has_dockers_digest_line() {
        let d = Digest::of_bytes(b"m");
        let lines = push_summary("v1", &d, 527);
        assert_eq!(lines[0].status, format!("v1: digest: {d} size: 527"));
        assert_eq!(lines[1].aux.as_ref().expect("aux")["Size"], 527);
    }

    #[test]
    fn platform_from_a_config_blob() {
        let p = platform_of_config(br#"{"architecture":"arm64","os":"linux","variant":"v8"}"#);
        assert_eq!(
            (p.os.as_str(), p.architecture.as_str(), p.variant.as_str()),
            ("linux", "arm64", "v8")
        );
    }

    #[tokio::test]
    async fn failure_before_any_line_is_an_http_error() {
        let (_sink, rx) = ProgressSink::channel();
        let task = tokio::spawn(async { Err::<(), _>(ApiError::not_found("manifest unknown")) });
        let finish: Finish<()> = Box::new(|_, _| Vec::new());
        let err = stream_progress(rx, task, finish).await.expect_err("error");
        assert_eq!(err.status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn failure_after_progress_is_the_last_line() {
        use http_body_util::BodyExt;
        let (sink, rx) = ProgressSink::channel();
        let task = tokio::spawn(async move {
            sink.send(ProgressMessage::status("abc", "Downloading"));
            tokio::task::yield_now().await;
            Err::<(), _>(ApiError::internal("connection reset"))
        });
        let finish: Finish<()> = Box::new(|_, _| Vec::new());
        let resp = stream_progress(rx, task, finish).await.expect("streams");
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains("Downloading"), "{text}");
        assert!(
            lines
                .last()
                .expect("line")
                .contains("\"error\":\"connection reset\""),
            "{text}"
        );
    }
}
