//! Image archives through the API: save (`GET /images/{name}/get`, `GET /images/get`), load
//! (`POST /images/load`) and import (`POST /images/create?fromSrc=-`).
//!
//! The archive code is blocking and works on `Read`/`Write`; the request or response body is
//! bridged to it through bounded channels (`body::ChannelReader`/`ChannelWriter`), so a
//! tarball never sits in memory whole.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response};

use super::super::body::{self, Body, ChannelReader, ChannelWriter};
use super::super::errors::ApiError;
use super::super::query::Query;
use super::transfer::stream_progress;
use super::{publish_image_event, view_of, with_store};
use crate::daemon::state::Daemon;
use crate::image::archive::{self as image_archive, LoadedImage};
use crate::image::progress::{ProgressMessage, ProgressSink};
use crate::image::reference::Reference;

/// `GET /images/{name}/get` and `GET /images/get?names=...`: a `docker save` tarball.
pub async fn save(daemon: Arc<Daemon>, names: Vec<String>) -> Result<Response<Body>, ApiError> {
    if names.is_empty() {
        return Err(ApiError::bad_request("no image names given"));
    }
    // Unknown names are a 404 before any byte of the tarball is sent.
    let checked = names.clone();
    let ids = with_store(&daemon, move |store| {
        checked
            .iter()
            .map(|n| Ok(store.resolve(n)?.id))
            .collect::<Result<Vec<_>, ApiError>>()
    })
    .await?;
    let (tx, rx) = body::channel();
    let task_daemon = daemon.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter::new(tx);
        match image_archive::save(&task_daemon.images, &names, &mut out) {
            Ok(()) => {
                for id in &ids {
                    publish_image_event(
                        &task_daemon,
                        "save",
                        id.as_str(),
                        id.as_str(),
                        Default::default(),
                    );
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "saving images");
                out.fail(e.to_string());
            }
        }
    });
    Ok(body::stream("application/x-tar", rx))
}

/// `POST /images/load?quiet=`: loads every image of the tarball in the body.
pub async fn load(
    daemon: Arc<Daemon>,
    req: Request<Incoming>,
    query: Query,
) -> Result<Response<Body>, ApiError> {
    let quiet = query.bool("quiet");
    let reader = body_reader(req);
    let (keep_open, progress_rx) = ProgressSink::channel();
    let sink = if quiet {
        ProgressSink::discard()
    } else {
        keep_open.clone()
    };
    let task_daemon = daemon.clone();
    let task = tokio::spawn(async move {
        let store = task_daemon.images.clone();
        let loaded =
            tokio::task::spawn_blocking(move || image_archive::load(&store, reader, &sink))
                .await??;
        // Until here the progress stream stays open, so a quiet load that fails early is
        // still a plain HTTP error.
        drop(keep_open);
        for image in &loaded {
            let id = image.image.id.as_str();
            publish_image_event(&task_daemon, "load", id, id, Default::default());
        }
        Ok(loaded)
    });
    let finish = Box::new(|loaded: &Vec<LoadedImage>, _| loaded_lines(loaded));
    stream_progress(progress_rx, task, finish).await
}

/// Docker's `Loaded image: ...` lines: one per tag, or the ID for an untagged image.
fn loaded_lines(loaded: &[LoadedImage]) -> Vec<ProgressMessage> {
    let mut lines = Vec::new();
    for image in loaded {
        if image.tags.is_empty() {
            lines.push(stream_line(format!(
                "Loaded image ID: {}\n",
                image.image.id
            )));
        }
        for tag in &image.tags {
            lines.push(stream_line(format!("Loaded image: {}\n", tag.familiar())));
        }
    }
    lines
}

fn stream_line(text: String) -> ProgressMessage {
    ProgressMessage {
        stream: Some(text),
        ..Default::default()
    }
}

/// `POST /images/create?fromSrc=-&repo=&tag=&changes=&message=`: a root filesystem tarball in
/// the body becomes a one-layer image.
pub async fn import(
    daemon: Arc<Daemon>,
    req: Request<Incoming>,
    query: Query,
) -> Result<Response<Body>, ApiError> {
    if query.get("fromSrc") != Some("-") {
        return Err(ApiError::bad_request(
            "importing from a URL is not supported: send the tarball in the request body (fromSrc=-)",
        ));
    }
    let reference = import_reference(
        query.get("repo").unwrap_or(""),
        query.get("tag").unwrap_or(""),
    )?;
    let changes: Vec<String> = query
        .all("changes")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let message = query.get("message").unwrap_or("").to_owned();
    let reader = body_reader(req);
    let (keep_open, progress_rx) = ProgressSink::channel();
    let task_daemon = daemon.clone();
    let task = tokio::spawn(async move {
        let store = task_daemon.images.clone();
        let record = tokio::task::spawn_blocking(move || {
            image_archive::import(&store, reader, reference.as_ref(), &changes, &message)
        })
        .await??;
        drop(keep_open);
        let id = record.id.to_string();
        let labels = with_store(&task_daemon, move |store| {
            Ok(view_of(store, record)?.config.labels())
        })
        .await
        .unwrap_or_default();
        publish_image_event(&task_daemon, "import", &id, &id, labels);
        Ok(id)
    });
    let finish = Box::new(|id: &String, _| vec![ProgressMessage::status("", id.clone())]);
    stream_progress(progress_rx, task, finish).await
}

/// `repo` + `tag` of an import; no `repo` means an untagged image.
fn import_reference(repo: &str, tag: &str) -> Result<Option<Reference>, ApiError> {
    if repo.is_empty() {
        return Ok(None);
    }
    let named = Reference::parse_normalized(repo)?;
    let named = if tag.is_empty() {
        named
    } else {
        named.with_tag(tag)?
    };
    Ok(Some(named.with_default_tag()))
}

/// The request body as a blocking reader, fed by a task as the client sends it.
fn body_reader(req: Request<Incoming>) -> ChannelReader {
    let (tx, rx) = body::channel();
    tokio::spawn(body::pump(req.into_body(), tx));
    ChannelReader::new(rx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::store::ImageRecord;

    fn loaded(id_bytes: &[u8], tags: &[&str]) -> LoadedImage {
        LoadedImage {
            image: ImageRecord {
                id: crate::image::digest::Digest::of_bytes(id_bytes),
                manifest: None,
                manifest_media_type: None,
                repo_digests: Vec::new(),
                layers: Vec::new(),
                size: 0,
                added: String::new(),
            },
            tags: tags
                .iter()
                .map(|t| Reference::parse_normalized(t).expect("ref"))
                .collect(),
        }
    }

    #[test]
    fn loaded_lines_name_tags_or_the_id() {
        let images = [
            loaded(b"a", &["busybox:latest", "busybox:1"]),
            loaded(b"b", &[]),
        ];
        let lines = loaded_lines(&images);
        let texts: Vec<&str> = lines.iter().filter_map(|l| l.stream.as_deref()).collect();
        assert_eq!(texts[0], "Loaded image: busybox:latest\n");
        assert_eq!(texts[1], "Loaded image: busybox:1\n");
        assert!(texts[2].starts_with("Loaded image ID: sha256:"));
    }

    #[test]
    fn import_reference_defaults_to_latest() {
        assert_eq!(import_reference("", "").expect("ok"), None);
        let r = import_reference("myimg", "").expect("ok").expect("some");
        assert_eq!(r.familiar(), "myimg:latest");
        let r = import_reference("myimg", "v2").expect("ok").expect("some");
        assert_eq!(r.familiar(), "myimg:v2");
    }
}
