//! Uploads: cross-repository blob mounts, monolithic blob uploads streamed from a file with
//! their `Content-Length`, and manifest PUT.
//!
//! Upload bodies cannot be replayed, so the request that opens an upload (POST) is the one
//! that authenticates; the PUT that follows reuses its authorization.

use std::path::Path;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use reqwest::Method;
use tokio::io::AsyncReadExt as _;

use super::session::error_from_response;
use super::{RegistryError, Session};
use crate::image::digest::Digest;

/// How much of a file goes into one body chunk.
const CHUNK: usize = 256 * 1024;

/// What a mount request achieved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mount {
    /// The registry linked the blob from the other repository: nothing to upload.
    Mounted,
    /// It could not, and opened an upload at this URL instead.
    Started(String),
}

/// Called with the bytes sent so far.
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

impl Session {
    /// `POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<repo>`.
    pub async fn mount_blob(&self, digest: &Digest, from: &str) -> Result<Mount, RegistryError> {
        let url = self.url("blobs/uploads/");
        let query = [("mount", digest.to_string()), ("from", from.to_string())];
        let response = self.send(Method::POST, &url, |r| r.query(&query)).await?;
        match response.status().as_u16() {
            201 => Ok(Mount::Mounted),
            202 => self.location(&response).map(Mount::Started),
            _ => Err(error_from_response("Post", &url, response).await),
        }
    }

    /// `POST /v2/<name>/blobs/uploads/`: the URL to send the blob to.
    pub async fn start_upload(&self) -> Result<String, RegistryError> {
        let url = self.url("blobs/uploads/");
        let response = self.send_ok(Method::POST, &url, |r| r).await?;
        self.location(&response)
    }

    /// Sends the file at `path` (`size` bytes, digest `digest`) to an open upload in one
    /// streamed PUT.
    pub async fn upload_file(
        &self,
        location: &str,
        digest: &Digest,
        path: &Path,
        size: u64,
        progress: Progress,
    ) -> Result<(), RegistryError> {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| RegistryError::Invalid(format!("opening blob {digest}: {e}")))?;
        let body = reqwest::Body::wrap_stream(file_stream(file, progress));
        self.finish_upload(location, digest, body, size).await
    }

    /// Sends a small blob (a config) to an open upload.
    pub async fn upload_bytes(
        &self,
        location: &str,
        digest: &Digest,
        bytes: Vec<u8>,
    ) -> Result<(), RegistryError> {
        let size = bytes.len() as u64;
        self.finish_upload(location, digest, reqwest::Body::from(bytes), size)
            .await
    }

    async fn finish_upload(
        &self,
        location: &str,
        digest: &Digest,
        body: reqwest::Body,
        size: u64,
    ) -> Result<(), RegistryError> {
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{separator}digest={digest}");
        // The body can be sent once; a second attempt (after a 401) goes out empty and fails
        // with the registry's error, which is what the user should see then.
        let body = Mutex::new(Some(body));
        let response = self
            .send_ok(Method::PUT, &url, |r| {
                let body = body.lock().unwrap_or_else(|p| p.into_inner()).take();
                r.header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .header(reqwest::header::CONTENT_LENGTH, size)
                    .body(body.unwrap_or_else(|| reqwest::Body::from(Vec::new())))
            })
            .await?;
        drop(response);
        Ok(())
    }

    /// `PUT /v2/<name>/manifests/<tag>`; the registry's `Docker-Content-Digest` when given.
    pub async fn put_manifest(
        &self,
        tag: &str,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> Result<Option<Digest>, RegistryError> {
        let url = self.url(&format!("manifests/{tag}"));
        let response = self
            .send_ok(Method::PUT, &url, |r| {
                r.header(reqwest::header::CONTENT_TYPE, media_type)
                    .body(bytes.clone())
            })
            .await?;
        Ok(response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Digest::parse(v).ok()))
    }

    fn location(&self, response: &reqwest::Response) -> Result<String, RegistryError> {
        response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(|l| self.absolute(l))
            .ok_or_else(|| {
                RegistryError::Invalid("registry opened an upload without a Location".to_string())
            })
    }
}

/// The file as a stream of chunks, reporting progress as they are read.
fn file_stream(
    file: tokio::fs::File,
    progress: Progress,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::unfold((Some(file), 0u64), move |(file, sent)| {
        let progress = Arc::clone(&progress);
        async move {
            let mut file = file?;
            let mut buf = vec![0u8; CHUNK];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    let sent = sent + n as u64;
                    progress(sent);
                    Some((Ok(Bytes::from(buf)), (Some(file), sent)))
                }
                Err(e) => Some((Err(e), (None, sent))),
            }
        }
    })
}
